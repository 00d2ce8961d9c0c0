"""``cves --format sarif``: SARIF 2.1.0 for code-scanning dashboards (GitHub, GitLab, Azure).

One rule per vulnerability id, one result per finding.  ``security-severity`` carries the CVSS
score (GitHub ranks alerts by it); without a score the severity word maps to a representative
value.  Locations point at the file that records the package inside the image.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from imagetrust import __version__
from imagetrust.jsonutil import dumps
from imagetrust.match.model import Finding, ScanResult
from imagetrust.report.document import CvesDocument

if TYPE_CHECKING:
    from imagetrust.policy.suppress import Suppressed

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "note",
          "negligible": "note", "unknown": "warning"}
_SCORE = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "2.0", "negligible": "0.5",
          "unknown": "5.0"}


def _security_severity(f: Finding) -> str:
    if f.cvss is not None and f.cvss.score is not None:
        return f"{f.cvss.score:.1f}"
    return _SCORE[f.severity]


def _rule(f: Finding) -> dict[str, Any]:
    text = f.summary or f"{f.id} in {f.package.name}"
    return {
        "id": f.id,
        "name": f.id.replace("-", ""),
        "shortDescription": {"text": f"{f.id} ({f.severity})"},
        "fullDescription": {"text": text},
        "help": {
            "text": text,
            "markdown": f"**{f.id}** — {text}\n\nAliases: {', '.join(f.aliases) or 'none'}",
        },
        "defaultConfiguration": {"level": _LEVEL[f.severity]},
        "properties": {
            "security-severity": _security_severity(f),
            "tags": ["security", "vulnerability", f.severity],
        },
    }


def _message(f: Finding) -> str:
    fix = (f"fixed in {f.fixed_version}" if f.fixed_version else f.fix_state)
    return (f"{f.package.name} {f.package.version} ({f.package.type}) is affected by {f.id} "
            f"[{f.severity}]: {fix}.")


def _suppression(item: Suppressed) -> dict[str, Any]:
    """SARIF's own way to say "reported, and accepted": the result stays, marked suppressed."""
    why = f"{item.kind} {item.status} by {item.by}"
    if item.justification:
        why += f": {item.justification}"
    if item.detail:
        why += f" ({item.detail})"
    return {"kind": "external", "status": "accepted", "justification": why}


def sarif_report(result: ScanResult, findings: Sequence[Finding],
                 suppressed: Sequence[Suppressed] = ()) -> dict[str, Any]:
    rules: list[dict[str, Any]] = []
    index: dict[str, int] = {}
    results: list[dict[str, Any]] = []
    marks = {id(s.finding): s for s in suppressed}
    for f in (*findings, *(s.finding for s in suppressed)):
        if f.id not in index:
            index[f.id] = len(rules)
            rules.append(_rule(f))
        path = f.package.locations[0].path if f.package.locations else result.subject.reference
        results.append({
            "ruleId": f.id,
            "ruleIndex": index[f.id],
            "level": _LEVEL[f.severity],
            "message": {"text": _message(f)},
            "locations": [{
                "physicalLocation": {"artifactLocation": {"uri": path.lstrip("/")}},
                "logicalLocations": [{"name": result.subject.reference, "kind": "module"}],
            }],
            "partialFingerprints": {"packageVulnerability": f"{f.package.purl}|{f.id}"},
            "properties": {
                "fix_state": f.fix_state, "fixed_version": f.fixed_version, "kev": f.kev,
                "purl": f.package.purl,
            },
        })
        if id(f) in marks:
            results[-1]["suppressions"] = [_suppression(marks[id(f)])]
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "imagetrust", "version": __version__,
                "rules": rules,
            }},
            "results": results,
        }],
    }


def sarif_text(document: CvesDocument) -> str:
    """``cves --format sarif``."""
    return dumps(sarif_report(document.result, document.findings, document.suppressed))
