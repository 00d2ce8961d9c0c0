"""The match stage's entry point: catalog + database → findings.

``scan_catalog`` works out which feeds this image needs (Debian tracker for Debian, the Alpine
branch's secdb, OSV Ubuntu, one OSV ecosystem per language present), refreshes only those that
are missing or stale (never offline), matches every package with one query per ecosystem, merges
aliases into one finding per package and vulnerability, and rates each finding.
"""

from __future__ import annotations

import gc
import os
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from imagetrust.catalog.model import Catalog, Package
from imagetrust.errors import DatabaseError, FeedError, ImagetrustError, SourceError
from imagetrust.match.db.status import DEFAULT_MAX_AGE, FeedStatus, db_status
from imagetrust.match.db.store import VulnDB
from imagetrust.match.feeds import FEED_NAMES, NVD_FEED, resolve_units
from imagetrust.match.feeds.common import scrub
from imagetrust.match.matchers import Matcher, default_matchers
from imagetrust.match.matchers.base import RowFetcher, ecosystem_by_type
from imagetrust.match.merge import merge_matches
from imagetrust.match.model import (
    Coverage,
    CoverageGap,
    FeedAge,
    Finding,
    Match,
    ScanResult,
    ScanSubject,
)
from imagetrust.match.names import normalizer

if TYPE_CHECKING:
    from imagetrust.match.db.update import ProgressCallback

ENRICHMENT_FEEDS: tuple[str, ...] = ("kev", "epss")
FEED_BASE_URL_ENV = "IMAGETRUST_FEED_BASE_URL"
FEED_URLS_ENV = "IMAGETRUST_FEED_URLS"
NVD_URL_ENV = "IMAGETRUST_NVD_URL"


def feed_base_urls(
    environ: Mapping[str, str] | None = None, insecure: frozenset[str] | None = None
) -> dict[str, str]:
    """Feed servers from the environment.

    ``IMAGETRUST_FEED_BASE_URL=ROOT`` points every feed at a mirror laid out as
    ``ROOT/<feed name>/…`` (``ROOT/debian-tracker/data/json``, ``ROOT/osv/PyPI/all.zip``);
    ``IMAGETRUST_FEED_URLS=osv=URL,kev=URL`` overrides single feeds and wins over the root.
    Every URL must be https, or http to loopback or to a host in ``insecure`` (None: the
    configured ``insecure-registries``, from ``IMAGETRUST_INSECURE_REGISTRIES`` or the config
    file); a mirror reached in the clear could rewrite every advisory.
    """
    env = os.environ if environ is None else environ
    urls: dict[str, str] = {}
    root = env.get(FEED_BASE_URL_ENV, "").strip().rstrip("/")
    if root:
        urls = {name: f"{root}/{name}" for name in FEED_NAMES}
    for item in env.get(FEED_URLS_ENV, "").split(","):
        name, sep, url = item.strip().partition("=")
        if not item.strip():
            continue
        if not sep or not url.strip().startswith(("http://", "https://")):
            raise DatabaseError(
                f"invalid {FEED_URLS_ENV} entry {scrub(item.strip())[:200]!r}",
                hint="use FEED=URL pairs separated by commas, e.g. osv=https://mirror/osv",
            )
        urls[name.strip()] = url.strip().rstrip("/")
    if urls:
        from imagetrust.http.guard import check_plain_http
        from imagetrust.match.feeds.download import configured_insecure  # httpx: when needed

        allowed = configured_insecure(env) if insecure is None else insecure
        for url in urls.values():
            check_plain_http(url, allowed)
    return urls


def nvd_base_url(environ: Mapping[str, str] | None = None) -> str:
    from imagetrust.match.feeds.nvd import DEFAULT_BASE_URL  # NVD code: only when it is asked

    env = os.environ if environ is None else environ
    return env.get(NVD_URL_ENV) or feed_base_urls(env).get(NVD_FEED) or DEFAULT_BASE_URL


