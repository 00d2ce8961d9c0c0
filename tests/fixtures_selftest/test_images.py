"""The fixture images are what they claim: checked with skopeo, tar and dpkg-query, not our code."""

from __future__ import annotations

import hashlib
import json
import subprocess
import tarfile
import threading
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest

from tests.support.build.cache import MARKER, build_once, mark_in_use, prune_builds
from tests.support.images import (
    APP_FILE,
    APP_FILE_TEXT,
    BASE_NAME,
    DELETED_FILE,
    REBUILD_FILE,
    FixtureImages,
    push_fixtures,
)
from tests.support.registry import start_registry

pytestmark = pytest.mark.fixtures


def skopeo(*args: str) -> bytes:
    return subprocess.run(
        ["skopeo", "--insecure-policy", *args], check=True, capture_output=True
    ).stdout


def raw(transport: str, *extra: str) -> bytes:
    return skopeo("inspect", "--raw", *extra, transport)


def config_raw(transport: str, *extra: str) -> bytes:
    return skopeo("inspect", "--config", "--raw", *extra, transport)


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def diff_ids(transport: str, *extra: str) -> list[str]:
    ids: list[str] = json.loads(config_raw(transport, *extra))["rootfs"]["diff_ids"]
    return ids


def oci(fx: FixtureImages, ref: str) -> str:
    return f"oci:{fx.layout}:{ref}"


