"""The Gate: every request goes pre-check → generate → post-check → sign, or stops.

Fail closed: a check that raises or runs past its deadline becomes a `check_error`
finding, which the policy always blocks. Nothing leaves `generate` unless every
check ran and the output is signed and its decision recorded.

The pieces: `intake.py` decodes and validates a request and picks its backend before
it gets here, `checks.py` runs the moderators, `provenance/outputs.py` signs an allowed
output, `review/holding.py` keeps one for review, `decisions.py` records every verdict;
`job.py` has the request and the events this yields. The gate builds its review queue
itself (`ReviewSettings`): both share the holding and the signer.

The tenant's policy is resolved once per request and passed down: a reload while a
request runs cannot judge its pre-check and its post-check by different rules.
"""

from __future__ import annotations

import contextvars
import logging
import queue
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path

from indexes.hashbank import HashBanks
from indexes.manifests import ManifestRepository
from media.decode import Frame
from media.sampling import DEFAULT_SAMPLING, Sampling, frames_within, sample_video_frames
from safety.checks import Checks
from safety.decisions import DecisionRecorder
from safety.job import (
    Accepted,
    Blocked,
    Cancelled,
    Clip,
    Completed,
    Event,
    Failed,
    GenerateJob,
    Progress,
    SignableMedia,
)
from safety.likeness.consent import ConsentRegistry
from safety.moderators.evidence import Evidence
from safety.moderators.protocol import TextModerator, VisualModerator
from safety.observability import Metrics, tracer
from safety.policy.allowlist import DEFAULT_DAYS, Allowlist
from safety.policy.loading import PolicySet
from safety.policy.rules import Policy
from safety.provenance.outputs import OutputSigner, moderation_assertion, output_manifest
from safety.review.holding import Holding
from safety.review.queue import ReviewQueue
from safety.store.interface import Store
from safety.store.shared_media import SharedMedia
from safety.verdict import Action, CheckRun, Stage, Verdict, combine
from signing import watermark
from signing.manifest import ManifestSigner, ManifestSpec

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReviewSettings:
    """What the review queue the gate builds needs besides the gate's own parts."""

    media: SharedMedia  # held outputs and their ingredients, reachable from any front door
    banks: HashBanks  # a rejection banks the content; an appeal that reverses it unbanks
    reject_bank: str = "review-rejected"
    lease_s: float = 600.0
    allowlist_days: float = DEFAULT_DAYS
    double_review_share: float = 0.0  # of first decisions, to a second reviewer