@dataclass(frozen=True, slots=True)
class FeedNeeds:
    """Feed specs an image needs: ``required`` to match at all, ``enrichment`` for KEV/EPSS."""

    required: tuple[str, ...]
    enrichment: tuple[str, ...] = ENRICHMENT_FEEDS
    unmatched: tuple[str, ...] = ()
    """Why some packages cannot be matched (unknown distro release, unsupported type)."""


def _plan(
    catalog: Catalog, matchers: Sequence[Matcher]
) -> tuple[dict[tuple[int, str], list[Package]], list[CoverageGap]]:
    """Packages grouped by (matcher index, ecosystem), and the gaps no matcher takes."""
    groups: dict[tuple[int, str], list[Package]] = defaultdict(list)
    orphans: dict[str, int] = defaultdict(int)
    by_type = all(ecosystem_by_type(m) for m in matchers)
    known: dict[str, tuple[int, str] | None] = {}  # package type → group, when by_type
    for pkg in catalog.packages:
        if by_type and pkg.type in known:
            group = known[pkg.type]
        else:
            group = _group_of(pkg, catalog, matchers)
            if by_type:
                known[pkg.type] = group
        if group is None:
            orphans[pkg.type] += 1
        else:
            groups[group].append(pkg)
    gaps = []
    distro = catalog.os.id if catalog.os else "unknown"
    for kind, count in sorted(orphans.items()):
        if kind in ("deb", "apk", "rpm"):
            gaps.append(CoverageGap(
                f"{kind} package(s)", count,
                f"not matched: no vulnerability feed for the {distro} release of this image",
            ))
        else:
            gaps.append(CoverageGap(
                f"{kind} package(s)", count, "not matched: no feed for this package type"
            ))
    return groups, gaps


def _notes(gaps: Sequence[CoverageGap]) -> list[str]:
    return [f"{g.count} {g.what} {g.reason}" for g in gaps]


def _skip_gaps(catalog: Catalog) -> list[CoverageGap]:
    """Files catalogers could not read: whatever they held was not judged.

    A skip that only says another database was preferred (``ignored: …``) hides nothing.
    """
    skips = [s for s in catalog.skips if not s.reason.startswith("ignored:")]
    if not skips:
        return []
    first = skips[0]
    where = f" ({first.path})" if first.path else ""
    reason = f"skipped by catalogers, e.g. {first.reason}{where}"
    return [CoverageGap("file(s)", len(skips), reason)]


def _empty_gaps(
    groups: Mapping[tuple[int, str], list[Package]], db: VulnDB
) -> tuple[int, list[CoverageGap]]:
    """Packages in ecosystems the database holds no rows for: not covered, never clean."""
    judged, gaps = 0, []
    for (_, eco), packages in groups.items():
        if db.has_ecosystem(eco):
            judged += len(packages)
        else:
            gaps.append(CoverageGap(
                f"package(s) of {eco}", len(packages),
                "the vulnerability database holds no data for this release or ecosystem",
            ))
    return judged, gaps


def _group_of(
    pkg: Package, catalog: Catalog, matchers: Sequence[Matcher]
) -> tuple[int, str] | None:
    for index, matcher in enumerate(matchers):
        eco = matcher.ecosystem(pkg, catalog.os)
        if eco:
            return index, eco
    return None


def required_feeds(catalog: Catalog, matchers: Sequence[Matcher] | None = None) -> FeedNeeds:
    chosen = list(matchers) if matchers is not None else default_matchers()
    return _needs(chosen, *_plan(catalog, chosen))


def _needs(
    chosen: Sequence[Matcher],
    groups: Mapping[tuple[int, str], list[Package]],
    gaps: Sequence[CoverageGap],
) -> FeedNeeds:
    needed: list[str] = []
    for index, eco in groups:
        spec = chosen[index].feed(eco)
        if spec not in needed:
            needed.append(spec)
    return FeedNeeds(tuple(sorted(needed)), ENRICHMENT_FEEDS, tuple(_notes(gaps)))


def _units(spec: str) -> list[str]:
    return [u.source for u in resolve_units([spec])]


