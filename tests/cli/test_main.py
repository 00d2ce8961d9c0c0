"""The CLI shell: version, help, and the one-line error contract (exit 1, no traceback)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from imagetrust import __version__
from imagetrust.cli import main


def run(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the real console entry point in a subprocess, as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "imagetrust", *args], capture_output=True, text=True, timeout=120
    )


def test_version_matches_package() -> None:
    result = run("--version")
    assert result.returncode == 0
    assert __version__ in result.stdout


def test_main_returns_exit_code_in_process(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert __version__ in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["inspect", "Postgres:16"], "must be lowercase"),
        (["inspect", "postgres@sha256:123"], "invalid digest"),
        (["inspect", "--platform", "linux/", "postgres:16"], "invalid platform"),
        (["inspect", "--registry-mirror", "nonsense", "postgres:16"], "invalid registry mirror"),
    ],
)
def test_bad_input_is_one_line_exit_1(args: list[str], fragment: str) -> None:
    result = run(*args)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("imagetrust: error:") and fragment in lines[0]


def test_unknown_option_is_a_usage_error() -> None:
    result = run("inspect", "--no-such-flag", "x")
    assert result.returncode == 1
    assert "No such option" in result.stderr
    assert "Traceback" not in result.stderr
