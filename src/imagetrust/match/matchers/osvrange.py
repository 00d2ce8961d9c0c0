"""OSV ``affected[]`` evaluation: is this version inside the ranges or the ``versions`` list?

Follows the OSV schema's algorithm: events of a range sorted by version, a version is affected
when the last event at or below it is ``introduced`` (``last_affected`` covers itself, ``fixed``
and ``limit`` do not).  ECOSYSTEM ranges use the ecosystem's own ordering, SEMVER ranges SemVer 2.0
(Go's flavour for Go, Cargo's for crates.io); GIT ranges never reach the database.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cmp_to_key, lru_cache
from typing import NamedTuple

from imagetrust import versions
from imagetrust.match.db.store import AffectedRange, RangeEvent

Compare = Callable[[str, str], int]

# database ecosystem (before ':') → purl version scheme for ECOSYSTEM ranges
ECOSYSTEM_SCHEMES = {
    "pypi": "pypi",
    "npm": "npm",
    "go": "golang",
    "maven": "maven",
    "crates.io": "cargo",
    "rubygems": "gem",
    "ubuntu": "deb",
    "debian": "deb",
    "alpine": "apk",
}
_SEMVER_SCHEMES = {"go": "golang", "crates.io": "cargo"}


@lru_cache(maxsize=256)
def comparators(ecosystem: str) -> tuple[Compare, Compare]:
    """``(ECOSYSTEM compare, SEMVER compare)`` for a database ecosystem such as ``pypi``.

    Cached, so they are the same objects every time: they key the sorted-events cache."""
    family = ecosystem.split(":")[0]
    eco_cmp = versions.comparator(ECOSYSTEM_SCHEMES[family])
    sem_cmp = versions.comparator(_SEMVER_SCHEMES.get(family, "npm"))
    return eco_cmp, sem_cmp


class RangeVerdict(NamedTuple):
    """One per package and advisory row: a NamedTuple, cheaper to build than a dataclass."""

    affected: bool
    fixed_version: str | None
    """The first fix above the installed version, when one is published."""


_UNAFFECTED = RangeVerdict(False, None)


_ORDER = {"introduced": 0, "last_affected": 1, "fixed": 2, "limit": 3}


@lru_cache(maxsize=16384)
def _sorted_events(events: tuple[RangeEvent, ...], cmp: Compare) -> tuple[RangeEvent, ...]:
    """Events in version order, once per distinct range (packages of one advisory share it)."""
    def order(a: RangeEvent, b: RangeEvent) -> int:
        if a.version == b.version:
            return _ORDER.get(a.kind, 9) - _ORDER.get(b.kind, 9)
        if a.kind == "introduced" and a.version == "0":
            return -1
        if b.kind == "introduced" and b.version == "0":
            return 1
        return cmp(a.version, b.version)

    return tuple(sorted(events, key=cmp_to_key(order)))


class _Prepared(NamedTuple):
    ordered: tuple[RangeEvent, ...]
    """Every event but ``limit``, in version order."""
    limits: tuple[str, ...]
    fixes: tuple[str, ...]


@lru_cache(maxsize=16384)
def _prepared(events: tuple[RangeEvent, ...], cmp: Compare) -> _Prepared:
    """A range split and sorted once per distinct range, not once per package it is checked on."""
    return _Prepared(
        _sorted_events(tuple(e for e in events if e.kind != "limit"), cmp),
        tuple(e.version for e in events if e.kind == "limit"),
        tuple(e.version for e in events if e.kind == "fixed"),
    )


def in_range(version: str, events: Sequence[RangeEvent], cmp: Compare) -> RangeVerdict:
    """Evaluate one range; raises :class:`versions.InvalidVersion` on unorderable versions."""
    prepared = _prepared(events if isinstance(events, tuple) else tuple(events), cmp)
    affected = False
    for event in prepared.ordered:
        kind = event.kind
        if kind == "introduced":
            if event.version == "0" or cmp(version, event.version) >= 0:
                affected = True
            else:
                break
        elif kind == "fixed":
            if cmp(version, event.version) >= 0:
                affected = False
            else:
                break
        elif kind == "last_affected":
            if cmp(version, event.version) > 0:
                affected = False
            else:
                break
    if not affected or any(cmp(version, limit) >= 0 for limit in prepared.limits):
        return _UNAFFECTED
    return RangeVerdict(True, _lowest_fix_above(version, prepared.fixes, cmp))


def _next_fix(version: str, events: Sequence[RangeEvent], cmp: Compare) -> str | None:
    return _lowest_fix_above(version, [e.version for e in events if e.kind == "fixed"], cmp)


def _lowest_fix_above(version: str, fixes: Sequence[str], cmp: Compare) -> str | None:
    best: str | None = None
    for fix in fixes:
        if cmp(fix, version) > 0 and (best is None or cmp(fix, best) < 0):
            best = fix
    return best


def evaluate(
    version: str,
    ranges: Sequence[AffectedRange],
    listed: Sequence[str],
    eco_cmp: Compare,
    sem_cmp: Compare,
    scheme: str | None = None,
) -> RangeVerdict:
    """One ``affected[]`` entry: affected by any range or by the explicit ``versions`` list.

    ``scheme`` (the ECOSYSTEM ranges' version scheme) lets the ``versions`` list be checked by
    one set lookup instead of a comparison per listed version (lists run to hundreds)."""
    affected = False
    fixes: list[str] = []
    for item in ranges:
        cmp = sem_cmp if item.type == "SEMVER" else eco_cmp
        verdict = in_range(version, item.events, cmp)
        if verdict.affected:
            affected = True
            if verdict.fixed_version:
                fixes.append(verdict.fixed_version)
    if not affected and listed and _is_listed(version, listed, eco_cmp, scheme):
        affected = True
        for item in ranges:
            cmp = sem_cmp if item.type == "SEMVER" else eco_cmp
            fix = _next_fix(version, item.events, cmp)
            if fix:
                fixes.append(fix)
    if not affected:
        return _UNAFFECTED
    lowest: str | None = None
    for fix in fixes:
        if lowest is None or eco_cmp(fix, lowest) < 0:
            lowest = fix
    return RangeVerdict(True, lowest)


def _is_listed(version: str, listed: Sequence[str], cmp: Compare, scheme: str | None) -> bool:
    as_tuple = listed if isinstance(listed, tuple) else tuple(listed)
    keys = _listed_keys(scheme, as_tuple) if scheme else None
    if scheme is None or keys is None:
        return any(cmp(version, v) == 0 for v in listed)
    return versions.key(scheme, version) in keys


@lru_cache(maxsize=4096)
def _listed_keys(scheme: str, listed: tuple[str, ...]) -> frozenset[object] | None:
    """Hashable version keys of a ``versions`` list (equal keys ⇔ equal versions), or None
    when the scheme's keys are not hashable or an entry does not parse: then the caller compares
    one by one and raises where it always did."""
    try:
        return frozenset(versions.key(scheme, v) for v in listed)
    except (TypeError, ValueError):
        return None
