"""Small helpers shared by the benchmark scripts."""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path

# 1 intra-op thread per worker (2 threads ran 4x slower on 2 cores); set before numpy loads.
os.environ.setdefault("OMP_NUM_THREADS", "1")


def timed(fn: Callable[[], object], repeat: int) -> list[float]:
    """Wall-clock seconds of each of `repeat` calls."""
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def summary(samples: list[float]) -> str:
    ms = [s * 1000 for s in samples]
    return (
        f"median {statistics.median(ms):8.2f} ms   p99 {percentile(ms, 99):8.2f} ms   n={len(ms)}"
    )


def rss_mb() -> tuple[float, float]:
    """(resident, peak resident) MB of this process: what it really holds."""
    status = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
    return tuple(int(status[k].split()[0]) / 1024 for k in ("VmRSS", "VmHWM"))