def _classify(
    specs: Sequence[str], status: Mapping[str, FeedStatus]
) -> tuple[list[str], list[str]]:
    """(missing specs, stale specs) against the stored feed units."""
    missing, stale = [], []
    for spec in specs:
        units = _units(spec)
        if any(u not in status for u in units):
            missing.append(spec)
        elif any(status[u].stale for u in units):
            stale.append(spec)
    return missing, stale


def _stored(db_path: Path, max_age: timedelta, now: datetime | None) -> dict[str, FeedStatus]:
    if not db_path.is_file():
        return {}
    return {s.name: s for s in db_status(db_path, max_age=max_age, now=now)}


def ensure_feeds(
    db_path: Path,
    needs: FeedNeeds,
    *,
    offline: bool = False,
    base_urls: Mapping[str, str] | None = None,
    max_age: timedelta = DEFAULT_MAX_AGE,
    progress: ProgressCallback | None = None,
    now: datetime | None = None,
    insecure: frozenset[str] | None = None,
) -> tuple[list[str], list[str]]:
    """Make the needed feeds present: ``(units updated, warnings)``.

    Required feeds missing offline are an error; stale ones offline, or enrichment feeds that
    cannot be had, only warn.  ``insecure``: see :func:`update_feeds`.
    """
    warnings: list[str] = []
    updated: list[str] = []
    status = _stored(db_path, max_age, now)
    missing, stale = _classify(needs.required, status)
    if offline:
        if missing:
            raise DatabaseError(
                f"the vulnerability database {db_path} lacks feed(s) {', '.join(missing)} "
                "needed for this image and --offline forbids downloading",
                hint=f"run `imagetrust db update --feed {missing[0]}` where online and "
                "`imagetrust db import` the exported bundle here",
            )
        warnings.extend(f"feed {spec} is older than {max_age.days} day(s)" for spec in stale)
    elif missing or stale:
        from imagetrust.match.db.update import update_feeds  # network code: only when needed

        result = update_feeds(
            db_path, [*missing, *stale], base_urls=base_urls, progress=progress, insecure=insecure
        )
        updated.extend(o.name for o in result.outcomes if o.changed)
    status = _stored(db_path, max_age, now) if updated else status
    e_missing, e_stale = _classify(needs.enrichment, status)
    if offline:
        warnings.extend(
            f"enrichment feed {spec} is missing: KEV/EPSS columns are incomplete"
            for spec in e_missing
        )
    elif e_missing or e_stale:
        from imagetrust.match.db.update import update_feeds

        try:
            result = update_feeds(
                db_path, [*e_missing, *e_stale], base_urls=base_urls, progress=progress,
                insecure=insecure,
            )
            updated.extend(o.name for o in result.outcomes if o.changed)
        except (FeedError, SourceError) as error:
            warnings.append(f"enrichment feeds not updated ({error}); KEV/EPSS may be incomplete")
    return updated, warnings


def match_catalog(
    catalog: Catalog, db: VulnDB, matchers: Sequence[Matcher] | None = None
) -> tuple[list[Match], list[str]]:
    """Every match of every package, plus problems (rows that could not be judged)."""
    chosen = list(matchers) if matchers is not None else default_matchers()
    return _match_groups(_plan(catalog, chosen)[0], db, chosen)


def _match_groups(
    groups: Mapping[tuple[int, str], list[Package]], db: VulnDB, chosen: Sequence[Matcher]
) -> tuple[list[Match], list[str]]:
    matches: list[Match] = []
    problems: list[str] = []
    for (index, eco), packages in groups.items():
        matcher = chosen[index]
        lookup, spell = matcher.lookup_name, normalizer(eco)
        keyed = [(pkg, lookup(pkg) if spell is None else spell(lookup(pkg))) for pkg in packages]
        if isinstance(matcher, RowFetcher):
            rows = matcher.fetch_rows(db, eco, packages)
        else:
            rows = db.affected(eco, {key for _, key in keyed})
        if not rows:
            continue
        match, get = matcher.match, rows.get  # bound once: this loop runs per package
        for pkg, key in keyed:
            found = get(key)
            if found:
                matched, judged = match(pkg, eco, found)
                if matched:
                    matches.extend(matched)
                if judged:
                    problems.extend(judged)
    return matches, problems


