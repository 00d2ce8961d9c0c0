"""``policy evaluate`` output: one row per image and rule, in the formats CI systems read.

Table and Markdown for people, JSON for scripts, SARIF for code-scanning dashboards, JUnit XML
for test reports (a test case per rule: failed, skipped when unknown), and GitHub Actions
workflow commands (``::error``/``::warning`` annotations). Only ``fail`` rows become SARIF
results or annotations; rows at or below ``--fail-on`` are errors, the others warnings.
"""

from __future__ import annotations

from typing import Any
from xml.sax.saxutils import escape, quoteattr

from rich.console import Console
from rich.table import Table
from rich.text import Text

from imagetrust import __version__
from imagetrust.jsonutil import dumps, valid_text
from imagetrust.policy.model import Level
from imagetrust.policy.policyfile import Policy
from imagetrust.report.document import PolicyDocument, PolicyEntry

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_STATUS_STYLE = {"pass": "green", "fail": "red", "unknown": "dim"}


def _is_error(level: Level, fail_on: Level) -> bool:
    return level <= fail_on


def policy_json(document: PolicyDocument) -> dict[str, Any]:
    return {
        "schema_version": document.SCHEMA_VERSION,
        "policy": document.policy_source,
        "fail_on": document.fail_on.slug,
        "failed": len(document.failing()),
        "images": [
            {
                "reference": e.reference,
                "source": e.copy.to_json() if e.copy else None,
                "level": e.level.slug if e.level is not None else None,
                "error": e.error,
                "suppressed": [{"id": i, "package": p, "by": by} for i, p, by in e.suppressed],
                "rules": [
                    {"rule": r.name, "level": r.level.slug, "status": r.status,
                     "reason": r.reason}
                    for r in e.results
                ],
            }
            for e in document.entries
        ],
    }


def policy_text(document: PolicyDocument) -> str:
    return dumps(policy_json(document))


def render_policy(document: PolicyDocument, console: Console) -> None:
    table = Table(show_header=True, header_style="bold")
    for column in ("Image", "Rule", "Level", "Result", "Why"):
        table.add_column(column, overflow="fold", no_wrap=column in ("Rule", "Result"))
    for entry in document.entries:
        if entry.error:
            table.add_row(entry.reference, "-", "-", Text("error", style="red"), entry.error)
            continue
        for index, result in enumerate(entry.results):
            table.add_row(
                entry.reference if index == 0 else "",
                result.name,
                result.level.slug,
                Text(result.status, style=_STATUS_STYLE[result.status]),
                result.reason,
            )
    console.print(table)
    for entry in document.entries:
        if entry.suppressed:
            console.print(f"{entry.reference}: {len(entry.suppressed)} finding(s) suppressed "
                          "by VEX or exceptions", highlight=False)
            if document.show_suppressed:
                for ident, package, by in entry.suppressed:
                    console.print(f"  suppressed {ident} in {package} by {by}", highlight=False)
    failing = document.failing()
    errors = sum(1 for e in document.entries if e.error)
    console.print(
        f"{len(document.entries)} image(s); {len(failing)} failed rule(s) at or below "
        f"{document.fail_on.slug}" + (f"; {errors} image(s) could not be evaluated" if errors
                                      else "")
    )


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def policy_markdown(document: PolicyDocument) -> str:
    """A summary for a pull-request comment: failures first, then every image's level."""
    failing = document.failing()
    lines = ["## imagetrust policy", ""]
    lines.append(
        f"**{len(failing)} failed rule(s)** at or below `{document.fail_on.slug}`"
        + (f" (policy `{document.policy_source}`)" if document.policy_source else "")
    )
    lines += ["", "| Image | Level | Failed rules |", "|---|---|---|"]
    for entry in document.entries:
        level = entry.level.slug if entry.level is not None else "error"
        failed = [r.name for r in entry.results if r.status == "fail"]
        detail = _md(entry.error) if entry.error else ", ".join(f"`{n}`" for n in failed) or "-"
        lines.append(f"| `{_md(entry.reference)}` | {level} | {detail} |")
    if failing:
        lines += ["", "| Image | Rule | Level | Why |", "|---|---|---|---|"]
        for entry, result in failing:
            lines.append(f"| `{_md(entry.reference)}` | `{result.name}` | {result.level.slug} | "
                         f"{_md(result.reason)} |")
    return valid_text("\n".join(lines) + "\n")


