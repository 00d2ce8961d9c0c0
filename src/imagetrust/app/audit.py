"""``audit``: every image in the local Docker/podman image cache, judged like ``check``.

People keep images for months after pulling them; the audit answers "which of my local images
should I worry about first". Per tag it establishes the publisher tier, whether the tag is still
supported, the local copy's digest against the tag today (``HEAD`` requests on a bounded thread
pool), and the image's findings; the level comes from the same rules as ``check``
(:func:`imagetrust.policy.verdict.decide`). Scans are kept per image ID under
``<cache>/audit/`` together with a key naming the vulnerability data they were made with, so a
second audit exports and catalogs nothing unless an image or the database changed.

The audit reads no base image or attestations (that would need every image's registry history);
both only ever cap ``check`` at trusted-with-caveats, where an export without attestations
already is, so levels agree with ``check`` for daemon images. Freshness is ``check``'s own
comparison (:func:`~imagetrust.assess.freshness.check_freshness`) on the daemon's record of the
image, and the level comes from the same facts builder. Without ``what_pulling_fixes`` a behind
image's pull diff is not computed and the ``behind`` rule applies instead of
``behind-with-fixes``; the entry says so.
"""

from __future__ import annotations

import contextlib
import contextvars
import fnmatch
import hashlib
import json
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from imagetrust.app.library import library_of
from imagetrust.app.runtime import Runtime, runtime_for
from imagetrust.assess.freshness import (
    CurrentImage,
    FreshnessResult,
    ScannedCopy,
    check_freshness,
)
from imagetrust.assess.hub import HubClient
from imagetrust.assess.model import (
    PullDiff,
    ScanFn,
    TrustSignals,
    VulnFinding,
    VulnSummary,
    pull_diff,
)
from imagetrust.assess.official import OfficialLibrary, official_name
from imagetrust.assess.publishers import classify_publisher
from imagetrust.atomic import write_atomic
from imagetrust.config import Settings
from imagetrust.errors import ImagetrustError, NetworkError
from imagetrust.image.model import Platform
from imagetrust.match.db import DEFAULT_MAX_AGE, db_status
from imagetrust.policy.facts import trust_facts
from imagetrust.policy.policyfile import Policy
from imagetrust.policy.verdict import Level, Verdict, decide
from imagetrust.reference.parse import ImageReference, parse_reference
from imagetrust.report.document import AuditDocument, AuditEntry, AuditTimings
from imagetrust.source.cache import split_digest
from imagetrust.source.daemon.client import DaemonClient
from imagetrust.source.daemon.model import ImageSummary, LocalImageInfo
from imagetrust.source.registry.client import RegistryClient
from imagetrust.source.resolve import EXPORT_DIR

AUDIT_DIR = "audit"
Progress = Callable[[str, int, int], None]
"""``progress(phase, done, total)``: phase is ``registry``, ``scan`` or ``pull``."""


# -- the scan cache -------------------------------------------------------------------------


