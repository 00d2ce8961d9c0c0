"""Debian security tracker JSON (``/tracker/data/json``): per source package, per CVE, per release.

Kept raw on purpose: status, fixed_version, urgency, nodsa and nodsa_reason go to the database
verbatim, because the fix state a user sees (``wont-fix``, ``deferred``, ``end-of-life``) depends
on combinations of them that the matcher, not the feed, should interpret.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from imagetrust.match.feeds.common import dumps, feed_error, load_json, text
from imagetrust.match.feeds.model import AdvisoryRow, AffectedRow, FeedData, FeedUnit
from imagetrust.match.names import debian_ecosystem
from imagetrust.versions.base import InvalidVersion
from imagetrust.versions.dpkg import sortable

FEED = "debian-tracker"
DEFAULT_BASE_URL = "https://security-tracker.debian.org/tracker"


def units(base_url: str, selectors: Sequence[str]) -> list[FeedUnit]:
    """The tracker is one document for every release; selectors are not needed."""
    return [FeedUnit(FEED, FEED, f"{base_url.rstrip('/')}/data/json")]


def looks_like(doc: object) -> bool:
    """``{package: {CVE: {"releases": {...}}}}`` — checked on the first non-empty package."""
    if not isinstance(doc, dict) or not doc:
        return False
    for entries in doc.values():
        if not isinstance(entries, dict):
            return False
        if entries:
            first = next(iter(entries.values()))
            return isinstance(first, dict) and isinstance(first.get("releases"), dict)
    return False


def parse_bytes(data: bytes, source: str = FEED) -> FeedData:
    return parse(load_json(data, source), source)


def parse(doc: Any, source: str = FEED) -> FeedData:
    if not isinstance(doc, dict):
        kind = type(doc).__name__
        raise feed_error(source, f"expected a JSON object of source packages, got {kind}")
    advisories: dict[str, AdvisoryRow] = {}
    affected: list[AffectedRow] = []
    append = affected.append
    keys: dict[str, str | None] = {}  # fixed versions repeat across releases and packages
    pairs = 0
    for package, entries in doc.items():
        if not isinstance(entries, dict):
            raise feed_error(source, f"package {package!r}: expected an object of CVEs")
        for cve, info in entries.items():
            if not isinstance(info, dict):
                raise feed_error(source, f"{package}/{cve}: expected an object")
            releases = info.get("releases") or {}  # the tracker writes [] when there are none
            if not isinstance(releases, dict):
                raise feed_error(source, f"{package}/{cve}: 'releases' is not an object")
            pairs += 1
            if cve not in advisories:
                extra = {k: info[k] for k in ("scope", "debianbug") if k in info}
                advisories[cve] = AdvisoryRow(
                    cve, None, text(info.get("description")), None, None, None, dumps(extra, source)
                )
            for codename, rel in releases.items():
                if not isinstance(rel, dict) or "status" not in rel:
                    raise feed_error(source, f"{package}/{cve}/{codename}: no 'status'")
                fixed = rel.get("fixed_version")
                if isinstance(fixed, str) and fixed:
                    fixed_key = keys[fixed] if fixed in keys else _fixed_key(fixed, keys)
                else:
                    fixed_key = None
                append(
                    AffectedRow(
                        debian_ecosystem(codename),
                        package,
                        cve,
                        rel["status"],
                        fixed,
                        rel.get("urgency"),
                        text(rel.get("nodsa")),
                        rel.get("nodsa_reason"),
                        None,
                        None,
                        None,
                        fixed_key,
                    )
                )
    return FeedData(
        feed=FEED,
        source=source,
        record_count=pairs,
        advisories=list(advisories.values()),
        affected=affected,
    )


def _fixed_key(fixed: str, keys: dict[str, str | None]) -> str | None:
    """The sortable dpkg key of a fixed version; None (the matcher judges the row) when dpkg
    cannot order it, so a bad version is reported at match time rather than failing the feed."""
    try:
        keys[fixed] = sortable(fixed)
    except InvalidVersion:
        keys[fixed] = None
    return keys[fixed]
