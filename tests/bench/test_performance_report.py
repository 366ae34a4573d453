"""bench/performance.py's blink reading: what counts as an actor's blink, as caught by
the character's eyes, and as shown shut by the transfer though read open."""

from pathlib import Path

import numpy as np

BENCH = Path(__file__).resolve().parents[2] / "bench"


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


def test_the_blink_sheet_draws_the_blinks_missed_and_the_closings_dlib_did_not_count(
    monkeypatch,
):
    """`--blink-sheet`'s frames: a missed blink at the actor's deepest frame; a run of
    lids shown alone with no blink of the actor read within a frame of it, at its middle;
    a caught blink and lids shown beside a counted blink are not drawn."""
    monkeypatch.syspath_prepend(str(BENCH))
    from performance import questioned

    eyes = np.array([1, 0.5, 0.4, 1, 1, 1, 0.55, 1, 1, 1, 1, 1, 1, 1, 1])
    runs = [(1, 2, 0.4, 0.7), (6, 6, 0.55, 0.3)]  # the first missed, the second caught
    lids = np.zeros(15)
    lids[[3, 7]] = 1.0  # beside the counted blinks
    lids[10:13] = 1.0  # the actor's eyes read open there
    assert questioned(runs, lids, eyes) == [(2, "missed"), (11, "unread")]
