"""The test lanes of tests/conftest.py: markers follow the fixtures a test uses."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT, SLOW_FIXTURES, SLOW_TESTS, lane_markers

INNER_TESTS = """
import pytest

@pytest.fixture
def images():
    return "built"

@pytest.fixture
def app_catalog(images):
    return images

def test_uses_images(images):
    assert images == "built"

def test_uses_a_fixture_built_on_images(app_catalog):
    pass

def test_pure():
    pass
"""


def test_hook_marks_tests_that_use_slow_fixtures(pytester: pytest.Pytester) -> None:
    """In a real pytest session: ``-m "not slow"`` keeps only the pure test, and ``-m fixtures``
    finds the tests that use ``images`` directly or through another fixture."""
    pytester.makeconftest("from tests.conftest import pytest_collection_modifyitems  # noqa\n")
    pytester.makeini("[pytest]\nmarkers =\n    slow: s\n    fixtures: f\n    registry: r\n")
    pytester.makepyfile(test_inner=INNER_TESTS)
    fast = pytester.runpytest("-m", "not slow", "-v")
    fast.assert_outcomes(passed=1, deselected=2)
    fast.stdout.fnmatch_lines(["*test_pure PASSED*"])
    needing_images = pytester.runpytest("-m", "fixtures and slow", "-v")
    needing_images.assert_outcomes(passed=2, deselected=1)
    needing_images.stdout.no_fnmatch_line("*test_pure*")


def test_lane_markers() -> None:
    assert lane_markers("tests/x.py::test_a", ["tmp_path", "monkeypatch"]) == []
    assert lane_markers("tests/x.py::test_a", ["app_catalog", "images"]) == ["slow", "fixtures"]
    assert lane_markers("tests/x.py::test_a", ["fixture_registry", "images"]) == [
        "slow", "registry", "fixtures"]
    named = next(iter(SLOW_TESTS))
    assert lane_markers(f"{named}[param-1]", []) == ["slow"]


def test_this_session_marked_its_own_items(request: pytest.FixtureRequest) -> None:
    """The hook ran on this very session: this test is in the fast lane."""
    assert request.node.get_closest_marker("slow") is None


@pytest.mark.parametrize("nodeid", sorted(SLOW_TESTS))
def test_every_named_slow_test_exists(nodeid: str) -> None:
    """A renamed test would silently rejoin the fast lane."""
    path, name = nodeid.split("::")
    tree = ast.parse((REPO_ROOT / path).read_text(encoding="utf-8"))
    assert name in {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}


def test_every_slow_fixture_is_defined_somewhere() -> None:
    defined = set()
    for path in (REPO_ROOT / "tests").rglob("*.py"):
        for node in ast.walk(ast.parse(Path(path).read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef) and any(
                "fixture" in ast.unparse(d) for d in node.decorator_list
            ):
                defined.add(node.name)
    assert set(SLOW_FIXTURES) <= defined
