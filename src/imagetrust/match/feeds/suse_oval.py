"""SUSE OVAL (``suse.linux.enterprise.server.15.xml.gz``, ``opensuse.leap.15.6.xml.gz``) → rows
for ``sles:15.5``, ``sle-micro:5.5``, ``opensuse-leap:15.6``.

SUSE publishes one OVAL file per product line, for every product it supports, with one
definition per CVE.  A definition's criteria pair products (``SUSE Linux Enterprise Server 15
SP1-LTSS is installed``, ``SUSE Linux Enterprise Module for Basesystem 15 SP5 is installed``)
with package tests; a package test names an rpm (its ``rpminfo_object``) and a state: an EVR
``less than`` the fix (a fixed row), or ``version equals 0`` (the ``is not affected`` word:
a not-affected row).  Every SLE product of one codestream and service pack (the Server, its
modules, LTSS, SAP, Desktop) ships the same packages, so they all land in one release key:
``sles:<major>[.<sp>]``, the ``VERSION_ID`` of the os-release.  A feed unit is one upstream file
(``suse-oval/sles-15`` holds ``sles:15`` … ``sles:15.7``), so a release the file does not speak
of is stored as nothing: a coverage gap at scan time, never clean.

The XML is untrusted: it goes through ``defusedxml``; compressed bodies are inflated with a cap.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from imagetrust.match.feeds.common import (
    BZ2_MAGIC,
    GZIP_MAGIC,
    bunzip,
    dumps,
    feed_error,
    gunzip,
    parse_xml,
)
from imagetrust.match.feeds.model import (
    AdvisoryRow,
    AffectedRow,
    FeedData,
    FeedUnit,
    SeverityRow,
)
from imagetrust.match.fixstate import RPM_FIXED, RPM_NOT_AFFECTED

FEED = "suse-oval"
DEFAULT_BASE_URL = "https://ftp.suse.com/pub/projects/security/oval"
DEFAULT_UNITS = ("sles-15", "opensuse-leap-15.6")

# unit selector → upstream file stem; the selector is ``<family>-<codestream>``
_FILES = {
    "sles": "suse.linux.enterprise.server.{}",
    "sle-micro": "suse.linux.enterprise.micro.{}",
    "opensuse-leap": "opensuse.leap.{}",
}
_UNIT = re.compile(r"^(?P<family>sles|sle-micro|opensuse-leap)-(?P<code>\d+(?:\.\d+)?)$")

_PRODUCT_SLE = re.compile(
    r"^SUSE Linux Enterprise (?P<what>.+?) (?P<major>\d+)(?: SP(?P<sp>\d+))?(?:-[A-Z]+)?"
    r" is installed$"
)
_PRODUCT_MICRO = re.compile(r"^SUSE Linux Enterprise Micro (?P<ver>\d+\.\d+) is installed$")
_PRODUCT_LEAP = re.compile(r"^openSUSE Leap (?P<ver>\d+\.\d+) is installed$")
_NOT_SLES = ("Micro", "Storage", "Real Time")  # other codestreams or no container images
_LESS_THAN = re.compile(r" is <(?P<evr>\S+)")
_CVE = re.compile(r"^CVE-\d{4}-\d+$")


def unit_of(ecosystem: str) -> str:
    """The unit that holds ``ecosystem``: ``sles:15.5`` → ``sles-15`` (one file per major),
    ``opensuse-leap:15.6`` → ``opensuse-leap-15.6``."""
    family, _, version = ecosystem.partition(":")
    return f"{family}-{version.split('.')[0] if family == 'sles' else version}"


def units(base_url: str, selectors: Sequence[str]) -> list[FeedUnit]:
    base = base_url.rstrip("/")
    out = []
    for selector in [s.strip().lower() for s in selectors] or list(DEFAULT_UNITS):
        match = _UNIT.match(selector)
        if match is None:
            from imagetrust.errors import UsageError

            raise UsageError(
                f"unknown {FEED} unit {selector!r}",
                hint="name one upstream file: sles-15, sle-micro-5.5, opensuse-leap-15.6",
            )
        stem = _FILES[match.group("family")].format(match.group("code"))
        out.append(FeedUnit(FEED, f"{FEED}/{selector}", f"{base}/{stem}.xml.gz"))
    return out


def looks_like(head: bytes) -> bool:
    return b"<oval_definitions" in head[:4096] and b"org.opensuse.security" in head[:1 << 20]


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def parse_bytes(data: bytes, source: str | None = None) -> FeedData:
    """One file; with a unit source (``suse-oval/sles-15``) only that unit's rows are kept."""
    src = source or FEED
    if data[:2] == GZIP_MAGIC:
        data = gunzip(data, src)
    elif data[:3] == BZ2_MAGIC:
        data = bunzip(data, src)
    root = parse_xml(data, src, "OVAL")
    if _local(root.tag) != "oval_definitions":
        raise feed_error(src, "not an OVAL definitions document")
    tests = _tests(root)
    advisories: list[AdvisoryRow] = []
    affected: list[AffectedRow] = []
    severities: list[SeverityRow] = []
    count = 0
    for definition in root.iter():
        if _local(definition.tag) != "definition":
            continue
        count += 1
        _definition(definition, tests, src, advisories, affected, severities)
    data_ = FeedData(FEED, src, count, advisories=advisories, affected=affected,
                     severities=severities)
    prefix = f"{FEED}/"
    return only_unit(data_, src[len(prefix):]) if src.startswith(prefix) else data_


