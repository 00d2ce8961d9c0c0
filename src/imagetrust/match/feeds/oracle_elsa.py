"""Oracle Linux ELSA OVAL (``com.oracle.elsa-ol9.xml.bz2``) → rows for ``oracle:<major>``.

Each ELSA definition names its release (``<platform>Oracle Linux 9``) and, per machine arch
(``Oracle Linux arch is x86_64``), criteria ``NAME is earlier than EPOCH:VERSION-RELEASE`` on
binary packages.  A package listed with two builds (an Oracle rebuild ``110-1.0.1.el8`` and the
plain ``110-1.el8``) carries the fix from the lower of them: both are builds Oracle published
with the fix, so the matcher does not follow OVAL's literal OR (which would flag the plain
build).  The ``nodsa`` column holds the arch a row applies to (None: every arch).

The XML is untrusted: it goes through ``defusedxml`` (no entities, no external references), and
bzip2 is inflated with a size cap.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from imagetrust.match.feeds.common import BZ2_MAGIC, bunzip, dumps, feed_error, parse_xml
from imagetrust.match.feeds.model import (
    AdvisoryRow,
    AffectedRow,
    FeedData,
    FeedUnit,
    SeverityRow,
    only_release,
)
from imagetrust.match.fixstate import RPM_FIXED

FEED = "oracle-elsa"
DEFAULT_BASE_URL = "https://linux.oracle.com/security/oval"
DEFAULT_RELEASES = ("7", "8", "9", "10")

_NS = "{http://oval.mitre.org/XMLSchema/oval-definitions-5}"
_EARLIER = re.compile(r"^(?P<name>\S+) is earlier than (?P<evr>\S+)$")
_ARCH = re.compile(r"^Oracle Linux arch is (?P<arch>\S+)$")
_PLATFORM = re.compile(r"^Oracle Linux (?P<major>\d+)$")


def units(base_url: str, selectors: Sequence[str]) -> list[FeedUnit]:
    base = base_url.rstrip("/")
    releases = [s.strip().lower().removeprefix("ol") for s in selectors] or list(DEFAULT_RELEASES)
    return [
        FeedUnit(FEED, f"{FEED}/{rel}", f"{base}/com.oracle.elsa-ol{rel}.xml.bz2")
        for rel in releases
    ]


def looks_like(head: bytes) -> bool:
    return b"<oval_definitions" in head[:4096] and b"com.oracle.elsa" in head[:1 << 20]


def parse_bytes(data: bytes, source: str | None = None) -> FeedData:
    src = source or FEED
    if data[:3] == BZ2_MAGIC:
        data = bunzip(data, src)
    root = parse_xml(data, src, "OVAL")
    if not root.tag.endswith("oval_definitions"):
        raise feed_error(src, "not an OVAL definitions document")
    advisories: list[AdvisoryRow] = []
    affected: list[AffectedRow] = []
    severities: list[SeverityRow] = []
    count = 0
    for definition in root.iter(f"{_NS}definition"):
        count += 1
        _definition(definition, src, advisories, affected, severities)
    return only_release(FeedData(FEED, src, count, advisories=advisories, affected=affected,
                                 severities=severities))


def _definition(
    definition: Any,
    source: str,
    advisories: list[AdvisoryRow],
    affected: list[AffectedRow],
    severities: list[SeverityRow],
) -> None:
    metadata = definition.find(f"{_NS}metadata")
    if metadata is None:
        return
    elsa = None
    cves: list[str] = []
    for ref in metadata.iter(f"{_NS}reference"):
        if ref.get("source") == "elsa":
            elsa = ref.get("ref_id")
        elif ref.get("source") == "CVE" and ref.get("ref_id"):
            cves.append(ref.get("ref_id"))
    majors = {
        m.group("major")
        for p in metadata.iter(f"{_NS}platform")
        if (m := _PLATFORM.match((p.text or "").strip()))
    }
    if not elsa or len(majors) != 1:
        return
    ecosystem = f"oracle:{majors.pop()}"
    rows: dict[tuple[str, str, str | None], AffectedRow] = {}
    criteria = definition.find(f"{_NS}criteria")
    if criteria is not None:
        _collect(criteria, None, ecosystem, elsa, rows)
    affected.extend(rows.values())
    title = (metadata.findtext(f"{_NS}title") or "").strip() or None
    issued = metadata.find(f"{_NS}advisory/{_NS}issued")
    advisories.append(AdvisoryRow(
        elsa, dumps(sorted(set(cves)), source), title,
        issued.get("date") if issued is not None else None, None, None, None,
    ))
    severity = (metadata.findtext(f"{_NS}advisory/{_NS}severity") or "").strip().lower()
    if severity:
        severities.append(SeverityRow(elsa, "elsa", "database_specific", None, None, severity))


def _collect(
    node: Any, arch: str | None, ecosystem: str, elsa: str,
    rows: dict[tuple[str, str, str | None], AffectedRow],
) -> None:
    """Walk nested criteria; an ``arch is`` criterion scopes the criteria beside it."""
    children = list(node)
    for child in children:
        if child.tag == f"{_NS}criterion":
            match = _ARCH.match(child.get("comment", ""))
            if match:
                arch = match.group("arch")
    for child in children:
        if child.tag == f"{_NS}criteria":
            _collect(child, arch, ecosystem, elsa, rows)
        elif child.tag == f"{_NS}criterion":
            match = _EARLIER.match(child.get("comment", ""))
            if match:
                name, evr = match.group("name"), match.group("evr")
                if evr.startswith("0:"):
                    evr = evr[2:]
                rows[(name, evr, arch)] = AffectedRow(
                    ecosystem, name, elsa, RPM_FIXED, evr, None, arch, None, None, None, None
                )
