"""A root filesystem whose file names and package metadata are not UTF-8, through every format.

The tree is written here with raw bytes: a Python dist-info directory named ``caf\\xe9`` (Latin-1),
and a dpkg status whose Maintainer and Description fields hold Latin-1 bytes. Every ``sbom`` and
``cves`` format must exit 0 and write strictly valid UTF-8 (``bytes.decode("utf-8")`` is the
oracle), with the undecodable bytes shown as the text ``\\xNN``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from imagetrust.report.formats import choices

STATUS = (
    b"Package: zlib1g\nStatus: install ok installed\nPriority: optional\nSection: libs\n"
    b"Installed-Size: 100\nMaintainer: Mark Brown <broonie@debian.org> Jos\xe9\n"
    b"Architecture: amd64\nSource: zlib\nVersion: 1:1.2.13.dfsg-1\n"
    b"Description: compression library - runtime caf\xe9\n"
    b"\n"
    b"Package: caf\xe9\nStatus: install ok installed\nArchitecture: all\nVersion: 1.0-1\n"
    b"Maintainer: Fran\xe7ois <f@example.org>\nDescription: cr\xe8me\n"
)


@pytest.fixture(scope="module")
def rootfs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("rootfs")
    (root / "etc").mkdir()
    (root / "etc/os-release").write_text('ID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\n')
    dpkg = root / "var/lib/dpkg"
    dpkg.mkdir(parents=True)
    (dpkg / "status").write_bytes(STATUS)
    site = os.fsencode(root / "usr/lib/python3/dist-packages")
    dist = site + b"/caf\xe9-1.0.dist-info"
    os.makedirs(dist)
    with open(dist + b"/METADATA", "wb") as handle:
        handle.write(b"Metadata-Version: 2.1\nName: caf\xe9\nVersion: 1.0\nAuthor: Jos\xe9\n")
    return root


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory, test_data: Path) -> Path:
    from imagetrust.match.db import import_feed

    db = tmp_path_factory.mktemp("db") / "v.sqlite"
    import_feed(db, test_data / "debian/vunnel-debian-tracker-fixture.json")
    return db


def _run(*args: str, cache: Path) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "IMAGETRUST_CACHE_DIR": str(cache)}
    return subprocess.run([sys.executable, "-m", "imagetrust", *args], capture_output=True,
                          timeout=120, env=env)


def _valid(result: subprocess.CompletedProcess[bytes]) -> str:
    assert result.returncode == 0, result.stderr.decode("utf-8", "replace")
    assert b"Traceback" not in result.stderr
    return result.stdout.decode("utf-8")  # strict: raises on any byte that is not UTF-8


@pytest.mark.parametrize("fmt", choices("sbom"))
def test_every_sbom_format_writes_valid_utf8(rootfs: Path, tmp_path: Path, fmt: str) -> None:
    text = _valid(_run("sbom", f"dir:{rootfs}", "--format", fmt, cache=tmp_path / "c"))
    if fmt == "json":  # the dist-info path is listed as it was, its byte written as text
        assert "caf\\\\xe9-1.0.dist-info" in text  # JSON text of the 7 characters caf\xe9
        json.loads(text)
    elif fmt != "table":
        json.loads(text)
    out = tmp_path / "out.txt"
    _valid(_run("sbom", f"dir:{rootfs}", "--format", fmt, "-o", str(out), cache=tmp_path / "c"))
    out.read_bytes().decode("utf-8")


@pytest.mark.parametrize("fmt", choices("cves"))
def test_every_cves_format_writes_valid_utf8(rootfs: Path, database: Path, tmp_path: Path,
                                             fmt: str) -> None:
    text = _valid(_run("cves", f"dir:{rootfs}", "--db", str(database), "--format", fmt,
                       cache=tmp_path / "c"))
    if fmt not in ("table", "markdown"):
        json.loads(text)
    out = tmp_path / "out.txt"
    _valid(_run("cves", f"dir:{rootfs}", "--db", str(database), "--format", fmt, "-o", str(out),
                cache=tmp_path / "c"))
    out.read_bytes().decode("utf-8")
