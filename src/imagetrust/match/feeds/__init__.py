"""Vulnerability feeds: one module per feed, each turning downloaded bytes into database rows.

:data:`FEEDS` maps the user-facing feed names to how to fetch and parse them.  A feed spec may
carry a selector after a slash: ``osv/PyPI`` (one OSV ecosystem), ``alpine-secdb/v3.19``
(one release), ``epss/2025-02-20`` (one day).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from imagetrust.errors import UsageError
from imagetrust.match.feeds import alpine_secdb, debian_tracker, epss, kev, nvd, osv
from imagetrust.match.feeds.model import FeedData, FeedUnit


@dataclass(frozen=True, slots=True)
class FeedSpec:
    name: str
    default_base_url: str
    units: Callable[[str, Sequence[str]], list[FeedUnit]]
    parse: Callable[[bytes, str], FeedData]


FEEDS: dict[str, FeedSpec] = {
    debian_tracker.FEED: FeedSpec(
        debian_tracker.FEED, debian_tracker.DEFAULT_BASE_URL, debian_tracker.units,
        debian_tracker.parse_bytes,
    ),
    alpine_secdb.FEED: FeedSpec(
        alpine_secdb.FEED, alpine_secdb.DEFAULT_BASE_URL, alpine_secdb.units,
        alpine_secdb.parse_bytes,
    ),
    osv.FEED: FeedSpec(osv.FEED, osv.DEFAULT_BASE_URL, osv.units, osv.parse_zip),
    kev.FEED: FeedSpec(kev.FEED, kev.DEFAULT_BASE_URL, kev.units, kev.parse_bytes),
    epss.FEED: FeedSpec(epss.FEED, epss.DEFAULT_BASE_URL, epss.units, epss.parse_bytes),
}
FEED_NAMES: tuple[str, ...] = (*FEEDS, nvd.FEED)


def resolve_units(specs: Sequence[str], base_urls: dict[str, str] | None = None) -> list[FeedUnit]:
    """``["debian-tracker", "osv/PyPI", "osv/npm"]`` → the URLs to fetch, grouped per feed."""
    selectors: dict[str, list[str]] = {}
    for spec in specs:
        name, _, selector = spec.strip().partition("/")
        if name == nvd.FEED:
            raise UsageError(
                "the nvd feed is not downloaded in bulk",
                hint="CVSS data is fetched per CVE during scans (enrich_nvd) or imported from "
                "NVD API pages with `imagetrust db import`",
            )
        if name not in FEEDS:
            raise UsageError(
                f"unknown feed {name!r}", hint=f"choose from {', '.join(FEED_NAMES)}"
            )
        chosen = selectors.setdefault(name, [])
        if selector and selector not in chosen:
            chosen.append(selector)
    bases = base_urls or {}
    units: list[FeedUnit] = []
    for name, chosen in selectors.items():
        spec_ = FEEDS[name]
        units.extend(spec_.units(bases.get(name, spec_.default_base_url), chosen))
    return units


__all__ = ["FEEDS", "FEED_NAMES", "FeedSpec", "FeedData", "FeedUnit", "resolve_units"]