def only_unit(data: FeedData, unit: str, source: str | None = None) -> FeedData:
    """``data`` cut to the releases of one unit (``sles-15``)."""
    rows = [r for r in data.affected if unit_of(r.ecosystem) == unit]
    ids = {r.advisory_id for r in rows}
    return FeedData(
        feed=data.feed, source=source or data.source, record_count=len(ids),
        advisories=[a for a in data.advisories if a.id in ids], affected=rows,
        severities=[s for s in data.severities if s.advisory_id in ids],
    )


def split_by_unit(data: FeedData) -> list[FeedData]:
    """One result per upstream file's unit, for a file imported whole."""
    found = sorted({unit_of(r.ecosystem) for r in data.affected})
    return [only_unit(data, unit, f"{FEED}/{unit}") for unit in found]


def _tests(root: Any) -> dict[str, tuple[str, str | None]]:
    """rpminfo test id → (package name, fixed EVR or ``"0"`` for not-affected, None for other)."""
    objects: dict[str, str] = {}
    states: dict[str, Any] = {}
    for node in root.iter():
        tag = _local(node.tag)
        if tag == "rpminfo_object":
            name = next((c.text for c in node if _local(c.tag) == "name"), None)
            if name:
                objects[node.get("id", "")] = name.strip()
        elif tag == "rpminfo_state":
            states[node.get("id", "")] = node
    tests: dict[str, tuple[str, str | None]] = {}
    for node in root.iter():
        if _local(node.tag) != "rpminfo_test":
            continue
        refs = {_local(c.tag): c.get("object_ref") or c.get("state_ref") for c in node}
        name = objects.get(refs.get("object") or "")
        state = states.get(refs.get("state") or "")
        if name is None or state is None:
            continue
        tests[node.get("id", "")] = (name, _state_value(state, node.get("comment", "")))
    return tests


def _state_value(state: Any, comment: str) -> str | None:
    """``less than`` EVR → the fix; ``version equals 0`` → ``"0"`` (not affected)."""
    for child in state:
        tag, text = _local(child.tag), (child.text or "").strip()
        if tag == "evr" and text:
            less = child.get("operation") == "less than"
            said = _LESS_THAN.search(comment)  # some files number the operation: trust the words
            if less or (said and said.group("evr") == text.removeprefix("0:")):
                return text[2:] if text.startswith("0:") else text
            return None
        if tag == "version" and text == "0" and child.get("operation") == "equals":
            return "0"
    return None


def release_of(comment: str) -> str | None:
    """``SUSE Linux Enterprise Server 15 SP1-LTSS is installed`` → ``sles:15.1``; None: not a
    product this feed keys (SUSE Manager, Storage) or not a product criterion."""
    if match := _PRODUCT_MICRO.match(comment):
        return f"sle-micro:{match.group('ver')}"
    if match := _PRODUCT_LEAP.match(comment):
        return f"opensuse-leap:{match.group('ver')}"
    match = _PRODUCT_SLE.match(comment)
    if match is None or any(word in match.group("what") for word in _NOT_SLES):
        return None
    sp = match.group("sp")
    return f"sles:{match.group('major')}" + (f".{sp}" if sp and sp != "0" else "")


def _definition(
    definition: Any,
    tests: dict[str, tuple[str, str | None]],
    source: str,
    advisories: list[AdvisoryRow],
    affected: list[AffectedRow],
    severities: list[SeverityRow],
) -> None:
    metadata = next((c for c in definition if _local(c.tag) == "metadata"), None)
    criteria = next((c for c in definition if _local(c.tag) == "criteria"), None)
    if metadata is None or criteria is None:
        return
    title = (next((c.text for c in metadata if _local(c.tag) == "title"), None) or "").strip()
    if not _CVE.match(title):
        return
    rows: dict[tuple[str, str, str], AffectedRow] = {}
    _collect(criteria, frozenset(), tests, title, rows)
    affected.extend(rows.values())
    description = next((c.text for c in metadata if _local(c.tag) == "description"), None)
    summary = " ".join((description or "").split())[:300] or None
    issued = updated = severity = None
    for node in metadata.iter():
        tag = _local(node.tag)
        if tag == "issued":
            issued = node.get("date")
        elif tag == "updated":
            updated = node.get("date")
        elif tag == "severity":
            severity = (node.text or "").strip().lower() or None
    advisories.append(AdvisoryRow(title, dumps([], source), summary, issued, updated, None, None))
    if severity:
        severities.append(SeverityRow(title, "suse", "database_specific", None, None, severity))


def _collect(
    node: Any, releases: frozenset[str], tests: dict[str, tuple[str, str | None]], cve: str,
    rows: dict[tuple[str, str, str], AffectedRow],
) -> None:
    """Walk nested criteria: product criteria (directly, or in a group of only products) scope
    the package criteria beside them and below."""
    children = list(node)
    found: set[str] = set()
    for child in children:
        if _local(child.tag) == "criterion":
            release = release_of(child.get("comment", ""))
            if release:
                found.add(release)
        elif _local(child.tag) == "criteria":
            inner = [release_of(c.get("comment", "")) for c in child]
            if inner and all(inner):
                found.update(r for r in inner if r)
    scope = frozenset(found) or releases
    for child in children:
        tag = _local(child.tag)
        if tag == "criteria":
            _collect(child, scope, tests, cve, rows)
        elif tag == "criterion" and not release_of(child.get("comment", "")):
            test = tests.get(child.get("test_ref", ""))
            if test is None or test[1] is None:
                continue  # a test the file does not define, or a check that is no fix
            name, value = test[0], test[1]
            state, fixed = (RPM_NOT_AFFECTED, None) if value == "0" else (RPM_FIXED, value)
            for release in scope:
                rows[(release, name, value)] = AffectedRow(
                    release, name, cve, state, fixed, None, None, None, None, None, None
                )
