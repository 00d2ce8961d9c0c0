"""Chainguard's secdb (``packages.cgr.dev/chainguard/security.json``): Wolfi's format, own packages.

Chainguard images (os-release ``ID=chainguard``) install from Chainguard's repository, whose
package versions and fixes differ from Wolfi's, so its rows form their own ecosystem.
"""

from __future__ import annotations

from collections.abc import Sequence

from imagetrust.match.feeds.common import load_json
from imagetrust.match.feeds.model import FeedData, FeedUnit
from imagetrust.match.feeds.wolfi_secdb import CHAINGUARD_FEED, parse

FEED = CHAINGUARD_FEED
DEFAULT_BASE_URL = "https://packages.cgr.dev"
PATH = "chainguard/security.json"


def units(base_url: str, selectors: Sequence[str]) -> list[FeedUnit]:
    return [FeedUnit(FEED, FEED, f"{base_url.rstrip('/')}/{PATH}")]


def parse_bytes(data: bytes, source: str | None = None) -> FeedData:
    return parse(load_json(data, source or FEED), FEED)
