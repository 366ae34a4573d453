"""The benchmark scripts keep running (tiny sizes; the figures come from full runs)."""

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


@pytest.mark.parametrize(
    "script, args, expect",
    [
        ("sign_verify.py", ["--mb", "2", "--repeat", "1"], "x sha256"),
        ("precheck.py", ["--repeat", "2"], "pre-check: decode + both"),
        ("load.py", ["--streams", "12", "--slots", "2", "--seconds", "0.5"], "completed 2"),
        ("cold_start.py", ["--repeat", "1"], "warm start"),
        ("watermark.py", ["--frames", "6"], "re-encoded CRF 23"),
        (
            "overhead.py",
            ["--size", "64", "--frames", "4", "--steps", "2", "--repeat", "1"],
            "safety overhead",
        ),
        (
            "ray_moderation.py",
            ["--frames", "8", "--repeat", "2", "--rounds", "1", "--plain-frames", "2"],
            "throughput, 2 replicas",
        ),
        ("manifest_lookup.py", ["--videos", "300", "--repeat", "2"], "FAISS lookup"),
        ("pdq.py", ["--repeat", "3"], "indexes/pdq.py"),
        ("performance.py", ["--frames", "8", "--side", "192"], "transfer/encode"),
        (
            "identity_search.py",
            ["--n", "5000", "--queries", "64", "--flat-queries", "8", "--kind", "ivfpq"],
            "recall@1 vs exact 1.0000",
        ),
        ("hash_bank.py", ["--n", "20000", "--pictures", "64"], "same matches as the tables: True"),
        (
            "hash_bank.py",
            ["--n", "20000", "--pictures", "64", "--through-store"],
            "planted copies found 32/32",
        ),
    ],
)
def test_bench_script_runs(script, args, expect):
    r = subprocess.run(
        [sys.executable, str(BENCH / script), *args], capture_output=True, text=True, timeout=300
    )
    assert r.returncode == 0, r.stderr
    assert expect in r.stdout
