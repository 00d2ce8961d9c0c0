"""What every rpm database reader yields: one header blob, or why it could not be read."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RawRecord:
    key: str
    """Record identity within its database (sqlite hnum, BDB key, NDB package index)."""
    blob: bytes | None
    error: str | None
