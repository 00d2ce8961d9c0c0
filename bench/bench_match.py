"""Time ``scan_catalog`` on 10,000 packages against a full-size database (budget: 100 ms warm).

The database is built at full-feed size by scaling REAL records: the Debian tracker records of the
shared test data repeated under renamed source packages (``bench/make_tracker.py``: ``sope`` →
``sope-b00042``, statuses, urgencies and versions untouched) to ``--tracker-mb`` (default 70, the
size of the real tracker JSON), and the real PyPI OSV records repeated the same way under renamed
packages to ``--osv-records`` records.  The catalog holds 10,000 packages named after those
renamed sources (so lookups hit real-shaped rows): 8,000 Debian bookworm binaries and 2,000 PyPI
packages.  The scan runs offline (no downloads, no NVD) and is timed after one warm-up run.

    .venv/bin/python bench/bench_match.py [--tracker-mb 70] [--osv-records 20000] [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.make_tracker import DATA, make_tracker  # noqa: E402
from imagetrust.catalog.model import Catalog, Location, OSInfo, Package  # noqa: E402
from imagetrust.match.db import import_feed  # noqa: E402
from imagetrust.match.scan import scan_catalog  # noqa: E402

BOOKWORM = OSInfo("debian", "12", "bookworm", "Debian GNU/Linux 12 (bookworm)")
LOC = (Location("var/lib/dpkg/status", 0, "sha256:" + "0" * 64),)


def build_db(
    work: Path, tracker_mb: float, osv_records: int
) -> tuple[Path, dict[str, str], list[str]]:
    tracker = make_tracker(tracker_mb)
    for cves in tracker.values():  # give each real entry a bookworm row if it had none
        for cve in cves.values():
            rels = cve.get("releases") or {}
            if rels and "bookworm" not in rels:
                rels["bookworm"] = next(iter(rels.values()))
    (work / "feeds").mkdir()
    (work / "feeds/tracker.json").write_text(json.dumps(tracker))
    seeds = [json.loads(p.read_bytes()) for p in sorted((DATA / "osv/records/PyPI").glob("*.json"))]
    names: list[str] = []
    with zipfile.ZipFile(work / "feeds/pypi.zip", "w") as archive:
        for i in range(osv_records):
            record = json.loads(json.dumps(seeds[i % len(seeds)]))
            record["id"] = f"{record['id']}-b{i:06d}"
            for aff in record.get("affected", []):
                aff["package"]["name"] = f"{aff['package']['name']}-b{i:06d}"
                names.append(aff["package"]["name"])
            archive.writestr(f"{record['id']}.json", json.dumps(record))
    db = work / "bench.sqlite"
    import_feed(db, work / "feeds/tracker.json")
    # the OSV archive is imported as a directory of records
    (work / "feeds/osv").mkdir()
    with zipfile.ZipFile(work / "feeds/pypi.zip") as archive:
        archive.extractall(work / "feeds/osv")
    import_feed(db, work / "feeds/osv")
    return db, installed_versions(tracker), names


def installed_versions(tracker: dict[str, dict[str, dict[str, object]]]) -> dict[str, str]:
    """Source → the version bookworm ships, from the record's own ``repositories`` (real-shaped:
    fixed-before-release rows then match nothing, as on a real up-to-date image)."""
    result = {}
    for source, cves in tracker.items():
        for cve in cves.values():
            rel = (cve.get("releases") or {}).get("bookworm")  # type: ignore[union-attr]
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
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        start = time.perf_counter()
        db, sources, pypi = build_db(work, args.tracker_mb, args.osv_records)
        print(f"database built in {time.perf_counter() - start:.1f} s "
              f"({db.stat().st_size / 1e6:.0f} MB)")
        cat = catalog(sources, pypi)
        kw = {"offline": True, "nvd": False}
        scan_catalog(cat, db, **kw)  # type: ignore[arg-type]  # warm-up: page cache, key caches
        times = []
        findings = 0
        for _ in range(args.runs):
            t = time.perf_counter()
            result = scan_catalog(cat, db, **kw)  # type: ignore[arg-type]
            times.append(time.perf_counter() - t)
            findings = len(result.findings)
        print(f"scan_catalog: {len(cat.packages)} packages, {findings} findings, "
              f"median {statistics.median(times) * 1000:.0f} ms (budget 100 ms)")


if __name__ == "__main__":
    main()
