"""The pipeline only flows one way: a stage never imports a later stage, nor the API or CLI."""

from __future__ import annotations

import ast
from pathlib import Path

import imagetrust

STAGES = ["reference", "source", "image", "catalog", "match", "assess", "policy", "report"]
PACKAGE = Path(imagetrust.__file__).parent


def imported_modules(path: Path) -> list[str]:
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
        elif isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
    return names


def test_stages_exist_as_subpackages() -> None:
    for stage in STAGES:
        assert (PACKAGE / stage / "__init__.py").is_file(), stage


def test_no_stage_imports_a_later_stage_or_the_api() -> None:
    violations = []
    for path in sorted(PACKAGE.rglob("*.py")):
        top = path.relative_to(PACKAGE).parts[0]
        if top not in STAGES:
            continue
        for module in imported_modules(path):
            parts = module.split(".")
            if parts[0] != "imagetrust" or len(parts) < 2:
                continue
            target = parts[1]
            later = target in STAGES and STAGES.index(target) > STAGES.index(top)
            if later or target in ("app", "api", "cli"):
                violations.append(f"{path.relative_to(PACKAGE)} imports {module}")
    assert violations == []


def test_cross_cutting_modules_import_no_stage_above_the_oci_vocabulary() -> None:
    for name in ("errors.py", "config.py"):
        for module in imported_modules(PACKAGE / name):
            parts = module.split(".")
            if parts[0] == "imagetrust" and len(parts) > 1:
                assert parts[1] in ("errors", "oci"), f"{name} imports {module}"


def test_the_application_layer_never_imports_the_cli_or_the_api() -> None:
    violations = [
        f"{path.relative_to(PACKAGE)} imports {module}"
        for path in sorted((PACKAGE / "app").rglob("*.py"))
        for module in imported_modules(path)
        if module.split(".")[:2] in (["imagetrust", "cli"], ["imagetrust", "api"])
    ]
    assert violations == []


def test_the_cli_runs_use_cases_only_through_the_application_layer() -> None:
    """Commands parse flags, call the app and render: they never drive the stages' entry points
    (open, catalog, match, assess, decide) themselves."""
    entry_points = {
        "imagetrust.image.session": {"open_image"},
        "imagetrust.catalog.run": {"catalog_image"},
        "imagetrust.match.scan": {"scan_catalog", "match_catalog", "ensure_feeds"},
        "imagetrust.assess.check": {"assess_image"},
        "imagetrust.policy.check": {"decide_assessment"},
        "imagetrust.policy.verdict": {"decide"},
    }
    violations = []
    for path in sorted((PACKAGE / "cli").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module in entry_points:
                used = {alias.name for alias in node.names} & entry_points[node.module]
                violations += [f"{path.relative_to(PACKAGE)}: {node.module}.{n}" for n in used]
    assert violations == []


def test_the_http_layer_sits_below_every_stage() -> None:
    """Registry, feeds, catalog, Hub and NVD clients build on ``imagetrust.http``; it builds on
    nothing above the error root, so any stage may use it."""
    for path in sorted((PACKAGE / "http").rglob("*.py")):
        for module in imported_modules(path):
            parts = module.split(".")
            if parts[0] == "imagetrust" and len(parts) > 1:
                assert parts[1] in ("errors", "http", "lazy"), f"{path.name} imports {module}"


def test_no_two_stages_share_a_public_name() -> None:
    """A newcomer finds a function or class by name: the same public name in two stages (two
    ``UpdateResult``s, two ``evaluate``s) would send them to the wrong one."""
    seen: dict[str, set[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        top = path.relative_to(PACKAGE).parts[0]
        if top not in STAGES:
            continue
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.FunctionDef | ast.ClassDef) and not node.name.startswith("_"):
                seen.setdefault(node.name, set()).add(top)
    # Feed parsers share a small plug-in protocol inside the match stage only.
    shared = {name: stages for name, stages in seen.items() if len(stages) > 1}
    assert shared == {}
