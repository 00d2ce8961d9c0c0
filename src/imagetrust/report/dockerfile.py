"""``imagetrust dockerfile check|pin`` output: JSON, a table for people, Markdown.

One format set serves both documents (``check`` judges bases, ``pin`` rewrites them); the JSON
says which with ``action``. ``pin``'s table is the unified diff when there is one.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table

from imagetrust.report.document import (
    DockerfileBase,
    DockerfileCheckDocument,
    DockerfilePinDocument,
)

if TYPE_CHECKING:
    from imagetrust.reference.dockerfile import FromLine

Doc = DockerfileCheckDocument | DockerfilePinDocument


def _stage(line: FromLine) -> dict[str, Any]:
    return {
        "line": line.line,
        "stage": line.stage,
        "name": line.name,
        "kind": line.kind,
        "written": line.written,
        "image": line.image,
        "platform": line.platform,
        "reference": str(line.reference) if line.reference is not None else None,
        "stage_ref": line.stage_ref,
        "via_arg": line.via_arg,
    }


def _base(base: DockerfileBase) -> dict[str, Any]:
    return {
        "line": base.line.line,
        "stage": base.line.stage,
        "reference": str(base.line.reference),
        "written": base.line.written,
        "platform": base.line.platform,
        "pinned": base.pinned,
        "level": base.level.slug if base.level is not None else None,
        "publisher": base.publisher,
        "supported_tag": base.supported_tag,
        "lifecycle": base.lifecycle,
        "freshness": base.freshness,
        "summaries": dict(base.summaries),
        "reasons": list(base.reasons),
        "recommendation": base.recommendation,
        "failed": list(base.failed),
        "error": base.error,
    }


def dockerfile_json(document: Doc) -> dict[str, Any]:
    if isinstance(document, DockerfileCheckDocument):
        return {
            "schema_version": DockerfileCheckDocument.SCHEMA_VERSION,
            "action": "check",
            "path": document.path,
            "stages": [_stage(line) for line in document.stages],
            "bases": [_base(base) for base in document.bases],
            "failed": document.failed,
        }
    return {
        "schema_version": DockerfilePinDocument.SCHEMA_VERSION,
        "action": "pin",
        "path": document.path,
        "dry_run": document.dry_run,
        "written": document.written,
        "pins": [
            {
                "line": pin.line, "reference": pin.reference, "before": pin.before,
                "after": pin.after, "action": pin.action, "digest": pin.digest,
                "via_arg": pin.via_arg, "note": pin.note,
            }
            for pin in document.pins
        ],
        "diff": document.diff,
    }


def dockerfile_text(document: Doc) -> str:
    return json.dumps(dockerfile_json(document), indent=2, ensure_ascii=False) + "\n"


def render_dockerfile(document: Doc, console: Console) -> None:
    if isinstance(document, DockerfilePinDocument):
        _render_pin(document, console)
        return
    table = Table(title=document.path, title_justify="left")
    for column in ("line", "base", "pinned", "publisher", "tag", "lifecycle", "fresh", "level",
                   "fails"):
        table.add_column(column)
    for base in document.bases:
        table.add_row(
            str(base.line.line), base.line.image, "yes" if base.pinned else "no",
            base.publisher or "?", base.supported_tag or "?", base.lifecycle or "?",
            base.freshness or "?", base.level.slug if base.level is not None else "?",
            ", ".join(base.failed) or "-",
        )
    console.print(table)
    for base in document.bases:
        console.print(f"line {base.line.line} {base.line.image}: {base.recommendation}",
                      markup=False, highlight=False)
    internal = [s for s in document.stages if s.kind != "external"]
    for line in internal:
        what = "scratch" if line.kind == "scratch" else f"stage {line.image}"
        console.print(f"line {line.line}: FROM {what} (nothing to pull)", style="dim",
                      markup=False)


def _render_pin(document: DockerfilePinDocument, console: Console) -> None:
    """What was done to each reference (``--dry-run`` prints the raw diff instead: the CLI
    writes it untouched, since a console would expand its tabs)."""
    for pin in document.pins:
        note = f" ({pin.note})" if pin.note else ""
        console.print(f"line {pin.line} {pin.reference}: {pin.action}{note}", markup=False,
                      highlight=False, soft_wrap=True)
    if not document.written:
        console.print("nothing to change", style="dim")


def dockerfile_markdown(document: Doc) -> str:
    if isinstance(document, DockerfilePinDocument):
        body = f"```diff\n{document.diff}```\n" if document.diff else "nothing to change\n"
        return f"## imagetrust dockerfile pin `{document.path}`\n\n{body}"
    out = [
        f"## imagetrust dockerfile check `{document.path}`", "",
        "| line | base | pinned | publisher | tag | lifecycle | freshness | level | fails |",
        "|---:|---|---|---|---|---|---|---|---|",
    ]
    for base in document.bases:
        level = base.level.slug if base.level is not None else "?"
        out.append(
            f"| {base.line.line} | `{base.line.image}` | {'yes' if base.pinned else 'no'} | "
            f"{base.publisher or '?'} | {base.supported_tag or '?'} | {base.lifecycle or '?'} | "
            f"{base.freshness or '?'} | {level} | {', '.join(base.failed) or '-'} |"
        )
    out.append("")
    out += [f"- line {b.line.line}: {b.recommendation}" for b in document.bases]
    return "\n".join(out) + "\n"


__all__ = ["dockerfile_json", "dockerfile_markdown", "dockerfile_text", "render_dockerfile"]
