"""Re-running a signed output's recorded checks on its own frames, for an auditor.

A decision records which checks ran on the output (model and version), the highest
score per category, the policy version and where the video was sampled. `recheck`
decodes the file at those positions, runs the same checks with the models installed
here, and says, score by score, whether the recorded verdict reproduces. A check whose
model version differs, or a policy that changed, is refused by name rather than
compared: a different model's score says nothing about the recorded one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from media.decode import VideoLimits, probe_video
from media.sampling import Sampling, frames_at
from safety.errors import FailedPrecondition, NotFound
from safety.moderators.protocol import VisualModerator
from safety.policy.loading import PolicySet
from safety.policy.rules import Policy
from safety.store.interface import DecisionStore
from safety.verdict import Stage, Verdict
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

    @property
    def reproduces(self) -> bool:
        return (
            not self.refused
            and self.rechecked_action == self.recorded_action
            and all(s.reproduces for s in self.scores)
        )


def recheck(
    source: Path | bytes,
    recorded: Verdict,
    moderators: list[VisualModerator],
    policy: Policy,
    sampling: Sampling,
    tolerance: float = DEFAULT_TOLERANCE,
) -> Recheck:
    """Whether `recorded` (an output's post-check verdict) reproduces on the file."""
    result = Recheck(recorded.decision_id, recorded.action.name.lower())
    if policy.version != recorded.policy_version:
        result.refused.append(
            f"policy: recorded version {recorded.policy_version!r}, now {policy.version!r}"
        )
    times = recorded.frames_checked.get(OUTPUT, {}).get("times_s")
    if not times:
        result.refused.append("the decision does not record where the output was sampled")
        return result
    installed = {m.name: m for m in moderators}
    runs = [r for r in recorded.checks if r.stage == Stage.POST_CHECK]
    rerun: list[VisualModerator] = []
    for run in runs:
        moderator = installed.get(run.name)
        if moderator is None:
            result.refused.append(f"{run.name}: not installed here")
        elif (moderator.model, moderator.model_version) != (run.model, run.model_version):
            result.refused.append(
                f"{run.name}: recorded {run.model} {run.model_version}, "
                f"installed {moderator.model} {moderator.model_version}"
            )
        else:
            rerun.append(moderator)
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
    if not result.refused:
        verdict = policy.decide(Stage.POST_CHECK, findings, [])
        result.rechecked_action = verdict.action.name.lower()
    return result


class Rechecker:
    """Provenance.Recheck: a signed file in, whether its recorded verdict reproduces."""

    def __init__(
        self,
        verifier: Verifier,
        decisions: DecisionStore,
        moderators: list[VisualModerator],
        policies: PolicySet,
        sampling: Sampling,
        limits: VideoLimits | None = None,
    ) -> None:
        self.verifier = verifier
        self.limits = limits  # the uploads' ceilings: a recheck decodes no more than they
        self.decisions = decisions
        self.moderators = moderators
        self.policies = policies
        self.sampling = sampling

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
        decision_id = (report.moderation or {}).get("decision_id", "")
        if not report.trusted or not decision_id:
            raise FailedPrecondition(
                f"only a trusted reelguard output can be rechecked: {report.summary}"
            )
        record = self.decisions.decision(decision_id)
        if record is None or not sees(record["tenant"]):
            raise NotFound(f"no decision {decision_id!r} here")
        if self.limits is not None and mime_type.startswith("video/"):
            probe_video(data, self.limits, "the signed file")  # before decoding any frame
        return recheck(
            data,  # decoded where it lies, as uploads are
            Verdict.from_dict(record["evidence"]),
            self.moderators,
            self.policies.for_tenant(record["tenant"]),
            self.sampling,
            tolerance,
        )


def _top(findings) -> dict[tuple[str, str], float]:
    """The highest score per (check, category) on the output's frames."""
    top: dict[tuple[str, str], float] = {}
    for f in findings:
        if f.subject == OUTPUT:
            key = (f.check, f.category)
            top[key] = max(top.get(key, 0.0), f.score)
    return top
