"""Where the policy file is, decided without loading the policy machinery.

Every scan asks whether an organisation policy (and the VEX or exceptions it lists) applies;
most find none, and should not pay for importing the rules engine to learn that.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

POLICY_ENV = "IMAGETRUST_POLICY"
POLICY_FILE = "imagetrust.toml"


def find_policy_file(explicit: Path | None = None, environ: Mapping[str, str] | None = None,
                     cwd: Path | None = None) -> Path | None:
    """``--policy``, else ``IMAGETRUST_POLICY``, else ``./imagetrust.toml`` when present."""
    if explicit is not None:
        return explicit
    env = os.environ if environ is None else environ
    if env.get(POLICY_ENV):
        return Path(env[POLICY_ENV])
    local = (cwd or Path.cwd()) / POLICY_FILE
    return local if local.is_file() else None


__all__ = ["POLICY_ENV", "POLICY_FILE", "find_policy_file"]