def database_key(
    db_path: Path, *, offline: bool, max_age: timedelta = DEFAULT_MAX_AGE
) -> str | None:
    """A key naming what a cached scan was made with: the database's contents (each feed and
    when it was stored) and the versions of imagetrust, its catalogers, reader and matchers, so
    a changed cataloger or matcher never serves a stale scan.

    None — do not use cached scans — when there is no database yet, or when a feed is stale and
    a scan would refresh it (online).
    """
    from imagetrust.catalog.registry import inventory_key
    from imagetrust.match.matchers import matching_key

    if not db_path.is_file():
        return None
    try:
        feeds = db_status(db_path, max_age=max_age)
    except ImagetrustError:
        return None
    if not offline and any(f.stale for f in feeds):
        return None
    text = "\n".join(
        [inventory_key(), matching_key(), *(f"{f.name}={f.updated_at.isoformat()}" for f in feeds)]
    )
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class ScanCache:
    """Findings by image ID or digest under ``root``, valid only for the same database key."""

    root: Path

    def _path(self, digest: str) -> Path:
        algorithm, hexdigest = split_digest(digest)
        return self.root / f"{algorithm}-{hexdigest}.json"

    def get(self, digest: str, key: str | None) -> VulnSummary | None:
        if key is None:
            return None
        try:
            data = json.loads(self._path(digest).read_text(encoding="utf-8"))
            if data.get("digest") != digest or data.get("key") != key:
                return None
            return VulnSummary(
                tuple(
                    VulnFinding(str(i), str(p), str(s), str(f), bool(k), e, d)
                    for i, p, s, f, k, e, d in data["findings"]
                ),
                str(data["coverage"]),
                str(data["coverage_reason"]),
                tuple((str(i), str(p), str(b)) for i, p, b in data["suppressed"]),
            )
        except (OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError):
            return None  # absent or damaged: scan again and rewrite

    def put(self, digest: str, key: str | None, summary: VulnSummary) -> None:
        if key is None:
            return
        data = {
            "digest": digest,
            "key": key,
            "findings": [
                [f.id, f.package_name, f.severity, f.fix_state, f.kev, f.epss, f.published]
                for f in summary
            ],
            "coverage": summary.coverage,
            "coverage_reason": summary.coverage_reason,
            "suppressed": [list(entry) for entry in summary.suppressed],
        }
        with contextlib.suppress(OSError):  # a cache that cannot be written only costs time
            write_atomic(self._path(digest), json.dumps(data).encode())


def _parse(name: str) -> ImageReference | None:
    try:
        return parse_reference(name)
    except ImagetrustError:
        return None


def matches_filter(ref: ImageReference, pattern: str) -> bool:
    """fnmatch on the normalised name (``docker.io/library/*``) or the familiar one
    (``postgres:*``)."""
    return any(fnmatch.fnmatchcase(name, pattern) for name in (str(ref), ref.familiar))


def select(
    rows: Sequence[ImageSummary], pattern: str | None
) -> list[tuple[ImageSummary, ImageReference | None]]:
    """(image, tag) pairs to audit: each tag once, untagged images once (only without filter)."""
    chosen: list[tuple[ImageSummary, ImageReference | None]] = []
    seen: set[ImageReference] = set()
    for row in rows:
        refs = [r for r in (_parse(t) for t in row.repo_tags) if r is not None]
        if not refs:
            if pattern is None:
                chosen.append((row, None))
            continue
        for ref in refs:
            if ref in seen or (pattern is not None and not matches_filter(ref, pattern)):
                continue
            seen.add(ref)
            chosen.append((row, ref))
    return chosen


# -- the audit -------------------------------------------------------------------------------


class _Clients:
    """One registry client per worker thread (auth state is per client), all closed at the end."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._local = threading.local()
        self._all: list[RegistryClient] = []
        self._lock = threading.Lock()

    def get(self) -> RegistryClient:
        client: RegistryClient | None = getattr(self._local, "client", None)
        if client is None:
            client = RegistryClient(self._settings)
            self._local.client = client
            with self._lock:
                self._all.append(client)
        return client

    def close(self) -> None:
        for client in self._all:
            client.close()


class _Clock:
    """Thread-safe accumulating timers."""

    def __init__(self) -> None:
        self.spent: dict[str, float] = {}
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def timing(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            elapsed = time.perf_counter() - start
            with self._lock:
                self.spent[name] = self.spent.get(name, 0.0) + elapsed


def _tag_status(ref: ImageReference, library: OfficialLibrary | None) -> str:
    """The library's word on the tag (only official images publish which tags are rebuilt)."""
    if official_name(ref) is None:
        return "not-applicable"
    return library.tag_status(ref).state if library is not None else "unknown"


