"""``imagetrust cves docker-archive:APP.tar --offline`` (warm database) vs Trivy's package listing.

Trivy's vulnerability database cannot be downloaded here, so the peer command is Trivy listing the
same archive's packages (``trivy image --cache-backend memory --input APP.tar --format
cyclonedx``): the part of a Trivy scan that reads the image.  imagetrust does more (matching and
the report) on top of the same reading work, so a ratio near 1 means matching costs little.

The database is built first from the shared test data through a loopback feed server (the same
re-keyed real records the tests use), then every imagetrust run is offline.

    .venv/bin/python bench/bench_cves.py [APP.tar] [--runs 5]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.harness import compare, table  # noqa: E402


def build_db(work: Path) -> Path:
    from tests.match.conftest import FEEDS, base_urls, zip_records
    from tests.match.scan_feeds import scan_mirror
    from tests.support.feedserver import serve

    from bench.make_tracker import DATA
    from imagetrust.match.db import update_feeds

    mirror = work / "mirror"
    (mirror / "tracker/data").mkdir(parents=True)
    for eco in ("PyPI", "npm"):
        zip_records(sorted((DATA / "osv/records" / eco).glob("*.json")),
                    mirror / "osv" / eco / "all.zip")
    zip_records(sorted((DATA / "ubuntu").glob("*.json")), mirror / "osv/Ubuntu/all.zip")
    (mirror / "kev").mkdir()
    shutil.copy(DATA / "nvd/kev/known_exploited_vulnerabilities.json", mirror / "kev")
    scan_mirror(mirror, DATA)
    db = work / "vuln.sqlite"
    with serve(mirror) as server:
        update_feeds(db, [f for f in FEEDS if not f.startswith(("alpine", "epss"))],
                     base_urls=base_urls(server.url))
    return db


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("archive", nargs="?", type=Path)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    archive = args.archive
    if archive is None:
        from tests.support.images import fixture_images

        archive = fixture_images().app_archive
    trivy = shutil.which("trivy") or str(Path(sys.executable).parent / "trivy")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        db = build_db(work)
        env = {"IMAGETRUST_DB": str(db), "IMAGETRUST_CACHE_DIR": str(work / "cache"),
               "TRIVY_CACHE_DIR": str(work / "trivy"), "TRIVY_DISABLE_VEX_NOTICE": "true"}
        cves = [sys.executable, "-m", "imagetrust", "cves", f"docker-archive:{archive}",
                "--offline", "-q", "--format", "json"]
        # A fresh image cache per run: only the database is warm (layers read and verified anew).
        cold = ["sh", "-c", 'export IMAGETRUST_CACHE_DIR="$(mktemp -d)"; exec "$0" "$@"']
        commands = {
            "imagetrust cves (warm db, cold image cache)": [*cold, *cves],
            "imagetrust cves (warm db and image cache)": cves,
            "trivy (packages only)": [trivy, "image", "--cache-backend", "memory", "--input",
                                      str(archive), "--format", "cyclonedx", "--quiet"],
        }
        results = compare(commands, runs=args.runs, env=env)
        print(table(results, "trivy (packages only)"))


if __name__ == "__main__":
    main()
