"""CSAF 2.0 (the VEX profile, and security advisories' ``product_status``) → :class:`VexStatement`.

CSAF names products by ``product_id``; the product tree says which package URL each id is
(``product_identification_helper.purl``), a relationship (``X default_component_of Y``) makes a
new id for X inside Y, and a ``product_version_range`` branch (``vers:...``) gives the range of
the products below it. One statement is made per vulnerability, status and justification, in
document order; products without a package URL cannot match a package and are left out.
"""

from __future__ import annotations

import re
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

_STATUS = {
    "known_not_affected": NOT_AFFECTED,
    "fixed": FIXED,
    "first_fixed": FIXED,
    "known_affected": AFFECTED,
    "first_affected": AFFECTED,
    "last_affected": AFFECTED,
    "under_investigation": UNDER_INVESTIGATION,
}
_VULN_ID = re.compile(r"^[A-Z][A-Z0-9]*-[A-Za-z0-9:._-]+$")
"""Ids that name a vulnerability (``CVE-…``, ``GHSA-…``), not a bug tracker number."""
_ORDER = ("known_not_affected", "fixed", "first_fixed", "known_affected", "first_affected",
          "last_affected", "under_investigation")


def is_csaf(doc: Any) -> bool:
    document = doc.get("document") if isinstance(doc, dict) else None
    return isinstance(document, dict) and "csaf_version" in document


def _helper_purl(product: dict[str, Any]) -> str | None:
    helper = product.get("product_identification_helper")
    purl = helper.get("purl") if isinstance(helper, dict) else None
    return purl if isinstance(purl, str) and purl.startswith("pkg:") else None


def product_purls(read: Reader, tree: Any) -> dict[str, VexProduct]:
    """``product_id`` → product, from branches, full product names and relationships."""
    found: dict[str, VexProduct] = {}
    if tree is None:
        return found
    tree = read.obj(tree, "product_tree")

    def add(product: Any, where: str, version_range: str | None) -> None:
        product = read.obj(product, where)
        pid = read.text(product.get("product_id"), f"{where}.product_id", optional=False)
        purl = _helper_purl(product)
        if pid and purl:
            found[pid] = VexProduct(purl, version_range=version_range)

    stack: list[tuple[Any, str, str | None]] = [
        (b, f"product_tree.branches[{i}]", None)
        for i, b in enumerate(read.array(tree.get("branches"), "product_tree.branches"))
    ]
    while stack:
        raw, where, version_range = stack.pop()
        branch = read.obj(raw, where)
        if branch.get("category") == "product_version_range" and isinstance(
            branch.get("name"), str
        ):
            version_range = branch["name"]
        if branch.get("product") is not None:
            add(branch["product"], f"{where}.product", version_range)
        stack.extend(
            (b, f"{where}.branches[{i}]", version_range)
            for i, b in enumerate(read.array(branch.get("branches"), f"{where}.branches"))
        )
    for i, product in enumerate(read.array(tree.get("full_product_names"),
                                           "product_tree.full_product_names")):
        add(product, f"product_tree.full_product_names[{i}]", None)
    for i, raw in enumerate(read.array(tree.get("relationships"), "product_tree.relationships")):
        where = f"product_tree.relationships[{i}]"
        rel = read.obj(raw, where)
        full = read.obj(rel.get("full_product_name"), f"{where}.full_product_name")
        pid = read.text(full.get("product_id"), f"{where}.full_product_name.product_id",
                        optional=False)
        component = rel.get("product_reference")
        own = _helper_purl(full)
        if pid and own:
            found[pid] = VexProduct(own)
        elif pid and isinstance(component, str) and component in found:
            found[pid] = found[component]
    return found


def _by_product(read: Reader, items: Any, where: str, key: str) -> dict[str, str]:
    """``product_id`` → the text of the flag/threat/remediation that names it."""
    result: dict[str, str] = {}
    for i, raw in enumerate(read.array(items, where)):
        item = read.obj(raw, f"{where}[{i}]")
        text = item.get(key)
        if not isinstance(text, str):
            continue
        for pid in read.array(item.get("product_ids"), f"{where}[{i}].product_ids"):
            if isinstance(pid, str):
                result.setdefault(pid, text)
    return result


def _impacts(read: Reader, threats: Any, where: str) -> tuple[dict[str, str], str | None]:
    """Impact statements per product, and one that names no product (it applies to all)."""
    per_product: dict[str, str] = {}
    general: str | None = None
    for i, raw in enumerate(read.array(threats, where)):
        threat = read.obj(raw, f"{where}[{i}]")
        details = threat.get("details")
        if threat.get("category") != "impact" or not isinstance(details, str):
            continue
        pids = read.array(threat.get("product_ids"), f"{where}[{i}].product_ids")
        if not pids and general is None:
            general = details
        for pid in pids:
            if isinstance(pid, str):
                per_product.setdefault(pid, details)
    return per_product, general


def parse_csaf(doc: dict[str, Any], source: str) -> tuple[VexStatement, ...]:
    read = Reader(source)
    products = product_purls(read, doc.get("product_tree"))
    out: list[VexStatement] = []
    for v, raw in enumerate(read.array(doc.get("vulnerabilities"), "vulnerabilities")):
        where = f"vulnerabilities[{v}]"
        vuln = read.obj(raw, where)
        ids = [str(i["text"]) for i in read.array(vuln.get("ids"), f"{where}.ids")
               if isinstance(i, dict) and isinstance(i.get("text"), str)
               and _VULN_ID.match(i["text"])]
        cve = read.text(vuln.get("cve"), f"{where}.cve")
        name = cve or (ids[0] if ids else None)
        if name is None:
            raise read.fail(where, "names no vulnerability (neither cve nor ids)")
        flags = _by_product(read, vuln.get("flags"), f"{where}.flags", "label")
        actions = _by_product(read, vuln.get("remediations"), f"{where}.remediations", "details")
        impacts, general_impact = _impacts(read, vuln.get("threats"), f"{where}.threats")
        status_map = read.obj(vuln.get("product_status") or {}, f"{where}.product_status")
        for word in _ORDER:
            pids = [p for p in read.array(status_map.get(word), f"{where}.product_status.{word}")
                    if isinstance(p, str)]
            groups: dict[str | None, list[str]] = {}
            for pid in pids:
                groups.setdefault(flags.get(pid), []).append(pid)
            for justification, members in groups.items():
                first = members[0]
                out.append(VexStatement(
                    vulnerability=name,
                    aliases=tuple(i for i in ids if i != name) if cve else tuple(ids[1:]),
                    products=tuple(products[p] for p in members if p in products),
                    status=_STATUS[word],
                    justification=justification,
                    impact_statement=impacts.get(first, general_impact),
                    action_statement=actions.get(first),
                    source=source,
                    index=len(out),
                    format="csaf",
                ))
                if len(out) > MAX_STATEMENTS:
                    raise read.fail("vulnerabilities", f"more than {MAX_STATEMENTS} statements")
    return tuple(out)


__all__ = ["is_csaf", "parse_csaf", "product_purls"]
