"""NVD CVE API 2.0: CVSS metrics per CVE (pages with ``vulnerabilities[].cve`` or a bare ``cve``).

NVD rows are *upserted* per CVE rather than replaced wholesale: the database only ever holds the
CVEs some scan needed (see :func:`imagetrust.match.db.nvd_enrich.enrich_nvd`), fetched one by one.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from imagetrust.match.feeds.common import feed_error, load_json, text
from imagetrust.match.feeds.model import AdvisoryRow, FeedData, SeverityRow

FEED = "nvd"
DEFAULT_BASE_URL = "https://services.nvd.nist.gov/rest/json/cves/2.0"

# NVD metric key → severity type shared with OSV (the vector tells 3.0 from 3.1).
_METRICS = {
    "cvssMetricV40": "CVSS_V4",
    "cvssMetricV31": "CVSS_V3",
    "cvssMetricV30": "CVSS_V3",
    "cvssMetricV2": "CVSS_V2",
}


def looks_like_page(doc: object) -> bool:
    if not isinstance(doc, dict) or not isinstance(doc.get("vulnerabilities"), list):
        return False
    items = doc["vulnerabilities"]
    return (not items and doc.get("format") == "NVD_CVE") or (
        bool(items) and isinstance(items[0], dict) and isinstance(items[0].get("cve"), dict)
    )


def looks_like_cve(doc: object) -> bool:
    return (
        isinstance(doc, dict)
        and isinstance(doc.get("id"), str)
        and "metrics" in doc
        and "descriptions" in doc
    )


def cves_of(doc: Any, source: str = FEED) -> list[dict[str, Any]]:
    if looks_like_cve(doc):
        return [doc]
    if looks_like_page(doc):
        return [v["cve"] for v in doc["vulnerabilities"] if isinstance(v, dict) and "cve" in v]
    raise feed_error(source, "expected an NVD CVE API 2.0 page (vulnerabilities[].cve)")


def parse_bytes(data: bytes, source: str = FEED) -> FeedData:
    return parse_cves(cves_of(load_json(data, source), source), source)


def parse_cves(cves: Iterable[dict[str, Any]], source: str = FEED) -> FeedData:
    advisories: list[AdvisoryRow] = []
    severities: list[SeverityRow] = []
    for cve in cves:
        cve_id = cve.get("id")
        if not isinstance(cve_id, str):
            raise feed_error(source, "a CVE entry has no id")
        summary = next(
            (d.get("value") for d in cve.get("descriptions") or [] if d.get("lang") == "en"), None
        )
        advisories.append(
            AdvisoryRow(
                cve_id, None, text(summary), text(cve.get("published")),
                text(cve.get("lastModified")), None, None,
            )
        )
        metrics = cve.get("metrics") or {}
        if not isinstance(metrics, dict):
            raise feed_error(source, f"{cve_id}: metrics is not an object")
        for key, kind in _METRICS.items():
            for metric in metrics.get(key) or []:
                data = metric.get("cvssData") or {}
                rating = data.get("baseSeverity") or metric.get("baseSeverity")
                score = data.get("baseScore")
                severities.append(
                    SeverityRow(
                        cve_id,
                        str(metric.get("source") or "nvd"),
                        kind,
                        float(score) if isinstance(score, int | float) else None,
                        text(data.get("vectorString")),
                        rating.lower() if isinstance(rating, str) else None,
                    )
                )
    return FeedData(
        feed=FEED,
        source=source,
        record_count=len(advisories),
        mode="upsert",
        advisories=advisories,
        severities=severities,
    )
