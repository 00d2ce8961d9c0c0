"""Settings precedence: flags, then IMAGETRUST_* environment, then the config file."""

from __future__ import annotations

from pathlib import Path

import pytest

from imagetrust.config import load_settings, parse_mirrors
from imagetrust.errors import UsageError
from imagetrust.image.model import Platform


def write_config(path: Path) -> dict[str, str]:
    path.write_text(
        'cache-dir = "/from/file"\n'
        'insecure-registries = ["lan.example:5000"]\n'
        'platform = "linux/arm64"\n'
        "[registry-mirrors]\n"
        '"docker.io" = ["http://127.0.0.1:5000", "http://127.0.0.1:5001"]\n'
    )
    return {"IMAGETRUST_CONFIG": str(path)}


def test_config_file_is_read_when_nothing_else_is_set(tmp_path: Path) -> None:
    settings = load_settings(environ=write_config(tmp_path / "c.toml"))
    assert settings.cache_dir == Path("/from/file")
    assert settings.registry_mirrors["docker.io"] == (
        "http://127.0.0.1:5000",
        "http://127.0.0.1:5001",
    )
    assert "lan.example:5000" in settings.insecure_registries
    assert settings.platform == Platform("linux", "arm64")


def test_environment_beats_the_file_and_flags_beat_both(tmp_path: Path) -> None:
    env = write_config(tmp_path / "c.toml")
    env.update(
        {
            "IMAGETRUST_CACHE_DIR": "/from/env",
            "IMAGETRUST_REGISTRY_MIRRORS": "docker.io=http://127.0.0.1:6000",
            "IMAGETRUST_PLATFORM": "linux/arm/v7",
            "IMAGETRUST_SOURCE": "registry",
        }
    )
    from_env = load_settings(environ=env)
    assert from_env.cache_dir == Path("/from/env")
    assert from_env.registry_mirrors["docker.io"] == ("http://127.0.0.1:6000",)
    assert from_env.platform == Platform("linux", "arm", "v7")
    assert from_env.source_mode == "registry"

    from_flags = load_settings(
        cache_dir=Path("/from/flag"),
        registry_mirrors=["docker.io=http://127.0.0.1:7000"],
        platform="linux/amd64",
        source_mode="local",
        environ=env,
    )
    assert from_flags.cache_dir == Path("/from/flag")
    assert from_flags.registry_mirrors["docker.io"] == ("http://127.0.0.1:7000",)
    assert from_flags.platform == Platform("linux", "amd64")
    assert from_flags.source_mode == "local"


def test_mirror_specs_accept_lists_and_reject_nonsense() -> None:
    assert parse_mirrors(["docker.io=http://a:1,ghcr.io=https://b"]) == {
        "docker.io": ("http://a:1",),
        "ghcr.io": ("https://b",),
    }
    with pytest.raises(UsageError, match="invalid registry mirror"):
        parse_mirrors(["docker.io"])
    with pytest.raises(UsageError, match="invalid registry mirror"):
        parse_mirrors(["docker.io=ftp://x"])


def test_broken_config_file_is_a_one_line_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("cache-dir = \n")
    with pytest.raises(UsageError, match="cannot read config file"):
        load_settings(environ={"IMAGETRUST_CONFIG": str(bad)})


def test_invalid_mirror_error_never_echoes_credentials() -> None:
    with pytest.raises(UsageError) as info:
        parse_mirrors(["docker.io=ftp://alice:s3cret@mirror.example"])
    assert "s3cret" not in str(info.value) and "alice" not in str(info.value)
