"""CISA Known Exploited Vulnerabilities catalog (JSON): being on it outweighs any CVSS score."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from imagetrust.match.feeds.common import feed_error, load_json, text
from imagetrust.match.feeds.model import FeedData, FeedUnit, KevRow

FEED = "kev"
DEFAULT_BASE_URL = "https://www.cisa.gov/sites/default/files/feeds"


def units(base_url: str, selectors: Sequence[str]) -> list[FeedUnit]:
    return [FeedUnit(FEED, FEED, f"{base_url.rstrip('/')}/known_exploited_vulnerabilities.json")]


def _entries(doc: object) -> list[Any] | None:
    if isinstance(doc, dict) and isinstance(doc.get("vulnerabilities"), list):
        items: list[Any] = doc["vulnerabilities"]
    elif isinstance(doc, list):
        items = doc
    else:
        return None
    if items and not (isinstance(items[0], dict) and "cveID" in items[0]):
        return None
    if not items and not (isinstance(doc, dict) and "catalogVersion" in doc):
        return None
    return items


def looks_like(doc: object) -> bool:
    return _entries(doc) is not None


def parse_bytes(data: bytes, source: str = FEED) -> FeedData:
    return parse(load_json(data, source), source)


def parse(doc: Any, source: str = FEED) -> FeedData:
    items = _entries(doc)
    if items is None:
        raise feed_error(source, "expected the KEV catalog (vulnerabilities[].cveID)")
    rows: dict[str, KevRow] = {}
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("cveID"), str):
            raise feed_error(source, "a catalog entry has no cveID")
        rows[item["cveID"]] = KevRow(
            item["cveID"],
            text(item.get("vendorProject")),
            text(item.get("product")),
            text(item.get("vulnerabilityName")),
            text(item.get("dateAdded")),
            text(item.get("dueDate")),
            text(item.get("requiredAction")),
            text(item.get("knownRansomwareCampaignUse")),
            text(item.get("notes")),
        )
    return FeedData(feed=FEED, source=source, record_count=len(rows), kev=list(rows.values()))
