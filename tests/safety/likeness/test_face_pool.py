"""The face workers' server: what it imports once, each worker finds imported.

Run in a process of their own: the forkserver is one per process, and its preload is the
first pool's (a pool an earlier test started would decide it)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
WORKER_SEES = """
import sys
from functools import partial
from safety.likeness.face_pool import ProcessEmbedderPool
from tests.safety.likeness.stuck_faces import StuckOnRed, loaded
pool = ProcessEmbedderPool(1, make_embedder=partial(StuckOnRed, "."), preload=tuple(sys.argv[1:]))
try:
    print(pool._pool.submit(loaded, "safety.service.cli.main").result(60))
finally:
    pool.close()
"""


@pytest.mark.parametrize("preload, seen", [((), "False"), (("safety.service.cli.main",), "True")])
def test_a_worker_finds_the_preloaded_modules_imported(preload, seen, tmp_path):
    """A worker forks with the program's modules loaded instead of importing them again as
    it re-runs the program (after a kill, the first call took 0.60 s; 0.26 s so)."""
    r = subprocess.run(
        [sys.executable, "-c", WORKER_SEES, *preload],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().splitlines()[-1] == seen
