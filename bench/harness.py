"""Shared benchmark harness: run commands alternately, report medians and ratios.

Peak memory is GNU time's ``%M`` for the measured program (its maximum resident set), CPU its
user+system time, summed over the program and the children it waited for. Runs alternate
between the tools so machine noise hits all of them alike. Only 127.0.0.1 is ever contacted
by the commands we run.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Sample:
    wall: float
    cpu: float
    peak_rss_mb: float


@dataclass(frozen=True)
class Result:
    name: str
    samples: tuple[Sample, ...]

    @property
    def wall(self) -> float:
        return statistics.median(s.wall for s in self.samples)

    @property
    def cpu(self) -> float:
        return statistics.median(s.cpu for s in self.samples)

    @property
    def peak_rss_mb(self) -> float:
        return statistics.median(s.peak_rss_mb for s in self.samples)


BYTECODE_ENV = {
    "PYTHONPYCACHEPREFIX": os.path.join(tempfile.gettempdir(), "imagetrust-bench-pycache")
}
"""Python tools keep their compiled bytecode between runs, as an installed wheel's is (pip
compiles it at install). This machine sets ``PYTHONDONTWRITEBYTECODE``, which would otherwise
make every imagetrust run recompile the project (~0.1 s) while Trivy and Syft, Go binaries, pay
nothing comparable."""


def run_once(argv: Sequence[str], env: Mapping[str, str] | None = None) -> Sample:
    """Run one command to completion; fail loudly if it fails (a benchmark of an error is
    worthless).

    The command runs under GNU ``/usr/bin/time``: its ``%M`` is the peak RSS of the measured
    program alone. (``wait4`` on a child forked from this Python process would also count the
    parent's pages copied before ``exec``: a ~40 MB floor under every tool.)
    """
    start = time.perf_counter()
    run_env = {**os.environ, **BYTECODE_ENV, **(env or {})}
    run_env.pop("PYTHONDONTWRITEBYTECODE", None)
    proc = subprocess.run(
        ["/usr/bin/time", "-f", "@@%U %S %M", *argv],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=run_env,
        check=False,
    )
    wall = time.perf_counter() - start
    stderr = proc.stderr.decode(errors="replace")
    if proc.returncode != 0:
        raise RuntimeError(f"{argv[0]} exited {proc.returncode}: {stderr.strip()[-500:]}")
    stats = next(line for line in reversed(stderr.splitlines()) if line.startswith("@@"))
    user, system, rss_kb = stats[2:].split()
    return Sample(wall, float(user) + float(system), int(rss_kb) / 1024)


def compare(
    commands: Mapping[str, Sequence[str]],
    *,
    runs: int = 5,
    warmup: int = 1,
    env: Mapping[str, str] | None = None,
) -> list[Result]:
    """Run each command ``warmup`` times, then ``runs`` rounds alternating between them."""
    for argv in commands.values():
        for _ in range(warmup):
            run_once(argv, env)
    samples: dict[str, list[Sample]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, argv in commands.items():
            samples[name].append(run_once(argv, env))
    return [Result(name, tuple(s)) for name, s in samples.items()]


def table(results: Sequence[Result], baseline: str) -> str:
    """Markdown table with medians and ratios against ``baseline``."""
    base = next(r for r in results if r.name == baseline)
    lines = [
        f"| tool | wall (s) | CPU (s) | peak RSS (MB) | wall vs {baseline} | RSS vs {baseline} |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    lines.extend(
        f"| {r.name} | {r.wall:.3f} | {r.cpu:.3f} | {r.peak_rss_mb:.0f} | "
        f"{r.wall / base.wall:.2f}x | {r.peak_rss_mb / base.peak_rss_mb:.2f}x |"
        for r in results
    )
    return "\n".join(lines)
