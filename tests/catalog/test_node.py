"""NodeCataloger against a real ``npm install``, with ``npm ls``/``npm query`` as the oracle."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from imagetrust.catalog.node import NodeCataloger
from imagetrust.image.files import FileTree
from tests.catalog.lang_tree import diff_id_for, file_entry, tree_from_dirs

# debug@2.6.9 needs ms@2.0.0, so npm nests it under debug/node_modules next to ms@2.1.3;
# @babel/runtime ships helpers/esm/package.json ({"type": "module"}), which is not a package.
SPECS = ("lodash@4.17.21", "@babel/code-frame", "@babel/runtime@7.24.0", "debug@2.6.9", "ms@2.1.3")


def _npm(*args: str, cwd: Path) -> str:
    npm = shutil.which("npm")
    assert npm is not None, "npm is needed to build this fixture"
    done = subprocess.run(
        [npm, *args, "--prefix", str(cwd), "--no-audit", "--no-fund", "--no-update-notifier"],
        cwd=cwd, capture_output=True, text=True, timeout=300, check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def npm_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("npm")
    _npm("install", "--prefer-offline", *SPECS, cwd=root)
    return root


def _flatten(node: dict[str, object], out: set[tuple[str, str]]) -> None:
    deps = node.get("dependencies")
    if isinstance(deps, dict):
        for name, child in deps.items():
            out.add((name, child["version"]))
            _flatten(child, out)


def test_installed_packages_match_npm(npm_project: Path) -> None:
    cataloger = NodeCataloger()
    tree = tree_from_dirs(cataloger.request(), [("usr/src/app", npm_project)])
    packages, skips = cataloger.catalog(tree, None)

    listed: set[tuple[str, str]] = set()
    _flatten(json.loads(_npm("ls", "--all", "--json", cwd=npm_project)), listed)
    assert {(p.name, p.version) for p in packages} == listed
    # Every installed copy is reported where npm put it (nested ms@2.0.0 included).
    queried = json.loads(_npm("query", "*", cwd=npm_project))
    expected_locations = {
        (n["name"], n["version"], f"usr/src/app/{n['location']}/package.json")
        for n in queried
        if n.get("location")
    }
    got = {(p.name, p.version, p.locations[0].path) for p in packages}
    assert got == expected_locations
    assert ("ms", "2.0.0") in listed and ("ms", "2.1.3") in listed
    assert skips == []
    assert all(p.locations[0].diff_id == diff_id_for(0) for p in packages)


def test_scoped_purl_namespace_and_license(npm_project: Path) -> None:
    cataloger = NodeCataloger()
    tree = tree_from_dirs(cataloger.request(), [("", npm_project)])
    by_name = {p.name: p for p in cataloger.catalog(tree, None)[0]}
    code_frame = by_name["@babel/code-frame"]
    manifest = json.loads((npm_project / "node_modules/@babel/code-frame/package.json").read_text())
    # purl-spec: the scope is the namespace and its "@" is percent-encoded.
    assert code_frame.purl == f"pkg:npm/%40babel/code-frame@{manifest['version']}"
    assert code_frame.namespace == "@babel"
    assert code_frame.licenses == (manifest["license"],)
    assert by_name["lodash"].purl == "pkg:npm/lodash@4.17.21"
    assert by_name["lodash"].licenses == ("MIT",)


def test_nested_non_package_json_is_not_requested(npm_project: Path) -> None:
    nested = npm_project / "node_modules/@babel/runtime/helpers/esm/package.json"
    assert json.loads(nested.read_text()) == {"type": "module"}
    request = NodeCataloger().request()
    assert not request.matches("node_modules/@babel/runtime/helpers/esm/package.json")
    assert not request.matches("node_modules/.package-lock.json")
    assert not request.matches("usr/src/app/package.json")
    assert request.matches("node_modules/@babel/runtime/package.json")


def test_unparsable_manifests_become_skips(npm_project: Path) -> None:
    real = (npm_project / "node_modules/lodash/package.json").read_bytes()
    paths = {
        "a/node_modules/lodash/package.json": real,
        "a/node_modules/broken/package.json": b"{ not json",
        "a/node_modules/noversion/package.json": b'{"name": "noversion"}',
        "a/node_modules/list/package.json": b"[1, 2]",
    }
    tree = FileTree(files={p: file_entry(p, d, layer_index=2) for p, d in paths.items()})
    packages, skips = NodeCataloger().catalog(tree, None)
    assert [(p.name, p.locations[0].layer_index) for p in packages] == [("lodash", 2)]
    assert {s.path for s in skips} == set(paths) - {"a/node_modules/lodash/package.json"}
    assert all(s.cataloger == "node" and s.reason for s in skips)
