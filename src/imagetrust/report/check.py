"""``imagetrust check`` output: the documented JSON shape, a rich summary and Markdown.

People read one line per signal and then the level with its reasons; machines read the same
evidence with its details.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from imagetrust.assess.evidence import Outcome
from imagetrust.jsonutil import dumps
from imagetrust.policy.check import CheckResult
from imagetrust.policy.verdict import Level
from imagetrust.report.document import CheckDocument

_TITLES = {
    "publisher": "Publisher",
    "supported_tag": "Supported tag",
    "freshness": "Freshness",
    "base_image": "Base image",
    "vulnerabilities": "Vulnerabilities",
    "attestations": "Attestations",
    "lifecycle": "Lifecycle",
}
_OUTCOME_STYLE = {
    Outcome.PASS: "green",
    Outcome.WARN: "yellow",
    Outcome.FAIL: "red",
    Outcome.UNKNOWN: "dim",
}
_LEVEL_STYLE = {
    Level.TRUSTED: "bold green",
    Level.TRUSTED_WITH_CAVEATS: "bold green",
    Level.UNKNOWN: "bold",
    Level.NEEDS_ATTENTION: "bold yellow",
    Level.UNTRUSTED: "bold red",
}


def check_json(result: CheckResult) -> dict[str, Any]:
    """The JSON document of ``imagetrust check --format json``."""
    info = result.assessment.image
    return {
        "image": {
            "reference": info.reference,
            "digest": info.digest,
            "index_digest": info.index_digest,
            "config_digest": info.config_digest,
            "platform": info.platform,
            "tag_reference": info.tag_reference,
        },
        "level": result.verdict.level.slug,
        "reasons": list(result.verdict.reasons),
        "rules": list(result.verdict.rules),
        "evidence": [
            {
                "signal": e.signal.value,
                "outcome": e.outcome.value,
                "summary": e.summary,
                "details": _jsonable(e.details),
            }
            for e in result.assessment.evidence
        ],
    }


def check_text(document: CheckDocument) -> str:
    """``check --format json``: :func:`check_json`, versioned, saying which copy was read."""
    body = check_json(document.result)
    body["image"]["source"] = document.copy.to_json()
    return dumps({"schema_version": document.SCHEMA_VERSION, **body})


def render_check(document: CheckDocument, console: Console) -> None:
    """One row per signal, then the verdict and its reasons."""
    result = document.result
    info = result.assessment.image
    console.print(Text(f"{info.reference}", style="bold"))
    if info.digest:
        console.print(Text(f"{info.digest}  {info.platform}", style="dim"))
    table = Table(show_header=True, header_style="bold", expand=False)
    table.add_column("Signal", no_wrap=True)
    table.add_column("Result", no_wrap=True)
    table.add_column("Why")
    for evidence in result.assessment.evidence:
        table.add_row(
            _TITLES.get(evidence.signal.value, evidence.signal.value),
            Text(evidence.outcome.value, style=_OUTCOME_STYLE[evidence.outcome]),
            evidence.summary,
        )
    console.print(table)
    level = result.verdict.level
    console.print(Text(f"Trust level: {level.label}", style=_LEVEL_STYLE[level]))
    for reason in result.verdict.reasons:
        console.print(f"  - {reason}")
    for line in _suppressed_lines(document):
        console.print(line, highlight=False)


def check_markdown(document: CheckDocument) -> str:
    """A Markdown summary (pull-request comments, job summaries)."""
    result = document.result
    info = result.assessment.image
    lines = [f"### `{info.reference}`", ""]
    if info.digest:
        lines += [f"`{info.digest}` ({info.platform})", ""]
    lines += ["| Signal | Result | Why |", "| --- | --- | --- |"]
    for evidence in result.assessment.evidence:
        title = _TITLES.get(evidence.signal.value, evidence.signal.value)
        why = evidence.summary.replace("|", "\\|").replace("\n", " ")
        lines.append(f"| {title} | {evidence.outcome.value} | {why} |")
    lines += ["", f"**Trust level: {result.verdict.level.label}**", ""]
    lines += [f"- {reason}" for reason in result.verdict.reasons]
    suppressed = _suppressed_lines(document)
    if suppressed:
        lines += ["", *(f"- {line}" for line in suppressed)]
    return "\n".join(lines) + "\n"


def _suppressed_lines(document: CheckDocument) -> list[str]:
    """A count of suppressed findings, and each with what suppressed it when asked."""
    vulns = document.result.assessment.vulnerabilities
    if vulns is None or not vulns.suppressed:
        return []
    lines = [f"{len(vulns.suppressed)} finding(s) suppressed by VEX or exceptions"]
    if document.show_suppressed:
        lines += [f"suppressed {i} in {package} by {by}" for i, package, by in vulns.suppressed]
    return lines


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if hasattr(value, "items"):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return str(value)