def _feed_ages(
    db_path: Path, specs: Sequence[str], max_age: timedelta, now: datetime | None
) -> tuple[FeedAge, ...]:
    status = _stored(db_path, max_age, now)
    names = [u for spec in specs for u in _units(spec)]
    return tuple(
        FeedAge(s.name, s.updated_at.isoformat(), s.age, s.record_count, s.stale)
        for n in names
        if (s := status.get(n)) is not None
    )


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Matching allocates tens of thousands of short-lived objects that form no cycles; with a
    large catalog alive, the cyclic collector's passes over it cost about 15 % of a scan."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def scan_catalog(
    catalog: Catalog,
    db_path: Path,
    *,
    subject: ScanSubject | None = None,
    offline: bool = False,
    base_urls: Mapping[str, str] | None = None,
    max_age: timedelta = DEFAULT_MAX_AGE,
    nvd: bool = True,
    nvd_api_key: str | None = None,
    nvd_url: str | None = None,
    progress: ProgressCallback | None = None,
    matchers: Sequence[Matcher] | None = None,
    now: datetime | None = None,
    insecure: frozenset[str] | None = None,
) -> ScanResult:
    """Findings for ``catalog`` from the database at ``db_path`` (refreshed first unless
    ``offline``).  ``nvd`` fetches CVSS from NVD for CVEs no other source rated (online only).
    ``insecure``: hosts feeds may reach over plain HTTP besides loopback (None: the configured
    ``insecure-registries``)."""
    chosen = list(matchers) if matchers is not None else default_matchers()
    groups, gaps = _plan(catalog, chosen)
    gaps.extend(_skip_gaps(catalog))
    needs = _needs(chosen, groups, gaps)
    updated, warnings = ensure_feeds(
        db_path, needs, offline=offline, base_urls=base_urls, max_age=max_age,
        progress=progress, now=now, insecure=insecure,
    )
    warnings = [*needs.unmatched, *warnings]
    subject = subject or ScanSubject("catalog")
    if not db_path.is_file():  # nothing needed and nothing stored: an image without packages
        return ScanResult(
            subject, catalog.os, catalog.packages, (), (), tuple(warnings), db_path,
            coverage=Coverage(0, tuple(gaps)),
        )
    with VulnDB.open(db_path) as db, _gc_paused():
        judged, empty = _empty_gaps(groups, db)
        matches, problems = _match_groups(groups, db, chosen)
        findings = merge_matches(matches, db)
    coverage = Coverage(judged, (*empty, *gaps))
    online_nvd = nvd and not offline
    unrated = sorted({c for f in findings if f.severity == "unknown" for c in f.cve_ids}
                     if online_nvd else ())
    if unrated:
        from imagetrust.match.db.nvd_enrich import enrich_nvd

        try:
            enrich_nvd(
                db_path, unrated, api_key=nvd_api_key or os.environ.get("NVD_API_KEY"),
                base_url=nvd_url or nvd_base_url(), insecure=insecure,
            )
            with VulnDB.open(db_path) as db:
                findings = merge_matches(matches, db)
        except ImagetrustError as error:
            warnings.append(f"NVD enrichment skipped ({error})")
    if problems:
        warnings.append(f"{len(problems)} advisory row(s) could not be judged: {problems[0]}")
    feeds = _feed_ages(db_path, [*needs.required, *needs.enrichment], max_age,
                       now or datetime.now(UTC))
    return ScanResult(
        subject, catalog.os, catalog.packages, tuple(findings), feeds, tuple(warnings), db_path,
        tuple(updated), coverage,
    )


__all__ = [
    "ENRICHMENT_FEEDS", "FeedNeeds", "Finding", "ensure_feeds", "feed_base_urls",
    "match_catalog", "nvd_base_url", "required_feeds", "scan_catalog",
]