def policy_sarif(document: PolicyDocument) -> str:
    rules: dict[str, dict[str, Any]] = {}
    results = []
    for entry in document.entries:
        for result in entry.results:
            if result.status != "fail":
                continue
            rules.setdefault(result.name, {
                "id": result.name,
                "shortDescription": {"text": result.name.replace("-", " ")},
                "properties": {"level": result.level.slug},
            })
            results.append({
                "ruleId": result.name,
                "level": "error" if _is_error(result.level, document.fail_on) else "warning",
                "message": {"text": f"{entry.reference}: {result.reason}"},
                "locations": [{"logicalLocations": [{"name": entry.reference,
                                                     "kind": "module"}]}],
                "properties": {"image": entry.reference, "level": result.level.slug},
            })
    sarif = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "imagetrust", "version": __version__,
                                "rules": list(rules.values())}},
            "results": results,
        }],
    }
    return dumps(sarif)


def _testcase(entry: PolicyEntry, name: str, status: str, reason: str) -> str:
    head = f"    <testcase classname={quoteattr(entry.reference)} name={quoteattr(name)}"
    if status == "fail":
        return (f"{head}>\n      <failure message={quoteattr(reason)}>{escape(reason)}"
                "</failure>\n    </testcase>")
    if status in ("unknown", "error"):
        return f"{head}>\n      <skipped message={quoteattr(reason)}/>\n    </testcase>"
    return f"{head}/>"


def policy_junit(document: PolicyDocument) -> str:
    """JUnit XML: a test suite per image, a test case per rule."""
    suites = []
    for entry in document.entries:
        if entry.error:
            cases = [_testcase(entry, "evaluate", "fail", entry.error)]
            failures, skipped, tests = 1, 0, 1
        else:
            cases = [_testcase(entry, r.name, r.status, r.reason) for r in entry.results]
            failures = sum(1 for r in entry.results if r.status == "fail")
            skipped = sum(1 for r in entry.results if r.status == "unknown")
            tests = len(entry.results)
        suites.append(
            f"  <testsuite name={quoteattr(entry.reference)} tests=\"{tests}\" "
            f"failures=\"{failures}\" skipped=\"{skipped}\" errors=\"0\">\n"
            + "\n".join(cases) + "\n  </testsuite>"
        )
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="imagetrust policy">\n'
            + "\n".join(suites) + "\n</testsuites>")


def _command_value(text: str) -> str:
    """GitHub workflow-command escaping of a message (``%``, CR, LF)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property_value(text: str) -> str:
    return _command_value(text).replace(":", "%3A").replace(",", "%2C")


def policy_github(document: PolicyDocument) -> str:
    """``::error``/``::warning`` workflow commands, one per failed rule (or image error)."""
    lines = []
    for entry in document.entries:
        if entry.error:
            title = _property_value(f"imagetrust: {entry.reference}")
            lines.append(f"::error title={title}::{_command_value(entry.error)}")
        for result in entry.results:
            if result.status != "fail":
                continue
            kind = "error" if _is_error(result.level, document.fail_on) else "warning"
            title = _property_value(f"imagetrust {result.name} ({result.level.slug})")
            message = _command_value(f"{entry.reference}: {result.reason}")
            lines.append(f"::{kind} title={title}::{message}")
    return "\n".join(lines) + ("\n" if lines else "")


def policy_show_text(policy: Policy) -> str:
    """The effective policy for people: each rule, its level, settings and their origin."""
    lines = [f"policy: {policy.source or 'the shipped default (no policy file found)'}"]
    if policy.vex:
        lines.append("vex: " + ", ".join(str(p) for p in policy.vex))
    if policy.exceptions:
        lines.append(f"exceptions: {policy.exceptions}")
    for rule in policy.rules:
        state = "on " if rule.enabled else "off"
        origin = rule.origins.get("level", "default")
        lines.append(f"{state} {rule.name:34} {rule.level.slug:22} ({origin})")
        for key, value in rule.params.items():
            shown = ", ".join(value) if isinstance(value, tuple) else value
            lines.append(f"      {key} = {shown}  ({rule.origins.get(key, 'default')})")
        if rule.origins.get("enabled", "default") != "default":
            lines.append(f"      enabled = {str(rule.enabled).lower()}  "
                         f"({rule.origins['enabled']})")
    return "\n".join(lines) + "\n"


def policy_show_json(policy: Policy) -> str:
    return dumps({
        "policy": policy.source,
        "vex": [str(p) for p in policy.vex],
        "exceptions": str(policy.exceptions) if policy.exceptions else None,
        "rules": [
            {
                "rule": r.name,
                "enabled": r.enabled,
                "level": r.level.slug,
                "settings": {k: list(v) if isinstance(v, tuple) else v
                             for k, v in r.params.items()},
                "origins": dict(r.origins),
            }
            for r in policy.rules
        ],
    }, indent=2)
