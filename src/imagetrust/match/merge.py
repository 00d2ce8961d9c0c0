"""Matches → findings: one finding per installed package and vulnerability, whatever its names.

The same flaw arrives as CVE-2023-32681 from NVD, PYSEC-2023-74 and GHSA-j8r2-6x86-q33q from
OSV, UBUNTU-CVE-… and USN-… from Ubuntu.  Matches of one package whose ids are linked through
advisory aliases become one finding, named by its CVE id when it has one.  An advisory naming
several CVEs (a USN, a DSA) is not allowed to glue them together: it is dropped when each of its
CVEs is already a finding of the package, and kept on its own otherwise.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import NamedTuple

from imagetrust.match.db.store import Severity, VulnDB
from imagetrust.match.feeds.model import EpssRow, KevRow
from imagetrust.match.model import FIXED, SEVERITIES, Finding, Match
from imagetrust.match.severity import Rated, rate
from imagetrust.versions import compare


class _Groups:
    """Union-find over advisory ids."""

    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, item: str) -> str:
        self.parent.setdefault(item, item)
        while self.parent[item] != item:
            self.parent[item] = self.parent[self.parent[item]]
            item = self.parent[item]
        return item

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def _preferred(ids: Iterable[str]) -> str:
    ordered = sorted(ids)
    cves = [i for i in ordered if i.startswith("CVE-")]
    ghsa = [i for i in ordered if i.startswith("GHSA-")]
    return (cves or ghsa or ordered)[0]


def _scheme(match: Match) -> str:
    family = match.ecosystem.split(":")[0]
    return {"debian": "deb", "ubuntu": "deb", "alpine": "apk"}.get(family, match.package.type)


def _highest_fix(matches: Sequence[Match]) -> str | None:
    fixes = [m.fixed_version for m in matches if m.fix_state == FIXED and m.fixed_version]
    best: str | None = None
    for fix in fixes:
        try:
            if best is None or compare(_scheme(matches[0]), fix, best) > 0:
                best = fix
        except ValueError:
            continue
    return best


def merge_matches(matches: Sequence[Match], db: VulnDB) -> list[Finding]:
    """Group per package through aliases, then rate, flag KEV and attach EPSS in batches."""
    if not matches:
        return []
    advisory_ids = {m.advisory_id for m in matches}
    advisories = db.advisories(advisory_ids)
    aliases: dict[str, set[str]] = defaultdict(set)
    summaries: dict[str, str] = {}
    published: dict[str, str] = {}
    for adv_id, records in advisories.items():
        for record in records:
            aliases[adv_id].update(a for a in record.aliases if a != adv_id)
            if record.summary and adv_id not in summaries:
                summaries[adv_id] = record.summary
            if record.published and record.published < published.get(adv_id, "~"):
                published[adv_id] = record.published

    per_package: dict[int, list[Match]] = {}  # Package is unhashable: by identity
    for match in matches:
        bucket = per_package.get(id(match.package))
        if bucket is None:
            per_package[id(match.package)] = [match]
        else:
            bucket.append(match)

    grouped: list[tuple[tuple[str, ...], list[Match]]] = []
    sorted_ids: dict[str, tuple[str, ...]] = {}  # advisory → it and its aliases, sorted
    for pkg_matches in per_package.values():
        grouped.extend(_group(pkg_matches, aliases, sorted_ids))

    all_ids = {i for ids, _ in grouped for i in ids}
    severities = db.severities(all_ids)
    cves = {i for i in all_ids if i.startswith("CVE-")}
    kev = db.kev(cves)
    epss = db.epss(cves)

    findings: list[Finding] = []
    # Binaries of one source share their advisories: rate each id set once per scan.
    shared: dict[tuple[tuple[str, ...], str, str | None], _Shared] = {}
    for ids, group in grouped:
        if len(group) == 1:
            first = group[0]
            fixed = (first.fixed_version or None) if first.fix_state == FIXED else None
            distro_rating = first.distro_rating or None
            summary = summaries.get(first.advisory_id)
            distro_status, note = first.distro_status or None, first.note or None
            first_seen = published.get(first.advisory_id)
        else:
            primary = _preferred(ids)
            ordered = sorted(group, key=lambda m: (m.advisory_id != primary, m.advisory_id))
            first = ordered[0]
            fixed = _highest_fix(ordered)
            distro_rating = _max_rating(m.distro_rating for m in ordered)
            summary = next((summaries[m.advisory_id] for m in ordered
                            if m.advisory_id in summaries), None)
            distro_status = next((m.distro_status for m in ordered if m.distro_status), None)
            note = next((m.note for m in ordered if m.note), None)
            first_seen = min(
                (published[m.advisory_id] for m in ordered if m.advisory_id in published),
                default=None,
            )
        memo_key = (ids, first.ecosystem, distro_rating)
        facts = shared.get(memo_key)
        if facts is None:
            facts = shared[memo_key] = _shared_facts(
                ids, first.ecosystem, distro_rating, severities, cves, kev, epss
            )
        rated = facts.rated
        findings.append(
            Finding(  # positional, in field order: a scan builds thousands
                facts.primary, facts.aliases, first.package, FIXED if fixed else first.fix_state,
                fixed, distro_status, rated.severity, rated.source, rated.cvss, facts.kev,
                facts.epss, first.source, first.ecosystem, summary, note, first_seen,
            )
        )
    rank = _RANK
    findings.sort(key=lambda f: (rank[f.severity], f.package.name, f.package.version, f.id))
    return findings


_RANK = {s: i for i, s in enumerate(SEVERITIES)}


class _Shared(NamedTuple):
    """What a finding takes from its id set alone, whichever package it is in."""

    primary: str
    aliases: tuple[str, ...]
    rated: Rated
    kev: bool
    epss: float | None


def _shared_facts(
    ids: tuple[str, ...],
    ecosystem: str,
    distro_rating: str | None,
    severities: Mapping[str, Sequence[Severity]],
    cves: set[str],
    kev: Mapping[str, KevRow],
    epss: Mapping[str, EpssRow],
) -> _Shared:
    primary = ids[0] if len(ids) == 1 else _preferred(ids)
    cve_ids = [i for i in ids if i in cves]
    scores = [epss[c].epss for c in cve_ids if c in epss]
    return _Shared(
        primary,
        tuple(i for i in ids if i != primary),
        rate(ids, ecosystem, severities, distro_rating),
        any(c in kev for c in cve_ids),
        max(scores) if scores else None,
    )


def _max_rating(ratings: Iterable[str | None]) -> str | None:
    rank = _RANK
    present = [r for r in ratings if r]
    return min(present, key=lambda r: rank[r]) if present else None


def _group(
    matches: Sequence[Match], aliases: dict[str, set[str]], sorted_ids: dict[str, tuple[str, ...]]
) -> list[tuple[tuple[str, ...], list[Match]]]:
    """One package's matches → (sorted ids, matches) per finding; ``sorted_ids`` memoises the
    common single-match case across packages."""
    if len(matches) == 1:  # the common case: the advisory and all its aliases, no union-find
        only = matches[0]
        ids = sorted_ids.get(only.advisory_id)
        if ids is None:
            ids = sorted_ids[only.advisory_id] = tuple(
                sorted({only.advisory_id, *aliases.get(only.advisory_id, ())})
            )
        return [(ids, [only])]
    groups = _Groups()
    multi: list[Match] = []
    # identity, not equality: Match holds an unhashable Package
    for match in matches:
        groups.find(match.advisory_id)
        linked = aliases.get(match.advisory_id, set())
        if sum(1 for a in linked if a.startswith("CVE-")) > 1:
            multi.append(match)
            continue
        for alias in linked:
            groups.union(match.advisory_id, alias)
    members: dict[str, set[str]] = defaultdict(set)
    by_root: dict[str, list[Match]] = defaultdict(list)
    multi_ids = {m.advisory_id for m in multi}
    for item in list(groups.parent):
        if item not in multi_ids:
            members[groups.find(item)].add(item)
    for match in matches:
        if any(match is m for m in multi):
            continue
        by_root[groups.find(match.advisory_id)].append(match)
    result = [(tuple(sorted(members[root])), found) for root, found in by_root.items()]
    known = {i for ids, _ in result for i in ids}
    for match in multi:
        cves = {a for a in aliases[match.advisory_id] if a.startswith("CVE-")}
        if cves <= known:
            continue  # each CVE it names is already a finding of this package
        result.append((tuple(sorted({match.advisory_id, *aliases[match.advisory_id]})), [match]))
    return result
