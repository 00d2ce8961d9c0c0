"""``imagetrust compare`` of two cached images: the Debian base and the app built on it.

Both are OCI layout refs of the suite's fixture images (2 layers, 51 MB gzip; the app adds jq).
The database is built first from the shared test data (as ``bench_cves`` does); one untimed run
fills the layer cache, then every timed run is offline with a warm layer cache: both images are
opened, inventoried from the cache, scanned and diffed. Measured two ways: the whole command
(a fresh process, Python start-up included) and the use case in-process (``imagetrust.app.
compare.compare``, what a service or a library caller pays). Two floors run alongside the
command: the interpreter starting (``python -c pass``) and the CLI starting
(``imagetrust --version``: Python, click and the command table), so the table says how much of
the command is start-up no lazy import can remove.

    .venv/bin/python bench/bench_compare.py [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_cves import build_db  # noqa: E402
from bench.harness import compare, run_once, table  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    from tests.support.images import fixture_images

    layout = fixture_images().layout
    a, b = f"oci-dir:{layout}:base", f"oci-dir:{layout}:app"
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        db = build_db(work)
        env = {"IMAGETRUST_DB": str(db), "IMAGETRUST_CACHE_DIR": str(work / "cache")}
        command = [sys.executable, "-m", "imagetrust", "compare", a, b, "--offline", "-q",
                   "--format", "json"]
        run_once(command, env)  # fills the layer cache
        commands = {
            "imagetrust compare (warm layer cache)": command,
            "floor: python -c pass": [sys.executable, "-c", "pass"],
            "floor: imagetrust --version": [sys.executable, "-m", "imagetrust", "--version"],
        }
        results = compare(commands, runs=args.runs, env=env)
        print(table(results, "imagetrust compare (warm layer cache)"))

        os.environ.update(env)
        from imagetrust.app.compare import compare as compare_images
        from imagetrust.app.runtime import Runtime
        from imagetrust.config import load_settings

        settings = load_settings(offline=True)
        walls = []
        for _ in range(args.runs + 1):
            start = time.perf_counter()
            document = compare_images(a, b, runtime=Runtime(settings, db))
            walls.append(time.perf_counter() - start)
        assert document.packages.added, "the app adds jq: the diff cannot be empty"
        print(f"in-process compare(): median {statistics.median(walls[1:]):.3f} s "
              f"(first {walls[0]:.3f} s, imports included) over {args.runs} runs")


if __name__ == "__main__":
    main()
