"""``cves`` as a terminal table (rich): findings grouped by package, worst first, then counts."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from imagetrust.match.model import SEVERITIES, Finding
from imagetrust.report.cves_json import counts
from imagetrust.report.document import CvesDocument
from imagetrust.report.suppressions import suppression_lines

_STYLE = {"critical": "bold red", "high": "red", "medium": "yellow", "low": "cyan",
          "negligible": "dim", "unknown": "magenta"}


def _group_key(f: Finding) -> tuple[str, str, str]:
    return (f.package.name, f.package.version, f.package.type)


def render_cves(document: CvesDocument, console: Console) -> None:
    """Findings grouped by package, worst first, then the counts, coverage gaps and warnings."""
    result, findings = document.result, document.findings
    title = result.subject.reference
    if result.os and result.os.pretty_name:
        title += f" ({result.os.pretty_name})"
    table = Table(title=title, show_lines=False)
    for column in ("Package", "Installed", "Vulnerability", "Severity", "Fix state", "Fixed in",
                   "KEV", "EPSS"):
        table.add_column(column, no_wrap=column in ("Vulnerability", "Severity"))
    rank = {s: i for i, s in enumerate(SEVERITIES)}
    groups: dict[tuple[str, str, str], list[Finding]] = {}
    for f in findings:
        groups.setdefault(_group_key(f), []).append(f)
    ordered = sorted(groups.items(), key=lambda kv: (min(rank[f.severity] for f in kv[1]), kv[0]))
    for (name, version, kind), items in ordered:
        for index, f in enumerate(sorted(items, key=lambda x: (rank[x.severity], x.id))):
            table.add_row(
                f"{name} ({kind})" if index == 0 else "",
                version if index == 0 else "",
                f.id,
                f"[{_STYLE[f.severity]}]{f.severity}[/]",
                f.fix_state,
                f.fixed_version or "",
                "yes" if f.kev else "",
                f"{f.epss:.3f}" if f.epss is not None else "",
            )
    if findings:
        console.print(table)
    tally = counts(findings)
    summary = ", ".join(f"{tally[s]} {s}" for s in SEVERITIES if tally[s])
    console.print(
        f"{len(findings)} vulnerabilities in {len(groups)} packages"
        + (f": {summary}" if summary else "")
        + f" ({len(result.packages)} packages scanned)"
    )
    if result.coverage.state != "full":
        console.print(
            f"[yellow]coverage {result.coverage.state}:[/] {result.coverage.reason}",
            highlight=False,
        )
    for warning in result.warnings:
        console.print(f"[yellow]warning:[/] {warning}", highlight=False)
    render_suppressions(document, console)


def render_suppressions(document: CvesDocument, console: Console) -> None:
    """A count of suppressed findings always; the list only with ``--show-suppressed``; expired
    and ended exceptions always, since they change what the scan shows."""
    for line in suppression_lines(document):
        console.print(line, highlight=False, markup=False)
    if document.show_suppressed and document.suppressed:
        table = Table(title="Suppressed", show_lines=False)
        for column in ("Package", "Vulnerability", "Severity", "Kind", "Status", "By",
                       "Justification"):
            table.add_column(column, no_wrap=column in ("Vulnerability", "Severity"))
        for item in document.suppressed:
            f = item.finding
            table.add_row(f"{f.package.name} {f.package.version}", f.id, f.severity, item.kind,
                          item.status, item.by, item.justification or "")
        console.print(table)
