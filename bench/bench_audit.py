"""``imagetrust audit`` over 10 local image tags in a real podman API service, warm database.

Setup (not timed): a loopback registry with the fixture images, podman's API service pulling
them, library/debian:12 then rebuilt in the registry (so the local copy is behind), and the tags
spread over 10 names (4 distinct image IDs: debian, its rebuild, the app, the polyglot image;
the rest are extra tags, some never pushed). The vulnerability database is built first from
the shared test data (bench_cves.build_db), so every audit runs --offline.

Measured through the library, whose report carries timers: a cold audit (empty cache: every
image exported, cataloged and matched) and warm audits (the second run: scans come from the
audit cache, only daemon and registry lookups remain). Shares are of the audit's wall time.

    .venv/bin/python bench/bench_audit.py [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_cves import build_db  # noqa: E402

TAGS = 10


def _push(layout: Path, ref: str, dest: str) -> None:
    subprocess.run(
        ["skopeo", "--insecure-policy", "copy", "-q", "--dest-tls-verify=false",
         "--preserve-digests", f"oci:{layout}:{ref}", f"docker://{dest}"],
        check=True, capture_output=True,
    )


def _add_language_feeds(work: Path, db: Path) -> None:
    """The polyglot image also needs OSV Go and Maven (build_db's mirror already holds them)."""
    from tests.match.conftest import base_urls
    from tests.support.feedserver import serve

    from imagetrust.match.db import update_feeds

    with serve(work / "mirror") as server:
        update_feeds(db, ["osv/Go", "osv/Maven"], base_urls=base_urls(server.url))


def _audit(cache: Path, db: Path, host: str) -> object:
    from imagetrust.app.audit import audit
    from imagetrust.app.runtime import Runtime
    from imagetrust.config import load_settings

    settings = load_settings(
        cache_dir=cache, registry_mirrors=[f"docker.io=http://{host}"], offline=True,
        quiet=True,
    )
    return audit(runtime=Runtime(settings, db), parallel=4)


def _row(name: str, reports: list[object]) -> str:
    from imagetrust.report.document import AuditDocument

    runs = [r for r in reports if isinstance(r, AuditDocument)]
    med = {
        key: statistics.median(getattr(r.timings, key) for r in runs)
        for key in ("total", "daemon", "registry", "export", "catalog", "matching")
    }
    total = med["total"]
    shares = " | ".join(
        f"{med[k]:.2f} s ({100 * med[k] / total:.0f}%)"
        for k in ("daemon", "registry", "export", "catalog", "matching")
    )
    scanned = runs[0].scanned
    cached = runs[0].cached
    return (f"| {name} | {len(runs)} | {len(runs[0].entries)} | {scanned}/{cached} | "
            f"{total:.2f} s | {shares} |")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    from tests.support.images import fixture_images
    from tests.support.podman import start_podman_service
    from tests.support.registry import start_registry

    fx = fixture_images()
    with tempfile.TemporaryDirectory(dir="/var/tmp") as tmp:
        work = Path(tmp)
        registry = start_registry(work / "registry")
        podman = None
        try:
            host = registry.host
            for ref, dest in (("base", "library/debian:12"), ("app", "myapp:1.0"),
                              ("polyglot", "polyglot:1.0"),
                              ("base-rebuild", "library/debian:12-rebuild")):
                _push(fx.layout, ref, f"{host}/{dest}")
            podman = start_podman_service(work / "podman", [host])
            pulled = [f"{host}/library/debian:12", f"{host}/myapp:1.0",
                      f"{host}/polyglot:1.0", f"{host}/library/debian:12-rebuild"]
            for name in pulled:
                podman.pull(name)
            podman.tag(pulled[0], "docker.io/library/debian:12")
            _push(fx.layout, "base-rebuild", f"{host}/library/debian:12")  # now behind
            for i in range(TAGS - len(pulled) - 1):
                podman.tag(pulled[i % len(pulled)], f"{host}/bench/img{i}:1")
            os.environ["DOCKER_HOST"] = podman.docker_host
            db = build_db(work)
            _add_language_feeds(work, db)
            cold, warm = [], []
            for run in range(args.runs):
                cache = work / f"cache-{run}"
                cold.append(_audit(cache, db, host))
                warm.append(_audit(cache, db, host))
        finally:
            if podman is not None:
                podman.stop()
            registry.stop()
    print("| audit | runs | tags | scanned/cached | wall (median) | daemon | registry | export "
          "| catalog | matching |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    print(_row("cold (empty cache)", cold))
    print(_row("warm (second run)", warm))


if __name__ == "__main__":
    main()
