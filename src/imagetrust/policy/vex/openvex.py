"""OpenVEX (0.2, and the 0.0.x drafts Trivy and vexctl still write) → :class:`VexStatement`.

A product is a package URL (``@id`` or ``identifiers.purl``); its ``subcomponents`` narrow the
statement to packages inside it, as in an image's VEX (``pkg:oci/...`` with ``pkg:apk/...``).
"""

from __future__ import annotations

from typing import Any

from imagetrust.policy.vex.common import MAX_STATEMENTS, Reader
from imagetrust.policy.vex.model import STATUSES, VexProduct, VexStatement


def is_openvex(doc: Any) -> bool:
    context = doc.get("@context") if isinstance(doc, dict) else None
    return isinstance(context, str) and "openvex" in context


def _component_id(read: Reader, item: Any, where: str) -> str | None:
    if isinstance(item, str):
        return item
    item = read.obj(item, where)
    identifiers = item.get("identifiers")
    if isinstance(identifiers, dict) and isinstance(identifiers.get("purl"), str):
        return str(identifiers["purl"])
    return read.text(item.get("@id"), f"{where}.@id")


def _products(read: Reader, statement: dict[str, Any], where: str) -> tuple[VexProduct, ...]:
    products: list[VexProduct] = []
    for i, item in enumerate(read.array(statement.get("products"), f"{where}.products")):
        pid = _component_id(read, item, f"{where}.products[{i}]")
        subs: list[str] = []
        if isinstance(item, dict):
            for j, sub in enumerate(read.array(item.get("subcomponents"),
                                               f"{where}.products[{i}].subcomponents")):
                sid = _component_id(read, sub, f"{where}.products[{i}].subcomponents[{j}]")
                if sid:
                    subs.append(sid)
        if pid:
            products.append(VexProduct(pid, tuple(subs)))
    # 0.0.x drafts: "products": ["pkg:..."], "subcomponents": [...] on the statement
    top_subs = [s for s in read.array(statement.get("subcomponents"), f"{where}.subcomponents")
                if isinstance(s, str)]
    if top_subs:
        products = [VexProduct(p.purl, (*p.subcomponents, *top_subs)) for p in products]
    return tuple(products)


def _vulnerability(read: Reader, value: Any, where: str) -> tuple[str, tuple[str, ...]]:
    if isinstance(value, str) and value.strip():
        return value.strip(), ()
    vuln = read.obj(value, where)
    name = read.text(vuln.get("name") or vuln.get("@id"), f"{where}.name", optional=False)
    aliases = tuple(a for a in read.array(vuln.get("aliases"), f"{where}.aliases")
                    if isinstance(a, str))
    assert name is not None
    return name.strip(), aliases


def parse_openvex(doc: dict[str, Any], source: str) -> tuple[VexStatement, ...]:
    read = Reader(source)
    statements = read.array(doc.get("statements"), "statements", optional=False)
    if len(statements) > MAX_STATEMENTS:
        raise read.fail("statements", f"more than {MAX_STATEMENTS} statements")
    out: list[VexStatement] = []
    for index, raw in enumerate(statements):
        where = f"statements[{index}]"
        statement = read.obj(raw, where)
        name, aliases = _vulnerability(read, statement.get("vulnerability"),
                                       f"{where}.vulnerability")
        status = read.text(statement.get("status"), f"{where}.status", optional=False)
        if status not in STATUSES:
            raise read.fail(f"{where}.status", f"unknown status {status!r}; "
                            f"OpenVEX has {', '.join(STATUSES)}")
        out.append(VexStatement(
            vulnerability=name,
            aliases=aliases,
            products=_products(read, statement, where),
            status=status,
            justification=read.text(statement.get("justification"), f"{where}.justification"),
            impact_statement=read.text(statement.get("impact_statement"),
                                       f"{where}.impact_statement"),
            action_statement=read.text(statement.get("action_statement"),
                                       f"{where}.action_statement"),
            source=source,
            index=index,
            format="openvex",
        ))
    return tuple(out)


__all__ = ["is_openvex", "parse_openvex"]