def audit_local_images(
    settings: Settings,
    *,
    filter: str | None = None,
    what_pulling_fixes: bool = False,
    scan: ScanFn | None = None,
    scan_key: Callable[[], str | None] | None = None,
    official: OfficialLibrary | Path | None = None,
    parallel: int = 4,
    daemon: DaemonClient | None = None,
    progress: Progress | None = None,
    hub_client: HubClient | None = None,
    policy: Policy | None = None,
) -> AuditDocument:
    """Audit every image (or every tag matching ``filter``) in the local daemon's cache.

    ``scan`` finds vulnerabilities (None: not scanned); ``scan_key`` names the vulnerability
    data so cached scans are reused only while it is unchanged (None or returning None: no
    cache). ``official`` is the official-images library or the cache directory holding it
    (default ``settings.cache_dir``). ``parallel`` bounds the concurrent registry lookups.
    ``hub_client`` asks Docker Hub for Verified Publisher / Sponsored OSS badges (cached).
    """
    start = time.perf_counter()
    clock = _Clock()
    library = library_of(official if official is not None else settings.cache_dir)
    own_daemon = daemon is None
    if daemon is None:
        daemon = _connect(settings)
    clients = _Clients(settings)
    try:
        with clock.timing("daemon"):
            pairs = select(daemon.list_images(), filter)
            infos = _inspect_all(daemon, {row.image_id for row, _ in pairs}, parallel)
        run = _Run(settings, daemon, clients, clock, scan, scan_key, library, progress)
        fresh = run.freshness(pairs, infos, parallel)
        summaries = run.scan_images(pairs, infos)
        pulls = run.pulls(pairs, fresh, summaries) if what_pulling_fixes else {}
    finally:
        clients.close()
        if own_daemon:
            daemon.close()
    entries = [
        _entry(
            row,
            ref,
            infos[row.image_id],
            fresh.get((row.image_id, ref)),
            summaries,
            pulls,
            run,
            library,
            what_pulling_fixes,
            hub_client,
            policy,
        )
        for row, ref in pairs
    ]
    entries.sort(key=_risk_order)
    spent = clock.spent
    timings = AuditTimings(
        total=time.perf_counter() - start,
        daemon=spent.get("daemon", 0.0),
        registry=spent.get("registry", 0.0),
        export=spent.get("export", 0.0),
        catalog=spent.get("catalog", 0.0),
        matching=spent.get("matching", 0.0),
        pull=spent.get("pull", 0.0),
    )
    return AuditDocument(
        tuple(entries), str(daemon.endpoint), timings, run.scanned, run.cached, what_pulling_fixes
    )


def _connect(settings: Settings) -> DaemonClient:
    from imagetrust.source.resolve import connect_daemon

    try:
        return connect_daemon(settings)
    except NetworkError as error:
        raise NetworkError(
            f"audit needs a Docker daemon: {error.message}", hint=error.hint
        ) from None


def _inspect_all(
    daemon: DaemonClient, image_ids: set[str], parallel: int
) -> dict[str, LocalImageInfo]:
    with ThreadPoolExecutor(max_workers=max(1, parallel)) as pool:
        ordered = sorted(image_ids)
        return dict(zip(ordered, pool.map(daemon.inspect, ordered), strict=True))


Key = tuple[str, ImageReference | None]


