"""Formatters registered by name: each command's formats, and one way to write any of them.

A formatter is ``module:function``, imported only when chosen: rich, the CycloneDX library and
the SARIF/SPDX writers each cost start-up time a scan should not pay for formats it does not
write. ``text`` formatters return the whole output; ``console`` formatters draw on a rich
console, in colour on a terminal, as plain text into a file or a pipe.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from imagetrust.errors import UsageError


@dataclass(frozen=True, slots=True)
class Format:
    name: str
    target: str
    """``module:function`` taking the document (and a console for ``console`` formatters)."""
    kind: Literal["text", "console"] = "text"
    width: int = 120
    """Console width in a file (``-o``) or in :func:`render`'s text."""
    pipe_width: int | None = None
    """Console width on standard output when it is not a terminal (None: rich's default)."""

    def load(self) -> Callable[..., Any]:
        module, _, function = self.target.partition(":")
        loaded: Callable[..., Any] = getattr(importlib.import_module(module), function)
        return loaded


_R = "imagetrust.report"
FORMATS: dict[str, tuple[Format, ...]] = {
    "inspect": (
        Format("table", f"{_R}.inspect:render_inspect", "console"),
        Format("json", f"{_R}.inspect:inspect_text"),
    ),
    "sbom": (
        Format("table", f"{_R}.sbom:sbom_table", "console"),
        Format("json", f"{_R}.sbom:sbom_text"),
        Format("cyclonedx-json", f"{_R}.sbom:sbom_cyclonedx"),
        Format("spdx-json", f"{_R}.sbom:sbom_spdx"),
    ),
    "cves": (
        Format("table", f"{_R}.cves_table:render_cves", "console", width=160),
        Format("json", f"{_R}.cves_json:cves_text"),
        Format("sarif", f"{_R}.sarif:sarif_text"),
        Format("markdown", f"{_R}.markdown:cves_markdown"),
        Format("cyclonedx-vex", f"{_R}.vex:cves_vex"),
    ),
    "check": (
        Format("table", f"{_R}.check:render_check", "console"),
        Format("json", f"{_R}.check:check_text"),
        Format("markdown", f"{_R}.check:check_markdown"),
    ),
    "audit": (
        Format("table", f"{_R}.audit:render_audit", "console", width=140, pipe_width=160),
        Format("json", f"{_R}.audit:audit_text"),
    ),
    "recommend": (
        Format("table", f"{_R}.recommend:render_recommend", "console", width=160,
               pipe_width=160),
        Format("json", f"{_R}.recommend:recommend_text"),
        Format("markdown", f"{_R}.recommend:recommend_markdown"),
    ),
    "policy": (
        Format("table", f"{_R}.policy:render_policy", "console", width=160, pipe_width=160),
        Format("json", f"{_R}.policy:policy_text"),
        Format("sarif", f"{_R}.policy:policy_sarif"),
        Format("junit", f"{_R}.policy:policy_junit"),
        Format("github", f"{_R}.policy:policy_github"),
        Format("markdown", f"{_R}.policy:policy_markdown"),
    ),
    "compare": (
        Format("table", f"{_R}.compare:render_compare", "console", width=140, pipe_width=160),
        Format("json", f"{_R}.compare:compare_text"),
        Format("markdown", f"{_R}.compare:compare_markdown"),
    ),
    "dockerfile": (
        Format("table", f"{_R}.dockerfile:render_dockerfile", "console", width=140,
               pipe_width=160),
        Format("json", f"{_R}.dockerfile:dockerfile_text"),
        Format("markdown", f"{_R}.dockerfile:dockerfile_markdown"),
    ),
}


def choices(command: str) -> tuple[str, ...]:
    """The format names ``command`` offers, in the order ``--help`` lists them."""
    return tuple(f.name for f in FORMATS[command])


def find(command: str, name: str) -> Format:
    for candidate in FORMATS.get(command, ()):
        if candidate.name == name:
            return candidate
    raise UsageError(
        f"{command} has no format {name!r}",
        hint=f"use one of {', '.join(choices(command)) or 'none'}",
    )


def render(command: str, name: str, document: Any, *, width: int | None = None) -> str:
    """The whole output as text (console formats as plain text, ``width`` or the format's)."""
    chosen = find(command, name)
    function = chosen.load()
    if chosen.kind == "text":
        text: str = function(document)
        return text if text.endswith("\n") else text + "\n"
    import io

    from rich.console import Console

    console = Console(
        record=True, width=width or chosen.width, file=io.StringIO(), highlight=False
    )
    function(document, console)
    return console.export_text()


def emit(command: str, name: str, document: Any, output: Path | None = None) -> None:
    """Write the chosen format to ``output`` (atomically) or standard output.

    A console format on standard output draws straight on it: in colour at the terminal's width
    on a terminal, else plain at ``pipe_width``; into a file it is plain text at ``width``.
    """
    chosen = find(command, name)
    if output is None and chosen.kind == "console":
        from rich.console import Console

        from imagetrust.report.output import ValidTextStream

        tty = sys.stdout.isatty()
        width = None if tty else chosen.pipe_width
        stream: Any = ValidTextStream(sys.stdout)
        chosen.load()(document, Console(file=stream, highlight=False, width=width))
        return
    text = render(command, name, document)
    from imagetrust.report.output import write_output

    write_output(text, output)


__all__ = ["FORMATS", "Format", "choices", "emit", "find", "render"]
