"""``imagetrust inspect`` end to end on the real fixture images, through every source.

Expected digests come from the fixture layout and from skopeo, never from imagetrust itself.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.support.images import FixtureImages
from tests.support.registry import FaultProxy


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "imagetrust", *args], capture_output=True, text=True, timeout=300
    )


def inspect_json(*args: str) -> dict[str, Any]:
    result = run("inspect", "--format", "json", *args)
    assert result.returncode == 0, result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def skopeo_config(transport_ref: str) -> dict[str, Any]:
    out = subprocess.run(
        ["skopeo", "--insecure-policy", "inspect", "--config", transport_ref],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    data: dict[str, Any] = json.loads(out)
    return data


def one_line_error(result: subprocess.CompletedProcess[str], fragment: str) -> None:
    assert result.returncode == 1, result.stdout
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert fragment in lines[0].lower(), lines[0]


@pytest.fixture(scope="module")
def app_truth(images: FixtureImages) -> dict[str, Any]:
    """config digest + diff_ids of the app, as skopeo reads them from the layout."""
    manifest = images.manifest("app")
    config = skopeo_config(f"oci:{images.layout}:app")
    return {
        "config_digest": manifest["config"]["digest"],  # type: ignore[index]
        "diff_ids": config["rootfs"]["diff_ids"],
        "digest": images.manifest_digest("app"),
    }


def test_every_local_form_agrees_with_skopeo(
    images: FixtureImages, app_truth: dict[str, Any]
) -> None:
    forms = [
        f"oci-dir:{images.layout}:app",
        f"docker-archive:{images.app_archive}",
        f"docker-archive:{images.app_archive_oci}",
        f"docker-archive:{images.multi_archive}:myapp:1.0",
        f"oci-archive:{images.app_oci_archive}:app",
    ]
    for form in forms:
        data = inspect_json(form)
        assert data["config_digest"] == app_truth["config_digest"], form
        assert [layer["diff_id"] for layer in data["layers"]] == app_truth["diff_ids"], form
        assert data["platform"] == {"os": "linux", "architecture": "amd64", "variant": None}
        assert data["user"] == "1000:1000"


def test_registry_through_a_docker_io_mirror_keeps_the_canonical_name(
    images: FixtureImages, fixture_registry: Any
) -> None:
    server, _ = fixture_registry
    data = inspect_json("--registry-mirror", f"docker.io=http://{server.host}", "debian:12-base")
    assert data["reference"] == "docker.io/library/debian:12-base"
    assert data["digest"] == images.manifest_digest("base")
    assert data["config_digest"] == images.manifest("base")["config"]["digest"]  # type: ignore[index]
    assert data["index_digest"] is None


def test_registry_annotations_are_reported(
    fixture_registry: Any, app_truth: dict[str, Any]
) -> None:
    _, pushed = fixture_registry
    data = inspect_json(pushed["app"])
    assert data["digest"] == app_truth["digest"]
    assert data["config_digest"] == app_truth["config_digest"]
    assert data["annotations"]["org.opencontainers.image.base.name"] == (
        "docker.io/library/debian:12"
    )


def test_multi_platform_index_lists_and_selects_platforms(
    images: FixtureImages, fixture_registry: Any
) -> None:
    server, pushed = fixture_registry
    index_digest = images.manifest_digest("multiarch")
    data = inspect_json("--platform", "linux/arm64/v8", pushed["multiarch"])
    assert data["index_digest"] == index_digest
    assert data["platform"]["architecture"] == "arm64"
    assert {p["architecture"] for p in data["platforms"]} == {"amd64", "arm64"}
    # The Docker schema 2 manifest list copy resolves the same platform set.
    v2 = inspect_json("--platform", "linux/arm64/v8", pushed["multiarch-v2s2"])
    assert v2["media_type"] == "application/vnd.docker.distribution.manifest.v2+json"
    assert [layer["diff_id"] for layer in v2["layers"]] == [
        layer["diff_id"] for layer in data["layers"]
    ]


def test_unknown_tag_is_one_line_exit_1(fixture_registry: Any) -> None:
    server, _ = fixture_registry
    one_line_error(run("inspect", f"{server.host}/myapp:no-such-tag"), "not found")


def test_unknown_platform_names_the_available_ones(fixture_registry: Any) -> None:
    _, pushed = fixture_registry
    result = run("inspect", "--platform", "linux/s390x", pushed["multiarch"])
    one_line_error(result, "linux/amd64")


def test_corrupt_config_blob_is_an_integrity_error(images: FixtureImages, tmp_path: Path) -> None:
    layout = tmp_path / "layout"
    shutil.copytree(images.layout, layout)
    config_digest = images.manifest("app")["config"]["digest"]  # type: ignore[index]
    blob = layout / "blobs" / "sha256" / str(config_digest).split(":")[1]
    data = bytearray(blob.read_bytes())
    data[10] ^= 0x01
    blob.chmod(0o644)
    blob.write_bytes(bytes(data))
    one_line_error(run("inspect", f"oci-dir:{layout}:app"), "sha256")


def test_truncated_archive_is_one_line_exit_1(images: FixtureImages, tmp_path: Path) -> None:
    truncated = tmp_path / "truncated.tar"
    with images.app_archive.open("rb") as src:
        truncated.write_bytes(src.read(4096))
    one_line_error(run("inspect", f"docker-archive:{truncated}"), "archive")


def test_missing_archive_is_one_line_exit_1(tmp_path: Path) -> None:
    one_line_error(run("inspect", f"docker-archive:{tmp_path}/nope.tar"), "does not exist")


def test_docker_hub_rate_limit_is_surfaced(fixture_registry: Any) -> None:
    server, _ = fixture_registry
    proxy = FaultProxy(server.url, failures=0, extra_headers={"ratelimit-remaining": "76;w=21600"})
    try:
        result = run(
            "inspect",
            "--format",
            "json",
            "--registry-mirror",
            f"docker.io={proxy.url}",
            "debian:12-base",
        )
    finally:
        proxy.stop()
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["reference"] == "docker.io/library/debian:12-base"
    assert "rate limit remaining: 76" in result.stderr
