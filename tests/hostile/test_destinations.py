"""Odd destinations and bad configuration, through the real command line: a cache directory that
is a file (a read-only bind needs root and chattr needs a real file system, so a file where the
directory should be stands in for both), a cache under ``/proc``, ``-o`` onto ``/dev/null``, a
directory or ``/proc``, and config files whose values have the wrong type. Each is exit 0 with
the cache treated as best effort, or exit 1 with one line naming the file (and key), never a
traceback, and nothing written outside the given directories."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from imagetrust.config import load_settings
from imagetrust.errors import UsageError


def _run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "imagetrust", *args], capture_output=True,
                          text=True, timeout=120, env={**os.environ, **env})


def _one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.fixture
def rootfs(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc/os-release").write_text("ID=alpine\nVERSION_ID=3.19.1\n")
    (root / "lib/apk/db").mkdir(parents=True)
    (root / "lib/apk/db/installed").write_text("P:musl\nV:1.2.4-r2\nA:x86_64\no:musl\n\n")
    return root


@pytest.mark.parametrize(
    ("text", "key", "expected"),
    [
        ("registry-mirrors = 5\n", "registry-mirrors", "a table of registry = URL or [URLs]"),
        ('[registry-mirrors]\n"docker.io" = 5\n', "registry-mirrors", "a table"),
        ("insecure-registries = 'lan:5000'\n", "insecure-registries", "a list of strings"),
        ("insecure-registries = [1, 2]\n", "insecure-registries", "a list of strings"),
        ("cache-dir = 42\n", "cache-dir", "a string"),
        ("platform = ['linux/amd64']\n", "platform", "a string"),
        ("source = true\n", "source", "a string"),
    ],
)
def test_config_value_of_the_wrong_type_names_file_and_key(
    tmp_path: Path, rootfs: Path, text: str, key: str, expected: str
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(text)
    with pytest.raises(UsageError) as info:
        load_settings(environ={"IMAGETRUST_CONFIG": str(config)})
    assert str(config) in str(info.value) and repr(key) in str(info.value)
    assert expected in str(info.value)
    line = _one_line_error(_run("sbom", f"dir:{rootfs}", env={"IMAGETRUST_CONFIG": str(config)}))
    assert str(config) in line and repr(key) in line


def test_config_that_is_not_toml_or_not_utf8_is_one_line(tmp_path: Path, rootfs: Path) -> None:
    for body in (b"registry-mirrors = [\n", b'cache-dir = "caf\xe9"\n'):
        config = tmp_path / "config.toml"
        config.write_bytes(body)
        line = _one_line_error(_run("sbom", f"dir:{rootfs}",
                                    env={"IMAGETRUST_CONFIG": str(config)}))
        assert f"cannot read config file {config}" in line


@pytest.mark.parametrize("where", ["file", "under-a-file", "proc"])
def test_cache_that_cannot_be_written_is_best_effort_or_one_line(
    tmp_path: Path, rootfs: Path, where: str
) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where the cache directory should be\n")
    cache = {"file": blocker, "under-a-file": blocker / "cache",
             "proc": Path("/proc/imagetrust-cache")}[where]
    env = {"IMAGETRUST_CACHE_DIR": str(cache), "IMAGETRUST_CONFIG": str(tmp_path / "none")}
    sbom = _run("sbom", f"dir:{rootfs}", "--format", "json", env=env)
    assert sbom.returncode == 0 and "Traceback" not in sbom.stderr
    assert '"musl"' in sbom.stdout
    line = _one_line_error(_run("db", "status", env=env))
    assert str(cache) in line
    feed = tmp_path / "kev.json"
    feed.write_text('{"catalogVersion": "1", "vulnerabilities": []}')
    line = _one_line_error(_run("db", "import", str(feed), env=env))
    assert str(cache) in line
    assert blocker.read_text() == "a file where the cache directory should be\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["blocker", "kev.json", "root"]


def test_output_onto_dev_null_directory_and_proc(tmp_path: Path, rootfs: Path) -> None:
    env = {"IMAGETRUST_CACHE_DIR": str(tmp_path / "cache")}
    ok = _run("sbom", f"dir:{rootfs}", "-o", "/dev/null", env=env)
    assert ok.returncode == 0, ok.stderr
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    refused = _run("sbom", f"dir:{rootfs}", "-o", str(tmp_path), env=env)
    assert refused.returncode == 1 and "Traceback" not in refused.stderr  # click refuses it
    assert "is a directory" in refused.stderr
    line = _one_line_error(_run("sbom", f"dir:{rootfs}", "-o", "/proc/imagetrust.json", env=env))
    assert "cannot write /proc/imagetrust.json" in line
