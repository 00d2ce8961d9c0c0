"""Build a full-size Debian security tracker JSON from real records, and time ``db update`` on it.

The shared test data holds real tracker records (``debian/*.json``, a few KB).  The real
``security-tracker.debian.org/tracker/data/json`` is tens of MB, so this script repeats those real
records under renamed source packages (``openssl`` → ``openssl-b00042``) until the document reaches
the requested size; every entry keeps its real shape, statuses, urgencies and versions.

    .venv/bin/python bench/make_tracker.py /tmp/tracker.json --size-mb 70
    .venv/bin/python bench/make_tracker.py /tmp/tracker.json --size-mb 70 --time /tmp/bench.sqlite

``--time`` serves the file from a loopback HTTP server and runs ``update_feeds`` on it (download,
parse, write, atomic swap), printing the wall time; the budget is 30 s.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

DATA = Path(
    os.environ.get("IMAGETRUST_TEST_DATA", Path(__file__).resolve().parents[2] / "shared/data")
)
SOURCES = (
    "debian/vunnel-debian-tracker-fixture.json",
    "debian/osvdev-debian_security_tracker_mock.json",
)


def make_tracker(size_mb: float) -> dict[str, Any]:
    seed: dict[str, Any] = {}
    for name in SOURCES:
        seed.update(json.loads((DATA / name).read_bytes()))
    seed_size = len(json.dumps(seed))
    copies = max(1, int(size_mb * 1_000_000 / seed_size))
    doc: dict[str, Any] = {}
    for copy in range(copies):
        for package, cves in seed.items():
            doc[f"{package}-b{copy:05d}"] = cves
    return doc


def time_update(tracker: Path, db: Path) -> float:
    from imagetrust.match.db import update_feeds

    root = tracker.parent / "bench-mirror"
    (root / "data").mkdir(parents=True, exist_ok=True)
    target = root / "data" / "json"
    target.unlink(missing_ok=True)
    target.write_bytes(tracker.read_bytes())
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(root))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        start = time.perf_counter()
        result = update_feeds(
            db, ["debian-tracker"],
            base_urls={"debian-tracker": f"http://127.0.0.1:{httpd.server_address[1]}"},
        )
        elapsed = time.perf_counter() - start
    finally:
        httpd.shutdown()
        httpd.server_close()
    print(f"update_feeds: {elapsed:.1f} s, {result.outcomes[0].record_count} (package, CVE) pairs")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--size-mb", type=float, default=70.0)
    parser.add_argument("--time", type=Path, metavar="DB", help="then time update_feeds into DB")
    args = parser.parse_args()
    doc = make_tracker(args.size_mb)
    args.out.write_text(json.dumps(doc))
    rows = sum(len(c.get("releases") or {}) for cves in doc.values() for c in cves.values())
    print(f"wrote {args.out}: {args.out.stat().st_size / 1e6:.1f} MB, {len(doc)} packages, "
          f"{rows} release rows")
    if args.time:
        time_update(args.out, args.time)


if __name__ == "__main__":
    main()
