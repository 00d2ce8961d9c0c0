"""Pathological feed files keep memory bounded: a 200 MB CSV that is one single line, and a gzip
bomb (a few MB inflating to 1 GiB), imported in a child process whose peak RSS is measured
(``VmHWM``: ``getrusage``'s ``ru_maxrss`` is inherited from pytest across fork and exec). Each is
one clear error, and the peak stays under 150 MB (measured: 34 MB; before the fix the single
line cost 832 MB). The files are written here in 1 MiB blocks, so the test
never holds them in memory either.
"""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

PEAK_LIMIT_KB = 150 * 1024
CHILD = r"""
import json, re, sys
from imagetrust.errors import ImagetrustError
from imagetrust.match.db import import_feed
try:
    import_feed(__import__("pathlib").Path(sys.argv[1]), __import__("pathlib").Path(sys.argv[2]))
    message = None
except ImagetrustError as error:
    message = str(error)
# VmHWM, not getrusage's ru_maxrss: Linux carries ru_maxrss over fork and exec from a big parent
status = open("/proc/self/status").read()
peak = int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1))
print(json.dumps({"error": message, "peak_kb": peak}))
"""


def _import(tmp_path: Path, feed: Path) -> dict[str, object]:
    result = subprocess.run([sys.executable, "-c", CHILD, str(tmp_path / "v.sqlite"), str(feed)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    report: dict[str, object] = json.loads(result.stdout)
    return report


def test_a_200_mb_single_line_csv_is_refused_in_bounded_memory(tmp_path: Path) -> None:
    feed = tmp_path / "epss.csv"
    block = b"9" * (1 << 20)
    with feed.open("wb") as out:
        out.write(b"#model_version:v2023.03.01,score_date:2025-02-20T00:00:00+0000\n")
        out.write(b"cve,epss,percentile\nCVE-1999-0001,0.5,")
        for _ in range(200):
            out.write(block)
    report = _import(tmp_path, feed)
    assert str(report["error"]).startswith("feed epss: line 3 is longer than 4096 bytes;")
    assert isinstance(report["peak_kb"], int) and report["peak_kb"] < PEAK_LIMIT_KB, report
    assert not (tmp_path / "v.sqlite").exists()


def test_a_gzip_bomb_is_refused_in_bounded_memory(tmp_path: Path) -> None:
    feed = tmp_path / "epss.csv.gz"
    with gzip.open(feed, "wb", compresslevel=9) as out:
        out.write(b"cve,epss,percentile\n")
        blank = (b" " * 4095 + b"\n") * 256  # valid (blank lines are skipped): only size is wrong
        for _ in range(1024):
            out.write(blank)
    assert feed.stat().st_size < 4 << 20
    report = _import(tmp_path, feed)
    assert str(report["error"]).startswith("feed epss: gzip data inflates to more than 256 MiB;")
    assert isinstance(report["peak_kb"], int) and report["peak_kb"] < PEAK_LIMIT_KB, report
