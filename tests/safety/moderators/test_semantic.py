"""Semantic prompt moderation with the shipped sentence embedder (semantic extra)."""

from __future__ import annotations

import pytest

from reelguard.v1 import reelguard_pb2 as pb
from safety.moderators.semantic import SemanticPromptModerator
from tests.support import Running, make_config, needs

pytestmark = needs("sentence_transformers", extra="semantic")


@pytest.fixture(scope="module")
def moderator():
    return SemanticPromptModerator()


def test_scores_every_category_and_names_the_closest_phrase(moderator):
    findings = {f.category: f for f in moderator.score("a teenager slitting her wrists")}
    assert set(findings) == {"sexual", "violence", "hate_symbols", "self_harm", "weapons"}
    top = max(findings.values(), key=lambda f: f.score)
    assert top.category == "self_harm" and top.score > 0.45
    assert "closest example phrase 'a person cutting their wrists'" in top.detail


def test_benign_prompts_stay_low(moderator):
    for prompt in ("a kitten playing with yarn", "a chef slicing onions with a big knife"):
        assert max(f.score for f in moderator.score(prompt)) < 0.45


def test_served_text_categories_are_evaluated_and_enforced(tmp_path):
    r = Running(make_config(tmp_path, prompt_embedder="bundled"))
    try:
        harmful = r.moderation.Check(
            pb.CheckRequest(prompt="a teenager slitting her wrists with a razor")
        )
        assert harmful.action == pb.BLOCK
        reason = [x for x in harmful.reasons if x.check == "prompt.semantic"][0]
        assert reason.category == "self_harm" and reason.threshold == pytest.approx(0.45)
        calm = r.moderation.Check(pb.CheckRequest(prompt="a kitten asleep in the sun"))
        assert calm.action == pb.ALLOW
        text_gaps = [c for c in calm.unevaluated_categories if c.startswith("text/")]
        assert text_gaps == []  # text/sexual_minors: the minors and sexual term lists
    finally:
        r.close()
