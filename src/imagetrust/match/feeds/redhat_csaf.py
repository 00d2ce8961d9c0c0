"""Red Hat CSAF 2.0 documents (per-CVE VEX files and RHSA advisories) → rows for ``redhat:<major>``.

Red Hat files every verdict under a product id ``<product stream>:<component>``. The stream's CPE
says which release it belongs to: only the main line (``cpe:/o:redhat:enterprise_linux:9``,
``cpe:/a:redhat:enterprise_linux:9::appstream``) is what a RHEL or UBI image installs from;
EUS/AUS/E4S/TUS streams (``rhel_eus``…) and layered products are left out.  The component is a
source rpm with its fixed NEVRA (``python3.9-0:3.9.18-3.el9_4.5.src``; purl qualifiers ``epoch``
and ``rpmmod`` for modules) or, for unfixed verdicts, a bare name (``wireshark``,
``nodejs:18/nodejs``).  Rows are keyed by source package, as Red Hat tracks them.

Columns beyond the common ones: ``nodsa`` holds the module stream (``nodejs:18``) of a modular
component, ``nodsa_reason`` the remediation detail of a known_affected one (``Will not fix``,
``Fix deferred``, ``Out of support scope``, ``Affected``).  The fix-state policy is
:func:`imagetrust.match.fixstate.rpm_verdict`.
"""

from __future__ import annotations

import io
import re
import tarfile
from collections.abc import Iterator, Sequence
from typing import Any
from urllib.parse import unquote

from imagetrust.match.feeds.common import dumps, feed_error, load_json, text
from imagetrust.match.feeds.model import AdvisoryRow, AffectedRow, FeedData, FeedUnit, SeverityRow
from imagetrust.match.fixstate import (
    RPM_AFFECTED,
    RPM_FIXED,
    RPM_INVESTIGATING,
    RPM_NOT_AFFECTED,
)

FEED = "redhat-csaf"
DEFAULT_BASE_URL = "https://security.access.redhat.com/data/csaf/v2/vex"
ARCHIVE_NAME = "csaf_vex_latest.tar.zst"
"""What a mirror serves: every VEX document in one archive (upstream names its archives by date
in ``archive_latest.txt``; point ``IMAGETRUST_FEED_URLS`` at a mirror that keeps this name)."""

MAX_MEMBER = 64 << 20
MAX_ARCHIVE = 8 << 30

_STATUSES = {
    "fixed": RPM_FIXED,
    "first_fixed": RPM_FIXED,
    "known_affected": RPM_AFFECTED,
    "first_affected": RPM_AFFECTED,
    "last_affected": RPM_AFFECTED,
    "known_not_affected": RPM_NOT_AFFECTED,
    "under_investigation": RPM_INVESTIGATING,
}
_NEVRA = re.compile(r"^(?P<name>.+)-(?:(?P<epoch>\d+):)?(?P<version>[^-:]+)-(?P<release>[^-]+)"
                    r"\.(?P<arch>[^.]+)$")
_CPE_MAIN = re.compile(r"^cpe:/[ao]:redhat:enterprise_linux:(?P<major>\d+)(?:[:.]|$)")


def units(base_url: str, selectors: Sequence[str]) -> list[FeedUnit]:
    return [FeedUnit(FEED, FEED, f"{base_url.rstrip('/')}/{ARCHIVE_NAME}")]


def looks_like(doc: object) -> bool:
    if not isinstance(doc, dict):
        return False
    document = doc.get("document")
    return (
        isinstance(document, dict)
        and str(document.get("csaf_version", "")).startswith("2.")
        and isinstance(doc.get("vulnerabilities"), list)
    )


def parse_bytes(data: bytes, source: str | None = None) -> FeedData:
    """A tar (optionally zstd-compressed) of CSAF JSON documents, or one document."""
    src = source or FEED
    if data[:4] == b"\x28\xb5\x2f\xfd":
        data = _unzstd(data, src)
    if len(data) > 262 and data[257:262] == b"ustar":
        return parse_documents(_tar_members(data, src), src)
    return parse_documents([load_json(data, src)], src)


