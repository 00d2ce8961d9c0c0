"""``imagetrust check`` end to end: official image through a docker.io mirror, stale and
unsupported tags, gates and formats. Expected levels follow docs/trust-levels.md."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.support.images import FixtureImages


def run(*args: str, cache: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "IMAGETRUST_CACHE_DIR": str(cache)}
    return subprocess.run(
        [sys.executable, "-m", "imagetrust", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )


@pytest.fixture()
def cache(tmp_path: Path, test_data: Path) -> Path:
    cache = tmp_path / "cache"
    imported = run("catalog", "import", str(test_data / "official-images"), cache=cache)
    assert imported.returncode == 0, imported.stderr
    return cache


def unsupported_debian_tag(test_data: Path) -> str:
    """A tag the real library/debian file does not list (read from the file, not assumed)."""
    text = (test_data / "official-images" / "library" / "debian").read_text()
    listed = {
        tag.strip()
        for line in text.splitlines()
        if line.startswith(("Tags:", "SharedTags:"))
        for tag in line.split(":", 1)[1].split(",")
    }
    for candidate in ("9", "stretch", "8", "jessie"):
        if candidate not in listed:
            return candidate
    raise AssertionError("every candidate tag is listed")


def check(cache: Path, mirror: str, *args: str) -> dict[str, Any]:
    result = run(
        "check",
        "--format",
        "json",
        "--no-scan",
        "--offline",  # only the loopback mirror is contacted, never Docker Hub
        "--source",
        "registry",
        "--registry-mirror",
        f"docker.io=http://{mirror}",
        *args,
        cache=cache,
    )
    assert result.returncode == 0, result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def evidence(data: dict[str, Any], signal: str) -> dict[str, Any]:
    return next(e for e in data["evidence"] if e["signal"] == signal)


def test_official_current_image_passes_publisher_tag_and_freshness(
    cache: Path, fixture_registry: Any
) -> None:
    server, _ = fixture_registry
    data = check(cache, server.host, "debian:12")
    assert data["image"]["reference"] == "docker.io/library/debian:12"
    assert [e["signal"] for e in data["evidence"]] == [
        "publisher",
        "supported_tag",
        "freshness",
        "base_image",
        "vulnerabilities",
        "attestations",
        "lifecycle",  # issue 12: release lifecycles (end of security support) are a signal
    ]
    assert evidence(data, "publisher")["outcome"] == "pass"
    assert evidence(data, "supported_tag")["outcome"] == "pass"
    assert evidence(data, "freshness")["outcome"] == "pass"
    # Not scanned and no attestations cap an otherwise trusted image at "with caveats".
    assert data["level"] == "trusted-with-caveats"
    assert "vulnerabilities were not scanned" in data["reasons"]


def test_first_build_is_behind_after_the_rebuild(
    cache: Path, fixture_registry: Any, images: FixtureImages
) -> None:
    server, _ = fixture_registry
    data = check(cache, server.host, "--tag", "debian:12", f"oci-dir:{images.layout}:base")
    fresh = evidence(data, "freshness")
    assert fresh["outcome"] in ("warn", "fail")
    assert fresh["details"]["state"] == "behind"
    assert fresh["details"]["current_digest"] == images.manifest_digest("base-rebuild")


def test_unsupported_tag_needs_attention(
    cache: Path, fixture_registry: Any, images: FixtureImages, test_data: Path
) -> None:
    server, _ = fixture_registry
    tag = unsupported_debian_tag(test_data)
    pushed = subprocess.run(
        [
            "skopeo",
            "--insecure-policy",
            "copy",
            "-q",
            "--dest-tls-verify=false",
            "--preserve-digests",
            f"oci:{images.layout}:base",
            f"docker://{server.host}/library/debian:{tag}",
        ],
        capture_output=True,
        text=True,
    )
    assert pushed.returncode == 0, pushed.stderr
    data = check(cache, server.host, f"debian:{tag}")
    assert evidence(data, "supported_tag")["outcome"] == "fail"
    assert data["level"] == "needs-attention"
    assert any("never be rebuilt" in reason for reason in data["reasons"])


def test_exit_code_gate_and_formats(cache: Path, fixture_registry: Any) -> None:
    server, _ = fixture_registry
    base = [
        "check",
        "--no-scan",
        "--offline",  # only the loopback mirror is contacted, never Docker Hub
        "--source",
        "registry",
        "--registry-mirror",
        f"docker.io=http://{server.host}",
    ]
    gated = run(*base, "--exit-code", "--min-level", "trusted", "debian:12", cache=cache)
    assert gated.returncode == 2
    assert "below --min-level trusted" in gated.stderr
    passed = run(*base, "--exit-code", "--min-level", "unknown", "debian:12", cache=cache)
    assert passed.returncode == 0, passed.stderr
    assert "Trust level: trusted with caveats" in passed.stdout
    markdown = run(*base, "--format", "markdown", "debian:12", cache=cache)
    assert "**Trust level: trusted with caveats**" in markdown.stdout
    assert "| Publisher | pass |" in markdown.stdout


def test_bad_min_level_is_a_usage_error(cache: Path) -> None:
    result = run("check", "--min-level", "great", "debian:12", cache=cache)
    assert result.returncode == 1
    assert "unknown trust level" in result.stderr and "Traceback" not in result.stderr


def test_digest_pin_names_the_supported_tags_at_that_digest(
    cache: Path, fixture_registry: Any, images: FixtureImages
) -> None:
    server, _ = fixture_registry
    current = images.manifest_digest("base-rebuild")  # what library/debian:12 serves now
    data = check(cache, server.host, f"debian@{current}")
    tag = evidence(data, "supported_tag")
    assert tag["outcome"] == "pass"
    assert "12" in tag["details"]["tags_at_digest"]
    assert "pinned by digest" in tag["summary"]


def test_stale_digest_pin_matches_no_supported_tag(
    cache: Path, fixture_registry: Any, images: FixtureImages
) -> None:
    server, _ = fixture_registry
    old = images.manifest_digest("base")  # the first build: only the unsupported 12-base tag
    data = check(cache, server.host, f"debian@{old}")
    tag = evidence(data, "supported_tag")
    assert tag["outcome"] == "warn"
    assert tag["details"]["tags_at_digest"] == []
