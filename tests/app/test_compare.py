"""``imagetrust compare``: real images on the suite's Debian base in a real registry.

Package changes are checked against an oracle built from the two images' own dpkg status files
read by ``dpkg-query --admindir`` and ordered by ``dpkg --compare-versions``; each rebuild cause
is built for real: the base moved (``libzstd1`` purged by dpkg in a rebuilt base), the library's
``GitCommit`` changed (two library files differing only in it), packages upgraded (a .deb built
by dpkg-deb and upgraded by dpkg), and metadata only (the same layers under a new config
timestamp).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from imagetrust.cli.main import main
from tests.app.stacks import (
    PROBE,
    STATUS,
    DpkgRoot,
    Pushed,
    build_deb,
    dpkg_newer,
    dpkg_packages,
    file_in_layers,
    layout_layers,
    push,
    registry_layers,
    sh,
)
from tests.cli.test_check_scan import PURGED, PURGED_CVE, push_rebuild_without_package
from tests.cli.test_cves_base import feeds, mirror  # noqa: F401 - fixtures
from tests.support.feedserver import FeedServer
from tests.support.images import FixtureImages
from tests.support.registry import RegistryServer, sha256, start_registry
from tests.support.schemas import validate

BASE_NAME = "docker.io/library/debian:12"
COMMIT_1 = "1111111111111111111111111111111111111111"
COMMIT_2 = "2222222222222222222222222222222222222222"


@dataclass(frozen=True)
class World:
    server: RegistryServer
    work: Path
    old_base: str
    new_base: str
    statuses: dict[str, bytes]
    images: dict[str, Pushed]

    def ref(self, name: str) -> str:
        return f"docker.io/library/demo:1.0@{self.images[name].digest}"

    @property
    def mirror(self) -> tuple[str, str]:
        return ("--registry-mirror", f"docker.io=http://{self.server.host}")


@pytest.fixture(scope="module")
def world(images: FixtureImages, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    work = tmp_path_factory.mktemp("compare")
    server = start_registry(work / "registry")
    try:
        yield _build_world(images, server, work)
    finally:
        server.stop()


def _build_world(images: FixtureImages, server: RegistryServer, work: Path) -> World:
    base_layers, base_config = layout_layers(images.layout, "base")
    old_base = images.manifest_digest("base")
    sh("skopeo", "--insecure-policy", "copy", "-q", "--dest-tls-verify=false",
       "--preserve-digests", f"oci:{images.layout}:base",
       f"docker://{server.host}/library/debian:12-old")
    # the tag debian:12 then moves to a rebuild with libzstd1 purged by dpkg
    push_rebuild_without_package(images, server, work / "rebuild", dest="library/debian:12")
    new_layers, new_config = registry_layers(server, "library/debian", "12")
    accept = {"Accept": "application/vnd.oci.image.manifest.v1+json"}
    new_base = sha256(server.http.get("/v2/library/debian/manifests/12", headers=accept).content)

    base_status = file_in_layers(base_layers, STATUS)
    rebuilt_status = file_in_layers(new_layers, STATUS)
    assert base_status and rebuilt_status
    deb1, deb2 = build_deb(work / "debs", "1.0-1"), build_deb(work / "debs", "1.1-1")
    on_old = DpkgRoot(work / "root-old", base_status)
    status_1 = on_old.install(deb1)
    status_2 = on_old.install(deb2)  # a real dpkg upgrade
    on_new = DpkgRoot(work / "root-new", rebuilt_status)
    status_new_1 = on_new.install(deb1)

    layer_1 = on_old.layer(status_1)
    layer_2 = on_old.layer(status_2)
    layer_new_1 = on_new.layer(status_new_1)
    layer_src = on_old.layer(status_1, {"usr/local/share/demo/source": b"commit 2\n"})

    def annotations(base: str, revision: str | None = None) -> dict[str, str]:
        found = {"org.opencontainers.image.base.name": BASE_NAME,
                 "org.opencontainers.image.base.digest": base}
        if revision:
            found["org.opencontainers.image.revision"] = revision
        return found

    pushed = {
        "v1": push(server, "library/demo", None, (*base_layers, layer_1), base_config,
                   created="2026-01-01T00:00:00Z", annotations=annotations(old_base, COMMIT_1)),
        "upgraded": push(server, "library/demo", None, (*base_layers, layer_2), base_config,
                         created="2026-01-02T00:00:00Z",
                         annotations=annotations(old_base, COMMIT_1)),
        "base-moved": push(server, "library/demo", None, (*new_layers, layer_new_1), new_config,
                           created="2026-01-03T00:00:00Z",
                           annotations=annotations(new_base, COMMIT_1)),
        "source": push(server, "library/demo", None, (*base_layers, layer_src), base_config,
                       created="2026-01-04T00:00:00Z",
                       annotations=annotations(old_base, COMMIT_2)),
        "metadata": push(server, "library/demo", None, (*base_layers, layer_1), base_config,
                         created="2026-01-05T00:00:00Z",
                         annotations=annotations(old_base, COMMIT_1)),
    }
    # the tag points at the upgraded build now (for --to-latest)
    push(server, "library/demo", "1.0", (*base_layers, layer_2), base_config,
         created="2026-01-02T00:00:00Z", annotations=annotations(old_base, COMMIT_1))
    statuses = {"v1": status_1, "upgraded": status_2, "base-moved": status_new_1,
                "source": status_1, "metadata": status_1, "base": base_status,
                "rebuilt": rebuilt_status}
    return World(server, work, old_base, new_base, statuses, pushed)


def write_library(root: Path, test_data: Path, commit: str) -> Path:
    """The shared official-images library plus ``library/demo`` built from ``commit``."""
    library = root / "library"
    shutil.copytree(test_data / "official-images" / "library", library, dirs_exist_ok=True)
    (library / "demo").write_text(
        "Maintainers: imagetrust tests <tests@example.org> (@imagetrust)\n"
        "GitRepo: https://github.com/imagetrust/demo.git\n\n"
        f"Tags: 1.0, latest\nArchitectures: amd64\nGitCommit: {commit}\nDirectory: 1.0\n",
        encoding="utf-8",
    )
    return root


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def compare_json(
    capsys: pytest.CaptureFixture[str], world: World, a: str, b: str | None, *extra: str
) -> dict[str, Any]:
    args = ["compare", "--format", "json", "-q", *world.mirror, *extra, world.ref(a)]
    if b is not None:
        args.append(world.ref(b))
    code, out, err = run(capsys, *args)
    assert code == 0, err
    document: dict[str, Any] = json.loads(out)
    validate("compare", document)
    return document


def oracle(world: World, a: str, b: str) -> dict[str, set[tuple[str, ...]]]:
    """Package changes from the two dpkg databases, ordered by dpkg itself."""
    before = dpkg_packages(world.work / "oracle", world.statuses[a])
    after = dpkg_packages(world.work / "oracle", world.statuses[b])
    both = before.keys() & after.keys()
    changed = {n for n in both if before[n] != after[n]}
    return {
        "added": {(n, after[n]) for n in after.keys() - before.keys()},
        "removed": {(n, before[n]) for n in before.keys() - after.keys()},
        "upgraded": {(n, before[n], after[n]) for n in changed
                     if dpkg_newer(before[n], after[n])},
        "downgraded": {(n, before[n], after[n]) for n in changed
                       if not dpkg_newer(before[n], after[n])},
    }


def reported(document: dict[str, Any]) -> dict[str, set[tuple[str, ...]]]:
    packages = document["packages"]
    found: dict[str, set[tuple[str, ...]]] = {
        kind: {(p["name"], p["version"]) for p in packages[kind] if p["type"] == "deb"}
        for kind in ("added", "removed")
    }
    for kind in ("upgraded", "downgraded"):
        found[kind] = {(p["name"], p["before"], p["after"]) for p in packages[kind]
                       if p["type"] == "deb"}
    assert not packages["changed"]
    return found


def causes(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    assert document["rebuild"] is not None, document["rebuild_note"]
    return {c["kind"]: c for c in document["rebuild"]["causes"]}


def evidence(document: dict[str, Any]) -> dict[str, bool]:
    return {e["name"]: e["available"] for e in document["rebuild"]["evidence"]}


def test_packages_upgraded_and_downgraded_match_dpkg(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    up = compare_json(capsys, world, "v1", "upgraded", "--no-scan")
    assert reported(up) == oracle(world, "v1", "upgraded")
    assert reported(up)["upgraded"] == {(PROBE, "1.0-1", "1.1-1")}
    found = causes(up)
    assert set(found) == {"packages-changed"}
    assert found["packages-changed"]["details"]["upgraded"] == [f"{PROBE} 1.0-1 → 1.1-1"]
    assert evidence(up) == {"base-image": True, "source-revision": True, "packages": True,
                            "layers": True}
    assert up["base"]["changed"] is False
    assert up["layers"]["shared"] == 1 and up["layers"]["common_prefix"] == 1

    down = compare_json(capsys, world, "upgraded", "v1", "--no-scan")
    assert reported(down) == oracle(world, "upgraded", "v1")
    assert reported(down)["downgraded"] == {(PROBE, "1.1-1", "1.0-1")}


def test_base_digest_moved_is_explained_with_what_it_changed(
    world: World, feeds: FeedServer, capsys: pytest.CaptureFixture[str]  # noqa: F811
) -> None:
    document = compare_json(capsys, world, "v1", "base-moved")
    assert reported(document) == oracle(world, "v1", "base-moved")
    assert reported(document)["removed"] == {
        (PURGED, dpkg_packages(world.work / "oracle", world.statuses["base"])[PURGED])
    }
    assert all(p["in_base"] for p in document["packages"]["removed"])
    found = causes(document)
    assert set(found) == {"base-moved"}, found
    moved = found["base-moved"]
    assert moved["details"]["digest_before"] == world.old_base
    assert moved["details"]["digest_after"] == world.new_base
    assert "debian:12" in moved["summary"] and PURGED in moved["summary"]
    assert document["base"]["changed"] is True
    # the purged package's vulnerability is gone: fixed, nothing introduced
    fixed = {(f["package"], f["id"]) for f in document["findings"]["fixed"]}
    assert (PURGED, PURGED_CVE) in fixed
    assert document["findings"]["introduced"] == []

    # --ignore-base leaves only the image's own layers: nothing changed there
    own = compare_json(capsys, world, "v1", "base-moved", "--ignore-base", "--no-scan")
    assert all(not own["packages"][k] for k in ("added", "removed", "upgraded", "downgraded"))


def test_library_git_commit_change_is_named_and_confirmed_by_the_library(
    world: World, test_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = write_library(tmp_path / "library-1", test_data, COMMIT_1)
    new = write_library(tmp_path / "library-2", test_data, COMMIT_2)
    assert _differing_lines(old, new) == [(f"GitCommit: {COMMIT_1}", f"GitCommit: {COMMIT_2}")]

    code, _, err = run(capsys, "catalog", "import", str(old))
    assert code == 0, err
    before = causes(compare_json(capsys, world, "v1", "source", "--no-scan"))["source-changed"]
    assert before["details"] == {"before": COMMIT_1, "after": COMMIT_2, "library": COMMIT_1,
                                 "confirmed_by_library": False}

    code, _, err = run(capsys, "catalog", "import", str(new))
    assert code == 0, err
    document = compare_json(capsys, world, "v1", "source", "--no-scan")
    changed = causes(document)["source-changed"]
    assert changed["details"]["confirmed_by_library"] is True
    assert f"{COMMIT_1[:12]} → {COMMIT_2[:12]}" in changed["summary"]
    assert "base-moved" not in causes(document)


def _differing_lines(a: Path, b: Path) -> list[tuple[str, str]]:
    left = (a / "library/demo").read_text().splitlines()
    right = (b / "library/demo").read_text().splitlines()
    return [(x, y) for x, y in zip(left, right, strict=True) if x != y]


def test_metadata_only_rebuild(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    document = compare_json(capsys, world, "v1", "metadata", "--no-scan")
    assert document["layers"]["same_layers"] is True
    assert document["before"]["config_digest"] != document["after"]["config_digest"]
    found = causes(document)
    assert set(found) == {"metadata-only"}
    assert found["metadata-only"]["details"]["fields"] == ["created"]
    assert found["metadata-only"]["details"]["created_after"] == "2026-01-05T00:00:00Z"
    assert reported(document) == {k: set() for k in ("added", "removed", "upgraded",
                                                     "downgraded")}


def test_to_latest_and_not_the_same_tag(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    latest = compare_json(capsys, world, "v1", None, "--to-latest", "--no-scan")
    assert latest["after"]["digest"] == world.images["upgraded"].digest
    assert latest["to_latest"] is True
    assert "packages-changed" in causes(latest)

    code, out, err = run(capsys, "compare", "--no-scan", "--offline", *world.mirror,
                         f"docker.io/library/debian:12@{world.old_base}", world.ref("v1"),
                         "--format", "json")
    assert code == 0, err
    unrelated = json.loads(out)
    assert unrelated["rebuild"] is None and "not known as two builds" in unrelated["rebuild_note"]
    assert unrelated["base"] == {"before": None, "after": None, "changed": None}  # offline

    code, out, err = run(capsys, "compare", "--to-latest", world.ref("v1"), world.ref("v1"))
    assert code == 1 and out == "" and len(err.strip().splitlines()) == 1


def test_compare_formats_and_alias(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    code, table, err = run(capsys, "diff", "--no-scan", *world.mirror, world.ref("v1"),
                           world.ref("upgraded"))
    assert code == 0, err
    assert PROBE in table and "1.0-1 → 1.1-1" in table and "Why rebuilt" in table
    code, markdown, err = run(capsys, "compare", "--no-scan", "--format", "markdown",
                              *world.mirror, world.ref("v1"), world.ref("upgraded"))
    assert code == 0, err
    assert markdown.startswith("## imagetrust compare")
    assert f"| upgraded | {PROBE} | deb | 1.0-1 → 1.1-1 |" in markdown
    assert "### Why was this tag rebuilt" in markdown