def _unzstd(data: bytes, source: str) -> bytes:
    import zstandard

    try:
        reader = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(data))
        out = reader.read(MAX_ARCHIVE + 1)
    except zstandard.ZstdError as error:
        raise feed_error(source, f"corrupt zstd data ({error})") from None
    if len(out) > MAX_ARCHIVE:
        raise feed_error(source, "archive inflates past the size limit")
    return out


def _tar_members(data: bytes, source: str) -> Iterator[Any]:
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as archive:
            for member in archive:
                if not member.isfile() or not member.name.endswith(".json"):
                    continue
                if member.size > MAX_MEMBER:
                    raise feed_error(source, f"{member.name}: larger than a CSAF document can be")
                handle = archive.extractfile(member)
                if handle is not None:
                    yield load_json(handle.read(), f"{source}: {member.name}")
    except tarfile.TarError as error:
        raise feed_error(source, f"corrupt tar archive ({error})") from None


def parse_documents(docs: Any, source: str = FEED) -> FeedData:
    advisories: list[AdvisoryRow] = []
    affected: list[AffectedRow] = []
    severities: list[SeverityRow] = []
    count = 0
    seen: set[str] = set()
    for doc in docs:
        if not looks_like(doc):
            raise feed_error(source, "not a CSAF 2.0 document (document/vulnerabilities)")
        count += 1
        _parse(doc, source, advisories, affected, severities, seen)
    return FeedData(FEED, source, count, advisories=advisories, affected=affected,
                    severities=severities)


def _walk(branches: Any) -> Iterator[dict[str, Any]]:
    for branch in branches if isinstance(branches, list) else []:
        if not isinstance(branch, dict):
            continue
        product = branch.get("product")
        if isinstance(product, dict) and isinstance(product.get("product_id"), str):
            yield product
        yield from _walk(branch.get("branches"))


def _releases(tree: dict[str, Any]) -> dict[str, str]:
    """product id of a main-line RHEL stream → its major release."""
    releases: dict[str, str] = {}
    for product in _walk(tree.get("branches")):
        helper = product.get("product_identification_helper") or {}
        match = _CPE_MAIN.match(str(helper.get("cpe", "")))
        if match:
            releases[product["product_id"]] = match.group("major")
    return releases


def _purls(tree: dict[str, Any]) -> dict[str, str]:
    purls: dict[str, str] = {}
    for product in _walk(tree.get("branches")):
        helper = product.get("product_identification_helper") or {}
        if isinstance(helper.get("purl"), str):
            purls[product["product_id"]] = helper["purl"]
    return purls


class _Component:
    __slots__ = ("fixed", "module", "name", "source")

    def __init__(self, name: str, fixed: str | None, module: str | None, source: bool) -> None:
        self.name, self.fixed, self.module, self.source = name, fixed, module, source


def _component(ref: str, purl: str | None) -> _Component | None:
    """What a product reference names: source package, fixed EVR, module stream."""
    if purl and purl.startswith("pkg:rpm/"):
        body, _, query = purl[len("pkg:rpm/"):].partition("?")
        quals = dict(q.split("=", 1) for q in query.split("&") if "=" in q)
        name_ver = body.split("/", 1)[-1]
        name, _, version = name_ver.partition("@")
        module = _stream(unquote(quals.get("rpmmod", ""))) or None
        arch = quals.get("arch")
        if not version:
            return _Component(unquote(name), None, module, True)
        epoch = quals.get("epoch")
        evr = unquote(version)
        fixed = f"{epoch}:{evr}" if epoch and epoch != "0" else evr
        return _Component(unquote(name), fixed, module, arch in (None, "src"))
    module = None
    if "/" in ref:  # unfixed modular component: nodejs:18/nodejs
        module_part, _, ref = ref.rpartition("/")
        module = _stream(module_part)
    match = _NEVRA.match(ref)
    if match is None:
        return _Component(ref, None, module, True) if ref else None
    epoch = match.group("epoch")
    evr = f"{match.group('version')}-{match.group('release')}"
    fixed = f"{epoch}:{evr}" if epoch and epoch != "0" else evr
    return _Component(match.group("name"), fixed, module, match.group("arch") == "src")


