"""Alias merging: matches of one package linked through advisory aliases become one finding.

The oracle for grouping is a naive transitive closure (merge any two id sets that share an id,
until nothing changes: O(n²) per pass), run on random alias sets and compared with the
union-find in ``merge``. End to end, ``merge_matches`` runs on a real SQLite database written
here with the schema's own tables.
"""

from __future__ import annotations

import json
import random
import sqlite3
from collections.abc import Iterable
from pathlib import Path

import pytest

from imagetrust.catalog.model import Location, Package
from imagetrust.match import merge
from imagetrust.match.db import schema
from imagetrust.match.db.store import VulnDB
from imagetrust.match.model import FIXED, NOT_FIXED, Match

PKG = Package("libfoo", "1.0-1", "deb", "pkg:deb/debian/libfoo@1.0-1", "dpkg",
              (Location("var/lib/dpkg/status", 0, "sha256:" + "0" * 64),), source_name="foo")
OTHER = Package("libbar", "2.0-1", "deb", "pkg:deb/debian/libbar@2.0-1", "dpkg", ())


def _match(advisory: str, package: Package = PKG, fixed: str | None = None,
           rating: str | None = None) -> Match:
    return Match(package, advisory, "debian-tracker", "debian:12",
                 FIXED if fixed else NOT_FIXED, fixed, None, rating)


# -- oracle ------------------------------------------------------------------------------------


def _closure(sets: Iterable[set[str]]) -> list[set[str]]:
    """Naive transitive closure: merge two sets sharing an element until none do."""
    groups = [set(s) for s in sets]
    changed = True
    while changed:
        changed = False
        for i in range(len(groups)):
            for j in range(i + 1, len(groups)):
                if groups[i] & groups[j]:
                    groups[i] |= groups.pop(j)
                    changed = True
                    break
            if changed:
                break
    return groups


def _cves(ids: Iterable[str]) -> set[str]:
    return {i for i in ids if i.startswith("CVE-")}


def _oracle(matches: list[Match], aliases: dict[str, set[str]]) -> set[tuple[tuple[str, ...],
                                                                            tuple[str, ...]]]:
    """(ids, advisory ids of its matches) per finding, as the module docstring describes it."""
    multi = [m for m in matches if len(_cves(aliases.get(m.advisory_id, ()))) > 1]
    plain = [m for m in matches if m not in multi]
    multi_ids = {m.advisory_id for m in multi}
    # an advisory naming several CVEs glues nothing and names no group
    groups = _closure({m.advisory_id, *aliases.get(m.advisory_id, ())} for m in plain)
    out = set()
    for group in groups:
        members = tuple(sorted(m.advisory_id for m in plain if m.advisory_id in group))
        out.add((tuple(sorted(group - multi_ids)), members))
    known = {i for ids, _ in out for i in ids}
    for match in multi:
        if not _cves(aliases[match.advisory_id]) <= known:
            out.add((tuple(sorted({match.advisory_id, *aliases[match.advisory_id]})),
                     (match.advisory_id,)))
    return out


def _observed(result: list[tuple[tuple[str, ...], list[Match]]]) -> set[tuple[tuple[str, ...],
                                                                          tuple[str, ...]]]:
    return {(ids, tuple(sorted(m.advisory_id for m in found))) for ids, found in result}


def _random_case(rng: random.Random) -> tuple[list[Match], dict[str, set[str]]]:
    pool = ([f"CVE-2024-{i:04d}" for i in range(12)] + [f"GHSA-{i:04d}" for i in range(8)]
            + [f"DSA-{i}" for i in range(6)] + [f"PYSEC-{i}" for i in range(6)])
    advisories = rng.sample(pool, rng.randint(1, 14))
    aliases: dict[str, set[str]] = {}
    for adv in advisories:
        if rng.random() < 0.8:
            aliases[adv] = set(rng.sample(pool, rng.randint(0, 3))) - {adv}
    return [_match(a) for a in advisories], aliases


# -- union-find --------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(30))
def test_union_find_partitions_like_the_naive_closure(seed: int) -> None:
    rng = random.Random(seed)
    items = [f"ID-{i}" for i in range(rng.randint(1, 40))]
    pairs = [(rng.choice(items), rng.choice(items)) for _ in range(rng.randint(0, 40))]
    groups = merge._Groups()
    for item in items:
        groups.find(item)
    for a, b in pairs:
        groups.union(a, b)
    got: dict[str, set[str]] = {}
    for item in items:
        got.setdefault(groups.find(item), set()).add(item)
    expected = _closure([{i} for i in items] + [{a, b} for a, b in pairs])
    assert sorted(map(sorted, got.values())) == sorted(map(sorted, expected))
    for root, members in got.items():
        assert root == min(members)  # the smallest id represents its group


# -- grouping one package's matches --------------------------------------------------------------


@pytest.mark.parametrize("seed", range(200))
def test_grouping_matches_the_naive_closure_on_random_alias_sets(seed: int) -> None:
    matches, aliases = _random_case(random.Random(seed))
    result = merge._group(matches, aliases, {})
    assert _observed(result) == _oracle(matches, aliases)
    placed = [id(m) for _, found in result for m in found]
    assert len(placed) == len(set(placed)) and set(placed) <= {id(m) for m in matches}


