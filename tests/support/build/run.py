"""Subprocess helpers for the fixture build: loud failures that never echo secrets."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

REQUIRED_TOOLS = ("debootstrap", "umoci", "skopeo", "chroot", "mknod", "npm", "go")


def require_build_tools() -> None:
    """A missing fixture must fail loudly (not skip), naming exactly what to install."""
    if os.geteuid() != 0:
        raise RuntimeError("building the fixture images needs root (debootstrap, chroot, mknod)")
    missing = [tool for tool in REQUIRED_TOOLS if shutil.which(tool) is None]
    if missing:
        raise RuntimeError(
            "fixture images need these tools on PATH: " + ", ".join(missing)
            + " (apt-get install debootstrap umoci skopeo golang-go npm)"
        )


def run(
    cmd: Sequence[str | Path],
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    secrets: Sequence[str] = (),
) -> str:
    """Run a command and return stdout; on failure raise with its stderr tail, secrets redacted."""
    args = [str(part) for part in cmd]
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    proc = subprocess.run(args, cwd=cwd, env=full_env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        shown = " ".join(args)
        tail = (proc.stderr or proc.stdout)[-2000:]
        for secret in secrets:
            shown = shown.replace(secret, "***")
            tail = tail.replace(secret, "***")
        raise RuntimeError(f"fixture build step failed ({proc.returncode}): {shown}\n{tail}")
    return proc.stdout


def tool_versions() -> str:
    """Tool versions feed the cache key: a different umoci/skopeo may write different layouts."""
    commands = (["umoci", "--version"], ["skopeo", "--version"], ["debootstrap", "--version"],
                ["go", "version"], ["npm", "--version"])
    return "\n".join(run(cmd).strip() for cmd in commands)
