"""One severity per finding, and who said so.

For OS packages the distribution's own rating wins when it gave one (Debian urgency, Ubuntu
priority): it weighs how the package is built and used on that distro, which a CVSS base score
cannot.  Otherwise, and for language packages, the advisory's CVSS (GHSA, PYSEC, RustSec…), then
NVD's.  Nothing rated it → ``unknown``, never silently ``low``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

from imagetrust.match.db.store import Severity
from imagetrust.match.model import Cvss

DISTRO_ECOSYSTEMS = ("debian", "ubuntu", "alpine")

_WORDS = {
    "critical": "critical",
    "high": "high",
    "important": "high",
    "moderate": "medium",
    "medium": "medium",
    "low": "low",
    "negligible": "negligible",
    "unimportant": "negligible",
}
_TYPE_ORDER = {"CVSS_V3": 0, "CVSS_V4": 1, "CVSS_V2": 2}
NVD_PRIMARY = "nvd@nist.gov"


def normalize_rating(word: str | None) -> str | None:
    """``MODERATE`` → ``medium``; words no scale knows (``untriaged``) → None."""
    if not word:
        return None
    return _WORDS.get(word.strip().lower().rstrip("*"))


@lru_cache(maxsize=256)
def debian_rating(urgency: str | None) -> str | None:
    """Tracker urgency → severity: ``low**`` → low, ``unimportant`` → negligible; ``not yet
    assigned`` and ``end-of-life`` are no rating."""
    return normalize_rating(urgency)


def rating_from_score(score: float) -> str:
    """CVSS v3 qualitative bands (0.0 is ``none``, reported as ``low``)."""
    if score >= 9.0:
        return "critical"
    if score >= 7.0:
        return "high"
    if score >= 4.0:
        return "medium"
    return "low"


@dataclass(frozen=True, slots=True)
class Rated:
    severity: str
    source: str | None
    cvss: Cvss | None


def _cvss_rows(rows: Iterable[Severity]) -> list[Severity]:
    usable = [r for r in rows if r.type in _TYPE_ORDER and (r.score is not None or r.rating)]
    return sorted(
        usable,
        key=lambda r: (_TYPE_ORDER[r.type], r.origin != NVD_PRIMARY, -(r.score or 0.0)),
    )


def _first(rows: Sequence[Severity]) -> Severity | None:
    return rows[0] if rows else None


def _as_cvss(row: Severity | None) -> Cvss | None:
    if row is None:
        return None
    return Cvss(row.score, row.vector, row.type, row.origin)


def _rating_of(row: Severity) -> str | None:
    rating = normalize_rating(row.rating)
    if rating is None and row.score is not None:
        rating = rating_from_score(row.score)
    return rating


def rate(
    ids: Sequence[str],
    ecosystem: str,
    severities: Mapping[str, Sequence[Severity]],
    distro_rating: str | None = None,
) -> Rated:
    """Severity for a finding known by ``ids`` (advisory ids and aliases) in ``ecosystem``."""
    family = ecosystem.split(":")[0]
    rows = [row for i in ids for row in severities.get(i, ())]
    nvd = _cvss_rows(r for r in rows if r.source == "nvd")
    advisory = _cvss_rows(r for r in rows if r.source != "nvd")
    distro = family in DISTRO_ECOSYSTEMS
    best_cvss = _first(nvd) if distro else _first(advisory or nvd)

    if distro:
        if distro_rating:
            return Rated(distro_rating, family, _as_cvss(best_cvss or _first(advisory)))
        if family == "ubuntu":
            for row in rows:
                word = normalize_rating(row.rating) if row.type == "Ubuntu" else None
                if word:
                    return Rated(word, "ubuntu", _as_cvss(best_cvss or _first(advisory)))
    else:
        for row in advisory:
            rating = _rating_of(row)
            if rating:
                return Rated(rating, row.origin, _as_cvss(row))
        for row in rows:
            word = normalize_rating(row.rating) if row.type == "database_specific" else None
            if word:
                return Rated(word, row.origin, _as_cvss(_first(nvd)))
    for row in nvd:
        rating = _rating_of(row)
        if rating:
            return Rated(rating, "nvd", _as_cvss(row))
    if distro:  # the distro's advisory carried only a vector
        for row in advisory:
            rating = _rating_of(row)
            if rating:
                return Rated(rating, row.origin, _as_cvss(row))
    return Rated("unknown", None, _as_cvss(best_cvss))
