"""What a generation client is told of a verdict (safety/verdict.py: for_client)."""

from __future__ import annotations

import pytest

from safety.policy.loading import PolicyError, load_policy_file
from safety.verdict import Action, Finding, Stage, Verdict, for_client


def _verdict() -> Verdict:
    nudity = Finding("image.nudity", "sexual", "media", 0.41, "open_nsfw 0.410", 0.7)
    near = Finding(
        "hashbank",
        "hash_match",
        "media",
        0.0,
        "nearest is bank 'csam' at 33",
        bank="csam",
        distance=33,
    )
    hit = Finding(
        "hashbank",
        "hash_match",
        "media",
        1.0,
        "matches bank 'x' at 12",
        0.5,
        Action.BLOCK,
        bank="x",
        distance=12,
    )
    return Verdict(Action.BLOCK, Stage.PRE_CHECK, "p@1", [hit], [nudity, near, hit])


def test_scores_reach_clients_only_when_the_policy_says_and_bank_figures_never():
    hidden = for_client(_verdict())
    assert [f.category for f in hidden.findings] == ["hash_match"]  # what acted, no near miss
    assert all(f.score == 0 and f.distance == -1 and not f.bank for f in hidden.findings)
    shown = for_client(_verdict(), scores=True)
    nudity = next(f for f in shown.findings if f.category == "sexual")
    assert (nudity.score, nudity.threshold) == (0.41, 0.7)
    assert all(f.distance == -1 and not f.bank and f.score == 0 for f in shown.reasons)
    assert _verdict().findings[1].distance == 33  # the record's verdict is untouched


def test_a_policy_file_says_whether_scores_are_disclosed(tmp_path):
    (tmp_path / "open.toml").write_text("disclose_scores = true\n")
    assert load_policy_file(tmp_path / "open.toml").disclose_scores
    (tmp_path / "bad.toml").write_text('name = "x"\ndisclose_scores = "yes"\n')
    with pytest.raises(PolicyError, match="bad.toml:2: disclose_scores must be true or false"):
        load_policy_file(tmp_path / "bad.toml")


def test_a_client_is_told_what_would_lift_a_likeness_block():
    """The client learns that a consent grant would authorize the match (no score, no
    threshold); a consented match, or any other block, says nothing of the kind."""
    blocked = Finding(
        "likeness", "public_figure", "input_image", 0.97, "resembles 'X'", 0.92, Action.BLOCK,
        identity_id="i1", identity_name="X",
    )  # fmt: skip
    consented = Finding(
        "likeness", "public_figure", "input_image", 0.97, "", 0.92, Action.ALLOW,
        identity_id="i2", identity_name="Y", consent={"grant_id": "g"},
    )  # fmt: skip
    other = Finding("hashbank", "hash_match", "media", 1.0, "", 0.5, Action.BLOCK, bank="b")
    verdict = Verdict(
        Action.BLOCK, Stage.PRE_CHECK, "p", reasons=[blocked, other],
        findings=[blocked, consented, other],
    )  # fmt: skip
    told = {f.identity_id or f.check: f.detail for f in for_client(verdict).findings}
    assert told["i1"].startswith("public_figure (block); a consent grant from this person")
    assert "consent grant" not in told["i2"] and "consent grant" not in told["hashbank"]
    assert "0.97" not in told["i1"] and "0.92" not in told["i1"]
