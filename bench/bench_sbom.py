"""Benchmark: ``imagetrust sbom`` against Trivy and Syft on the app fixture, CycloneDX out.

Same input for every tool, in two forms: the classic docker-archive (uncompressed layers) and a
single-image OCI layout (gzip layers). Runs alternate between tools (bench/harness.py); medians of
wall time, CPU time and peak RSS are printed with ratios against Trivy.

imagetrust runs with a cold layer cache (a fresh ``IMAGETRUST_CACHE_DIR`` per run) unless the row
says ``warm``. Its bytecode is cached in a private pycache directory (as an installed wheel's
would be), and stdout goes to /dev/null for every tool. Trivy and Syft run fully offline (an
empty Trivy Java DB, no update checks). Run as root from the repository root (the fixtures are
built with debootstrap):

    .venv/bin/python -m bench.bench_sbom [--runs N] [--form docker-archive|oci-dir]
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from tests.catalog.test_peers import _offline_java_db
from tests.support.images import fixture_images

from bench.harness import compare, table

BIN = Path(sys.executable).parent


def _commands(form: str, target: Path, work: Path, trivy_cache: Path) -> dict[str, list[str]]:
    ours = {"docker-archive": f"docker-archive:{target}", "oci-dir": f"oci-dir:{target}"}[form]
    syft = {"docker-archive": f"docker-archive:{target}", "oci-dir": f"oci-dir:{target}"}[form]
    cold_root = work / "cold"
    cold_root.mkdir(exist_ok=True)
    cold = ["sh", "-c",
            f'export IMAGETRUST_CACHE_DIR="$(mktemp -d -p {cold_root})"; exec "$0" "$@"']
    imagetrust = [str(BIN / "imagetrust"), "sbom", "--format", "cyclonedx-json", ours]
    return {
        "trivy": [str(BIN / "trivy"), "image", "--cache-dir", str(trivy_cache),
                  "--cache-backend", "memory", "--format", "cyclonedx", "--skip-db-update",
                  "--skip-java-db-update", "--offline-scan", "--skip-version-check",
                  "--disable-telemetry", "-q", "--input", str(target)],
        "syft": [str(BIN / "syft"), syft, "-q", "-o", "cyclonedx-json"],
        "imagetrust (cold cache)": [*cold, *imagetrust],
        "imagetrust (warm cache)": imagetrust,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--form", choices=["docker-archive", "oci-dir"], action="append")
    args = parser.parse_args()
    forms = args.form or ["docker-archive", "oci-dir"]
    fx = fixture_images()
    work = Path(tempfile.mkdtemp(prefix="imagetrust-bench-sbom-"))
    try:
        layout = work / "app-layout"
        subprocess.run(["skopeo", "--insecure-policy", "copy", "-q", f"oci:{fx.layout}:app",
                        f"oci:{layout}:app"], check=True)
        targets = {"docker-archive": fx.app_archive, "oci-dir": layout}
        trivy_cache = _offline_java_db(work / "trivy-cache")
        env = {
            "SYFT_CHECK_FOR_APP_UPDATE": "false",
            "TRIVY_NO_PROGRESS": "true",
            "PYTHONDONTWRITEBYTECODE": "",
            "PYTHONPYCACHEPREFIX": str(work / "pycache"),
            "IMAGETRUST_CACHE_DIR": str(work / "warm-cache"),  # the warm row only
        }
        print(f"# {datetime.now(UTC):%Y-%m-%d} {platform.machine()} "
              f"{len(__import__('os').sched_getaffinity(0))} CPUs, runs={args.runs}")
        for form in forms:
            results = compare(_commands(form, targets[form], work, trivy_cache),
                              runs=args.runs, env=env)
            print(f"\n## {form} ({targets[form].name})\n")
            print(table(results, "trivy"))
        print(json.dumps({"app_archive_bytes": fx.app_archive.stat().st_size}))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
