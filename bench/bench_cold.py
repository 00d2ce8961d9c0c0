"""Benchmark: cold ``imagetrust sbom`` against Trivy on the app fixture and a ~1 GB image.

Both inputs are classic docker-archives (uncompressed layers), so no decompression hides what the
cold read path costs: sha256 of every layer (imagetrust verifies each blob against its digest;
Trivy does not), the tar header walk, and the catalogers. Every imagetrust run starts with an
empty ``IMAGETRUST_CACHE_DIR`` (no layer cache, no verification memo). Runs alternate between the
tools (bench/harness.py); the table gives medians, and ratios against Trivy.

The large image is built once by :mod:`bench.large_image` (debootstrap + apt-get in a chroot,
real Debian packages) and cached under /var/tmp. The hash floor is measured in the same run:
sha256 throughput of ``openssl speed -evp sha256`` and of hashlib, times the layer bytes. The
CPU model and its SHA-related flags are printed, since sha256 speed depends on them.

``--baseline SRC`` adds a row running another imagetrust source tree (``PYTHONPATH=SRC``), e.g.
the commit before a change, extracted with ``git archive COMMIT src | tar -x -C DIR``.

    .venv/bin/python -m bench.bench_cold [--runs N] [--baseline DIR/src] [--only app|large]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import posixpath
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from tests.catalog.test_peers import _offline_java_db
from tests.support.images import fixture_images

from bench.harness import compare, table
from bench.large_image import large_image

BIN = Path(sys.executable).parent
FLAGS = ("sha_ni", "avx2", "avx512f", "vaes", "aes")


def cpu_description() -> str:
    """Model name and the flags sha256 speed depends on, from /proc/cpuinfo."""
    text = Path("/proc/cpuinfo").read_text(encoding="utf-8")
    model = re.search(r"^model name\s*:\s*(.+)$", text, re.M)
    flags = set((re.search(r"^flags\s*:\s*(.+)$", text, re.M) or ["", ""])[1].split())
    shown = ", ".join(f"{f}={'yes' if f in flags else 'no'}" for f in FLAGS)
    return f"{model[1] if model else platform.processor()}; {os.cpu_count()} CPUs; {shown}"


def openssl_sha256() -> float:
    """Bytes per second of ``openssl speed -evp sha256`` on 1 MiB blocks."""
    out = subprocess.run(
        ["openssl", "speed", "-evp", "sha256", "-bytes", str(1 << 20), "-seconds", "2"],
        capture_output=True, text=True, check=True,
    ).stdout
    line = next(x for x in out.splitlines() if x.startswith("sha256"))
    return float(line.split()[-1].rstrip("k")) * 1000


def hashlib_sha256() -> float:
    """Bytes per second of hashlib's sha256 on a 256 MiB buffer (best of 3)."""
    data = os.urandom(256 << 20)
    best = min(_timed(lambda: hashlib.sha256(data).digest()) for _ in range(3))
    return len(data) / best


def _timed(work: object) -> float:
    start = time.perf_counter()
    work()  # type: ignore[operator]
    return time.perf_counter() - start


def layer_bytes(archive: Path) -> int:
    """Bytes of the layer tars in a classic docker-archive (what imagetrust hashes)."""
    with tarfile.open(archive) as tar:  # our own build, not untrusted input
        manifest = json.load(tar.extractfile("manifest.json"))  # type: ignore[arg-type]
        total = 0
        for name in {n for entry in manifest for n in entry["Layers"]}:
            member = tar.getmember(name)
            if member.issym():
                member = tar.getmember(posixpath.normpath(
                    posixpath.join(posixpath.dirname(name), member.linkname)))
            total += member.size
    return total


def commands(target: Path, work: Path, trivy_cache: Path, baseline: str | None
             ) -> dict[str, list[str]]:
    cold_root = work / "cold"
    cold_root.mkdir(exist_ok=True)
    cold = ["sh", "-c",
            f'export IMAGETRUST_CACHE_DIR="$(mktemp -d -p {cold_root})"; exec "$0" "$@"']
    sbom = ["sbom", "--format", "cyclonedx-json", f"docker-archive:{target}"]
    out = {
        "trivy": [str(BIN / "trivy"), "image", "--cache-dir", str(trivy_cache),
                  "--cache-backend", "memory", "--format", "cyclonedx", "--skip-db-update",
                  "--skip-java-db-update", "--offline-scan", "--skip-version-check",
                  "--disable-telemetry", "-q", "--input", str(target)],
        "imagetrust (cold)": [*cold, str(BIN / "imagetrust"), *sbom],
    }
    if baseline:
        out["imagetrust baseline (cold)"] = [*cold, "env", f"PYTHONPATH={baseline}",
                                             str(BIN / "python"), "-m", "imagetrust", *sbom]
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--baseline", help="another imagetrust src/ directory to compare")
    parser.add_argument("--only", choices=["app", "large"], action="append")
    args = parser.parse_args()
    wanted = args.only or ["app", "large"]
    targets = {}
    if "app" in wanted:
        targets["app"] = fixture_images().app_archive
    if "large" in wanted:
        targets["large"] = large_image()
    work = Path(tempfile.mkdtemp(prefix="imagetrust-bench-cold-"))
    try:
        trivy_cache = _offline_java_db(work / "trivy-cache")
        env = {"TRIVY_NO_PROGRESS": "true", "PYTHONPYCACHEPREFIX": str(work / "pycache")}
        print(f"# {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.machine()}, "
              f"runs={args.runs}\n# CPU: {cpu_description()}")
        print(f"# load average before: {os.getloadavg()[0]:.2f}")
        ssl_rate, lib_rate = openssl_sha256(), hashlib_sha256()
        print(f"# sha256: openssl {ssl_rate / 1e6:.0f} MB/s, hashlib {lib_rate / 1e6:.0f} MB/s")
        for name, target in targets.items():
            hashed = layer_bytes(target)
            results = compare(commands(target, work, trivy_cache, args.baseline),
                              runs=args.runs, env=env)
            print(f"\n## {name}: {target.name}, {target.stat().st_size / 1e6:.0f} MB, "
                  f"layers {hashed / 1e6:.0f} MB\n")
            print(table(results, "trivy"))
            ours = next(r for r in results if r.name == "imagetrust (cold)")
            trivy = next(r for r in results if r.name == "trivy")
            floor = hashed / max(ssl_rate, lib_rate)
            print(f"\nhash floor (layer bytes / sha256 rate): {floor:.3f} s = "
                  f"{floor / trivy.wall:.2f}x Trivy; imagetrust is {ours.wall / floor:.1f}x "
                  f"the floor, {ours.wall - floor:.3f} s above it")
        print(f"\n# load average after: {os.getloadavg()[0]:.2f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
