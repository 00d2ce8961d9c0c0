"""Wolfi secdb (``packages.wolfi.dev/os/security.json``): Alpine's format for a rolling distro.

The document is Alpine's (``packages[].pkg.secfixes``: fixed version → ids, ``"0"`` = never
affected) without ``distroversion``: Wolfi has no releases, so every row goes to one ecosystem,
``wolfi``.  Chainguard's own repository publishes the same format (``chainguard_secdb``); which
distribution a file belongs to is read from its ``urlprefix``/``reponame``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from imagetrust.match.feeds.common import feed_error, load_json
from imagetrust.match.feeds.model import AffectedRow, FeedData, FeedUnit

FEED = "wolfi-secdb"
DEFAULT_BASE_URL = "https://packages.wolfi.dev"
ECOSYSTEM = "wolfi"
PATH = "os/security.json"
CHAINGUARD_FEED = "chainguard-secdb"
CHAINGUARD_ECOSYSTEM = "chainguard"


def units(base_url: str, selectors: Sequence[str]) -> list[FeedUnit]:
    """One document, no selectors (a rolling distribution has one data set)."""
    return [FeedUnit(FEED, FEED, f"{base_url.rstrip('/')}/{PATH}")]


def looks_like(doc: object) -> bool:
    """Alpine-format secdb without a release: ``packages`` plus ``apkurl`` or ``urlprefix``."""
    return (
        isinstance(doc, dict)
        and "packages" in doc
        and "distroversion" not in doc
        and ("apkurl" in doc or "urlprefix" in doc)
    )


def distro_of(doc: dict[str, Any]) -> str | None:
    """``wolfi-secdb`` or ``chainguard-secdb`` from where the document says its packages live."""
    prefix = str(doc.get("urlprefix") or "").lower()
    repo = str(doc.get("reponame") or "").lower()
    if "wolfi.dev" in prefix or (repo == "os" and "cgr.dev" not in prefix):
        return FEED
    if "cgr.dev" in prefix or repo == "chainguard":
        return CHAINGUARD_FEED
    return None


def parse_bytes(data: bytes, source: str | None = None) -> FeedData:
    return parse(load_json(data, source or FEED), FEED)


def parse(doc: Any, feed: str | None = None) -> FeedData:
    """Rows of one secdb document; ``feed`` None: decided by :func:`distro_of`."""
    label = feed or FEED
    if not looks_like(doc):
        raise feed_error(label, "expected a secdb object with packages and urlprefix")
    chosen = feed or distro_of(doc)
    if chosen is None:
        raise feed_error(label, f"cannot tell whether urlprefix {doc.get('urlprefix')!r} "
                         "is Wolfi or Chainguard; name the feed with --feed")
    ecosystem = ECOSYSTEM if chosen == FEED else CHAINGUARD_ECOSYSTEM
    packages = doc["packages"] or []
    if not isinstance(packages, list):
        raise feed_error(chosen, "'packages' is not a list")
    affected: list[AffectedRow] = []
    for entry in packages:
        pkg = entry.get("pkg") if isinstance(entry, dict) else None
        if not isinstance(pkg, dict) or not isinstance(pkg.get("name"), str):
            raise feed_error(chosen, "a package entry lacks pkg.name")
        secfixes = pkg.get("secfixes") or {}
        if not isinstance(secfixes, dict):
            raise feed_error(chosen, f"{pkg['name']}: secfixes is not an object")
        for version, ids in secfixes.items():
            state = "not-affected" if str(version) == "0" else "fixed"
            for item in ids or []:
                tokens = str(item).split()
                if tokens:
                    affected.append(AffectedRow(
                        ecosystem, pkg["name"], tokens[0], state, str(version),
                        None, None, None, None, None, None,
                    ))
    return FeedData(feed=chosen, source=chosen, record_count=len(affected), affected=affected)
