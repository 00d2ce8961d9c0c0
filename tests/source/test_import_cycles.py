"""No import cycles inside ``imagetrust.source``, counting imports at any level.

A cycle hidden in a function-level import still couples the two modules (``factory`` once
imported ``resolve`` inside a branch that ``resolve`` never let run). The graph is built from the
source text with :mod:`ast`: every ``import``/``from … import`` anywhere in a module, including
inside functions and ``TYPE_CHECKING`` blocks, is an edge to the module it names. Cycles are then
found with a plain depth-first search, independent of how the package happens to import today.
"""

from __future__ import annotations

import ast
from pathlib import Path

import imagetrust

PACKAGE_ROOT = Path(imagetrust.__file__).parent
SCOPE = "imagetrust.source"


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE_ROOT.rglob("*.py"):
        parts = ("imagetrust", *path.relative_to(PACKAGE_ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def _targets(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The modules ``name`` imports anywhere in its text."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            for alias in node.names:
                child = f"{base}.{alias.name}"
                out.add(child if child in modules else base)
    return {t for t in out if t in modules and t != name}


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _targets(name, path, modules) for name, path in modules.items()}


def _cycles(graph: dict[str, set[str]], scope: str) -> list[list[str]]:
    inside = {n: {t for t in ts if t.startswith(scope)} for n, ts in graph.items()
              if n.startswith(scope)}
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    path: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(inside.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append([*path[path.index(nxt):], nxt])
            elif nxt not in state:
                visit(nxt)
        path.pop()
        state[node] = 2

    for node in sorted(inside):
        if node not in state:
            visit(node)
    return cycles


def test_the_checker_finds_a_cycle() -> None:
    graph = {"p.a": {"p.b"}, "p.b": {"p.c"}, "p.c": {"p.a"}, "p.d": {"p.a"}, "q.x": {"p.d"}}
    assert _cycles(graph, "p") == [["p.a", "p.b", "p.c", "p.a"]]
    assert _cycles({"p.a": {"p.b"}, "p.b": set()}, "p") == []


def test_the_graph_sees_function_level_imports() -> None:
    graph = _graph()
    assert "imagetrust.source.factory" in graph["imagetrust.source.resolve"]
    # open_source imports the registry client inside the function
    assert "imagetrust.source.registry" in graph["imagetrust.source.factory"]


def test_no_import_cycle_within_source() -> None:
    assert _cycles(_graph(), SCOPE) == []
