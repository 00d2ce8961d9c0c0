"""docs/architecture.md is the module map of the code as it is (regenerate with
``python scripts/architecture.py``), and every module of the package appears in it."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def load_generator():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("architecture", ROOT / "scripts/architecture.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_architecture_doc_is_current() -> None:
    generator = load_generator()
    assert (ROOT / "docs/architecture.md").read_text() == generator.render(), (
        "docs/architecture.md is stale: run python scripts/architecture.py"
    )


def test_every_module_is_mapped() -> None:
    generator = load_generator()
    text = generator.render()
    package = ROOT / "src/imagetrust"
    for path in package.rglob("*.py"):
        rel = path.relative_to(package).as_posix()
        if rel in ("__init__.py", "__main__.py"):
            continue
        assert f"`{rel}`" in text, rel