def _stream(label: str) -> str:
    """``nodejs:18:8090020231019152822:a75119d5`` → ``nodejs:18``."""
    parts = label.split(":")
    return ":".join(parts[:2]) if len(parts) >= 2 else ""


def _remediation_details(vuln: dict[str, Any]) -> dict[str, str]:
    details: dict[str, str] = {}
    for item in vuln.get("remediations") or []:
        if not isinstance(item, dict) or item.get("category") == "vendor_fix":
            continue
        words = text(item.get("details")) or str(item.get("category", ""))
        for pid in item.get("product_ids") or []:
            details.setdefault(str(pid), words)
    return details


def _parse(
    doc: dict[str, Any],
    source: str,
    advisories: list[AdvisoryRow],
    affected: list[AffectedRow],
    severities: list[SeverityRow],
    seen: set[str],
) -> None:
    tree = doc.get("product_tree") or {}
    releases = _releases(tree)
    purls = _purls(tree)
    relations: dict[str, tuple[str, str]] = {}
    for rel in tree.get("relationships") or []:
        if not isinstance(rel, dict):
            continue
        full = rel.get("full_product_name") or {}
        pid, ref, parent = full.get("product_id"), rel.get("product_reference"), \
            rel.get("relates_to_product_reference")
        if isinstance(pid, str) and isinstance(ref, str) and parent in releases:
            relations[pid] = (releases[str(parent)], ref)
    document = doc["document"]
    tracking = document.get("tracking") or {}
    doc_id = text(tracking.get("id"))
    severity = ((document.get("aggregate_severity") or {}).get("text") or "").lower() or None
    for vuln in doc["vulnerabilities"]:
        if not isinstance(vuln, dict) or not isinstance(vuln.get("cve"), str):
            continue
        cve = vuln["cve"]
        details = _remediation_details(vuln)
        rows: set[AffectedRow] = set()
        for status, pids in (vuln.get("product_status") or {}).items():
            state = _STATUSES.get(status)
            if state is None or not isinstance(pids, list):
                continue
            for pid in pids:
                target = relations.get(str(pid))
                if target is None:
                    continue
                release, ref = target
                comp = _component(ref, purls.get(ref))
                if comp is None or (state == RPM_FIXED and (comp.fixed is None or not comp.source)):
                    continue  # a fix is recorded once, on its source rpm
                rows.add(AffectedRow(
                    f"redhat:{release}", comp.name, cve, state,
                    comp.fixed if state == RPM_FIXED else None, None, comp.module,
                    details.get(str(pid)) if state == RPM_AFFECTED else None,
                    None, None, None,
                ))
        affected.extend(sorted(rows, key=lambda r: (r.ecosystem, r.package, r.state)))
        if cve in seen:
            continue
        seen.add(cve)
        aliases = [doc_id] if doc_id and doc_id != cve else []
        advisories.append(AdvisoryRow(
            cve, dumps(aliases, source), text(vuln.get("title")) or text(document.get("title")),
            text(vuln.get("release_date")), text(tracking.get("current_release_date")), None,
            None,
        ))
        rating = _threat_rating(vuln) or severity
        if rating:
            severities.append(SeverityRow(cve, "redhat", "database_specific", None, None, rating))


def _threat_rating(vuln: dict[str, Any]) -> str | None:
    for threat in vuln.get("threats") or []:
        if isinstance(threat, dict) and threat.get("category") == "impact":
            return (text(threat.get("details")) or "").lower() or None
    return None
