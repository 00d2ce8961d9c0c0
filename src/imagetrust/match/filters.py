"""Narrowing findings for display and gates (``--only-*``); the scan itself never drops any.

``layers``/``exclude_layers`` are the hook for ``--only-base``/``--ignore-base``: whoever knows
which layer indices the base image contributed passes them here, and a finding is kept by the
layer that introduced its package.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from imagetrust.errors import UsageError
from imagetrust.match.model import FIXED, SEVERITIES, Finding


@dataclass(frozen=True, slots=True)
class FindingFilter:
    severities: frozenset[str] | None = None
    only_fixed: bool = False
    only_unfixed: bool = False
    package_types: frozenset[str] | None = None
    ids: frozenset[str] | None = None
    only_kev: bool = False
    layers: frozenset[int] | None = None
    exclude_layers: frozenset[int] | None = None

    def __post_init__(self) -> None:
        if self.only_fixed and self.only_unfixed:
            raise UsageError(
                "--only-fixed and --only-unfixed exclude each other", hint="choose one"
            )

    def keep(self, finding: Finding) -> bool:
        if self.severities is not None and finding.severity not in self.severities:
            return False
        if self.only_fixed and finding.fix_state != FIXED:
            return False
        if self.only_unfixed and finding.fix_state == FIXED:
            return False
        if self.package_types is not None and finding.package.type not in self.package_types:
            return False
        if self.ids is not None and not self.ids.intersection(i.upper() for i in finding.ids):
            return False
        if self.only_kev and not finding.kev:
            return False
        origin = finding.package.introduced_by
        layer = origin.layer_index if origin is not None else None
        if self.layers is not None and layer not in self.layers:
            return False
        return not (self.exclude_layers is not None and layer in self.exclude_layers)


def apply_filter(findings: Sequence[Finding], rule: FindingFilter) -> tuple[Finding, ...]:
    return tuple(f for f in findings if rule.keep(f))


def _items(values: Iterable[str]) -> list[str]:
    return [item.strip() for value in values for item in value.split(",") if item.strip()]


def parse_severities(values: Iterable[str]) -> frozenset[str] | None:
    """``["critical,high"]`` → {critical, high}; an unknown word is a usage error."""
    items = [i.lower() for i in _items(values)]
    if not items:
        return None
    bad = [i for i in items if i not in SEVERITIES]
    if bad:
        raise UsageError(
            f"unknown severity {bad[0]!r}", hint=f"choose from {', '.join(SEVERITIES)}"
        )
    return frozenset(items)


def parse_list(values: Iterable[str], *, upper: bool = False) -> frozenset[str] | None:
    items = _items(values)
    if not items:
        return None
    return frozenset(i.upper() if upper else i.lower() for i in items)
