"""Time ``scan_catalog`` on 10,000 packages against a full-size database (budget: 100 ms warm).

The database is built at full-feed size by scaling REAL records: the Debian tracker records of the
shared test data repeated under renamed source packages (``bench/make_tracker.py``: ``sope`` →
``sope-b00042``, statuses, urgencies and versions untouched) to ``--tracker-mb`` (default 70, the
size of the real tracker JSON), and the real PyPI OSV records repeated the same way under renamed
packages to ``--osv-records`` records.  The catalog holds 10,000 packages named after those
renamed sources (so lookups hit real-shaped rows): 8,000 Debian bookworm binaries and 2,000 PyPI
packages.  The scan runs offline (no downloads, no NVD) and is timed after one warm-up run;
wall and CPU medians and the fastest run are printed with the load average, since the machine
is shared (its host too: the same code varies by 2x from one minute to the next).  The copies
keep their CVE ids, so there are far fewer distinct advisories than in the real feeds.

    .venv/bin/python bench/bench_match.py [--tracker-mb 70] [--osv-records 20000] [--runs 5]
        [--keep DIR]   # build the database once in DIR (about 40 s) and reuse it afterwards
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.make_tracker import DATA, make_tracker  # noqa: E402
from imagetrust.catalog.model import Catalog, Location, OSInfo, Package  # noqa: E402
from imagetrust.match.db import import_feed  # noqa: E402
from imagetrust.match.scan import scan_catalog  # noqa: E402

BOOKWORM = OSInfo("debian", "12", "bookworm", "Debian GNU/Linux 12 (bookworm)")
LOC = (Location("var/lib/dpkg/status", 0, "sha256:" + "0" * 64),)


def bench_tracker(tracker_mb: float) -> dict[str, Any]:
    """The scaled tracker, each real entry given a bookworm row (a copy of its first release's)
    when it had none, so the bookworm catalog meets every real row shape."""
    tracker = make_tracker(tracker_mb)
    for cves in tracker.values():
        for cve in cves.values():
            rels = cve.get("releases") or {}
            if rels and "bookworm" not in rels:
                rels["bookworm"] = next(iter(rels.values()))
    return tracker


def pypi_names(work: Path) -> list[str]:
    """Package names of the renamed OSV records in the order they were made (``-b000042``), so
    consecutive names cycle through every real seed record."""
    return [
        aff["package"]["name"]
        for path in sorted((work / "feeds/osv").glob("*.json"), key=lambda p: p.stem[-7:])
        for aff in json.loads(path.read_bytes()).get("affected", [])
    ]


def build_db(
    work: Path, tracker_mb: float, osv_records: int
) -> tuple[Path, dict[str, str], list[str]]:
    tracker = bench_tracker(tracker_mb)
    (work / "feeds/osv").mkdir(parents=True)
    (work / "feeds/tracker.json").write_text(json.dumps(tracker))
    seeds = [json.loads(p.read_bytes()) for p in sorted((DATA / "osv/records/PyPI").glob("*.json"))]
    for i in range(osv_records):  # the OSV archive is imported as a directory of records
        record = json.loads(json.dumps(seeds[i % len(seeds)]))
        record["id"] = f"{record['id']}-b{i:06d}"
        for aff in record.get("affected", []):
            aff["package"]["name"] = f"{aff['package']['name']}-b{i:06d}"
        (work / "feeds/osv" / f"{record['id']}.json").write_text(json.dumps(record))
    db = work / "bench.sqlite"
    import_feed(db, work / "feeds/tracker.json")
    import_feed(db, work / "feeds/osv")
    return db, installed_versions(tracker), pypi_names(work)


def reuse_db(work: Path, tracker_mb: float) -> tuple[Path, dict[str, str], list[str]]:
    """A database kept by an earlier ``--keep`` run, with the names its catalog needs."""
    return work / "bench.sqlite", installed_versions(bench_tracker(tracker_mb)), pypi_names(work)


def installed_versions(tracker: dict[str, dict[str, dict[str, object]]]) -> dict[str, str]:
    """Source → the version bookworm ships, from the record's own ``repositories`` (real-shaped:
    fixed-before-release rows then match nothing, as on a real up-to-date image)."""
    result = {}
    for source, cves in tracker.items():
        for cve in cves.values():
            rel = (cve.get("releases") or {}).get("bookworm")  # type: ignore[attr-defined]
            repos = rel.get("repositories") if isinstance(rel, dict) else None
            if isinstance(repos, dict) and repos:
                result[source] = str(next(iter(repos.values())))
                break
        else:
            result[source] = "1.0-1"
    return result


def catalog(sources: dict[str, str], pypi: list[str]) -> Catalog:
    names = (list(sources) * 8000)[:8000]
    pkgs = [
        Package(f"{s}-bin{i}", sources[s], "deb", f"pkg:deb/debian/{s}-bin{i}@{sources[s]}",
                "dpkg", LOC, source_name=s, source_version=sources[s])
        for i, s in enumerate(names)
    ]
    pkgs += [
        Package(n, "2.0.0", "pypi", f"pkg:pypi/{n}@2.0.0", "python", LOC)
        for n in (pypi * 2000)[:2000]
    ]
    return Catalog(BOOKWORM, tuple(pkgs))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tracker-mb", type=float, default=70)
    parser.add_argument("--osv-records", type=int, default=20000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep", type=Path, metavar="DIR",
                        help="build the database in DIR once and reuse it on later runs")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = args.keep or Path(tmp)
        start = time.perf_counter()
        if args.keep and (work / "bench.sqlite").is_file():
            db, sources, pypi = reuse_db(work, args.tracker_mb)
        else:
            work.mkdir(parents=True, exist_ok=True)
            db, sources, pypi = build_db(work, args.tracker_mb, args.osv_records)
            print(f"database built in {time.perf_counter() - start:.1f} s "
                  f"({db.stat().st_size / 1e6:.0f} MB)")
        cat = catalog(sources, pypi)
        kw = {"offline": True, "nvd": False}
        scan_catalog(cat, db, **kw)  # type: ignore[arg-type]  # warm-up: page cache, key caches
        times, cpu = [], []
        findings = 0
        for _ in range(args.runs):
            t, c = time.perf_counter(), time.process_time()
            result = scan_catalog(cat, db, **kw)  # type: ignore[arg-type]
            times.append(time.perf_counter() - t)
            cpu.append(time.process_time() - c)
            findings = len(result.findings)
        print(f"scan_catalog: {len(cat.packages)} packages, {findings} findings, "
              f"median {statistics.median(times) * 1000:.0f} ms wall, "
              f"{statistics.median(cpu) * 1000:.0f} ms CPU, fastest {min(times) * 1000:.0f} ms "
              f"(budget 100 ms); "
              f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
