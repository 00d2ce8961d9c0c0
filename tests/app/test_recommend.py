"""``recommend`` on an official-style repository in a real local registry.

The repository ``library/debian`` is filled with the suite's own images under tags the real
official-images library lists: ``12`` (a rebuild of the scanned image with a package purged),
``12.15-slim`` (a slim variant), ``11.11`` (the same packages labelled bullseye, whose support
ended) and ``13.6`` (labelled trixie). Every delta and the ranking are checked against scans
the test makes itself, one `imagetrust cves` per image, and set differences computed here.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from imagetrust.cli.main import main
from imagetrust.policy.ranking import ranking_table
from tests.cli.test_check_scan import (  # noqa: F401 - registry is a fixture
    PURGED_CVE,
    push_rebuild_without_package,
    registry,
    sh,
)
from tests.cli.test_cves_base import feeds, mirror  # noqa: F401 - fixtures
from tests.support.feedserver import FeedServer
from tests.support.images import FixtureImages
from tests.support.registry import RegistryServer
from tests.support.schemas import validate


def push_relabelled(
    images: FixtureImages,
    registry: RegistryServer,  # noqa: F811 - the parameter, not the imported fixture
    work: Path,
    tag: str,
    version: str,
    codename: str,
) -> None:
    """The base image with its os-release saying Debian ``version`` (``codename``)."""
    layout, bundle = work / "layout", work / "bundle"
    work.mkdir(parents=True)
    sh("skopeo", "--insecure-policy", "copy", "-q", f"oci:{images.layout}:base",
       f"oci:{layout}:base")
    sh("umoci", "unpack", "--image", f"{layout}:base", bundle)
    release = bundle / "rootfs/usr/lib/os-release"
    text = release.read_text()
    text = "\n".join(
        f'VERSION_ID="{version}"' if line.startswith("VERSION_ID=") else
        f"VERSION_CODENAME={codename}" if line.startswith("VERSION_CODENAME=") else
        f'PRETTY_NAME="Debian GNU/Linux {version} ({codename})"'
        if line.startswith("PRETTY_NAME=") else line
        for line in text.splitlines()
    ) + "\n"
    release.write_text(text)
    (bundle / "rootfs/etc/debian_version").write_text(f"{version}.0\n")
    sh("umoci", "repack", "--image", f"{layout}:relabelled", bundle)
    sh("skopeo", "--insecure-policy", "copy", "-q", "--dest-tls-verify=false",
       f"oci:{layout}:relabelled", f"docker://{registry.host}/library/debian:{tag}")


def run_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    code = main(list(args))
    out, err = capsys.readouterr()
    assert code == 0, err
    document: dict[str, Any] = json.loads(out)
    return document


def findings(capsys: pytest.CaptureFixture[str], mirror_flag: list[str], target: str
             ) -> set[tuple[str, str]]:
    data = run_json(capsys, "cves", "--format", "json", "--source", "registry", "-q",
                    *mirror_flag, target)
    return {(f["id"], f["package"]["name"]) for f in data["findings"]}


def test_recommend_refresh_and_ranked_candidates(
    images: FixtureImages, registry: RegistryServer, feeds: FeedServer,  # noqa: F811
    test_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["catalog", "import", str(test_data / "official-images")]) == 0
    push_rebuild_without_package(images, registry, tmp_path / "rebuild", "library/debian:12")
    push_rebuild_without_package(images, registry, tmp_path / "slim",
                                 "library/debian:12.15-slim")
    push_relabelled(images, registry, tmp_path / "bullseye", "11.11", "11", "bullseye")
    push_relabelled(images, registry, tmp_path / "trixie", "13.6", "13", "trixie")
    mirror_flag = ["--registry-mirror", f"docker.io=http://{registry.host}"]
    capsys.readouterr()

    # the copy the user has: the first build of debian:12 (its archive records that tag)
    target = f"docker-archive:{images.base_archive}"
    data = run_json(capsys, "recommend", "--format", "json", *mirror_flag, target)
    validate("recommend", data)
    assert data["base"] == {"reference": "docker.io/library/debian:12",
                            "how": "the image itself"}

    mine = {(f["id"], f["package"]["name"]) for f in run_json(
        capsys, "cves", "--format", "json", "-q", target)["findings"]}
    now = findings(capsys, mirror_flag, "debian:12")
    refresh = data["refresh"]
    assert refresh["state"] == "behind"
    assert set(refresh["delta"]["fixed_ids"]) == {i for i, _ in mine - now}
    assert set(refresh["delta"]["introduced_ids"]) == {i for i, _ in now - mine}
    assert PURGED_CVE in refresh["delta"]["fixed_ids"]

    tags = [c["tag"] for c in data["candidates"]]
    assert "12.15-slim" not in tags  # another variant family
    assert {"11.11", "13.6"} <= set(tags)
    for candidate in data["candidates"]:
        theirs = findings(capsys, mirror_flag, f"debian:{candidate['tag']}")
        assert set(candidate["delta"]["fixed_ids"]) == {i for i, _ in mine - theirs}
        assert set(candidate["delta"]["introduced_ids"]) == {i for i, _ in theirs - mine}
    by_tag = {c["tag"]: c for c in data["candidates"]}
    # Debian 11's LTS ended on 2026-08-31 (wiki.debian.org/LTS): never above a supported one
    assert by_tag["11.11"]["end_of_life"] and not by_tag["11.11"]["recommended"]
    assert by_tag["13.6"]["recommended"] and by_tag["13.6"]["os_change"] == "major"
    assert tags.index("13.6") < tags.index("11.11")
    recommended = [c["recommended"] for c in data["candidates"]]
    assert recommended == sorted(recommended, reverse=True)  # all recommended ones first

    # --any-variant brings the slim tag in; --tag evaluates just one
    data = run_json(capsys, "recommend", "--format", "json", "--any-variant", "--only-update",
                    *mirror_flag, target)
    assert "12.15-slim" in [c["tag"] for c in data["candidates"]] and data["refresh"] is None
    data = run_json(capsys, "recommend", "--format", "json", "--tag", "13.6", "--only-update",
                    *mirror_flag, target)
    assert [c["tag"] for c in data["candidates"]] == ["13.6"]

    # a user's own image: the advice is about the base it was built on (annotation), as built:
    # the first build of debian:12 stays in the registry by digest (what a registry keeps)
    sh("skopeo", "--insecure-policy", "copy", "-q", "--preserve-digests",
       "--dest-tls-verify=false", f"oci:{images.layout}:base",
       f"docker://{registry.host}/library/debian:first-build")
    data = run_json(capsys, "recommend", "--format", "json", "--only-refresh", *mirror_flag,
                    f"oci-dir:{images.layout}:app")
    assert data["base"]["reference"] == "docker.io/library/debian:12"
    assert data["base"]["how"].startswith("base image (annotation")
    assert data["refresh"]["state"] == "behind", (data["refresh"], data["notes"])
    code = main(["recommend", "--format", "markdown", "--only-refresh", *mirror_flag, target])
    out, _ = capsys.readouterr()
    assert code == 0 and "**Refresh:** behind" in out


def test_ranking_table_is_documented() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs/recommend.md").read_text()
    assert ranking_table() in doc


def test_other_publishers_get_newer_tags_from_the_registry_in_version_order(
    images: FixtureImages, registry: RegistryServer, feeds: FeedServer,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Not in the official-images library: candidates are the registry's own tags, newer
    versions only, newest first, in the same variant family."""
    for tag in ("1.0", "1.1", "2.0", "0.9", "2.0-alpine"):
        sh("skopeo", "--insecure-policy", "copy", "-q", "--dest-tls-verify=false",
           f"oci:{images.layout}:base", f"docker://{registry.host}/team/app:{tag}")
    data = run_json(capsys, "recommend", "--format", "json", "--only-update",
                    f"{registry.host}/team/app:1.0")
    assert data["base"] == {"reference": f"{registry.host}/team/app:1.0",
                            "how": "the image itself"}
    assert sorted(c["tag"] for c in data["candidates"]) == ["1.1", "2.0"]
    by_tag = {c["tag"]: c for c in data["candidates"]}
    assert by_tag["2.0"]["version_change"] == "major" and by_tag["1.1"]["version_change"] == (
        "minor"
    )
    # the same image under every tag: nothing fixed or introduced, so the smaller change wins
    assert [c["tag"] for c in data["candidates"]] == ["1.1", "2.0"]
