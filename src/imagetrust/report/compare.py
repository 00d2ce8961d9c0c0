"""``imagetrust compare`` output: JSON for machines, a table for people, Markdown for a PR.

Every format renders the same :class:`CompareDocument`; package changes sit under ``added``,
``removed``, ``upgraded`` and ``downgraded`` (and ``changed`` for versions no scheme orders).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

from imagetrust.match.model import SEVERITIES
from imagetrust.report.document import CompareDocument, CompareSide

if TYPE_CHECKING:
    from rich.console import Console

    from imagetrust.assess.base_image import BaseImageResult
    from imagetrust.assess.diff import FindingChange, PackageChange, ValueChange

_KINDS = ("added", "removed", "upgraded", "downgraded", "changed")


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def _side(side: CompareSide) -> dict[str, Any]:
    return {
        "reference": side.reference,
        "digest": side.digest,
        "index_digest": side.index_digest,
        "config_digest": side.config_digest,
        "platform": side.platform,
        "created": _iso(side.created),
        "tag": side.tag,
        "os": side.os,
        "packages": side.packages,
        "source": side.copy.to_json(),
        "scan_coverage": side.scan_coverage,
    }


def _package(change: PackageChange) -> dict[str, Any]:
    doc: dict[str, Any] = {"name": change.name, "type": change.type}
    if change.before is not None and change.after is not None:
        doc["before"], doc["after"] = change.before, change.after
    else:
        doc["version"] = change.after if change.after is not None else change.before
    doc["in_base"] = change.in_base
    return doc


def _finding(change: FindingChange) -> dict[str, Any]:
    return {
        "id": change.id, "package": change.package, "version": change.version,
        "severity": change.severity, "fix_state": change.fix_state,
        "fixed_version": change.fixed_version, "in_base": change.in_base,
    }


def _value(change: ValueChange | None) -> dict[str, Any] | None:
    if change is None:
        return None
    return {"field": change.field, "before": change.before, "after": change.after}


def _base(base: BaseImageResult | None) -> dict[str, Any] | None:
    if base is None:
        return None
    return {
        "state": base.state, "reason": base.reason, "method": base.method,
        "reference": base.reference, "digest": base.digest, "layer_count": base.layer_count,
    }


def compare_json(document: CompareDocument) -> dict[str, Any]:
    """The JSON document of ``imagetrust compare --format json``."""
    packages: dict[str, Any] = {
        kind: [_package(c) for c in group] for kind, group in document.packages.groups().items()
    }
    packages["unchanged"] = document.packages.unchanged
    findings = document.findings
    config = document.config
    layers = document.layers
    base_a, base_b = document.base_before, document.base_after
    rebuild = document.rebuild
    return {
        "schema_version": CompareDocument.SCHEMA_VERSION,
        "before": _side(document.before),
        "after": _side(document.after),
        "to_latest": document.to_latest,
        "filters": dict(document.filters),
        "packages": packages,
        "findings": None if findings is None else {
            "fixed": [_finding(c) for c in findings.fixed],
            "introduced": [_finding(c) for c in findings.introduced],
            "fixed_counts": findings.counts("fixed"),
            "introduced_counts": findings.counts("introduced"),
            "unchanged": findings.unchanged,
        },
        "config": {
            "changes": [_value(c) for c in config.changes],
            "env": [_value(c) for c in config.env],
            "labels": [_value(c) for c in config.labels],
            "exposed_ports": [_value(c) for c in config.exposed_ports],
            "platform": _value(config.platform),
            "created": _value(config.created),
            "history_changed": config.history_changed,
        },
        "layers": {
            "size_before": layers.size_before, "size_after": layers.size_after,
            "size_change": layers.size_after - layers.size_before,
            "layers_before": layers.layers_before, "layers_after": layers.layers_after,
            "shared": layers.shared, "shared_bytes": layers.shared_bytes,
            "common_prefix": layers.common_prefix, "same_layers": layers.same_layers,
        },
        "base": {
            "before": _base(base_a),
            "after": _base(base_b),
            "changed": _base_changed(base_a, base_b),
        },
        "rebuild": None if rebuild is None else {
            "tag": rebuild.tag,
            "state": rebuild.state,
            "summary": rebuild.summary,
            "causes": [
                {"kind": c.kind, "summary": c.summary, "details": dict(c.details)}
                for c in rebuild.causes
            ],
            "evidence": [
                {"name": e.name, "available": e.available, "note": e.note}
                for e in rebuild.evidence
            ],
        },
        "rebuild_note": document.rebuild_note,
    }


def _base_changed(a: BaseImageResult | None, b: BaseImageResult | None) -> bool | None:
    if a is None or b is None or a.state != "detected" or b.state != "detected":
        return None
    return (a.reference, a.digest) != (b.reference, b.digest)


def compare_text(document: CompareDocument) -> str:
    return json.dumps(compare_json(document), indent=2, ensure_ascii=False) + "\n"


# -- people -------------------------------------------------------------------------------------


def _size(n: int) -> str:
    value = float(n)
    for unit in ("B", "kB", "MB", "GB"):
        if abs(value) < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{n} B"


def _version_text(change: PackageChange) -> str:
    if change.before is not None and change.after is not None:
        return f"{change.before} → {change.after}"
    return change.after or change.before or ""


def _headline(document: CompareDocument) -> list[str]:
    a, b = document.before, document.after
    layers = document.layers
    lines = [
        f"A: {a.reference}  ({a.config_digest[:19]}…, {a.platform})",
        f"B: {b.reference}  ({b.config_digest[:19]}…, {b.platform})",
        f"size {_size(layers.size_before)} → {_size(layers.size_after)}; "
        f"{layers.shared} of {layers.layers_after} layers of B reused from A "
        f"({_size(layers.shared_bytes)})",
    ]
    base_a, base_b = document.base_before, document.base_after
    if _base_changed(base_a, base_b):
        assert base_a is not None and base_b is not None
        lines.append(f"base: {base_a.reference}@{(base_a.digest or '')[:19]} → "
                     f"{base_b.reference}@{(base_b.digest or '')[:19]}")
    elif _base_changed(base_a, base_b) is False and base_b is not None:
        lines.append(f"base: unchanged ({base_b.reference})")
    return lines


def _config_lines(document: CompareDocument) -> list[str]:
    config = document.config
    lines = [f"{c.field}: {c.before!r} → {c.after!r}" for c in config.changes]
    lines += [f"env {c.field}: {c.before!r} → {c.after!r}" for c in config.env]
    lines += [f"label {c.field}: {c.before!r} → {c.after!r}" for c in config.labels]
    lines += [
        f"port {c.field}: {'added' if c.after else 'removed'}" for c in config.exposed_ports
    ]
    if config.platform is not None:
        lines.append(f"platform: {config.platform.before} → {config.platform.after}")
    if config.created is not None:
        lines.append(f"created: {config.created.before} → {config.created.after}")
    return lines


def render_compare(document: CompareDocument, console: Console) -> None:
    """The comparison for people: headline, packages, findings, config, rebuild."""
    from rich.table import Table  # only the table needs rich: JSON and Markdown skip its import

    for line in _headline(document):
        console.print(line, highlight=False, markup=False)
    packages = document.packages
    if packages.total:
        table = Table(title="Packages", title_justify="left")
        for column in ("change", "package", "type", "version"):
            table.add_column(column)
        for kind, group in packages.groups().items():
            for change in group:
                table.add_row(kind, change.name, change.type, _version_text(change))
        console.print(table)
    else:
        console.print(f"Packages: no change ({packages.unchanged} unchanged)")
    findings = document.findings
    if findings is None:
        console.print("Vulnerabilities: not scanned")
    else:
        fixed, introduced = findings.counts("fixed"), findings.counts("introduced")
        table = Table(title="Vulnerabilities", title_justify="left")
        table.add_column("")
        for severity in SEVERITIES:
            table.add_column(severity, justify="right")
        table.add_row("fixed", *(str(fixed[s]) for s in SEVERITIES))
        table.add_row("introduced", *(str(introduced[s]) for s in SEVERITIES))
        console.print(table)
        for finding in findings.introduced[:20]:
            console.print(f"  + {finding.id} {finding.severity} in {finding.package} "
                          f"{finding.version}", markup=False, highlight=False)
    config_lines = _config_lines(document)
    if config_lines:
        console.print("Config:")
        for line in config_lines:
            console.print(f"  {line}", markup=False, highlight=False)
    rebuild = document.rebuild
    if rebuild is not None:
        console.print(f"Why rebuilt: {rebuild.summary}", markup=False, highlight=False)
        for evidence in rebuild.evidence:
            mark = "✓" if evidence.available else "–"
            console.print(f"  {mark} {evidence.name}: {evidence.note}", markup=False,
                          highlight=False)
    elif document.rebuild_note:
        console.print(f"Why rebuilt: {document.rebuild_note}", style="dim", markup=False)


def compare_markdown(document: CompareDocument) -> str:
    """A pull-request comment: the headline, tables of changes, the rebuild explanation."""
    out = ["## imagetrust compare", ""]
    out += [f"- {_escape(line)}" for line in _headline(document)]
    out.append("")
    packages = document.packages
    out.append(f"### Packages ({packages.total} changed, {packages.unchanged} unchanged)")
    if packages.total:
        out += ["", "| change | package | type | version |", "|---|---|---|---|"]
        for kind, group in packages.groups().items():
            out += [
                f"| {kind} | {_escape(c.name)} | {c.type} | {_escape(_version_text(c))} |"
                for c in group
            ]
    out.append("")
    findings = document.findings
    out.append("### Vulnerabilities")
    if findings is None:
        out.append("\nnot scanned")
    else:
        fixed, introduced = findings.counts("fixed"), findings.counts("introduced")
        out += ["", "| | " + " | ".join(SEVERITIES) + " |",
                "|---|" + "---:|" * len(SEVERITIES)]
        out.append("| fixed | " + " | ".join(str(fixed[s]) for s in SEVERITIES) + " |")
        out.append("| introduced | " + " | ".join(str(introduced[s]) for s in SEVERITIES)
                   + " |")
    config_lines = _config_lines(document)
    if config_lines:
        out += ["", "### Config", ""] + [f"- {_escape(line)}" for line in config_lines]
    rebuild = document.rebuild
    if rebuild is not None:
        out += ["", "### Why was this tag rebuilt", "", _escape(rebuild.summary), ""]
        out += [
            f"- {'✓' if e.available else '–'} {e.name}: {_escape(e.note)}"
            for e in rebuild.evidence
        ]
    return "\n".join(out) + "\n"


def _escape(text: str) -> str:
    return text.replace("|", "\\|")


__all__ = ["compare_json", "compare_markdown", "compare_text", "render_compare"]
