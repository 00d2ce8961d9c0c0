"""CycloneDX VEX (``vulnerabilities[].analysis``, CycloneDX 1.4-1.6 JSON) → :class:`VexStatement`.

``affects[].ref`` is a ``bom-ref``: of a component in the same document (its purl is used), a
BOM-Link (``urn:cdx:…#pkg:…``) or a purl itself. ``affects[].versions`` give exact versions or
``vers:`` ranges. A vulnerability without ``analysis.state`` states nothing and is skipped;
imagetrust's own ``cves --format cyclonedx-vex`` output reads back as it was written.
"""

from __future__ import annotations

from typing import Any

from imagetrust.policy.vex.common import MAX_STATEMENTS, Reader
from imagetrust.policy.vex.model import (
    AFFECTED,
    FIXED,
    NOT_AFFECTED,
    UNDER_INVESTIGATION,
    VexProduct,
    VexStatement,
)

_STATE = {
    "not_affected": NOT_AFFECTED,
    "false_positive": NOT_AFFECTED,
    "resolved": FIXED,
    "resolved_with_pedigree": FIXED,
    "exploitable": AFFECTED,
    "in_triage": UNDER_INVESTIGATION,
}


def is_cyclonedx(doc: Any) -> bool:
    return isinstance(doc, dict) and doc.get("bomFormat") == "CycloneDX"


def _component_purls(read: Reader, doc: dict[str, Any]) -> dict[str, str]:
    found: dict[str, str] = {}
    stack: list[tuple[Any, str]] = [
        (c, f"components[{i}]")
        for i, c in enumerate(read.array(doc.get("components"), "components"))
    ]
    metadata = doc.get("metadata")
    if isinstance(metadata, dict) and isinstance(metadata.get("component"), dict):
        stack.append((metadata["component"], "metadata.component"))
    while stack:
        raw, where = stack.pop()
        component = read.obj(raw, where)
        ref, purl = component.get("bom-ref"), component.get("purl")
        if isinstance(ref, str) and isinstance(purl, str):
            found[ref] = purl
        stack.extend((c, f"{where}.components[{i}]") for i, c in
                     enumerate(read.array(component.get("components"), f"{where}.components")))
    return found


def _purl_of(ref: str, components: dict[str, str]) -> str | None:
    if ref in components:
        return components[ref]
    if "#pkg:" in ref:
        return ref[ref.index("#pkg:") + 1:]
    return ref if ref.startswith("pkg:") else None


def _products(read: Reader, vuln: dict[str, Any], where: str,
              components: dict[str, str]) -> tuple[VexProduct, ...]:
    products: list[VexProduct] = []
    for i, raw in enumerate(read.array(vuln.get("affects"), f"{where}.affects")):
        target = read.obj(raw, f"{where}.affects[{i}]")
        ref = read.text(target.get("ref"), f"{where}.affects[{i}].ref", optional=False)
        purl = _purl_of(ref or "", components)
        if purl is None:
            continue
        versions = read.array(target.get("versions"), f"{where}.affects[{i}].versions")
        ranges = [v.get("version") or v.get("range") for v in versions if isinstance(v, dict)]
        ranges = [r for r in ranges if isinstance(r, str)]
        if not ranges:
            products.append(VexProduct(purl))
        products.extend(VexProduct(purl, version_range=r) for r in ranges)
    return tuple(products)


def parse_cyclonedx(doc: dict[str, Any], source: str) -> tuple[VexStatement, ...]:
    read = Reader(source)
    components = _component_purls(read, doc)
    vulns = read.array(doc.get("vulnerabilities"), "vulnerabilities")
    if len(vulns) > MAX_STATEMENTS:
        raise read.fail("vulnerabilities", f"more than {MAX_STATEMENTS} entries")
    out: list[VexStatement] = []
    for index, raw in enumerate(vulns):
        where = f"vulnerabilities[{index}]"
        vuln = read.obj(raw, where)
        analysis = vuln.get("analysis")
        state = analysis.get("state") if isinstance(analysis, dict) else None
        if state is None:
            continue
        if state not in _STATE:
            raise read.fail(f"{where}.analysis.state", f"unknown state {state!r}")
        assert isinstance(analysis, dict)
        name = read.text(vuln.get("id"), f"{where}.id", optional=False)
        assert name is not None
        aliases = tuple(r["id"] for r in read.array(vuln.get("references"), f"{where}.references")
                        if isinstance(r, dict) and isinstance(r.get("id"), str))
        responses = [r for r in read.array(analysis.get("response"), f"{where}.analysis.response")
                     if isinstance(r, str)]
        action = vuln.get("recommendation")
        out.append(VexStatement(
            vulnerability=name,
            aliases=aliases,
            products=_products(read, vuln, where, components),
            status=_STATE[state],
            justification=read.text(analysis.get("justification"),
                                    f"{where}.analysis.justification"),
            impact_statement=read.text(analysis.get("detail"), f"{where}.analysis.detail"),
            action_statement=action if isinstance(action, str)
            else (", ".join(responses) or None),
            source=source,
            index=index,
            format="cyclonedx",
        ))
    return tuple(out)


__all__ = ["is_cyclonedx", "parse_cyclonedx"]
