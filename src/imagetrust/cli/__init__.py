"""Command line: a thin shell over :mod:`imagetrust.api`."""

from __future__ import annotations

from imagetrust.cli.main import main

__all__ = ["main"]