@dataclass
class _Run:
    settings: Settings
    daemon: DaemonClient
    clients: _Clients
    clock: _Clock
    scan: ScanFn | None
    scan_key: Callable[[], str | None] | None
    library: OfficialLibrary | None
    progress: Progress | None
    scanned: int = 0
    cached: int = 0
    errors: dict[str, str] = field(default_factory=dict)
    pull_errors: dict[str, str] = field(default_factory=dict)

    @property
    def cache(self) -> ScanCache:
        return ScanCache(self.settings.cache_dir / AUDIT_DIR)

    def _key(self) -> str | None:
        return self.scan_key() if self.scan_key is not None else None

    def _tick(self, phase: str, done: int, total: int) -> None:
        if self.progress is not None:
            self.progress(phase, done, total)

    def freshness(
        self,
        pairs: Sequence[tuple[ImageSummary, ImageReference | None]],
        infos: dict[str, LocalImageInfo],
        parallel: int,
    ) -> dict[Key, FreshnessResult]:
        tagged = [(row.image_id, ref) for row, ref in pairs if ref is not None]

        def one(item: tuple[str, ImageReference]) -> FreshnessResult:
            image_id, ref = item
            copy = ScannedCopy.of_local(infos[image_id], ref, self.settings.platform)
            official = official_name(ref) is not None
            return check_freshness(copy, ref, self.clients.get(), official=official)

        found: dict[Key, FreshnessResult] = {}
        self._tick("registry", 0, len(tagged))
        with self.clock.timing("registry"), ThreadPoolExecutor(max(1, parallel)) as pool:
            # each lookup runs in a copy of this context, so worker threads share the run's
            # circuit breaker (a ContextVar) instead of the process-wide one
            futures = [pool.submit(contextvars.copy_context().run, one, item) for item in tagged]
            for done, (item, result) in enumerate(
                zip(tagged, (f.result() for f in futures), strict=True), 1
            ):
                found[item] = result
                self._tick("registry", done, len(tagged))
        return found

    def scan_images(
        self,
        pairs: Sequence[tuple[ImageSummary, ImageReference | None]],
        infos: dict[str, LocalImageInfo],
    ) -> dict[str, VulnSummary]:
        """Scan each tagged image once (cache first); failures become notes, not aborts."""
        if self.scan is None:
            return {}
        ids = list(dict.fromkeys(row.image_id for row, ref in pairs if ref is not None))
        summaries: dict[str, VulnSummary] = {}
        self._tick("scan", 0, len(ids))
        for done, image_id in enumerate(ids, 1):
            try:
                summaries[image_id] = self._scan_local(infos[image_id])
            except ImagetrustError as error:
                self.errors[image_id] = f"not scanned: {error}"
            self._tick("scan", done, len(ids))
        return summaries

    def _scan_local(self, info: LocalImageInfo) -> VulnSummary:
        from imagetrust.app.inventory import catalog_opened
        from imagetrust.image.open import open_image
        from imagetrust.source.daemon.source import DaemonSource

        assert self.scan is not None
        cached = self.cache.get(info.image_id, self._key())
        if cached is not None:
            self.cached += 1
            return cached
        with self.clock.timing("export"):
            source = DaemonSource(
                info.image_id, self.daemon, self.settings.cache_dir / EXPORT_DIR, info=info
            )
        with source:
            platform = info.platform or self.settings.platform
            with self.clock.timing("catalog"):
                image = open_image(source, reference=info.image_id, platform=platform)
                packages = catalog_opened(source, image, self.settings)
            with self.clock.timing("matching"):
                summary = VulnSummary.of(self.scan(source, image, packages))
        self.scanned += 1
        self.cache.put(info.image_id, self._key(), summary)
        return summary

    def pulls(
        self,
        pairs: Sequence[tuple[ImageSummary, ImageReference | None]],
        fresh: dict[Key, FreshnessResult],
        summaries: dict[str, VulnSummary],
    ) -> dict[Key, PullDiff]:
        """Scan what each behind tag points to now (once per digest) and diff."""
        if self.scan is None:
            return {}
        todo = [
            ((row.image_id, ref), result.current)
            for row, ref in pairs
            if ref is not None
            and (result := fresh.get((row.image_id, ref))) is not None
            and result.state == "behind"
            and result.current is not None
            and row.image_id in summaries
        ]
        now: dict[str, VulnSummary] = {}
        diffs: dict[Key, PullDiff] = {}
        self._tick("pull", 0, len(todo))
        for done, (key, current) in enumerate(todo, 1):
            digest = current.manifest_digest
            if digest not in now and digest not in self.pull_errors:
                try:
                    with self.clock.timing("pull"):
                        now[digest] = self._scan_current(current)
                except ImagetrustError as error:
                    self.pull_errors[digest] = f"could not scan {current.ref.familiar}: {error}"
            if digest in now:
                diffs[key] = pull_diff(summaries[key[0]], now[digest], current.digest)
            self._tick("pull", done, len(todo))
        return diffs

    def _scan_current(self, current: CurrentImage) -> VulnSummary:
        from imagetrust.app.scanning import scan_current

        assert self.scan is not None
        key = self._key()
        cached = self.cache.get(current.manifest_digest, key)
        if cached is not None:
            return cached
        platform = Platform(current.config.os, current.config.architecture, current.config.variant)
        summary = scan_current(
            current, platform, self.clients.get(), self.settings, self.scan
        )
        self.cache.put(current.manifest_digest, self._key(), summary)
        return summary


