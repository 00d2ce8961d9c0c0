"""Severity precedence between sources, against the rules written in ``match/severity.py``.

Scenario tests pin each rule (distro word first for OS packages, advisory CVSS first for language
packages, NVD after, ``unknown`` when nobody rated). A randomised test then compares ``rate`` with
an oracle written here from the same rules: the rows are generated, the oracle picks the best
CVSS row by brute force (CVSS v3 before v4 before v2, NVD's primary score before a CNA's, higher
score first) and maps scores with the CVSS v3.1 qualitative bands.
"""

from __future__ import annotations

import random

import pytest

from imagetrust.match.db.store import Severity
from imagetrust.match.model import Cvss
from imagetrust.match.severity import (
    Rated,
    debian_rating,
    normalize_rating,
    rate,
    rating_from_score,
)

NVD = "nvd@nist.gov"


def _row(advisory: str, source: str, origin: str, type_: str, score: float | None = None,
         rating: str | None = None) -> Severity:
    return Severity(source, advisory, origin, type_, score, None, rating)


def _by_id(*rows: Severity) -> dict[str, list[Severity]]:
    out: dict[str, list[Severity]] = {}
    for row in rows:
        out.setdefault(row.advisory_id, []).append(row)
    return out


def _cvss(row: Severity) -> Cvss:
    return Cvss(row.score, row.vector, row.type, row.origin)


NVD_V3 = _row("CVE-1", "nvd", NVD, "CVSS_V3", 5.0)
CNA_V3 = _row("CVE-1", "nvd", "cna@vendor", "CVSS_V3", 9.9)
NVD_V2 = _row("CVE-1", "nvd", NVD, "CVSS_V2", 10.0)
GHSA = _row("GHSA-1", "osv", "GHSA-1", "CVSS_V3", 7.5)
DB_WORD = _row("GHSA-1", "osv", "GHSA-1", "database_specific", rating="MODERATE")
UBUNTU = _row("CVE-1", "ubuntu", "ubuntu", "Ubuntu", rating="medium")


# -- scenarios ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ecosystem", "rows", "distro_rating", "expected"),
    [
        # OS packages: the distribution's word wins over any CVSS, which is attached as context
        ("debian:12", [NVD_V3, GHSA], "low", Rated("low", "debian", _cvss(NVD_V3))),
        ("alpine:v3.19", [GHSA], "high", Rated("high", "alpine", _cvss(GHSA))),
        ("ubuntu:22.04", [NVD_V3, UBUNTU], None, Rated("medium", "ubuntu", _cvss(NVD_V3))),
        # no distro word: NVD, v3 before v2, NVD's own score before a CNA's
        ("debian:12", [NVD_V2, CNA_V3, NVD_V3], None, Rated("medium", "nvd", _cvss(NVD_V3))),
        ("debian:12", [NVD_V2], None, Rated("critical", "nvd", _cvss(NVD_V2))),
        # no NVD at all: the advisory's CVSS is the last resort for a distro
        ("debian:12", [GHSA], None, Rated("high", "GHSA-1", _cvss(GHSA))),
        # language packages: the advisory's CVSS first, then its word, then NVD
        ("pypi", [NVD_V3, GHSA, DB_WORD], None, Rated("high", "GHSA-1", _cvss(GHSA))),
        ("pypi", [NVD_V3, DB_WORD], None, Rated("medium", "GHSA-1", _cvss(NVD_V3))),
        ("npm", [NVD_V3], None, Rated("medium", "nvd", _cvss(NVD_V3))),
        # a distro rating handed to a language package is not a distro's word
        ("pypi", [NVD_V3], "critical", Rated("medium", "nvd", _cvss(NVD_V3))),
        # nobody rated it: unknown, never low
        ("debian:12", [], None, Rated("unknown", None, None)),
        ("pypi", [_row("GHSA-1", "osv", "GHSA-1", "CVSS_V3")], None, Rated("unknown", None, None)),
    ],
)
def test_precedence(ecosystem: str, rows: list[Severity], distro_rating: str | None,
                    expected: Rated) -> None:
    ids = sorted({r.advisory_id for r in rows} | {"CVE-1"})
    assert rate(ids, ecosystem, _by_id(*rows), distro_rating) == expected


def test_only_rows_of_the_findings_ids_count() -> None:
    assert rate(["CVE-2"], "debian:12", _by_id(NVD_V3)) == Rated("unknown", None, None)