def manifest(transport: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(raw(transport))
    return document


def layer_names(fx: FixtureImages, digest: str) -> list[str]:
    with tarfile.open(fx.layout / "blobs/sha256" / digest.split(":")[1], "r:gz") as tar:
        return tar.getnames()


def test_base_is_one_gzip_layer_debian_image(images: FixtureImages) -> None:
    doc = manifest(oci(images, "base"))
    config = json.loads(config_raw(oci(images, "base")))
    assert [layer["mediaType"] for layer in doc["layers"]] == [
        "application/vnd.oci.image.layer.v1.tar+gzip"
    ]
    assert (config["os"], config["architecture"]) == ("linux", "amd64")
    assert config["config"]["Labels"]["org.opencontainers.image.title"] == "debian"
    assert config["history"] and len(config["rootfs"]["diff_ids"]) == 1
    names = set(layer_names(images, doc["layers"][0]["digest"]))
    assert "etc/os-release" in names or "usr/lib/os-release" in names
    assert not {"etc/resolv.conf", "etc/hostname"} & names
    assert not [name for name in names if name.startswith("var/lib/apt/lists/") and
                name.endswith("_Packages")]


def test_app_shares_base_layer_and_adds_jq_file_and_whiteout(images: FixtureImages) -> None:
    base, app = manifest(oci(images, "base")), manifest(oci(images, "app"))
    assert len(app["layers"]) == 2
    assert app["layers"][0]["digest"] == base["layers"][0]["digest"]
    assert diff_ids(oci(images, "app"))[0] == diff_ids(oci(images, "base"))[0]
    top = set(layer_names(images, app["layers"][1]["digest"]))
    assert {APP_FILE, "usr/bin/jq", "etc/.wh." + DELETED_FILE.split("/")[-1]} <= top
    assert app["annotations"]["org.opencontainers.image.base.name"] == BASE_NAME
    base_digest = sha(raw(oci(images, "base")))
    assert app["annotations"]["org.opencontainers.image.base.digest"] == base_digest
    assert json.loads(config_raw(oci(images, "app")))["config"]["User"] == "1000:1000"


def test_base_rebuild_differs_only_by_one_file(images: FixtureImages) -> None:
    base, rebuild = manifest(oci(images, "base")), manifest(oci(images, "base-rebuild"))
    assert len(rebuild["layers"]) == 1
    assert rebuild["layers"][0]["digest"] != base["layers"][0]["digest"]
    assert sha(raw(oci(images, "base-rebuild"))) != sha(raw(oci(images, "base")))
    base_names = set(layer_names(images, base["layers"][0]["digest"]))
    rebuild_names = set(layer_names(images, rebuild["layers"][0]["digest"]))
    assert rebuild_names - base_names == {REBUILD_FILE}
    assert base_names - rebuild_names == set()


def test_multiarch_index_has_amd64_and_arm64(images: FixtureImages) -> None:
    index = manifest(oci(images, "multiarch"))
    assert index["mediaType"] == "application/vnd.oci.image.index.v1+json"
    platforms = {(m["platform"]["os"], m["platform"]["architecture"]) for m in index["manifests"]}
    assert platforms == {("linux", "amd64"), ("linux", "arm64")}
    for arch in ("amd64", "arm64"):
        config = json.loads(skopeo("--override-arch", arch, "inspect", "--config", "--raw",
                                   oci(images, "multiarch")))
        assert config["architecture"] == arch
        assert config["rootfs"]["diff_ids"] == diff_ids(oci(images, "base"))


@pytest.mark.parametrize("form", ["base_archive", "app_archive", "app_archive_oci",
                                  "app_oci_archive", "app_v2s2_layout", "multi_archive"])
def test_every_form_has_the_layout_config_and_diff_ids(images: FixtureImages, form: str) -> None:
    ref = "base" if form == "base_archive" else "app"
    path = getattr(images, form)
    transport = {
        "base_archive": f"docker-archive:{path}",
        "app_archive": f"docker-archive:{path}",
        "app_archive_oci": f"docker-archive:{path}",
        "app_oci_archive": f"oci-archive:{path}:app",
        "app_v2s2_layout": f"dir:{path}",
        "multi_archive": f"docker-archive:{path}:myapp:1.0",
    }[form]
    layout_config = manifest(oci(images, ref))["config"]["digest"]
    assert sha(config_raw(transport)) == layout_config
    assert diff_ids(transport) == diff_ids(oci(images, ref))


def test_multi_archive_holds_both_images(images: FixtureImages) -> None:
    for index, ref in ((0, "base"), (1, "app")):
        config = config_raw(f"docker-archive:{images.multi_archive}:@{index}")
        assert sha(config) == manifest(oci(images, ref))["config"]["digest"]
    with tarfile.open(images.multi_archive) as tar:
        entries = json.load(tar.extractfile("manifest.json"))  # type: ignore[arg-type]
    assert [tag for entry in entries for tag in entry["RepoTags"]] == [
        "docker.io/library/debian:12", "docker.io/library/myapp:1.0"]


def test_docker25_save_is_an_oci_layout_with_verified_blobs(images: FixtureImages) -> None:
    with tarfile.open(images.app_archive_oci) as tar:
        files = {m.name: tar.extractfile(m).read()  # type: ignore[union-attr]
                 for m in tar if m.isfile()}
    for name, data in files.items():
        if name.startswith("blobs/sha256/"):
            assert hashlib.sha256(data).hexdigest() == name.rsplit("/", 1)[1]
    assert json.loads(files["oci-layout"])["imageLayoutVersion"] == "1.0.0"
    (entry,) = json.loads(files["manifest.json"])
    assert entry["RepoTags"] == ["myapp:1.0"]
    assert entry["Layers"] == ["blobs/sha256/" + d.split(":")[1]
                               for d in diff_ids(oci(images, "app"))]
    # skopeo reads the same tarball as an OCI archive too: same config.
    config = config_raw(f"oci-archive:{images.app_archive_oci}")
    assert "blobs/sha256/" + sha(config).split(":")[1] == entry["Config"]


def test_app_v2s2_copy_is_docker_schema2(images: FixtureImages) -> None:
    doc = manifest(f"dir:{images.app_v2s2_layout}")
    assert doc["mediaType"] == "application/vnd.docker.distribution.manifest.v2+json"
    assert {layer["mediaType"] for layer in doc["layers"]} == {
        "application/vnd.docker.image.rootfs.diff.tar.gzip"}


def test_app_rootfs_is_the_merged_filesystem(images: FixtureImages) -> None:
    rootfs = images.app_rootfs
    assert (rootfs / APP_FILE).read_text() == APP_FILE_TEXT
    assert not (rootfs / DELETED_FILE).exists()
    assert (rootfs / "usr/bin/jq").is_file()
    assert (rootfs / "etc/debian_version").read_text().startswith("12.")


def _dpkg_installed(admindir: Path) -> list[str]:
    out = subprocess.run(
        ["dpkg-query", f"--admindir={admindir}", "-W", "-f", "${db:Status-Abbrev} ${Package}\n"],
        check=True, capture_output=True, text=True,
    ).stdout
    return [line.split()[1] for line in out.splitlines() if line.startswith("ii ")]


def test_debootstrap_package_count_matches_dpkg_query(images: FixtureImages,
                                                      tmp_path: Path) -> None:
    base_layer = manifest(oci(images, "base"))["layers"][0]["digest"]
    with tarfile.open(images.layout / "blobs/sha256" / base_layer.split(":")[1], "r:gz") as tar:
        tar.extract("var/lib/dpkg/status", tmp_path, filter="data")
    base_packages = _dpkg_installed(tmp_path / "var/lib/dpkg")
    assert len(base_packages) == images.debootstrap_packages
    assert 60 < images.debootstrap_packages < 150
    app_packages = _dpkg_installed(images.app_rootfs / "var/lib/dpkg")
    assert "jq" in app_packages and "jq" not in base_packages
    assert set(base_packages) < set(app_packages)


def test_polyglot_has_packages_of_each_ecosystem(images: FixtureImages, tmp_path: Path) -> None:
    doc = manifest(oci(images, "polyglot"))
    assert doc["layers"][0]["digest"] == manifest(oci(images, "base"))["layers"][0]["digest"]
    names = set(layer_names(images, doc["layers"][1]["digest"]))
    site = "usr/local/lib/python3.11/site-packages/"
    assert {site + "requests-2.31.0.dist-info/METADATA",
            site + "urllib3-1.26.18.dist-info/METADATA",
            "app/node_modules/lodash/package.json", "app/node_modules/minimist/package.json",
            "usr/share/java/commons-lang3.jar", "usr/local/bin/hello-go"} <= names
    assert any(n.startswith("usr/lib/python3/dist-packages/six-") for n in names)
    with tarfile.open(images.layout / "blobs/sha256" / doc["layers"][1]["digest"][7:], "r:gz") as t:
        t.extract("usr/local/bin/hello-go", tmp_path, filter="data")
        jar = t.extractfile("usr/share/java/commons-lang3.jar")
        assert jar is not None
        jar_path = tmp_path / "lang3.jar"
        jar_path.write_bytes(jar.read())
    buildinfo = subprocess.run(["go", "version", "-m", str(tmp_path / "usr/local/bin/hello-go")],
                               check=True, capture_output=True, text=True).stdout
    assert "example.com/imagetrust/greet\tv1.2.3" in buildinfo
    with zipfile.ZipFile(jar_path) as jar_zip:
        poms = [n for n in jar_zip.namelist() if n.endswith("pom.properties")]
        assert poms and b"artifactId=commons-lang3" in jar_zip.read(poms[0])


@pytest.mark.registry
def test_push_fixtures_to_a_local_registry(images: FixtureImages, tmp_path: Path) -> None:
    registry = start_registry(tmp_path / "registry")
    try:
        pushed = push_fixtures(images, registry.host)
        remote = {name: raw(f"docker://{ref}", "--tls-verify=false")
                  for name, ref in pushed.items()}
    finally:
        registry.stop()
    for name in ("base", "app", "multiarch", "polyglot", "base-rebuild"):
        assert sha(remote[name]) == sha(raw(oci(images, name))), name
    assert pushed["debian"] == pushed["base-rebuild"]
    assert sha(remote["debian"]) != sha(raw(oci(images, "base")))
    assert json.loads(remote["app-v2s2"])["mediaType"] == (
        "application/vnd.docker.distribution.manifest.v2+json")
    assert json.loads(remote["multiarch-v2s2"])["mediaType"] == (
        "application/vnd.docker.distribution.manifest.list.v2+json")


@pytest.mark.registry
def test_push_failure_names_the_step_but_not_the_password(images: FixtureImages,
                                                          tmp_path: Path) -> None:
    registry = start_registry(tmp_path / "registry", auth="basic")
    try:
        with pytest.raises(RuntimeError, match="fixture build step failed") as info:
            push_fixtures(images, registry.host, creds="user:s3cret-wrong")
    finally:
        registry.stop()
    assert "s3cret-wrong" not in str(info.value)


# -- the cache itself ------------------------------------------------------------------------------


def test_build_once_builds_once_and_marks_completion(tmp_path: Path) -> None:
    calls: list[Path] = []

    def build(work: Path) -> None:
        calls.append(work)
        (work / "out").write_text("x")

    final = tmp_path / "build-x"
    assert build_once(final, build) == final
    assert build_once(final, build) == final
    assert len(calls) == 1 and (final / MARKER).is_file() and (final / "out").is_file()


def test_failed_or_unmarked_build_is_removed_and_rebuilt(tmp_path: Path) -> None:
    final = tmp_path / "build-x"

    def fail(work: Path) -> None:
        (work / "half").write_text("x")
        raise OSError("disk full")

    with pytest.raises(OSError):
        build_once(final, fail)
    assert not final.exists() and not final.with_name("build-x.partial").exists()
    final.mkdir()
    (final / "stale").write_text("x")  # a directory without the marker is not trusted
    build_once(final, lambda work: (work / "fresh").touch())
    assert (final / "fresh").is_file() and not (final / "stale").exists()


def test_concurrent_callers_wait_for_one_build(tmp_path: Path) -> None:
    final = tmp_path / "build-x"
    calls: list[int] = []

    def slow(work: Path) -> None:
        calls.append(1)
        time.sleep(0.3)
        (work / "out").write_text("x")

    threads = [threading.Thread(target=build_once, args=(final, slow)) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == 1 and (final / "out").is_file()


def test_prune_keeps_current_and_in_use_builds(tmp_path: Path) -> None:
    current, in_use, old = (tmp_path / f"build-{name}" for name in ("cur", "used", "old"))
    for build in (current, in_use, old):
        build_once(build, lambda work: (work / "out").touch())
    mark_in_use(in_use)  # as another pytest process still reading it would
    assert prune_builds(current) == [old]
    assert current.is_dir() and in_use.is_dir() and not old.exists()
