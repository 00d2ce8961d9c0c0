"""``cves --format markdown``: a summary and a table for pull-request comments and job summaries."""

from __future__ import annotations

from imagetrust.jsonutil import valid_text
from imagetrust.match.model import SEVERITIES
from imagetrust.report.cves_json import counts
from imagetrust.report.document import CvesDocument


def _cell(text: str | None) -> str:
    return (text or "").replace("|", "\\|").replace("\n", " ")


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
    return valid_text("\n".join(lines).rstrip() + "\n")
