"""Vulnerability feeds: one module per feed, each turning downloaded bytes into database rows.

:data:`FEEDS` maps the user-facing feed names to how to fetch and parse them.  A feed spec may
carry a selector after a slash: ``osv/PyPI`` (one OSV ecosystem), ``alpine-secdb/v3.19``
(one release), ``epss/2025-02-20`` (one day).

Feed modules are imported on first use: an offline scan only needs the unit names of the
feeds its image uses, and every ``imagetrust cves`` pays for the imports it makes.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from imagetrust.errors import UsageError
from imagetrust.match.feeds.model import FeedData, FeedUnit


@dataclass(frozen=True, slots=True)
class FeedSpec:
    name: str
    default_base_url: str
    units: Callable[[str, Sequence[str]], list[FeedUnit]]
    parse: Callable[[bytes, str], FeedData]


# feed name → (module under imagetrust.match.feeds, its parse function); checked by the tests
_MODULES: dict[str, tuple[str, str]] = {
    "debian-tracker": ("debian_tracker", "parse_bytes"),
    "alpine-secdb": ("alpine_secdb", "parse_bytes"),
    "osv": ("osv", "parse_zip"),
    "kev": ("kev", "parse_bytes"),
    "epss": ("epss", "parse_bytes"),
    "redhat-csaf": ("redhat_csaf", "parse_bytes"),
    "oracle-elsa": ("oracle_elsa", "parse_bytes"),
    "amazon-alas": ("amazon_alas", "parse_bytes"),
    # SUSE/Photon/Wolfi family (suse worktree)
    "photon-cve": ("photon_cve", "parse_bytes"),
    "wolfi-secdb": ("wolfi_secdb", "parse_bytes"),
    "chainguard-secdb": ("chainguard_secdb", "parse_bytes"),
    "suse-oval": ("suse_oval", "parse_bytes"),
    "fedora-bodhi": ("fedora_bodhi", "parse_bytes"),
}
NVD_FEED = "nvd"
FEED_NAMES: tuple[str, ...] = (*_MODULES, NVD_FEED)
MIRROR_ONLY: frozenset[str] = frozenset({"redhat-csaf", "amazon-alas", "fedora-bodhi"})
"""Feeds whose upstream layout imagetrust cannot resolve by itself (Red Hat names its VEX
archive by date; Amazon serves updateinfo behind ``mirror.list``; Bodhi is a paged query API,
so a mirror serves one ``<release>.json`` of updates): fetched only from a mirror
configured for them (``IMAGETRUST_FEED_URLS``/``IMAGETRUST_FEED_BASE_URL``), else imported with
``imagetrust db import``. A plain ``db update`` leaves them out rather than fail."""


def default_feeds(base_urls: Mapping[str, str] | None = None) -> list[str]:
    """What a plain ``db update`` fetches: every bulk feed, less the mirror-only ones that no
    mirror is configured for."""
    configured = base_urls or {}
    return [name for name in _MODULES if name not in MIRROR_ONLY or name in configured]
_SPECS: dict[str, FeedSpec] = {}

if TYPE_CHECKING:
    FEEDS: dict[str, FeedSpec]


def feed_spec(name: str) -> FeedSpec:
    """The spec of a bulk feed, importing its module on first use (KeyError: unknown name)."""
    spec = _SPECS.get(name)
    if spec is None:
        module_name, parse = _MODULES[name]
        module = importlib.import_module(f"{__name__}.{module_name}")
        spec = _SPECS[name] = FeedSpec(
            module.FEED, module.DEFAULT_BASE_URL, module.units, getattr(module, parse)
        )
    return spec


def __getattr__(name: str) -> object:
    if name == "FEEDS":  # the whole registry imports every parser: only for who asks for it
        feeds = {feed: feed_spec(feed) for feed in _MODULES}
        globals()["FEEDS"] = feeds
        return feeds
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def resolve_units(specs: Sequence[str], base_urls: dict[str, str] | None = None) -> list[FeedUnit]:
    """``["debian-tracker", "osv/PyPI", "osv/npm"]`` → the URLs to fetch, grouped per feed."""
    selectors: dict[str, list[str]] = {}
    for spec in specs:
        name, _, selector = spec.strip().partition("/")
        if name == NVD_FEED:
            raise UsageError(
                "the nvd feed is not downloaded in bulk",
                hint="CVSS data is fetched per CVE during scans (enrich_nvd) or imported from "
                "NVD API pages with `imagetrust db import`",
            )
        if name not in _MODULES:
            raise UsageError(
                f"unknown feed {name!r}", hint=f"choose from {', '.join(FEED_NAMES)}"
            )
        chosen = selectors.setdefault(name, [])
        if selector and selector not in chosen:
            chosen.append(selector)
    bases = base_urls or {}
    units: list[FeedUnit] = []
    for name, chosen in selectors.items():
        spec_ = feed_spec(name)
        units.extend(spec_.units(bases.get(name, spec_.default_base_url), chosen))
    return units


__all__ = [
    "FEEDS",
    "MIRROR_ONLY",
    "default_feeds", "FEED_NAMES", "NVD_FEED", "FeedSpec", "FeedData", "FeedUnit", "feed_spec",
    "resolve_units",
]
