"""Amazon Linux ALAS from repositories' ``updateinfo.xml`` → rows for ``amazon:2``, ``amazon:2023``.

Each ``<update type="security">`` is one ALAS advisory: its CVE references and the binary packages
(name, epoch, version, release, arch) that carry the fix.  A package is affected while older
than the listed build.  The ``<collection short=…>`` names the release (``amazon-linux-2``,
``amazon-linux-2023``); collections of Amazon Linux 2 extras topics are other repositories and
are not used.  The ``nodsa`` column holds the arch of the fixed build (every arch gets a row).

XML is parsed with ``defusedxml`` and gzip inflated with a size cap: the bytes are untrusted.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from imagetrust.match.feeds.common import GZIP_MAGIC, dumps, feed_error, gunzip, parse_xml
from imagetrust.match.feeds.model import (
    AdvisoryRow,
    AffectedRow,
    FeedData,
    FeedUnit,
    SeverityRow,
    only_release,
)
from imagetrust.match.fixstate import RPM_FIXED

FEED = "amazon-alas"
DEFAULT_BASE_URL = "https://cdn.amazonlinux.com"
# release selector → repository path under the base (a mirror of the core repository's metadata)
REPOSITORIES = {
    "2": "2/core/latest/x86_64/mirror",
    "2023": "al2023/core/mirrors/latest/x86_64/mirror",
}
COLLECTIONS = {"amazon-linux-2": "2", "amazon-linux-2023": "2023"}


def units(base_url: str, selectors: Sequence[str]) -> list[FeedUnit]:
    base = base_url.rstrip("/")
    releases = [s.strip() for s in selectors] or list(REPOSITORIES)
    return [
        FeedUnit(FEED, f"{FEED}/{rel}",
                 f"{base}/{REPOSITORIES.get(rel, rel)}/repodata/updateinfo.xml.gz")
        for rel in releases
    ]


def looks_like(head: bytes) -> bool:
    start = head[:512].lstrip()
    return (start.startswith(b"<?xml") or start.startswith(b"<updates")) and \
        b"<updates" in head[:512] and b"<id>ALAS" in head[:1 << 20]


def parse_bytes(data: bytes, source: str | None = None) -> FeedData:
    src = source or FEED
    if data[:2] == GZIP_MAGIC:
        data = gunzip(data, src)
    root = parse_xml(data, src, "updateinfo")
    if root.tag != "updates":
        raise feed_error(src, "not an updateinfo document (<updates>)")
    advisories: list[AdvisoryRow] = []
    affected: list[AffectedRow] = []
    severities: list[SeverityRow] = []
    count = 0
    for update in root.iter("update"):
        if update.get("type") != "security":
            continue
        count += 1
        _update(update, src, advisories, affected, severities)
    return only_release(FeedData(FEED, src, count, advisories=advisories, affected=affected,
                                 severities=severities))


def _update(
    update: Any,
    source: str,
    advisories: list[AdvisoryRow],
    affected: list[AffectedRow],
    severities: list[SeverityRow],
) -> None:
    alas = (update.findtext("id") or "").strip()
    if not alas:
        return
    cves = sorted({
        ref.get("id") for ref in update.iter("reference")
        if ref.get("type") == "cve" and ref.get("id")
    })
    rows: dict[tuple[str, str, str | None], AffectedRow] = {}
    for collection in update.iter("collection"):
        release = COLLECTIONS.get(collection.get("short", ""))
        if release is None:
            continue
        for pkg in collection.iter("package"):
            name, version, release_ = pkg.get("name"), pkg.get("version"), pkg.get("release")
            if not name or not version or not release_:
                continue
            epoch = pkg.get("epoch") or "0"
            evr = f"{version}-{release_}" if epoch == "0" else f"{epoch}:{version}-{release_}"
            arch = pkg.get("arch") or None
            rows[(name, evr, arch)] = AffectedRow(
                f"amazon:{release}", name, alas, RPM_FIXED, evr, None, arch, None,
                None, None, None,
            )
    affected.extend(rows.values())
    issued = update.find("issued")
    updated = update.find("updated")
    advisories.append(AdvisoryRow(
        alas, dumps(cves, source), (update.findtext("title") or "").strip() or None,
        issued.get("date") if issued is not None else None,
        updated.get("date") if updated is not None else None, None, None,
    ))
    severity = (update.findtext("severity") or "").strip().lower()
    if severity:
        severities.append(SeverityRow(alas, "alas", "database_specific", None, None, severity))
