"""Benchmark: open the app fixture and read its merged ``var/lib/dpkg/status``.

Compares the docker-archive, the OCI layout (gzip layers) and the registry (blobs served by a
local docker-registry, cold cache each run) against ``gzip -dc LAYER > /dev/null`` over the same
gzip layers: the decompression floor any reader must pay. Run as root (the fixtures are built
with debootstrap): ``.venv/bin/python -m bench.bench_open [--runs N]``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

from tests.support.images import fixture_images, push_fixtures
from tests.support.registry import start_registry

from bench.harness import compare, table


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    fx = fixture_images()
    manifest = fx.manifest("app")
    layers = [
        fx.layout / "blobs" / "sha256" / str(layer["digest"]).split(":")[1]
        for layer in manifest["layers"]  # type: ignore[attr-defined]
    ]
    work = Path(tempfile.mkdtemp(prefix="imagetrust-bench-"))
    server = start_registry(work / "registry")
    try:
        pushed = push_fixtures(fx, server.host)
        py = [sys.executable, "-m", "bench.read_status"]
        gunzip = ["sh", "-c", " && ".join(f"gzip -dc {p} > /dev/null" for p in layers)]
        # Registry runs use a fresh cache directory each time (cold), set per command.
        cold = ["sh", "-c", 'export IMAGETRUST_CACHE_DIR="$(mktemp -d)"; exec "$0" "$@"']
        commands = {
            "gzip -dc (floor)": gunzip,
            "docker-archive": [*py, f"docker-archive:{fx.app_archive}"],
            "oci-dir (gzip)": [*py, f"oci-dir:{fx.layout}:app"],
            "registry (cold)": [*cold, *py, pushed["app"]],
        }
        results = compare(commands, runs=args.runs, env={"IMAGETRUST_CACHE_DIR": str(work / "c")})
        print(table(results, "gzip -dc (floor)"))
        sizes = {"layers_gzip_bytes": sum(p.stat().st_size for p in layers)}
        print(json.dumps(sizes))
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
