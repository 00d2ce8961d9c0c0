"""Write docs/architecture.md: the module map, from each module's own docstring.

Run ``python scripts/architecture.py`` after adding or renaming a module;
tests/docs/test_architecture_doc.py fails while the committed map differs from the code.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "imagetrust"
DOC = ROOT / "docs" / "architecture.md"

STAGES = [
    ("reference", "parse and normalise what the user typed"),
    ("source", "get bytes: registry, archives, layouts, directories, the local daemon"),
    ("image", "manifest → config → layers, and the layer reader's merged file view"),
    ("catalog", "packages: OS and language catalogers, SBOM input"),
    ("match", "the vulnerability database, its feeds, and per-ecosystem matchers"),
    ("assess", "trust signals: publisher, supported tag, freshness, base image, attestations"),
    ("policy", "the verdict rules and gates"),
    ("report", "formatters: table, JSON, SARIF, Markdown, CycloneDX, SPDX"),
]
SHARED = [
    ("oci", "the OCI vocabulary every stage speaks (media types, platforms, descriptors)"),
    ("versions", "exact version ordering per ecosystem (used by matching)"),
    ("errors.py", "the one error root; the CLI catches it in one place"),
    ("jsonutil.py", "JSON in and out: parsing never a traceback, output always UTF-8"),
    ("sqlite_untrusted.py", "SQLite files others wrote, read-only and bounded in time and size"),
    ("atomic.py", "atomic file writes for caches, catalogs and reports"),
    ("lazy.py", "names a package loads on first use, so start-up pays only for what runs"),
    ("tarwalk.py", "the bounded tar header walker layers and archives are read with"),
    ("http", "the one HTTP layer: clients, plain-HTTP guard, capped reads, conditional GET, "
     "redirects, retries and the per-run circuit breaker"),
    ("config.py", "settings: flags, then environment, then the config file"),
]
ABOVE = [
    ("app", "the application layer: each use case end to end, returning typed documents"),
    ("api.py", "the library API: the application layer's use cases and pieces, re-exported"),
    ("cli", "the command line: parse flags, call one use case, render its document"),
]

INTRO = """# Architecture

One pipeline, data flowing one way. Each stage is a subpackage of `src/imagetrust/`; it receives
the typed output of the stage before it and never imports a later stage (enforced by
`tests/test_architecture.py`). Above the stages, the application layer (`app/`) runs each use
case end to end and returns a typed document; the CLI and `imagetrust.api` are thin shells over
it. Shared mechanisms sit below the stages.

```
                 cli          api
                   └─────┬─────┘
                application layer (app/)
                         |
reference ─▶ source ─▶ image ─▶ catalog ─▶ match ─▶ assess ─▶ policy ─▶ report
                         |
        oci · versions · atomic · tarwalk · errors · config
```

This map is generated from the modules' docstrings by `scripts/architecture.py`.
"""


def first_line(path: Path) -> str:
    doc = ast.get_docstring(ast.parse(path.read_text())) or ""
    return doc.strip().splitlines()[0] if doc.strip() else ""


def modules(entry: str) -> list[Path]:
    path = PACKAGE / entry
    if path.is_file():
        return [path]
    return sorted(p for p in path.rglob("*.py") if "__pycache__" not in p.parts)


def render() -> str:
    lines = [INTRO]
    for title, entries in (("Above the stages", ABOVE), ("Stages", STAGES), ("Shared", SHARED)):
        lines.append(f"## {title}\n")
        for entry, summary in entries:
            lines.append(f"### `{entry}` — {summary}\n")
            lines.append("| module | what it is for |")
            lines.append("|---|---|")
            for path in modules(entry):
                rel = path.relative_to(PACKAGE).as_posix()
                text = first_line(path).replace("|", "\\|")
                lines.append(f"| `{rel}` | {text} |")
            lines.append("")
    return "\n".join(lines)


def main() -> int:
    DOC.write_text(render())
    return 0


if __name__ == "__main__":
    sys.exit(main())