def test_transitive_aliases_join_through_ids_no_match_names() -> None:
    # A ~ X, B ~ X and Y, C ~ Y: one chain, though A and C share no alias
    aliases = {"GHSA-a": {"CVE-2024-0001"}, "PYSEC-b": {"CVE-2024-0001", "OSV-y"},
               "DSA-c": {"OSV-y"}, "DSA-d": {"OSV-z"}}
    matches = [_match(a) for a in ("GHSA-a", "PYSEC-b", "DSA-c", "DSA-d")]
    assert _observed(merge._group(matches, aliases, {})) == {
        (("CVE-2024-0001", "DSA-c", "GHSA-a", "OSV-y", "PYSEC-b"),
         ("DSA-c", "GHSA-a", "PYSEC-b")),
        (("DSA-d", "OSV-z"), ("DSA-d",)),
    }


def test_an_advisory_naming_several_cves_glues_nothing() -> None:
    aliases = {"USN-1": {"CVE-2024-0001", "CVE-2024-0002"}}
    both = [_match("CVE-2024-0001"), _match("CVE-2024-0002"), _match("USN-1")]
    assert _observed(merge._group(both, aliases, {})) == {
        (("CVE-2024-0001",), ("CVE-2024-0001",)), (("CVE-2024-0002",), ("CVE-2024-0002",))}
    one = [_match("CVE-2024-0001"), _match("USN-1")]  # CVE-2024-0002 is not otherwise found
    assert _observed(merge._group(one, aliases, {})) == {
        (("CVE-2024-0001",), ("CVE-2024-0001",)),
        (("CVE-2024-0001", "CVE-2024-0002", "USN-1"), ("USN-1",))}


@pytest.mark.parametrize("seed", range(50))
def test_single_match_fast_path_equals_the_general_rule(seed: int) -> None:
    rng = random.Random(seed)
    matches, aliases = _random_case(rng)
    only = [matches[0]]
    memo: dict[str, tuple[str, ...]] = {}
    first = merge._group(only, aliases, memo)
    assert _observed(first) == _oracle(only, aliases)
    assert first[0][1][0] is only[0]
    # memoised across packages: the same advisory elsewhere gets the very same id tuple
    again = merge._group([_match(only[0].advisory_id, OTHER)], aliases, memo)
    assert again[0][0] is first[0][0] and again[0][1][0].package is OTHER


def test_preferred_name_is_a_cve_then_a_ghsa_then_the_smallest() -> None:
    assert merge._preferred(["GHSA-b", "PYSEC-1", "CVE-2024-0002", "CVE-2023-9"]) == "CVE-2023-9"
    assert merge._preferred(["PYSEC-1", "GHSA-b", "GHSA-a"]) == "GHSA-a"
    assert merge._preferred(["PYSEC-2", "OSV-1"]) == "OSV-1"


# -- end to end on a real database ---------------------------------------------------------------


def _database(path: Path, aliases: dict[str, list[str]], severities: list[tuple[str, ...]],
              kev: list[str], epss: dict[str, float]) -> Path:
    conn = sqlite3.connect(path)
    with conn:
        schema.create_tables(conn)
        conn.executemany(
            "INSERT INTO advisories (source, id, aliases, summary) VALUES ('osv', ?, ?, ?)",
            [(adv, json.dumps(names), f"summary of {adv}") for adv, names in aliases.items()])
        conn.executemany(
            "INSERT INTO severities (source, advisory_id, origin, type, score, vector, rating)"
            " VALUES (?, ?, ?, ?, ?, NULL, ?)", severities)
        conn.executemany("INSERT INTO kev (cve_id) VALUES (?)", [(c,) for c in kev])
        conn.executemany("INSERT INTO epss VALUES (?, ?, 0.5, NULL)", list(epss.items()))
    conn.close()
    return path


def test_merge_matches_gives_one_finding_per_alias_group(tmp_path: Path) -> None:
    db = _database(
        tmp_path / "v.sqlite",
        aliases={"DSA-1": ["CVE-2024-0001"], "GHSA-x": ["CVE-2024-0001"],
                 "GHSA-y": ["PYSEC-9"]},
        severities=[("nvd", "CVE-2024-0001", "nvd@nist.gov", "CVSS_V3", 9.8, None)],
        kev=["CVE-2024-0001"],
        epss={"CVE-2024-0001": 0.25},
    )
    matches = [_match("DSA-1", fixed="1.0-3"), _match("GHSA-x", fixed="1.0-10"),
               _match("GHSA-y"), _match("DSA-1", OTHER, fixed="2.0-2", rating="low")]
    with VulnDB.open(db) as vdb:
        findings = merge.merge_matches(matches, vdb)
    by_key = {(f.package.name, f.id): f for f in findings}
    assert sorted(by_key) == [("libbar", "CVE-2024-0001"), ("libfoo", "CVE-2024-0001"),
                              ("libfoo", "GHSA-y")]
    joined = by_key["libfoo", "CVE-2024-0001"]
    assert sorted(joined.aliases) == ["DSA-1", "GHSA-x"]
    assert joined.fixed_version == "1.0-10"  # dpkg order: 10 > 3, though "1.0-10" < "1.0-3"
    assert (joined.severity, joined.severity_source) == ("critical", "nvd")
    assert joined.kev and joined.epss == 0.25
    alone = by_key["libfoo", "GHSA-y"]
    assert alone.aliases == ("PYSEC-9",) and not alone.kev and alone.epss is None
    assert alone.severity == "unknown" and alone.fixed_version is None
    # the other package keeps its own finding, rated by its distro word
    assert (by_key["libbar", "CVE-2024-0001"].severity,
            by_key["libbar", "CVE-2024-0001"].severity_source) == ("low", "debian")
    assert merge.merge_matches([], vdb) == []
