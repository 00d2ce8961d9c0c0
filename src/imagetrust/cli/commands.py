"""Registers every subcommand module on the group."""

from __future__ import annotations
