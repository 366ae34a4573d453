import pytest

from safety.policy.rules import CHECK_ERROR, Policy
from safety.verdict import Action, CheckRun, Finding, Stage


def finding(category: str, score: float, subject: str = "input_image") -> Finding:
    return Finding(check="t", category=category, subject=subject, score=score)


def test_scores_at_or_over_threshold_take_the_rule_action():
    policy = Policy()
    threshold = policy.rules["sexual"].threshold
    below = policy.decide(Stage.PRE_CHECK, [finding("sexual", threshold - 0.01)], [])
    at = policy.decide(Stage.PRE_CHECK, [finding("sexual", threshold)], [])
    assert below.action == Action.ALLOW and below.reasons == []
    assert at.action == Action.BLOCK and at.reasons[0].threshold == threshold


def test_a_failed_check_blocks_even_with_no_findings():
    run = CheckRun("likeness", "m", "v", Stage.POST_CHECK, ok=False, error="boom")
    verdict = Policy().decide(Stage.POST_CHECK, [], [run])
    assert verdict.action == Action.BLOCK
    assert verdict.reasons[0].category == CHECK_ERROR and "boom" in verdict.reasons[0].detail


def test_a_category_without_a_rule_fails_closed():
    verdict = Policy().decide(Stage.PRE_CHECK, [finding("gambling", 0.01)], [])
    assert verdict.action == Action.BLOCK
    assert "no policy rule" in verdict.reasons[0].detail


def test_policy_from_config_overrides_rules_and_changes_version():
    custom = Policy.from_dict(
        {"name": "strict", "categories": {"sexual": {"threshold": 0.2, "action": "review"}}}
    )
    assert custom.rules["sexual"].action == Action.REVIEW
    assert custom.version.startswith("strict@") and custom.version != Policy().version
    verdict = custom.decide(Stage.PRE_CHECK, [finding("sexual", 0.3)], [])
    assert verdict.action == Action.REVIEW


def test_most_severe_action_wins():
    policy = Policy.from_dict({"categories": {"profanity": {"threshold": 0.1, "action": "review"}}})
    verdict = policy.decide(
        Stage.PRE_CHECK, [finding("profanity", 0.9), finding("blocklist", 1.0)], []
    )
    assert verdict.action == Action.BLOCK
    assert [r.category for r in verdict.reasons] == ["blocklist"]


def test_text_rules_apply_to_prompt_findings_only():
    policy = Policy()
    text, visual = policy.rules["text/violence"], policy.rules["violence"]
    assert text.threshold != visual.threshold
    score = (text.threshold + visual.threshold) / 2
    on_prompt = policy.decide(Stage.PRE_CHECK, [finding("violence", score, "prompt")], [])
    on_image = policy.decide(Stage.PRE_CHECK, [finding("violence", score)], [])
    # The prompt is judged by the text rule (blocked at 0.45), the image by the visual
    # one (graphic violence: reviewed from 0.35, blocked from 0.7).
    assert (on_prompt.action, on_image.action) == (Action.BLOCK, Action.REVIEW)


def test_a_borderline_band_goes_to_review():
    policy = Policy.from_dict(
        {"categories": {"sexual": {"threshold": 0.8, "review_threshold": 0.5, "action": "block"}}}
    )

    def judged(score):
        return policy.judge(Finding("image.nudity", "sexual", "input_image", score)).action

    assert judged(0.9) == Action.BLOCK
    assert judged(0.6) == Action.REVIEW
    assert judged(0.4) == Action.ALLOW
    assert (
        policy.version
        != Policy.from_dict(
            {"categories": {"sexual": {"threshold": 0.8, "action": "block"}}}
        ).version
    )
    with pytest.raises(ValueError, match="review_threshold must be below"):
        Policy.from_dict(
            {
                "categories": {
                    "sexual": {"threshold": 0.5, "review_threshold": 0.6, "action": "block"}
                }
            }
        )


def test_sexual_minors_blocks_by_construction_whatever_the_rules_say():
    """A Policy built around the loaders (or a rule table edited in code) still blocks
    this category from 0.5, never sends it to review, and no clearance lifts it."""
    from safety.policy.rules import Rule

    lax = Rule(0.99, Action.REVIEW, review_threshold=0.1)
    policy = Policy(rules={**Policy().rules, "sexual_minors": lax, "text/sexual_minors": lax})
    for subject in ("output_frame", "prompt"):
        plain = Finding("m", "sexual_minors", subject, 0.6)
        assert policy.judge(plain).action == Action.BLOCK
        low = Finding("m", "sexual_minors", subject, 0.3)
        assert policy.judge(low).action == Action.ALLOW  # under 0.5: no band, no review
        cleared = Finding("m", "sexual_minors", subject, 0.9, allowlisted="review t-1")
        assert policy.judge(cleared).action == Action.BLOCK
        granted = Finding("m", "sexual_minors", subject, 0.9, consent={"grant_id": "g"})
        assert policy.judge(granted).action == Action.BLOCK


def test_a_check_that_did_not_run_blocks_unless_the_verdict_is_a_block_anyway():
    skipped = CheckRun("likeness", "m", "1", Stage.PRE_CHECK, ok=False, ran=False, error="not run")
    policy = Policy()
    alone = policy.decide(Stage.PRE_CHECK, [Finding("m", "sexual", "input_image", 0.1)], [skipped])
    assert alone.action == Action.BLOCK
    assert [r.category for r in alone.reasons] == [CHECK_ERROR]
    blocked = policy.decide(
        Stage.PRE_CHECK, [Finding("m", "sexual", "input_image", 0.99)], [skipped]
    )
    assert blocked.action == Action.BLOCK
    assert [r.category for r in blocked.reasons] == ["sexual"]  # the real reason, alone


def test_a_text_rule_marked_required_blocks_when_no_model_scores_prompts_for_it():
    policy = Policy.from_dict(
        {"categories": {"text/weapons": {"threshold": 0.45, "action": "block", "required": True}}}
    )
    verdict = policy.decide(Stage.PRE_CHECK, [], [], unevaluated=["text/weapons"])
    assert verdict.action == Action.BLOCK
    assert any("requires 'weapons' on text content" in r.detail for r in verdict.reasons)
