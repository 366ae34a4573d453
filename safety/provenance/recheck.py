"""Re-running a signed output's recorded checks on its own frames, for an auditor.

A decision records which checks ran on the output (model and version), the highest
score per category, the policy version and where the video was sampled. `recheck`
decodes the file at those positions, runs the same checks with the models installed
here, weighs their evidence as the post-check does, applies what the decision cited
as it stood then (consent grants, content clearances: `safety.provenance.replay`), and
says, score by score, whether the recorded verdict reproduces. The prompt and inputs
are not in the file: their findings count as recorded. An output released by a human
replays twice: its hold must reproduce, and the review that released it must be on
record. A check whose model version differs, or a policy that changed, is refused by
name rather than compared: a different model's score says nothing about the recorded one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from media.decode import VideoLimits, probe_video
from media.sampling import Sampling, frames_at, frames_within
from safety.errors import FailedPrecondition, NotFound
from safety.job import Clip
from safety.moderators.evidence import Evidence
from safety.moderators.protocol import VisualModerator
from safety.policy.loading import PolicySet
from safety.policy.rules import Policy
from safety.provenance.replay import Replay, release, replay
from safety.store.interface import DecisionStore, GrantStore
from safety.store.review_interface import ReviewStore
from safety.verdict import Action, Stage, Verdict
from signing.verify import Verifier

OUTPUT = "output_frame"  # the subject the post-check scores an output's frames as
# The post-check scored the generator's frames; the signed file is those frames with the
# watermark in them, encoded a second time, which moved open_nsfw's top score on the
# test clip by 0.022 (0.059 recorded, 0.037 rechecked: tests/safety/provenance/test_recheck.py).
DEFAULT_TOLERANCE = 0.05


@dataclass(frozen=True)
class ScoreRecheck:
    check: str
    category: str
    recorded: float
    rechecked: float
    reproduces: bool


@dataclass
class Recheck:
    decision_id: str
    recorded_action: str
    rechecked_action: str = ""  # empty when something was refused
    frames: int = 0  # frames decoded at the recorded positions
    scores: list[ScoreRecheck] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # what was not rerun, and why
    replayed: list[str] = field(default_factory=list)  # what the record cited, and whether it held
    # An output a human released: what its hold recorded, and what rechecking the hold gives.
    held_action: str = ""
    held_rechecked_action: str = ""

    @property
    def reproduces(self) -> bool:
        return (
            not self.refused
            and self.rechecked_action == self.recorded_action
            and self.held_action == self.held_rechecked_action
            and all(s.reproduces for s in self.scores)
        )


def recheck(
    source: Path | bytes,
    recorded: Verdict,
    moderators: list[VisualModerator],
    policy: Policy,
    sampling: Sampling,
    tolerance: float = DEFAULT_TOLERANCE,
    cited: Replay | None = None,
    evidence: Evidence | None = None,
) -> Recheck:
    """Whether `recorded` (an output's verdict) reproduces on the file, with what the
    decision `cited` applied as it stood then."""
    cited = cited or Replay()
    result = Recheck(recorded.decision_id, recorded.action.name.lower(), replayed=cited.notes)
    if policy.version != recorded.policy_version:
        result.refused.append(
            f"policy: recorded version {recorded.policy_version!r}, now {policy.version!r}"
        )
    sampled = recorded.frames_checked.get(OUTPUT, {})
    times = sampled.get("times_s")
    if not times:
        result.refused.append("the decision does not record where the output was sampled")
        return result
    rerun = _rerunnable(recorded, moderators, result.refused)
    frames = frames_at(source, times, sampling)
    result.frames = len(frames)
    if len(frames) != len(times):
        result.refused.append(f"{len(times)} positions recorded, {len(frames)} found in the file")
    findings = [f for m in rerun for f in m.score(OUTPUT, frames)]
    top_now = _top(findings)
    for (check, category), score in sorted(_top(recorded.findings).items()):
        if check not in {m.name for m in rerun}:
            continue
        now = top_now.get((check, category), 0.0)
        result.scores.append(
            ScoreRecheck(check, category, score, now, abs(now - score) <= tolerance)
        )
    if result.refused:
        return result
    cited.apply(findings)
    if evidence is not None:
        around = partial(frames_within, source, sampling=sampling)
        clip = Clip(OUTPUT, frames, total_frames=sampled.get("total", 0), neighbours=around)
        evidence.weigh(findings, [clip], policy.acts)
    verdict = policy.decide(Stage.POST_CHECK, findings, [])
    # The prompt and the inputs are not in the file: what the decision found there stands.
    inputs = max((f.action for f in recorded.findings if f.subject != OUTPUT), default=Action.ALLOW)
    result.rechecked_action = max(verdict.action, inputs).name.lower()
    return result


def _rerunnable(
    recorded: Verdict, moderators: list[VisualModerator], refused: list[str]
) -> list[VisualModerator]:
    """The installed moderators that are the ones the post-check ran; the rest, refused."""
    installed = {m.name: m for m in moderators}
    rerun: list[VisualModerator] = []
    for run in (r for r in recorded.checks if r.stage == Stage.POST_CHECK):
        moderator = installed.get(run.name)
        if moderator is None:
            refused.append(f"{run.name}: not installed here")
        elif (moderator.model, moderator.model_version) != (run.model, run.model_version):
            refused.append(
                f"{run.name}: recorded {run.model} {run.model_version}, "
                f"installed {moderator.model} {moderator.model_version}"
            )
        else:
            rerun.append(moderator)
    return rerun


class Rechecker:
    """Provenance.Recheck: a signed file in, whether its recorded verdict reproduces."""

    def __init__(
        self,
        verifier: Verifier,
        decisions: DecisionStore,
        moderators: list[VisualModerator],
        policies: PolicySet,
        sampling: Sampling,
        grants: GrantStore,
        reviews: ReviewStore,
        limits: VideoLimits | None = None,
        evidence: Evidence | None = None,
    ) -> None:
        self.verifier = verifier
        self.limits = limits  # the uploads' ceilings: a recheck decodes no more than they
        self.decisions = decisions
        self.moderators = moderators
        self.policies = policies
        self.sampling = sampling
        self.grants = grants  # where the consent grants a decision cites are looked up
        self.reviews = reviews  # and the reviews that cleared or released it
        self.evidence = evidence

    def recheck(
        self,
        data: bytes,
        mime_type: str,
        sees: Callable[[str], bool],
        tolerance: float = DEFAULT_TOLERANCE,
    ) -> Recheck:
        """Only a trusted reelguard output (FailedPrecondition otherwise) whose decision
        the caller `sees` (another tenant's reads exactly like a missing one: NotFound)."""
        report = self.verifier.verify_bytes(data, mime_type)
        moderation = report.moderation or {}
        decision_id = moderation.get("decision_id", "")
        if not report.trusted or not decision_id:
            raise FailedPrecondition(
                f"only a trusted reelguard output can be rechecked: {report.summary}"
            )
        record = self._record(decision_id, sees)
        if self.limits is not None and mime_type.startswith("video/"):
            probe_video(data, self.limits, "the signed file")  # before decoding any frame
        held_id = moderation.get("held_decision_id", "")
        if not held_id:
            return self._recheck(data, record, tolerance)
        # Released by a human: the hold reproduces, and the review that released it holds.
        held = self._record(held_id, lambda tenant: tenant == record["tenant"])
        result = self._recheck(data, held, tolerance)
        result.decision_id, result.recorded_action = decision_id, record["action"]
        result.held_action, result.held_rechecked_action = held["action"], result.rechecked_action
        review = moderation.get("human_review") or {}
        why_not = release(review, held_id, record["tenant"], self.reviews)
        if why_not:
            result.replayed.append(f"human review NOT honoured: {why_not}")
        else:
            result.replayed.append(
                f"held for review (decision {held_id}); released by {review.get('reviewer')} "
                f"({review.get('reviewer_role')}), ticket {review.get('ticket')}"
            )
            if result.rechecked_action:
                result.rechecked_action = Action.ALLOW.name.lower()
        return result

    def _record(self, decision_id: str, sees: Callable[[str], bool]) -> dict:
        record = self.decisions.decision(decision_id)
        if record is None or not sees(record["tenant"]):
            raise NotFound(f"no decision {decision_id!r} here")
        return record

    def _recheck(self, data: bytes, record: dict, tolerance: float) -> Recheck:
        recorded = Verdict.from_dict(record["evidence"])
        tenant = record["tenant"]
        cited = replay(recorded, tenant, record["created_at"], self.grants, self.reviews)
        return recheck(
            data,  # decoded where it lies, as uploads are
            recorded,
            self.moderators,
            self.policies.for_tenant(tenant),
            self.sampling,
            tolerance,
            cited,
            self.evidence,
        )


def _top(findings) -> dict[tuple[str, str], float]:
    """The highest score per (check, category) on the output's frames."""
    top: dict[tuple[str, str], float] = {}
    for f in findings:
        if f.subject == OUTPUT:
            key = (f.check, f.category)
            top[key] = max(top.get(key, 0.0), f.score)
    return top
