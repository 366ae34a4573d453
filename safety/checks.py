"""Running the checks: every applicable moderator at once, each within the deadline.

Fail closed: a check that raises or runs past `check_timeout_s` becomes a failed
`CheckRun`, which the policy always blocks; so does a consent registry that cannot
answer. A check still running at the deadline is also cancelled, so that it gives back
its thread and CPU where the model allows (`safety.cancellation`). A decisive block stops
the checks still queued — but never a likeness check: a block does not hide a match (a
consent grant may authorize it, and the person depicted is part of the record whatever
else blocked). A stopped check is recorded as stopped by that block, its categories
still counted as configured. The policy then turns the findings into a verdict."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import replace
from functools import partial

from safety.cancellation import Cancellation, run_cancellable
from safety.job import Clip
from safety.likeness.consent import ConsentRegistry
from safety.likeness.face_images import face_crop_jpeg
from safety.moderators.evidence import Evidence
from safety.moderators.protocol import TextModerator, VisualModerator, calibrated
from safety.policy.allowlist import Allowlist, Cleared
from safety.policy.rules import Policy
from safety.policy.taxonomy import unevaluated
from safety.verdict import (
    LIKENESS_CATEGORIES,
    Action,
    CheckRun,
    Finding,
    Stage,
    Verdict,
    crop_key,
    likeness_match,
)

log = logging.getLogger(__name__)


class Checks:
    """The moderators, consent and allowlist one stage runs, and how it runs them."""

    def __init__(
        self,
        *,
        prompt_moderators: list[TextModerator],
        image_moderators: list[VisualModerator],
        consent: ConsentRegistry,
        submit: Callable[..., Future],
        check_timeout_s: float = 60.0,
        allowlist: Allowlist | None = None,
        evidence: Evidence | None = None,
    ) -> None:
        self.prompt_moderators = prompt_moderators
        self.image_moderators = image_moderators
        self.consent = consent
        self._submit = submit  # runs a check on the gate's pool, in the caller's context
        self.check_timeout_s = check_timeout_s
        self.allowlist = allowlist
        self.evidence = evidence  # weighs the nudity classifiers' hits before the policy

    def evaluate(
        self,
        stage: Stage,
        prompt: str | None,
        clips: list[Clip],
        tenant: str,
        scope: str,
        policy: Policy,
        content_sha256: str = "",
    ) -> Verdict:
        """Run every applicable check concurrently, each bounded by the check deadline;
        then attach consent bases, then let the tenant's `policy` (resolved once by the
        caller, for the whole request) decide."""
        tasks: list[tuple[object, Callable[[], list[Finding]]]] = []
        if prompt is not None:
            for moderator in self.prompt_moderators:
                tasks.append((moderator, partial(moderator.score, prompt)))
        for moderator in self.image_moderators:
            for clip in clips:
                tasks.append((moderator, partial(moderator.score, clip.subject, clip.frames)))
        cleared = self._cleared(tenant, content_sha256)
        deadline = time.monotonic() + self.check_timeout_s
        t0 = time.monotonic()
        pending: dict[Future, object] = {}
        cancellations: dict[Future, Cancellation] = {}
        for moderator, fn in tasks:
            cancellation = Cancellation()
            future = self._submit(run_cancellable, cancellation, fn)
            pending[future], cancellations[future] = moderator, cancellation
        findings: list[Finding] = []
        runs: list[CheckRun] = []
        # What was evaluated: the categories of every check that completed, by subject kind.
        covered: dict[str, set[str]] = {"visual": set(), "text": set()}
        decided_by = ""
        stopped: list[object] = []
        while pending:
            if decided_by:  # stop what a block makes unnecessary; likeness goes on
                for future in [f for f, m in pending.items() if not _completes_anyway(m)]:
                    future.cancel()
                    stopped.append(pending.pop(future))
                if not pending:
                    break
            done, _ = wait(
                pending, timeout=max(0.0, deadline - time.monotonic()), return_when=FIRST_COMPLETED
            )
            if not done:  # the deadline passed: every unfinished check fails closed
                for future, moderator in pending.items():
                    future.cancel()  # if it has not started yet
                    cancellations[future].cancel()  # if it has: stop it where it can be
                    runs.append(
                        _check_run(
                            moderator,
                            stage,
                            ok=False,
                            seconds=time.monotonic() - t0,
                            error=f"timed out after {self.check_timeout_s:g} s",
                        )
                    )
                pending = {}
                break
            for future in done:
                moderator = pending.pop(future)
                run = _check_run(moderator, stage, seconds=time.monotonic() - t0)
                try:
                    result = future.result()
                except Exception as e:
                    log.exception("check %s failed", moderator.name)
                    run.ok, run.error = False, f"{type(e).__name__}: {e}"
                else:
                    cleared.annotate(result)  # before deciding: a cleared finding is not decisive
                    findings += result
                    kind = "text" if moderator in self.prompt_moderators else "visual"
                    covered[kind].update(calibrated(moderator))
                    if _decisive(policy, result, self.evidence):
                        decided_by = decided_by or moderator.name
                runs.append(run)
        # Checks stopped by a decisive block are recorded as stopped (never as ok); the
        # policy blocks on any check that did not run unless the verdict is a block
        # anyway. Their categories were configured, not left unevaluated.
        for moderator in stopped:
            runs.append(
                _check_run(
                    moderator,
                    stage,
                    ok=False,
                    ran=False,
                    error=f"stopped: another check blocked ({decided_by})",
                )
            )
            kind = "text" if moderator in self.prompt_moderators else "visual"
            covered[kind].update(calibrated(moderator))
        if self.evidence is not None:
            self.evidence.weigh(findings, clips, policy.acts)
        try:
            self.consent.annotate(findings, tenant, scope)
        except Exception as e:  # no consent answer: treat every likeness as unauthorized
            log.exception("consent lookup failed")
            runs.append(
                CheckRun(
                    "consent",
                    "registry",
                    "",
                    stage,
                    ok=False,
                    error=f"consent registry unavailable: {e}",
                )
            )
        kinds = {"text"} if prompt is not None else set()
        if clips:
            kinds.add("visual")
        verdict = policy.decide(stage, findings, runs, unevaluated(covered, kinds))
        # How much of each video was looked at, and where (an auditor re-runs the checks
        # at those times; the positions were drawn at random, so they must be recorded).
        verdict.frames_checked = {
            c.subject: {
                "checked": len(c.frames),
                "total": c.total_frames or len(c.frames),
                "times_s": [round(f.time_s, 3) for f in c.frames],
            }
            for c in clips
        }
        verdict.face_crops = _face_crops(findings, clips)
        return verdict

    def _cleared(self, tenant: str, content_sha256: str) -> Cleared:
        if self.allowlist is None:
            return Cleared([])
        try:
            return self.allowlist.for_request(tenant, content_sha256)
        except Exception:  # no answer: nothing is cleared, the policy decides as usual
            log.exception("allowlist lookup failed")
            return Cleared([])


def _face_crops(findings: list[Finding], clips: list[Clip]) -> dict[str, bytes]:
    """The face each likeness match was found on, cropped from the frame it was found in:
    the evidence the depicted person sees on their own door (never the whole frame)."""
    crops: dict[str, bytes] = {}
    by_subject = {c.subject: c for c in clips}
    for f in findings:
        clip = by_subject.get(f.subject)
        if not likeness_match(f) or f.box is None or clip is None or not clip.frames:
            continue
        frame = min(clip.frames, key=lambda fr: abs(fr.time_s - f.frame_time_s))
        try:
            crops[crop_key(f)] = face_crop_jpeg(frame.pixels, f.box)
        except Exception:  # evidence for the owner's view; the decision stands without it
            log.exception("could not crop the face of a likeness match")
    return crops


def _check_run(moderator, stage: Stage, **fields) -> CheckRun:
    """The record of one moderator's run (which model, which version) at a stage."""
    return CheckRun(moderator.name, moderator.model, moderator.model_version, stage, **fields)


def _completes_anyway(moderator) -> bool:
    """A likeness check runs to the end whatever blocked first."""
    return not set(LIKENESS_CATEGORIES).isdisjoint(getattr(moderator, "categories", ()))


def _decisive(policy: Policy, findings: list[Finding], evidence: Evidence | None) -> bool:
    """A finding that blocks whatever else is found: over a block threshold, not a
    likeness (a consent grant may still authorize those), and not a classifier's hit the
    evidence weighing has yet to judge (it may need the other classifier's score)."""
    for finding in findings:
        if finding.category in LIKENESS_CATEGORIES:
            continue
        if evidence is not None and evidence.weighs(finding):
            continue
        if policy.judge(replace(finding)).action == Action.BLOCK:
            return True
    return False
