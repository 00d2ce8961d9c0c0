"""Registers every subcommand module on the group (imported for its side effects)."""

from __future__ import annotations

from imagetrust.cli import inspect_cmd  # noqa: F401