def _entry(
    row: ImageSummary,
    ref: ImageReference | None,
    info: LocalImageInfo,
    fresh: FreshnessResult | None,
    summaries: dict[str, VulnSummary],
    pulls: dict[Key, PullDiff],
    run: _Run,
    library: OfficialLibrary | None,
    what_pulling_fixes: bool,
    hub_client: HubClient | None = None,
    policy: Policy | None = None,
) -> AuditEntry:
    if ref is None or fresh is None:
        return AuditEntry(
            None,
            row.image_id,
            info.repo_digests,
            info.created,
            "unknown",
            "not-applicable",
            FreshnessResult(
                "unknown", "the image has no tag, so there is nothing to compare", None, None
            ),
            None,
            Verdict(
                Level.UNKNOWN,
                (
                    "the image has no tag: its publisher and freshness cannot "
                    "be told (remove it if unused)",
                ),
                (),
            ),
        )
    summary = summaries.get(row.image_id)
    pull = pulls.get((row.image_id, ref))
    notes: list[str] = []
    if row.image_id in run.errors:
        notes.append(run.errors[row.image_id])
    if fresh.state == "behind" and fresh.current is not None:
        error = run.pull_errors.get(fresh.current.manifest_digest)
        if error:
            notes.append(error)
        elif not what_pulling_fixes and summary is not None:
            notes.append("what pulling would fix was not computed (--what-pulling-fixes)")
    tier = classify_publisher(ref, library, hub_client).tier
    signals = TrustSignals(
        reference=str(ref),
        publisher_tier=tier,
        tag_status=_tag_status(ref, library),
        freshness=fresh.state,
        days_behind=fresh.days_behind,
        pull=pull,
        vulnerabilities=summary,
    )
    return AuditEntry(
        str(ref),
        row.image_id,
        info.repo_digests,
        info.created,
        tier,
        signals.tag_status,
        fresh,
        summary,
        decide(trust_facts(signals), policy),
        pull,
        tuple(notes),
    )


def _risk_order(entry: AuditEntry) -> tuple[int, int, int, str, str]:
    """Lowest level first, then most fixable critical/high, then KEV, then by name."""
    kev = entry.vulnerabilities.kev_count if entry.vulnerabilities is not None else 0
    return (
        int(entry.verdict.level),
        -entry.fixable_critical_high,
        -kev,
        entry.reference or "~",
        entry.image_id,
    )


__all__ = [
    "ScanCache",
    "audit",
    "audit_local_images",
    "database_key",
    "matches_filter",
    "select",
]


def audit(
    *,
    settings: Settings | None = None,
    runtime: Runtime | None = None,
    filter: str | None = None,
    what_pulling_fixes: bool = False,
    scan: bool = True,
    parallel: int = 4,
    progress: Progress | None = None,
) -> AuditDocument:
    """Audit the local image cache against the embedded database (``scan`` False: no scans);
    scans are reused while the database is unchanged."""
    from imagetrust.app.scanning import database_scan

    runtime = runtime_for(settings, runtime)
    policy = runtime.policy()  # a bad policy, VEX or exceptions file: one error, before any scan
    inputs = runtime.suppression()
    scan_fn = database_scan(runtime) if scan else None
    db_path = runtime.db_path
    # cached scans were made after the run's VEX statements and exceptions: they are valid only
    # for the same ones, on the same day (exceptions expire by date)
    extra = inputs.fingerprint((runtime.now or datetime.now(UTC)).date()) if inputs else ""

    def scan_key() -> str | None:
        key = database_key(db_path, offline=runtime.settings.offline)
        return key and (hashlib.sha256(f"{key}\n{extra}".encode()).hexdigest() if extra else key)

    with runtime.scope():
        return audit_local_images(
            runtime.settings,
            filter=filter,
            what_pulling_fixes=what_pulling_fixes,
            scan=scan_fn,
            scan_key=scan_key if scan else None,
            parallel=parallel,
            progress=progress,
            hub_client=HubClient.from_settings(runtime.settings),
            policy=policy,
        )
