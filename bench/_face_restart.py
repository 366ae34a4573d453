"""The face workers' restart, for bench/cold_start.py: a program that loads what
`reelguard serve` loads (its CLI), then kills and restarts its face workers and times the
first answer after each restart. Each worker re-runs this program as it starts: with
`preload` the program's modules are already imported in the workers' server.

    python bench/_face_restart.py none|preload REPEAT      (prints the median seconds)
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

import safety.service.cli.main  # noqa: E402, F401  (what `reelguard serve` has loaded)
from safety.likeness.face_pool import ProcessEmbedderPool  # noqa: E402
from safety.service.app import program_modules  # noqa: E402


def main(mode: str, repeat: int) -> None:
    pool = ProcessEmbedderPool(2, 20, preload=program_modules() if mode == "preload" else ())
    pool.ready()
    blank, times = np.zeros((64, 64, 3), np.uint8), []
    for _ in range(repeat):
        pool._restart(pool._pool)  # as a check past its deadline does
        t0 = time.perf_counter()
        pool.faces(blank)
        times.append(time.perf_counter() - t0)
    pool.close()
    print(statistics.median(times))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