class Gate:
    def __init__(
        self,
        *,
        prompt_moderators: list[TextModerator],
        image_moderators: list[VisualModerator],
        policies: PolicySet,
        consent: ConsentRegistry,
        manifest_signer: ManifestSigner,
        manifests: ManifestRepository,
        store: Store,
        work_dir: Path,
        check_timeout_s: float = 60.0,
        sampling: Sampling = DEFAULT_SAMPLING,
        review: ReviewSettings | None = None,
        allowlist: Allowlist | None = None,
        evidence: Evidence | None = None,
        metrics: Metrics | None = None,
        watermarker: watermark.Watermarker | None = None,
        generation_workers: int = 4,
        max_generation_s: float = 1800.0,
    ) -> None:
        self.policies = policies
        self.manifest_signer = manifest_signer
        self.store = store
        self.work_dir = work_dir
        self.sampling = sampling
        self.metrics = metrics or Metrics()
        work_dir.mkdir(parents=True, exist_ok=True)
        # Checks and generation run on pools of their own, so that a stuck model can be
        # timed out and generations filling every slot leave threads for the checks.
        self._check_pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="checks")
        self._generation_pool = ThreadPoolExecutor(
            max_workers=generation_workers, thread_name_prefix="generate"
        )
        self.max_generation_s = max_generation_s
        self.checks = Checks(
            prompt_moderators=prompt_moderators,
            image_moderators=image_moderators,
            consent=consent,
            submit=self._submit,
            check_timeout_s=check_timeout_s,
            allowlist=allowlist,
            evidence=evidence,
        )
        self.recorder = DecisionRecorder(store, self.metrics)
        self.output_signer = OutputSigner(
            manifest_signer, manifests, self.recorder, self.metrics, watermarker, store
        )
        self.holding = Holding(self.output_signer, self.recorder, sampling)
        # Without a review queue a "review" verdict blocks: nothing waits for nobody.
        self.review = self._review_queue(review, consent) if review is not None else None

    def _review_queue(self, settings: ReviewSettings, consent: ConsentRegistry) -> ReviewQueue:
        """The queue held outputs wait in: approval signs through this gate's signer,
        rejection banks the content, an appeal's reversal unbanks it."""
        media, banks = settings.media, settings.banks
        return ReviewQueue(
            self.store,
            media,
            release=partial(self.holding.release, media=media),
            bank_rejected=partial(
                self.holding.bank_rejected, banks=banks, bank=settings.reject_bank, media=media
            ),
            lease_s=settings.lease_s,
            consent=consent,
            unbank=partial(self.holding.unbank, banks=banks),
            allowlist_days=settings.allowlist_days,
            policy_version=lambda tenant: self.policies.for_tenant(tenant).version,
            double_review_share=settings.double_review_share,
        )

    @property
    def image_moderators(self) -> list[VisualModerator]:
        return self.checks.image_moderators

    # ---- moderation only ------------------------------------------------------------

    def check(self, tenant: str, prompt: str | None, clips: list[Clip], scope: str) -> Verdict:
        """Moderate a prompt and/or media without generating; the decision is recorded."""
        policy = self.policies.for_tenant(tenant)
        verdict = self.checks.evaluate(Stage.PRE_CHECK, prompt, clips, tenant, scope, policy)
        self.recorder.record(verdict, uuid.uuid4().hex, tenant)
        return verdict

    def sign(self, tenant: str, media: SignableMedia, spec: ManifestSpec) -> tuple[Verdict, bytes]:
        """Moderate media made elsewhere like an output; sign it only if allowed.

        Returns the verdict and the signed bytes (empty when not allowed)."""
        policy = self.policies.for_tenant(tenant)
        verdict = self.checks.evaluate(
            Stage.POST_CHECK, None, [media.clip, *media.carried], tenant, media.scope, policy
        )
        if verdict.action != Action.ALLOW:
            self.recorder.record(verdict, uuid.uuid4().hex, tenant)
            return verdict, b""
        verdict.decision_id = uuid.uuid4().hex
        audio = media.clip.audio_streams
        moderation = {
            **moderation_assertion(verdict),
            "client_claims": media.claims,  # what the client said, not what we checked
            "not_moderated": [f"audio ({audio} stream(s))"] if audio else [],
        }
        spec = replace(spec, moderation=moderation, training_mining=policy.training_mining)
        return verdict, self.output_signer.sign_media(media, spec, verdict, tenant)

    # ---- the request path -----------------------------------------------------------

    def generate(self, job: GenerateJob) -> Iterator[Event]:
        """The request path; one trace per request, a span and a timing per stage."""
        root = tracer.start_span(
            "reelguard.generate",
            attributes={"reelguard.request_id": job.request_id, "reelguard.tenant": job.tenant},
        )
        try:
            yield from self._generate(job, root)
        finally:
            root.end()

    def _generate(self, job: GenerateJob, root) -> Iterator[Event]:
        backend = job.backend  # chosen at intake, before anything ran: refused, not ignored
        if backend is None:
            raise ValueError("a job without a backend: jobs come from Intake.generate_job")
        policy = self.policies.for_tenant(job.tenant)  # once: both checks and the manifest
        yield Accepted(job.request_id)
        yield Progress(Stage.PRE_CHECK, 0, 1, "moderating prompt and inputs")
        content = job.image.sha256 if job.image else ""
        with self.metrics.stage("pre_check", root):
            pre = self.checks.evaluate(
                Stage.PRE_CHECK,
                job.prompt,
                job.input_clips(),
                job.tenant,
                job.consent_scope,
                policy,
                content,
            )
        # A "review" pre-check still generates: the reviewer judges the actual output.
        if pre.action == Action.BLOCK or (pre.action == Action.REVIEW and self.review is None):
            self.recorder.record(pre, job.request_id, job.tenant)
            yield Blocked(pre)
            return
        yield Progress(Stage.PRE_CHECK, 1, 1, "pre-check passed")

        with tempfile.TemporaryDirectory(dir=self.work_dir) as tmp:
            raw, signed = Path(tmp) / "raw.mp4", Path(tmp) / "signed.mp4"
            events: queue.Queue[Progress] = queue.Queue()
            gen_input = job.generation_input()

            def progress(done: int, total: int) -> None:
                if job.cancel.is_set():
                    raise Cancelled(f"request {job.request_id} cancelled")
                events.put(Progress(Stage.GENERATING, done, total))

            try:
                with self.metrics.stage("generate", root):
                    future = self._submit(
                        backend.generate,
                        gen_input,
                        raw,
                        progress,
                        pool=self._generation_pool,
                    )
                    deadline = time.monotonic() + self.max_generation_s
                    yield from _drain_while_running(future, events, deadline)
                    if not future.done():  # stops at its next progress report
                        job.cancel.set()
                        yield self._fail(
                            job,
                            policy,
                            Stage.GENERATING,
                            f"generation ran past max_generation_s ({self.max_generation_s:g} s)",
                        )
                        return
                    mime_type = future.result()
            except Cancelled as e:
                yield self._fail(job, policy, Stage.GENERATING, str(e))
                return
            except Exception as e:
                log.exception("generator failed for %s", job.request_id)
                yield self._fail(job, policy, Stage.GENERATING, f"generator failed: {e}")
                return

            yield Progress(Stage.POST_CHECK, 0, 1, "moderating sampled output frames")
            with self.metrics.stage("post_check", root):
                post, frames = self._post_check(raw, job, policy, content)
            combined = combine(pre, post)
            if combined.action == Action.BLOCK or (
                combined.action == Action.REVIEW and self.review is None
            ):
                self.recorder.record(combined, job.request_id, job.tenant)
                yield Blocked(combined)
                return
            if combined.action == Action.REVIEW:
                try:
                    yield self.holding.hold(
                        self.review,
                        job.request_id,
                        job.tenant,
                        job.prompt,
                        content,
                        combined,
                        output_manifest(job, backend, combined, policy.training_mining),
                        raw,
                        mime_type,
                    )
                except Exception as e:
                    log.exception("holding %s for review failed", job.request_id)
                    yield self._fail(
                        job, policy, Stage.POST_CHECK, f"could not hold for review: {e}"
                    )
                return
            yield Progress(Stage.POST_CHECK, 1, 1, "post-check passed")

            final = replace(  # both checks' evidence, frames checked included
                combined,
                action=Action.ALLOW,
                stage=Stage.POST_CHECK,
                decision_id=uuid.uuid4().hex,
            )
            yield Progress(Stage.SIGNING, 0, 1, "signing C2PA manifest")
            try:
                spec = output_manifest(job, backend, final, policy.training_mining)
                digest = self.output_signer.sign(
                    spec, frames, raw, signed, mime_type, final, job.request_id, job.tenant, root
                )
            except Exception as e:
                log.exception("signing failed for %s", job.request_id)
                yield self._fail(job, policy, Stage.SIGNING, f"signing failed: {e}")
                return
            yield Progress(Stage.SIGNING, 1, 1, "signed")
            yield Completed(signed, mime_type, signed.stat().st_size, digest, final)

    # ---- pieces ---------------------------------------------------------------------

    def _submit(self, fn: Callable, *args, pool: ThreadPoolExecutor | None = None) -> Future:
        """Run on the gate's pool in the caller's context, so work there (a call to a Ray
        pool, say) belongs to the current stage's trace span."""
        pool = pool or self._check_pool
        return pool.submit(contextvars.copy_context().run, fn, *args)

    def _post_check(
        self, video: Path, job: GenerateJob, policy: Policy, content_sha256: str = ""
    ) -> tuple[Verdict, list[Frame]]:
        """The post-check verdict, and the frames it looked at (they fingerprint the output)."""
        try:
            sampled = sample_video_frames(video, self.sampling)
            frames: list[Frame] = sampled.frames
            if not frames:
                raise ValueError("the output has no decodable frames")
        except Exception as e:
            run = CheckRun(
                "post_check.decode",
                "pyav",
                "",
                Stage.POST_CHECK,
                ok=False,
                error=f"cannot sample output frames: {e}",
            )
            return policy.decide(Stage.POST_CHECK, [], [run]), []
        verdict = self.checks.evaluate(
            Stage.POST_CHECK,
            None,
            [
                Clip(
                    "output_frame",
                    frames,
                    total_frames=sampled.total,
                    neighbours=partial(frames_within, video, sampling=self.sampling),
                )
            ],
            job.tenant,
            job.consent_scope,
            policy,
            content_sha256,
        )
        return verdict, frames

    def _fail(self, job: GenerateJob, policy: Policy, stage: Stage, error: str) -> Failed:
        run = CheckRun(stage.name.lower(), "", "", stage, ok=False, error=error)
        verdict = policy.decide(stage, [], [run])
        self.recorder.record(verdict, job.request_id, job.tenant)
        return Failed(stage, error)


def _drain_while_running(
    future: Future, events: queue.Queue, deadline: float
) -> Iterator[Progress]:
    """Progress while the future runs, until it is done or the deadline passes."""
    while time.monotonic() < deadline:
        try:
            yield events.get(timeout=0.05)
        except queue.Empty:
            if future.done():
                break
    while not events.empty():
        yield events.get_nowait()
