"""Secrets given in a reference, the environment or the config file appear nowhere: not in
stdout, stderr (also with ``-v``), nor in any byte of the cache directory afterwards.

The registry and mirror are a closed port on 127.0.0.1 (nothing listens on port 9), so every
command fails at the point where a careless message would echo the URL it tried.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from imagetrust.errors import ReferenceError_
from imagetrust.reference.parse import parse_reference, parse_target, redact_reference

SECRETS = ("REFSECRET", "CFGSECRET", "ENVSECRET")


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("user:REFSECRET@registry.example/repo:1", "***@registry.example/repo:1"),
        ("user:REFSECRET@registry.example", "***@registry.example"),
        ("docker://u:REFSECRET@h.example/r", "docker://***@h.example/r"),
        ("https://u:REFSECRET@h.example/r", "https://***@h.example/r"),
        ("u:REFSECRET@h.example:5000/r@sha256:" + "a" * 64, "***@h.example:5000/r@sha256:"),
    ],
)
def test_reference_with_credentials_is_refused_without_the_password(text: str,
                                                                     shown: str) -> None:
    for parse in (parse_reference, parse_target):
        with pytest.raises(ReferenceError_, match="holds credentials") as info:
            parse(text)
        assert "REFSECRET" not in str(info.value) and shown in str(info.value)


@pytest.mark.parametrize(
    "text", ["postgres@sha256:" + "a" * 64, "postgres:16@sha256:" + "b" * 64,
             "registry.example:5000/a/b@sha256:" + "c" * 64, "alpine"],
)
def test_digests_are_not_mistaken_for_credentials(text: str) -> None:
    assert redact_reference(text) == text
    parse_reference(text)


def test_no_secret_in_any_output_or_cache_file(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    config = tmp_path / "config.toml"
    config.write_text('[registry-mirrors]\n"docker.io" = ["http://mu:CFGSECRET@127.0.0.1:9"]\n')
    runs = [
        ({"IMAGETRUST_CONFIG": str(config)}, ["sbom", "user:REFSECRET@127.0.0.1:9/repo:1"]),
        ({"IMAGETRUST_CONFIG": str(config)}, ["-v", "sbom", "docker.io/library/alpine:3"]),
        ({"IMAGETRUST_CONFIG": str(config)}, ["cves", "alpine:3", "--format", "json"]),
        ({"IMAGETRUST_REGISTRY_MIRRORS": "docker.io=http://eu:ENVSECRET@127.0.0.1:9"},
         ["-v", "check", "alpine:3"]),
        ({"IMAGETRUST_REGISTRY_MIRRORS": "docker.io=http://eu:ENVSECRET@127.0.0.1:9"},
         ["sbom", "alpine:3", "--registry-mirror", "docker.io=http://f:ENVSECRET@127.0.0.1:9"]),
    ]
    for extra, args in runs:
        env = {**os.environ, "IMAGETRUST_CACHE_DIR": str(cache), "IMAGETRUST_SOURCE": "registry",
               "IMAGETRUST_CONFIG": str(tmp_path / "none.toml"), **extra}
        result = subprocess.run([sys.executable, "-m", "imagetrust", *args],
                                capture_output=True, timeout=120, env=env)
        assert result.returncode in (1, 2), (args, result.stderr)
        assert "-v" in args or b"Traceback" not in result.stderr, (args, result.stderr)
        for secret in SECRETS:
            assert secret.encode() not in result.stdout + result.stderr, (args, result.stderr)
    for path in (cache.rglob("*") if cache.exists() else ()):
        if path.is_file():
            data = path.read_bytes()
            assert not any(s.encode() in data for s in SECRETS), path
