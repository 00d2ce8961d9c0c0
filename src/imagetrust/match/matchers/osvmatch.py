"""Shared by every OSV-fed matcher: one package's rows → matches (one per advisory)."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from imagetrust import versions
from imagetrust.catalog.model import Package
from imagetrust.match.db.store import Affected
from imagetrust.match.matchers.base import NOTHING, MatchOutcome
from imagetrust.match.matchers.osvrange import (
    ECOSYSTEM_SCHEMES,
    Compare,
    RangeVerdict,
    comparators,
    evaluate,
)
from imagetrust.match.model import FIXED, NOT_FIXED, Match


def match_osv_rows(
    package: Package, ecosystem: str, installed: str, rows: Sequence[Affected]
) -> MatchOutcome:
    """An advisory may list a package in several ``affected[]`` entries: any one affecting the
    installed version makes it a match, and the lowest fix above it is reported."""
    if not rows:
        return NOTHING
    eco_cmp, sem_cmp, scheme = _ordering(ecosystem)
    best: dict[str, tuple[Affected, RangeVerdict]] = {}
    problems: list[str] = []
    for row in rows:
        try:
            verdict = evaluate(installed, row.ranges, row.versions, eco_cmp, sem_cmp, scheme)
        except versions.InvalidVersion as error:
            problems.append(f"{package.name} {installed} vs {row.advisory_id}: {error}")
            continue
        if not verdict.affected:
            continue
        seen = best.get(row.advisory_id)
        if seen is None or _better_fix(verdict, seen[1], eco_cmp):
            best[row.advisory_id] = (row, verdict)
    if not best and not problems:
        return NOTHING
    found = tuple(
        Match(
            package=package,
            advisory_id=advisory,
            source=row.source,
            ecosystem=ecosystem,
            fix_state=FIXED if verdict.fixed_version else NOT_FIXED,
            fixed_version=verdict.fixed_version,
            distro_status=None,
        )
        for advisory, (row, verdict) in best.items()
    )
    return MatchOutcome(found, tuple(problems))


@lru_cache(maxsize=256)
def _ordering(ecosystem: str) -> tuple[Compare, Compare, str]:
    """The comparators and version scheme of a database ecosystem, worked out once, not per
    package."""
    eco_cmp, sem_cmp = comparators(ecosystem)
    return eco_cmp, sem_cmp, ECOSYSTEM_SCHEMES[ecosystem.split(":")[0]]


def _better_fix(new: RangeVerdict, old: RangeVerdict, cmp: Compare) -> bool:
    """A published fix beats none; of two fixes the lower is the one to install first."""
    if new.fixed_version is None:
        return False
    return old.fixed_version is None or cmp(new.fixed_version, old.fixed_version) < 0
