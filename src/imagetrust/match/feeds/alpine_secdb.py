"""Alpine secdb (``secdb.alpinelinux.org/<release>/<repo>.json``): CVEs fixed per package version.

A secfix under version ``"0"`` means the package was never affected in Alpine; it is stored with
state ``not-affected`` so the matcher can suppress findings other feeds would raise.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from imagetrust.match.feeds.common import feed_error, load_json
from imagetrust.match.feeds.model import AffectedRow, FeedData, FeedUnit
from imagetrust.match.names import alpine_ecosystem

FEED = "alpine-secdb"
DEFAULT_BASE_URL = "https://secdb.alpinelinux.org"
DEFAULT_RELEASES = ("v3.18", "v3.19", "v3.20", "v3.21", "v3.22", "edge")
REPOS = ("main", "community")


def _release(selector: str) -> str:
    rel = selector.strip().lower()
    return "v" + rel if rel[:1].isdigit() else rel


def units(base_url: str, selectors: Sequence[str]) -> list[FeedUnit]:
    base = base_url.rstrip("/")
    releases = [_release(s) for s in selectors] or list(DEFAULT_RELEASES)
    return [
        FeedUnit(FEED, f"{FEED}/{rel}/{repo}", f"{base}/{rel}/{repo}.json")
        for rel in releases
        for repo in REPOS
    ]


def looks_like(doc: object) -> bool:
    return isinstance(doc, dict) and "distroversion" in doc and "packages" in doc


def source_of(doc: dict[str, Any]) -> str:
    return f"{FEED}/{_release(str(doc.get('distroversion', '')))}/{doc.get('reponame', 'main')}"


def parse_bytes(data: bytes, source: str | None = None) -> FeedData:
    doc = load_json(data, source or FEED)
    return parse(doc, source)


def parse(doc: Any, source: str | None = None) -> FeedData:
    if not looks_like(doc):
        raise feed_error(source or FEED, "expected a secdb object with distroversion and packages")
    src = source or source_of(doc)
    ecosystem = alpine_ecosystem(str(doc["distroversion"]))
    packages = doc["packages"] or []  # secdb writes {} for an empty repository
    if not isinstance(packages, list):
        raise feed_error(src, "'packages' is not a list")
    affected: list[AffectedRow] = []
    for entry in packages:
        pkg = entry.get("pkg") if isinstance(entry, dict) else None
        if not isinstance(pkg, dict) or not isinstance(pkg.get("name"), str):
            raise feed_error(src, "a package entry lacks pkg.name")
        secfixes = pkg.get("secfixes") or {}
        if not isinstance(secfixes, dict):
            raise feed_error(src, f"{pkg['name']}: secfixes is not an object")
        for version, ids in secfixes.items():
            for item in ids or []:
                tokens = str(item).split()
                if not tokens:
                    continue
                state = "not-affected" if str(version) == "0" else "fixed"
                affected.append(
                    AffectedRow(
                        ecosystem, pkg["name"], tokens[0], state, str(version),
                        None, None, None, None, None, None,
                    )
                )
    return FeedData(feed=FEED, source=src, record_count=len(affected), affected=affected)