@pytest.mark.parametrize(
    ("score", "band"),
    [(0.0, "low"), (0.1, "low"), (3.9, "low"), (4.0, "medium"), (6.9, "medium"),
     (7.0, "high"), (8.9, "high"), (9.0, "critical"), (10.0, "critical")],
)
def test_cvss_v3_qualitative_bands(score: float, band: str) -> None:
    assert rating_from_score(score) == band


def test_words_map_onto_one_scale() -> None:
    assert [normalize_rating(w) for w in ("MODERATE", "Important", "unimportant", "low**",
                                         "untriaged", None, "")] == [
        "medium", "high", "negligible", "low", None, None, None]
    assert debian_rating("not yet assigned") is None and debian_rating("low**") == "low"


# -- randomised, against an oracle written from the rules ------------------------------------------


def _band(score: float) -> str:  # CVSS v3.1 specification, table 14
    return next(name for floor, name in ((9.0, "critical"), (7.0, "high"), (4.0, "medium"))
                if score >= floor) if score >= 4.0 else "low"


def _best(rows: list[Severity]) -> Severity | None:
    """Brute force over every row: the one no other row beats."""
    order = {"CVSS_V3": 0, "CVSS_V4": 1, "CVSS_V2": 2}
    usable = [r for r in rows if r.type in order and r.score is not None]
    for row in usable:
        key = (order[row.type], row.origin != NVD, -(row.score or 0.0))
        if all(key <= (order[o.type], o.origin != NVD, -(o.score or 0.0)) for o in usable):
            return row
    return None


def _oracle(ecosystem: str, rows: list[Severity], distro_rating: str | None) -> Rated:
    """Rows here carry a score (or only a known word), so the 'first usable row' is the best."""
    family = ecosystem.split(":")[0]
    nvd = _best([r for r in rows if r.source == "nvd"])
    advisory = _best([r for r in rows if r.source != "nvd"])
    if family in ("debian", "ubuntu", "alpine"):
        context = nvd or advisory
        if distro_rating:
            return Rated(distro_rating, family, context and _cvss(context))
        words = [r.rating for r in rows if r.type == "Ubuntu"]
        if family == "ubuntu" and words:
            return Rated(words[0], "ubuntu", context and _cvss(context))
        chosen = nvd or advisory
        if chosen is None:
            return Rated("unknown", None, None)
        assert chosen.score is not None
        return Rated(_band(chosen.score), "nvd" if chosen is nvd else chosen.origin,
                     _cvss(chosen))
    if advisory is not None:
        assert advisory.score is not None
        return Rated(_band(advisory.score), advisory.origin, _cvss(advisory))
    words = [r for r in rows if r.type == "database_specific"]
    if words:
        return Rated(str(normalize_rating(words[0].rating)), words[0].origin,
                     nvd and _cvss(nvd))
    if nvd is not None:
        assert nvd.score is not None
        return Rated(_band(nvd.score), "nvd", _cvss(nvd))
    return Rated("unknown", None, None)


def _random_rows(rng: random.Random) -> list[Severity]:
    rows = []
    for _ in range(rng.randint(0, 6)):
        kind = rng.random()
        if kind < 0.7:
            source = rng.choice(["nvd", "osv", "osv"])
            origin = rng.choice([NVD, "cna@x", "GHSA-1"]) if source == "nvd" else "GHSA-1"
            rows.append(_row(rng.choice(["CVE-1", "GHSA-1"]), source, origin,
                             rng.choice(["CVSS_V3", "CVSS_V4", "CVSS_V2"]),
                             round(rng.uniform(0, 10), 1)))
        elif kind < 0.85:
            rows.append(_row("GHSA-1", "osv", "GHSA-1", "database_specific",
                             rating=rng.choice(["LOW", "MODERATE", "HIGH", "CRITICAL"])))
        else:
            rows.append(_row("CVE-1", "ubuntu", "ubuntu", "Ubuntu",
                             rating=rng.choice(["low", "medium", "high"])))
    return rows


@pytest.mark.parametrize("seed", range(300))
def test_rate_agrees_with_the_oracle_on_random_rows(seed: int) -> None:
    rng = random.Random(seed)
    rows = _random_rows(rng)
    ecosystem = rng.choice(["debian:12", "ubuntu:22.04", "alpine:v3.19", "pypi", "npm"])
    distro_rating = rng.choice([None, None, "low", "critical"])
    if ecosystem in ("pypi", "npm"):
        distro_rating = None  # matchers give distro words only to OS packages
    got = rate(["CVE-1", "GHSA-1"], ecosystem, _by_id(*rows), distro_rating)
    assert got == _oracle(ecosystem, rows, distro_rating), rows
