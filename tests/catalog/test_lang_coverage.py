"""Coverage added for issue 11, on inputs built here with the real tools (go, zip/zipfile)."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from imagetrust.catalog import gobuildinfo as gbi
from imagetrust.catalog.golang import GoCataloger, wants_executable
from imagetrust.catalog.java import JavaCataloger
from imagetrust.catalog.node import NodeCataloger
from imagetrust.catalog.python import PythonCataloger, extract_metadata
from imagetrust.image.files import FileTree
from tests.catalog.lang_tree import file_entry

GO = shutil.which("go")
ZIP = shutil.which("zip")


def _tree(files: dict[str, bytes], mode: int = 0o644) -> FileTree:
    return FileTree(files={p: file_entry(p, d, mode=mode) for p, d in files.items()})


@pytest.fixture(scope="module")
def go_builds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A main package built with ``-ldflags -X main.version=1.2.3`` and as a c-shared library."""
    if GO is None or shutil.which("gcc") is None:
        pytest.skip("needs the go toolchain and gcc")
    root = tmp_path_factory.mktemp("golang-cov")
    (root / "go.mod").write_text("module example.com/stamped\n\ngo 1.19\n")
    (root / "main.go").write_text(
        'package main\n\nimport "C"\nimport "fmt"\n\nvar version = "dev"\n\n'
        "//export Version\nfunc Version() int { return len(version) }\n\n"
        "func main() { fmt.Println(version) }\n")
    env = {**os.environ, "GOFLAGS": "-buildvcs=false", "GOPROXY": "off", "GOTOOLCHAIN": "local",
           "CGO_ENABLED": "1"}
    out = {"exe": root / "stamped", "so": root / "libstamped.so"}
    subprocess.run([GO, "build", "-ldflags=-X main.version=1.2.3 -X main.Other=9", "-o",
                    str(out["exe"]), "."], cwd=root, env=env, check=True, capture_output=True,
                   timeout=600)
    subprocess.run([GO, "build", "-buildmode=c-shared", "-o", str(out["so"]), "."], cwd=root,
                   env=env, check=True, capture_output=True, timeout=600)
    return out


def test_ldflags_version_replaces_devel(go_builds: dict[str, Path]) -> None:
    oracle = subprocess.run([str(GO), "version", "-m", str(go_builds["exe"])],
                            capture_output=True, text=True, check=True).stdout
    assert "mod\texample.com/stamped\t(devel)" in oracle and "main.version=1.2.3" in oracle
    tree = _tree({"usr/bin/stamped": go_builds["exe"].read_bytes()}, mode=0o755)
    packages, _ = GoCataloger().catalog(tree, None)
    main = next(p for p in packages if p.metadata.get("go.main"))
    assert (main.name, main.version) == ("example.com/stamped", "v1.2.3")
    assert main.metadata["go.version_source"] == "ldflags"


def test_shared_object_is_read_without_exec_bit(go_builds: dict[str, Path]) -> None:
    data = go_builds["so"].read_bytes()
    assert wants_executable("usr/lib/libstamped.so", len(data), 0o100644)
    assert not wants_executable("usr/lib/notes.txt", len(data), 0o100644)
    excerpt = gbi.extract_build_info("usr/lib/libstamped.so", io.BytesIO(data))
    assert excerpt
    packages, _ = GoCataloger().catalog(_tree({"usr/lib/libstamped.so": data}), None)
    assert {p.name for p in packages} == {"example.com/stamped", "stdlib"}


def test_jenkins_instrumentation_and_continuations(tmp_path: Path) -> None:
    if ZIP is None:
        pytest.skip("needs zip")
    src = tmp_path / "plugin"
    (src / "META-INF").mkdir(parents=True)
    (src / "META-INF/MANIFEST.MF").write_text(
        "Manifest-Version: 1.0\nGroup-Id: org.jenkins-ci.plugins\nShort-Name: git\n"
        "Plugin-Version: 5.2.1\n\n")
    subprocess.run([ZIP, "-q", "-r", str(tmp_path / "git.jpi"), "."], cwd=src, check=True)
    weaver = io.BytesIO()
    with zipfile.ZipFile(weaver, "w") as jar:
        jar.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\nImplementation-Title: x\n"
                     "Implementation-Version: 1.0\nWeave-Classes: a/B\n\n")
    continued = io.BytesIO()
    with zipfile.ZipFile(continued, "w") as jar:
        jar.writestr("x/pom.properties", "groupId=org.example.\\\n    long\nartifactId=lib\n"
                     "version=2.0\n")
    tree = _tree({"plugins/git.jpi": (tmp_path / "git.jpi").read_bytes(),
                  "opt/nr/weave.jar": weaver.getvalue(), "opt/app/lib.nar": continued.getvalue()})
    packages, skips = JavaCataloger().catalog(tree, None)
    assert {p.purl for p in packages} == {"pkg:maven/org.jenkins-ci.plugins/git@5.2.1",
                                          "pkg:maven/org.example.long/lib@2.0"}
    assert "instrumentation" in {s.path: s.reason for s in skips}["opt/nr/weave.jar"]


def test_zipped_egg_and_case_insensitive_dirs() -> None:
    egg = io.BytesIO()
    with zipfile.ZipFile(egg, "w") as archive:
        archive.writestr("EGG-INFO/PKG-INFO",
                         "Metadata-Version: 1.1\nName: Foo_Bar\nVersion: 3.1\n")
        archive.writestr("foo_bar/__init__.py", "")
    meta = b"Metadata-Version: 2.1\nName: Upper\nVersion: 1.0\n"
    files = {"lib/site-packages/Foo_Bar-3.1-py3.11.egg": egg.getvalue(),
             "lib/site-packages/Upper-1.0.DIST-INFO/METADATA": meta,
             "lib/python2.7/lib-dynload/Python-2.7.egg-info":
                 b"Metadata-Version: 1.1\nName: Python\nVersion: 2.7.18\n"}
    cataloger = PythonCataloger()
    assert all(cataloger.request().matches(p) for p in files)
    packages, skips = cataloger.catalog(_tree(files), None)
    assert {p.purl for p in packages} == {"pkg:pypi/foo-bar@3.1", "pkg:pypi/upper@1.0"}
    assert "interpreter" in skips[0].reason
    # the reader's extract path keeps only the metadata of the egg
    kept = extract_metadata("x.egg", io.BytesIO(egg.getvalue()))
    assert kept.endswith(b"Version: 3.1\n") and len(kept) < len(egg.getvalue())


def test_invalid_npm_names_are_skipped_not_rewritten() -> None:
    names = {"ok": "left-pad", "scoped": "@babel/core", "old": "JSONStream",
             "slash": "@invalid/packageName/", "at": "test@package", "dot": ".hidden",
             "space": " padded", "reserved": "node_modules"}
    files = {f"app/node_modules/{key}/package.json":
             json.dumps({"name": name, "version": "1.0.0"}).encode()
             for key, name in names.items()}
    packages, skips = NodeCataloger().catalog(_tree(files), None)
    assert {p.name for p in packages} == {"left-pad", "@babel/core", "JSONStream"}
    assert len(skips) == 5 and all("invalid npm name" in s.reason for s in skips)
