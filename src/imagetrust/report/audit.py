"""``imagetrust audit`` output: a risk-sorted table for people, the documented JSON for machines.

The table puts the images to act on first (lowest level, then most fixable critical/high
findings); the JSON keeps every fact the level was decided from.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from imagetrust.assess.model import SEVERITIES, VulnSummary
from imagetrust.jsonutil import dumps
from imagetrust.policy.verdict import Level
from imagetrust.report.document import AuditDocument, AuditEntry

_LEVEL_STYLE = {
    Level.TRUSTED: "green",
    Level.TRUSTED_WITH_CAVEATS: "green",
    Level.UNKNOWN: "",
    Level.NEEDS_ATTENTION: "yellow",
    Level.UNTRUSTED: "bold red",
}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def _vulnerabilities(summary: VulnSummary | None) -> dict[str, Any] | None:
    if summary is None:
        return None
    counts = summary.by_severity
    doc: dict[str, Any] = {"total": len(summary)}
    doc.update({severity: counts.get(severity, 0) for severity in SEVERITIES})
    doc["fixable"] = {severity: summary.fixable_count(severity) for severity in SEVERITIES}
    doc["kev"] = summary.kev_count
    return doc


def entry_json(entry: AuditEntry, what_pulling_fixes: bool) -> dict[str, Any]:
    fresh = entry.freshness
    doc: dict[str, Any] = {
        "reference": entry.reference,
        "image_id": entry.image_id,
        "repo_digests": list(entry.repo_digests),
        "local_created": _iso(entry.local_created),
        "publisher": entry.publisher,
        "supported_tag": entry.supported_tag,
        "freshness": {
            "status": fresh.state,
            "registry_digest": fresh.tag_digest,
            "days_behind": fresh.days_behind,
            "reason": fresh.reason,
        },
        "vulnerabilities": _vulnerabilities(entry.vulnerabilities),
        "level": entry.verdict.level.slug,
        "reasons": list(entry.verdict.reasons),
        "rules": list(entry.verdict.rules),
        "notes": list(entry.notes),
    }
    if what_pulling_fixes:
        pull = entry.pull
        doc["what_pulling_fixes"] = None if pull is None else {
            **pull.to_json(),
            "fixed_findings": [
                {"id": f.id, "package": f.package_name, "severity": f.severity}
                for f in pull.fixed
            ],
        }
    return doc


def audit_json(report: AuditDocument) -> dict[str, Any]:
    """The JSON document of ``imagetrust audit --format json``."""
    t = report.timings
    return {
        "schema_version": report.SCHEMA_VERSION,
        "daemon": report.daemon,
        "images": [entry_json(e, report.what_pulling_fixes) for e in report.entries],
        "scanned": report.scanned,
        "cached": report.cached,
        "timings": {
            "total": round(t.total, 3),
            "daemon": round(t.daemon, 3),
            "registry": round(t.registry, 3),
            "export": round(t.export, 3),
            "catalog": round(t.catalog, 3),
            "matching": round(t.matching, 3),
            "pull": round(t.pull, 3),
        },
    }


def _freshness_cell(entry: AuditEntry) -> Text:
    fresh = entry.freshness
    if fresh.state == "current":
        return Text("current", style="green")
    if fresh.state == "behind":
        days = f" {fresh.days_behind}d" if fresh.days_behind is not None else ""
        return Text(f"behind{days}", style="yellow")
    return Text("unknown", style="dim")


def _name(entry: AuditEntry) -> str:
    short = entry.image_id.split(":", 1)[-1][:12]
    return f"{entry.reference} ({short})" if entry.reference else f"<none> ({short})"


def audit_text(report: AuditDocument) -> str:
    return dumps(audit_json(report))


def render_audit(report: AuditDocument, console: Console) -> None:
    """One row per tag, the images to act on first."""
    table = Table(title=f"Local images at {report.daemon}", box=box.SIMPLE_HEAD)
    table.add_column("Level")
    table.add_column("Image", overflow="fold")
    for column in ("Publisher", "Tag", "Freshness", "Fix C/H", "KEV"):
        table.add_column(column)
    if report.what_pulling_fixes:
        table.add_column("Pull fixes")
    for entry in report.entries:
        level = entry.verdict.level
        vulns = entry.vulnerabilities
        fixable = (
            f"{vulns.fixable_count('critical')}/{vulns.fixable_count('high')}"
            if vulns is not None else "-"
        )
        row: list[str | Text] = [
            Text(level.label, style=_LEVEL_STYLE[level]),
            _name(entry),
            entry.publisher,
            entry.supported_tag,
            _freshness_cell(entry),
            fixable,
            str(vulns.kev_count) if vulns is not None else "-",
        ]
        if report.what_pulling_fixes:
            row.append(str(len(entry.pull.fixed)) if entry.pull is not None else "-")
        table.add_row(*row)
    console.print(table)
    if not report.entries:
        console.print("No local images matched.")
    worst = report.entries[0] if report.entries else None
    if worst is not None and worst.verdict.level < Level.TRUSTED_WITH_CAVEATS:
        console.print(
            f"First to look at: {_name(worst)} — {worst.verdict.level.label}: "
            f"{'; '.join(worst.verdict.reasons)}"
        )
    console.print(
        f"{len(report.entries)} entries; {report.scanned} images scanned, {report.cached} from "
        f"the audit cache; {report.timings.total:.1f}s",
        style="dim",
    )


__all__ = ["audit_json", "entry_json", "render_audit"]
