"""``cves --format markdown``: a summary and a table for pull-request comments and job summaries."""

from __future__ import annotations

from imagetrust.jsonutil import valid_text
from imagetrust.match.model import SEVERITIES
from imagetrust.report.cves_json import counts
from imagetrust.report.document import CvesDocument
from imagetrust.report.suppressions import suppression_lines


def _cell(text: str | None) -> str:
    return (text or "").replace("|", "\\|").replace("\n", " ")


def _suppressions(document: CvesDocument) -> list[str]:
    lines = [f"> {_cell(line)}" for line in suppression_lines(document)]
    if document.show_suppressed and document.suppressed:
        lines += ["", "### Suppressed", "",
                  "| Package | Vulnerability | Severity | Kind | Status | By | Justification |",
                  "|---|---|---|---|---|---|---|"]
        lines += [
            f"| {_cell(s.finding.package.name)} | {_cell(s.finding.id)} | {s.finding.severity} "
            f"| {s.kind} | {s.status} | {_cell(s.by)} | {_cell(s.justification)} |"
            for s in document.suppressed
        ]
    return lines


def cves_markdown(document: CvesDocument) -> str:
    """Counts per severity, then one row per finding."""
    result, findings = document.result, document.findings
    tally = counts(findings)
    lines = [f"## Vulnerabilities in `{result.subject.reference}`", ""]
    if result.os and result.os.pretty_name:
        lines += [f"OS: {result.os.pretty_name}", ""]
    lines += ["| Severity | Count |", "|---|---:|"]
    lines += [f"| {s} | {tally[s]} |" for s in SEVERITIES]
    lines += [f"| **total** | **{len(findings)}** |", ""]
    if findings:
        lines += ["| Package | Installed | Vulnerability | Severity | Fix state | Fixed in | KEV |",
                  "|---|---|---|---|---|---|---|"]
        for f in findings:
            lines.append(
                f"| {_cell(f.package.name)} | {_cell(f.package.version)} | {_cell(f.id)} | "
                f"{f.severity} | {f.fix_state} | {_cell(f.fixed_version)} | "
                f"{'yes' if f.kev else ''} |"
            )
        lines.append("")
    lines += [f"> warning: {_cell(w)}" for w in result.warnings]
    lines += _suppressions(document)
    return valid_text("\n".join(lines).rstrip() + "\n")
