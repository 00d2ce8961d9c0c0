"""Fedora security updates from Bodhi → rows for ``fedora:<release>`` (``fedora:40``).

A Bodhi update (``FEDORA-2025-…``) is one advisory: the builds it pushed to a release's stable
repository carry the fix, so a package is affected while its **source** build is older than the
update's build (Koji NVRs name source packages).  The CVE ids it fixes are not structured data:
Bodhi writes them into the security bugs' titles, the display name or the notes, so they are
read from that text.  Only stable security updates of Fedora (``id_prefix`` ``FEDORA``) count:
EPEL updates target RHEL-family systems and testing updates never reached users.

Accepted shapes: one update, a list of them, or an API page ``{"updates": [...]}``.  Bodhi's API
is paged and queried, not a static file, so the feed is mirror-only: a mirror serves one JSON
file per release (``<base>/<release>.json``), or files are imported with ``db import``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from imagetrust.match.feeds.common import dumps, feed_error, load_json, text
from imagetrust.match.feeds.model import (
    AdvisoryRow,
    AffectedRow,
    FeedData,
    FeedUnit,
    SeverityRow,
    only_release,
)
from imagetrust.match.fixstate import RPM_FIXED

FEED = "fedora-bodhi"
DEFAULT_BASE_URL = "https://bodhi.fedoraproject.org"
DEFAULT_RELEASES = ("40", "41", "42")
_CVE = re.compile(r"\bCVE-\d{4}-\d{4,}\b")
_NVR = re.compile(r"^(?P<name>.+)-(?P<version>[^-]+)-(?P<release>[^-]+)$")


def units(base_url: str, selectors: Sequence[str]) -> list[FeedUnit]:
    base = base_url.rstrip("/")
    releases = [s.strip() for s in selectors] or list(DEFAULT_RELEASES)
    return [FeedUnit(FEED, f"{FEED}/{rel}", f"{base}/{rel}.json") for rel in releases]


def _is_update(doc: Any) -> bool:
    return isinstance(doc, dict) and isinstance(doc.get("alias"), str) \
        and doc["alias"].startswith("FEDORA-") and isinstance(doc.get("builds"), list) \
        and isinstance(doc.get("release"), dict)


def updates_of(doc: Any) -> list[Any] | None:
    """The updates a document holds, or None when it is no Bodhi shape."""
    if isinstance(doc, dict) and isinstance(doc.get("updates"), list):
        doc = doc["updates"]
    if _is_update(doc):
        return [doc]
    if isinstance(doc, list) and doc and all(map(_is_update, doc)):
        return doc
    return None


def looks_like(doc: Any) -> bool:
    return updates_of(doc) is not None


def parse_bytes(data: bytes, source: str | None = None) -> FeedData:
    src = source or FEED
    return only_release(parse_doc(load_json(data, src), src))


def parse_doc(doc: Any, source: str) -> FeedData:
    updates = updates_of(doc)
    if updates is None and doc in ([], {"updates": []}):
        updates = []  # a release with no security update yet
    if updates is None:
        raise feed_error(source, "not Bodhi update JSON (alias/builds/release)")
    advisories: list[AdvisoryRow] = []
    affected: list[AffectedRow] = []
    severities: list[SeverityRow] = []
    count = 0
    for update in updates:
        if _update(update, source, advisories, affected, severities):
            count += 1
    return FeedData(FEED, source, count, advisories=advisories, affected=affected,
                    severities=severities)


def cves_of(update: dict[str, Any]) -> list[str]:
    """CVE ids named in the update's bug titles, display name, title or notes."""
    texts = [update.get(k) for k in ("display_name", "title", "notes")]
    texts += [b.get("title") for b in update.get("bugs") or [] if isinstance(b, dict)]
    return sorted({cve for t in texts if isinstance(t, str) for cve in _CVE.findall(t)})


def fixed_evr(build: dict[str, Any]) -> tuple[str, str] | None:
    """(source name, ``[epoch:]version-release``) of one build; a null or 0 epoch is omitted."""
    match = _NVR.match(str(build.get("nvr") or ""))
    if match is None:
        return None
    epoch = build.get("epoch")
    evr = f"{match['version']}-{match['release']}"
    return match["name"], f"{epoch}:{evr}" if isinstance(epoch, int) and epoch > 0 else evr


def _update(
    update: dict[str, Any],
    source: str,
    advisories: list[AdvisoryRow],
    affected: list[AffectedRow],
    severities: list[SeverityRow],
) -> bool:
    release = update["release"]
    version = str(release.get("version") or "")
    if release.get("id_prefix", "FEDORA") != "FEDORA" or not version.isdigit():
        return False
    if update.get("type", "security") != "security" or update.get("status", "stable") != "stable":
        return False
    alias = update["alias"]
    rows: dict[tuple[str, str], AffectedRow] = {}
    for build in update["builds"]:
        if not isinstance(build, dict) or build.get("type", "rpm") != "rpm":
            continue
        found = fixed_evr(build)
        if found is not None:
            rows[found] = AffectedRow(f"fedora:{version}", found[0], alias, RPM_FIXED, found[1],
                                      None, None, None, None, None, None)
    if not rows:
        return False
    affected.extend(rows.values())
    advisories.append(AdvisoryRow(
        alias, dumps(cves_of(update), source),
        text(update.get("display_name")) or text(update.get("title")),
        text(update.get("date_pushed")) or text(update.get("date_stable")),
        text(update.get("date_modified")), None, None,
    ))
    severity = (text(update.get("severity")) or "").lower()
    if severity and severity != "unspecified":
        severities.append(SeverityRow(alias, "bodhi", "database_specific", None, None, severity))
    return True
