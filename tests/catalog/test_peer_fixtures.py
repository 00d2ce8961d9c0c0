"""Language catalogers on Syft's and Trivy's own cataloger fixtures, scored against their truth.

``tests/data/peer-fixtures/cases.json`` holds, for each fixture, the packages the peer's own
test asserts (origin in SOURCES.md). Every case is placed in its own directory of one root
filesystem; imagetrust and Syft read that root once and their packages are attributed to cases
by path; Trivy (offline, as in test_peers.py) reads each case's directory on its own. A case is
*matched* when the tool's package set for it equals the asserted one. imagetrust must match
at least as many cases as the best peer, and the cases it misses are exactly those listed (and
explained) in docs/accuracy.md, "Language catalogers on peers' fixtures".
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest

from imagetrust.api import catalog
from imagetrust.config import load_settings
from tests.catalog.test_peers import (
    Key,
    _offline_java_db,
    _tool,
    normalise,
    peer_keys,
    run_trivy,
)

DATA = Path(__file__).resolve().parents[1] / "data" / "peer-fixtures"
TIMEOUT = 900
POM_PATH = "META-INF/maven/org.anchore/example-java-app-maven/pom.properties"
OUR_MISSES: dict[str, str] = {}
"""Cases imagetrust does not match, with the reason (kept equal to docs/accuracy.md)."""

pytestmark = pytest.mark.slow


def load_cases() -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = json.loads((DATA / "cases.json").read_text())["cases"]
    return cases


def truth(case: dict[str, Any]) -> set[Key]:
    return {_comparable(tuple(key)) for key in case["expected"]}  # type: ignore[arg-type]


def _comparable(key: Key) -> Key:
    """Go's ``(devel)`` and an absent version both say "no released version": one value."""
    kind, name, version = key
    return (kind, name, "" if kind == "golang" and version == "(devel)" else version)


def _place(root: Path, case: dict[str, Any]) -> None:
    for item in case["files"]:
        source, target = DATA / item["src"], root / "cases" / case["name"] / item["at"]
        target.parent.mkdir(parents=True, exist_ok=True)
        build = item.get("build", "copy")
        if build == "copy":
            shutil.copyfile(source, target)
        elif build == "copytree":
            shutil.copytree(source, target, dirs_exist_ok=True)
        elif build == "gunzip":
            target.write_bytes(gzip.decompress(source.read_bytes()))
            target.chmod(0o755)
        elif build == "zipdir":  # as Syft's Makefile: cd DIR && zip -r OUT .
            subprocess.run(["zip", "-q", "-r", str(target.resolve()), "."], cwd=source,
                           check=True)
        elif build == "pomjar":
            with zipfile.ZipFile(target, "w") as jar:
                jar.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\r\n\r\n")
                jar.writestr(POM_PATH, source.read_bytes())
        else:
            raise AssertionError(f"unknown build {build!r}")


def _case_of(path: str) -> str | None:
    parts = path.lstrip("/").split("/")
    if "cases" in parts and parts.index("cases") + 1 < len(parts):
        return parts[parts.index("cases") + 1]
    return None


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("peer-fixtures") / "root"
    for case in load_cases():
        _place(base, case)
    return base


@pytest.fixture(scope="module")
def found(root: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, set[Key]]]:
    """tool → case → normalised package keys."""
    work = tmp_path_factory.mktemp("peer-fixture-runs")
    out: dict[str, dict[str, set[Key]]] = {"imagetrust": {}, "syft": {}, "trivy": {}}

    def add(tool: str, path: str, purl: str | None, name: str, version: str) -> None:
        case = _case_of(path)
        if case is None:
            return
        key = normalise(purl) if purl else ("?", name, version)
        out[tool].setdefault(case, set()).add(_comparable(key))

    scanned = catalog(f"dir:{root}", settings=load_settings(cache_dir=work / "our-cache"))
    for package in scanned.catalog.packages:
        for location in package.locations:
            add("imagetrust", location.path, package.purl, package.name, package.version)

    env = {**os.environ, "SYFT_CHECK_FOR_APP_UPDATE": "false",
           "SYFT_CACHE_DIR": str(work / "syft-cache")}
    done = subprocess.run([_tool("syft"), f"dir:{root}", "-q", "-o", "json"], capture_output=True,
                          text=True, timeout=TIMEOUT, env=env, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    for artifact in json.loads(done.stdout)["artifacts"]:
        for location in artifact.get("locations", []):
            add("syft", location.get("path", ""), artifact.get("purl"), artifact["name"],
                artifact.get("version", ""))

    cache = _offline_java_db(work / "trivy-cache")  # Trivy: one run per case (its Go
    for case in load_cases():                        # packages carry no file path to attribute)
        bom = run_trivy(["rootfs", str(root / "cases" / case["name"])],
                        work / f"{case['name']}.trivy.json", cache)
        out["trivy"][case["name"]] = {_comparable(key) for key in peer_keys(bom)}
    return out


def scoreboard(found: dict[str, dict[str, set[Key]]]) -> dict[str, dict[str, bool]]:
    """case → tool → matched."""
    return {case["name"]: {tool: found[tool].get(case["name"], set()) == truth(case)
                           for tool in found}
            for case in load_cases()}


def test_imagetrust_matches_at_least_as_many_cases_as_the_best_peer(
    found: dict[str, dict[str, set[Key]]],
) -> None:
    board = scoreboard(found)
    totals = {tool: sum(row[tool] for row in board.values()) for tool in found}
    lines = [f"{name}: " + " ".join(f"{t}={'Y' if ok else '-'}" for t, ok in row.items())
             for name, row in board.items()]
    for case in load_cases():
        for tool in found:
            got = found[tool].get(case["name"], set())
            if got != truth(case):
                lines.append(f"  {case['name']} {tool}: missing {sorted(truth(case) - got)} "
                             f"extra {sorted(got - truth(case))}")
    print("\n".join([*lines, f"totals: {totals}"]))  # the table docs/accuracy.md reports
    assert totals["imagetrust"] >= max(totals["syft"], totals["trivy"]), totals
    missed = {name for name, row in board.items() if not row["imagetrust"]}
    assert missed == set(OUR_MISSES), {n: found["imagetrust"].get(n) for n in missed}


def test_every_case_is_attributed_and_the_truth_is_not_our_output() -> None:
    """The truth comes from the peers' tests: every case names the peer test it copies."""
    for case in load_cases():
        assert case["peer"] in ("syft", "trivy") and case["test"]
        assert all((DATA / item["src"]).exists() for item in case["files"]), case["name"]
