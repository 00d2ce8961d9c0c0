"""The unit of assessment: one signal, its outcome, and the facts behind it.

Unknown is never a pass: a signal that could not be established says so, and the verdict rules
treat it as missing evidence.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Signal(StrEnum):
    """The signals ``imagetrust check`` reports, in display order."""

    PUBLISHER = "publisher"
    SUPPORTED_TAG = "supported_tag"
    FRESHNESS = "freshness"
    BASE_IMAGE = "base_image"
    VULNERABILITIES = "vulnerabilities"
    ATTESTATIONS = "attestations"
    LIFECYCLE = "lifecycle"


class Outcome(StrEnum):
    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Evidence:
    """One signal's result: a sentence for people and the facts for machines."""

    signal: Signal
    outcome: Outcome
    summary: str
    details: Mapping[str, Any] = field(default_factory=dict)
