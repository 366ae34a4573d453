"""The Gate: every request goes pre-check → generate → post-check → sign, or stops.

Fail closed: a check that raises or runs past its deadline becomes a `check_error`
finding, which the policy always blocks. Nothing leaves `generate` unless every
check ran and the output is signed and its decision recorded.
"""

from __future__ import annotations

import contextvars
import hashlib
import logging
import queue
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path

from generator.base import GenerationInput, Generator
from indexes.hashbank import DEFAULT_MAX_DISTANCE, HashBanks, media_hashes
from indexes.manifests import (
    Fingerprint,
    ManifestRecord,
    ManifestRepository,
    fingerprint_frames,
    fingerprint_image,
)
from safety.allowlist import Allowlist
from safety.consent import LIKENESS_CATEGORIES, ConsentRegistry
from safety.errors import InvalidInput
from safety.media import DecodedImage, Frame, decode_image, sample_video_frames
from safety.moderation import TextModerator, VisualModerator
from safety.observability import Metrics, tracer
from safety.policy_loading import PolicySet
from safety.policy_rules import Policy
from safety.review import Released, ReviewItem, ReviewQueue
from safety.store.audit import AuditLog
from safety.store.sqlite import Store
from safety.taxonomy import unevaluated
from safety.verdict import Action, CheckRun, Finding, Stage, Verdict
from signing import watermark
from signing.manifest import Ingredient, ManifestSigner, ManifestSpec

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OutputSpec:
    width: int = 320
    height: int = 320
    fps: int = 24
    num_frames: int = 48
    seed: int = 0


@dataclass(frozen=True)
class DrivingVideo:
    """An actor's performance to animate a character with: the bytes and sampled frames."""

    data: bytes
    mime_type: str
    frames: list[Frame]


class Cancelled(Exception):
    """The client went away or its deadline passed: stop generating."""


@dataclass(frozen=True)
class GenerateJob:
    request_id: str
    tenant: str
    prompt: str
    image: DecodedImage | None
    output: OutputSpec
    driving: DrivingVideo | None = None
    # Set when the client cancels or its deadline passes; generation stops at its next
    # progress report and its slot is freed.
    cancel: threading.Event = field(default_factory=threading.Event)

    @property
    def consent_scope(self) -> str:
        """Animating someone from a performance needs a `performance` grant, else `video`."""
        return "performance" if self.driving else "video"


@dataclass(frozen=True)
class SignableMedia:
    data: bytes
    mime_type: str
    clip: Clip  # what moderation looks at: the image, or sampled video frames

    @property
    def scope(self) -> str:
        return "video" if self.mime_type.startswith("video/") else "image"


@dataclass(frozen=True)
class Clip:
    """What a visual check looks at: an image is a one-frame clip."""

    subject: str  # "input_image", "driving_video", "output_frame", ...
    frames: list[Frame]


# ---- events: what `Gate.generate` yields, in order -----------------------------------


@dataclass(frozen=True)
class Accepted:
    request_id: str


@dataclass(frozen=True)
class Progress:
    stage: Stage
    done: int
    total: int
    message: str = ""


@dataclass(frozen=True)
class Completed:
    path: Path  # the signed file; valid until the generator is resumed
    mime_type: str
    size: int
    sha256: str
    verdict: Verdict


@dataclass(frozen=True)
class Blocked:
    verdict: Verdict


@dataclass(frozen=True)
class Failed:
    stage: Stage
    error: str


@dataclass(frozen=True)
class Held:
    """The verdict is "review": the output waits, unsigned, for a human (GetResult)."""

    ticket: str
    verdict: Verdict


Event = Accepted | Progress | Completed | Blocked | Failed | Held


class Gate:
    def __init__(
        self,
        *,
        prompt_moderators: list[TextModerator],
        image_moderators: list[VisualModerator],
        policies: PolicySet,
        consent: ConsentRegistry,
        generator: Generator,
        manifest_signer: ManifestSigner,
        manifests: ManifestRepository,
        store: Store,
        work_dir: Path,
        check_timeout_s: float = 60.0,
        post_check_frames: int = 8,
        review: ReviewQueue | None = None,
        allowlist: Allowlist | None = None,
        audit: AuditLog | None = None,
        metrics: Metrics | None = None,
        watermarker: watermark.Watermarker | None = None,
    ) -> None:
        self.prompt_moderators = prompt_moderators
        self.image_moderators = image_moderators
        self.policies = policies
        self.consent = consent
        self.generator = generator
        self.manifest_signer = manifest_signer
        self.manifests = manifests
        self.store = store
        self.work_dir = work_dir
        self.check_timeout_s = check_timeout_s
        self.post_check_frames = post_check_frames
        # Without a review queue a "review" verdict blocks: nothing waits for nobody.
        self.review = review
        self.allowlist = allowlist
        self.audit = audit
        self.metrics = metrics or Metrics()
        self.watermarker = watermarker  # the manifest id, invisibly in every output frame
        work_dir.mkdir(parents=True, exist_ok=True)
        # Checks and generation run here so that a stuck model can be timed out.
        self._pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="gate")

    # ---- moderation only ------------------------------------------------------------

    def check(self, tenant: str, prompt: str | None, clips: list[Clip], scope: str) -> Verdict:
        """Moderate a prompt and/or media without generating; the decision is recorded."""
        verdict = self._evaluate(Stage.PRE_CHECK, prompt, clips, tenant, scope)
        self._record(verdict, uuid.uuid4().hex, tenant)
        return verdict

    def sign(self, tenant: str, media: SignableMedia, spec: ManifestSpec) -> tuple[Verdict, bytes]:
        """Moderate media made elsewhere like an output; sign it only if allowed.

        Returns the verdict and the signed bytes (empty when not allowed)."""
        verdict = self._evaluate(Stage.POST_CHECK, None, [media.clip], tenant, media.scope)
        if verdict.action != Action.ALLOW:
            self._record(verdict, uuid.uuid4().hex, tenant)
            return verdict, b""
        verdict.decision_id = uuid.uuid4().hex
        frames = media.clip.frames
        fingerprint = (
            fingerprint_frames([(f.time_s, f.pixels) for f in frames])
            if media.scope == "video"
            else fingerprint_image(frames[0].pixels)
        )
        spec = replace(
            spec, moderation=moderation_assertion(verdict), soft_binding=fingerprint.assertion()
        )
        signed = self.manifest_signer.sign(spec, media.data, media.mime_type)
        self._remember(verdict.decision_id, fingerprint, signed.manifest, media.mime_type)
        self._record(
            verdict,
            verdict.decision_id,
            tenant,
            hashlib.sha256(signed.data).hexdigest(),
            strict=True,
        )
        return verdict, signed.data

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
        yield Accepted(job.request_id)
        yield Progress(Stage.PRE_CHECK, 0, 1, "moderating prompt and inputs")
        clips = []
        if job.image:
            clips.append(Clip("input_image", [Frame(0.0, job.image.pixels)]))
        if job.driving:
            clips.append(Clip("driving_video", job.driving.frames))
        content = job.image.sha256 if job.image else ""
        with self.metrics.stage("pre_check", root):
            pre = self._evaluate(
                Stage.PRE_CHECK, job.prompt, clips, job.tenant, job.consent_scope, content
            )
        # A "review" pre-check still generates: the reviewer judges the actual output.
        if pre.action == Action.BLOCK or (pre.action == Action.REVIEW and self.review is None):
            self._record(pre, job.request_id, job.tenant)
            yield Blocked(pre)
            return
        yield Progress(Stage.PRE_CHECK, 1, 1, "pre-check passed")

        with tempfile.TemporaryDirectory(dir=self.work_dir) as tmp:
            raw, signed = Path(tmp) / "raw.mp4", Path(tmp) / "signed.mp4"
            events: queue.Queue[Progress] = queue.Queue()
            gen_input = GenerationInput(
                prompt=job.prompt,
                image=job.image.pixels if job.image else None,
                width=job.output.width,
                height=job.output.height,
                fps=job.output.fps,
                num_frames=job.output.num_frames,
                seed=job.output.seed,
                driving_frames=[f.pixels for f in job.driving.frames] if job.driving else None,
            )

            def progress(done: int, total: int) -> None:
                if job.cancel.is_set():
                    raise Cancelled(f"request {job.request_id} cancelled")
                events.put(Progress(Stage.GENERATING, done, total))

            try:
                with self.metrics.stage("generate", root):
                    future = self._submit(self.generator.generate, gen_input, raw, progress)
                    yield from _drain_while_running(future, events)
                    mime_type = future.result()
            except Cancelled as e:
                yield self._fail(job, Stage.GENERATING, str(e))
                return
            except Exception as e:
                log.exception("generator failed for %s", job.request_id)
                yield self._fail(job, Stage.GENERATING, f"generator failed: {e}")
                return

            yield Progress(Stage.POST_CHECK, 0, 1, "moderating sampled output frames")
            with self.metrics.stage("post_check", root):
                post, frames = self._post_check(raw, job, content)
            combined = _combine(pre, post)
            if combined.action == Action.BLOCK or (
                combined.action == Action.REVIEW and self.review is None
            ):
                self._record(combined, job.request_id, job.tenant)
                yield Blocked(combined)
                return
            if combined.action == Action.REVIEW:
                try:
                    yield self._hold(job, combined, raw, mime_type)
                except Exception as e:
                    log.exception("holding %s for review failed", job.request_id)
                    yield self._fail(job, Stage.POST_CHECK, f"could not hold for review: {e}")
                return
            yield Progress(Stage.POST_CHECK, 1, 1, "post-check passed")

            final = Verdict(
                action=Action.ALLOW,
                stage=Stage.POST_CHECK,
                policy_version=self.policies.for_tenant(job.tenant).version,
                findings=pre.findings + post.findings,
                checks=pre.checks + post.checks,
                decision_id=uuid.uuid4().hex,
                unevaluated=sorted(set(pre.unevaluated) | set(post.unevaluated)),
            )
            yield Progress(Stage.SIGNING, 0, 1, "signing C2PA manifest")
            try:
                spec = self._manifest(job, final)
                digest = self._sign_output(
                    spec, frames, raw, signed, mime_type, final, job.request_id, job.tenant, root
                )
            except Exception as e:
                log.exception("signing failed for %s", job.request_id)
                yield self._fail(job, Stage.SIGNING, f"signing failed: {e}")
                return
            yield Progress(Stage.SIGNING, 1, 1, "signed")
            yield Completed(signed, mime_type, signed.stat().st_size, digest, final)

    # ---- pieces ---------------------------------------------------------------------

    def _submit(self, fn: Callable, *args) -> Future:
        """Run on the gate's pool in the caller's context, so work there (a call to a Ray
        pool, say) belongs to the current stage's trace span."""
        return self._pool.submit(contextvars.copy_context().run, fn, *args)

    def _post_check(
        self, video: Path, job: GenerateJob, content_sha256: str = ""
    ) -> tuple[Verdict, list[Frame]]:
        """The post-check verdict, and the frames it looked at (they fingerprint the output)."""
        try:
            frames: list[Frame] = sample_video_frames(video, self.post_check_frames)
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
            return self.policies.for_tenant(job.tenant).decide(Stage.POST_CHECK, [], [run]), []
        verdict = self._evaluate(
            Stage.POST_CHECK,
            None,
            [Clip("output_frame", frames)],
            job.tenant,
            job.consent_scope,
            content_sha256,
        )
        return verdict, frames

    def _remember(
        self, manifest_id: str, fingerprint: Fingerprint, manifest: bytes, mime_type: str
    ) -> None:
        """Keep the manifest findable by content, for copies whose metadata is stripped."""
        self.manifests.remember(
            ManifestRecord(manifest_id, fingerprint.alg, fingerprint.hashes, manifest, mime_type)
        )

    def _evaluate(
        self,
        stage: Stage,
        prompt: str | None,
        clips: list[Clip],
        tenant: str,
        scope: str,
        content_sha256: str = "",
    ) -> Verdict:
        """Run every applicable check concurrently, each bounded by the check deadline;
        then attach consent bases, then let the policy decide."""
        tasks: list[tuple[object, Callable[[], list[Finding]]]] = []
        if prompt is not None:
            for moderator in self.prompt_moderators:
                tasks.append((moderator, partial(moderator.score, prompt)))
        for moderator in self.image_moderators:
            for clip in clips:
                tasks.append((moderator, partial(moderator.score, clip.subject, clip.frames)))
        policy = self.policies.for_tenant(tenant)
        deadline = time.monotonic() + self.check_timeout_s
        t0 = time.monotonic()
        pending = {self._submit(fn): m for m, fn in tasks}
        findings: list[Finding] = []
        runs: list[CheckRun] = []
        # What was evaluated: the categories of every check that completed, by subject kind.
        covered: dict[str, set[str]] = {"visual": set(), "text": set()}
        decided_by = ""
        while pending and not decided_by:
            done, _ = wait(
                pending, timeout=max(0.0, deadline - time.monotonic()), return_when=FIRST_COMPLETED
            )
            if not done:  # the deadline passed: every unfinished check fails closed
                for future, moderator in pending.items():
                    future.cancel()
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
                    findings += result
                    kind = "text" if moderator in self.prompt_moderators else "visual"
                    covered[kind].update(moderator.categories)
                    if _decisive(policy, result):
                        decided_by = moderator.name
                runs.append(run)
        # Stop early on a decisive block: checks still queued or running are not needed.
        for future, moderator in pending.items():
            future.cancel()
            runs.append(
                _check_run(moderator, stage, error=f"not needed: {decided_by} already blocked")
            )
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
        if self.allowlist is not None:
            try:
                self.allowlist.annotate(findings, tenant, content_sha256)
            except Exception:  # no answer: nothing is cleared, the policy decides as usual
                log.exception("allowlist lookup failed")
        kinds = {"text"} if prompt is not None else set()
        if clips:
            kinds.add("visual")
        return policy.decide(stage, findings, runs, unevaluated(covered, kinds))

    def _manifest(self, job: GenerateJob, verdict: Verdict) -> ManifestSpec:
        ingredients = []
        if job.image is not None:
            ext = job.image.mime_type.split("/")[1]
            ingredients.append(Ingredient(f"input.{ext}", job.image.mime_type, job.image.data))
        if job.driving is not None:
            ext = job.driving.mime_type.split("/")[1].removeprefix("x-")
            ingredients.append(
                Ingredient(f"driving.{ext}", job.driving.mime_type, job.driving.data)
            )
        return ManifestSpec(
            title=f"{job.request_id}.mp4",
            generator_name=f"reelguard/{self.generator.name}",
            generator_version=self.generator.version,
            model_id=self.generator.model_id,
            moderation=moderation_assertion(verdict),
            ingredients=ingredients,
        )

    # ---- human review ---------------------------------------------------------------

    def _hold(self, job: GenerateJob, verdict: Verdict, raw: Path, mime_type: str) -> Held:
        """Keep the unsigned output and what signing it needs; record the decision."""
        self._record(verdict, job.request_id, job.tenant, strict=True)
        spec = self._manifest(job, verdict)
        ingredients = []
        for i, ing in enumerate(spec.ingredients):
            path = self.review.held_dir / f"{job.request_id}-ingredient-{i}"
            path.write_bytes(ing.data)
            ingredients.append({"title": ing.title, "mime_type": ing.mime_type, "path": str(path)})
        held_spec = {
            "title": spec.title,
            "generator_name": spec.generator_name,
            "generator_version": spec.generator_version,
            "model_id": spec.model_id,
            "moderation": spec.moderation,
            "ingredients": ingredients,
        }
        ticket = self.review.hold(
            request_id=job.request_id,
            tenant=job.tenant,
            prompt=job.prompt,
            verdict=verdict,
            output=raw,
            mime_type=mime_type,
            spec=held_spec,
            content_sha256=job.image.sha256 if job.image else "",
        )
        return Held(ticket, verdict)

    def release_held(self, item: ReviewItem, review: dict) -> Released:
        """Sign an approved item; its manifest records the human review."""
        held_path = Path(item.held_path)
        frames = sample_video_frames(held_path, self.post_check_frames)
        verdict = Verdict(
            action=Action.ALLOW,
            stage=Stage.POST_CHECK,
            policy_version=item.verdict.get("policy_version", ""),
            decision_id=uuid.uuid4().hex,
        )
        held = item.spec
        spec = ManifestSpec(
            title=held["title"],
            generator_name=held["generator_name"],
            generator_version=held["generator_version"],
            model_id=held["model_id"],
            moderation={
                **held["moderation"],
                "action": "allow",
                "decision_id": verdict.decision_id,
                "held_decision_id": item.decision_id,
                "human_review": review,
            },
            ingredients=[
                Ingredient(i["title"], i["mime_type"], Path(i["path"]).read_bytes())
                for i in held["ingredients"]
            ],
        )
        signed = held_path.with_suffix(".signed.mp4")
        digest = self._sign_output(
            spec, frames, held_path, signed, item.mime_type, verdict, item.request_id, item.tenant
        )
        return Released(str(signed), digest, verdict.decision_id)

    def bank_rejected(self, item: ReviewItem, banks: HashBanks, bank: str) -> int:
        """Put a rejected item's content (output frames and input image) in `bank`, so
        the same content is blocked next time; returns how many hashes were added."""
        held = Path(item.held_path)
        frames = [f.pixels for f in sample_video_frames(held, self.post_check_frames)]
        for ing in item.spec["ingredients"]:
            if ing["mime_type"].startswith("image/"):
                data = Path(ing["path"]).read_bytes()
                frames.append(decode_image(data, max_pixels=MAX_BANKED_PIXELS).pixels)
        if bank not in {b.name for b in self.store.banks()}:
            banks.create(bank, DEFAULT_MAX_DISTANCE, "content rejected in human review")
        return len(banks.add(bank, media_hashes(frames), item.ticket, f"review {item.ticket}"))

    def _sign_output(
        self,
        spec: ManifestSpec,
        frames: list[Frame],
        source: Path,
        dest: Path,
        mime_type: str,
        verdict: Verdict,
        request_id: str,
        tenant: str,
        parent=None,
    ) -> str:
        """An allowed video, signed: watermarked (when on) with its manifest id, its
        fingerprint declared and the manifest kept findable by it, the decision recorded
        (or nothing leaves). Returns the signed file's SHA-256."""
        if self.watermarker is not None:
            with self.metrics.stage("watermark", parent):
                source = self._watermark(source, verdict.decision_id)
        with self.metrics.stage("sign", parent):
            fingerprint = fingerprint_frames([(f.time_s, f.pixels) for f in frames])
            spec = replace(
                spec,
                soft_binding=fingerprint.assertion(),
                moderation=self._with_watermark(spec.moderation, verdict.decision_id),
            )
            manifest = self.manifest_signer.sign_file(spec, source, dest, mime_type)
            self._remember(verdict.decision_id, fingerprint, manifest, mime_type)
            digest = _sha256_file(dest)
            self._record(verdict, request_id, tenant, output_sha256=digest, strict=True)
        return digest

    def _watermark(self, video: Path, manifest_id: str) -> Path:
        """A copy of `video` carrying the manifest id invisibly (signed in its place)."""
        marked = video.with_name(f"{video.stem}.wm.mp4")
        payload = watermark.payload_for(manifest_id)
        watermark.watermark_video(video, marked, payload, marker=self.watermarker)
        return marked

    def _with_watermark(self, moderation: dict, manifest_id: str) -> dict:
        if self.watermarker is None:
            return moderation
        payload = watermark.payload_for(manifest_id).hex()
        return {**moderation, "watermark": {"alg": self.watermarker.alg, "payload": payload}}

    def _fail(self, job: GenerateJob, stage: Stage, error: str) -> Failed:
        run = CheckRun(stage.name.lower(), "", "", stage, ok=False, error=error)
        verdict = self.policies.for_tenant(job.tenant).decide(stage, [], [run])
        self._record(verdict, job.request_id, job.tenant)
        return Failed(stage, error)

    def _record(
        self,
        verdict: Verdict,
        request_id: str,
        tenant: str,
        output_sha256: str = "",
        strict: bool = False,
    ) -> None:
        verdict.decision_id = verdict.decision_id or uuid.uuid4().hex
        self.metrics.count_verdict(verdict)
        try:
            self.store.record_decision(
                verdict.decision_id, request_id, tenant, verdict, output_sha256
            )
            if self.audit is not None:
                self.audit.record(
                    "reelguard",
                    "decision",
                    tenant,
                    verdict.decision_id,
                    {
                        "request_id": request_id,
                        "action": verdict.action.name.lower(),
                        "stage": verdict.stage.name.lower(),
                        "policy_version": verdict.policy_version,
                        "reasons": [f"{r.subject}/{r.category}" for r in verdict.reasons],
                        "output_sha256": output_sha256,
                    },
                )
        except Exception:
            if strict:  # an allowed output must not leave without its record
                raise
            log.exception("could not record decision %s", verdict.decision_id)


def moderation_assertion(verdict: Verdict) -> dict:
    """The C2PA summary of a verdict: checks and models, highest score per category."""
    top: dict[tuple[str, str, str], Finding] = {}
    for f in verdict.findings:
        key = (f.check, f.category, f.subject)
        if key not in top or f.score > top[key].score:
            top[key] = f
    return {
        "schema": "reelguard.moderation/1",
        "decision_id": verdict.decision_id,
        "action": verdict.action.name.lower(),
        "policy_version": verdict.policy_version,
        "unevaluated": verdict.unevaluated,
        "checks": [
            {
                "name": c.name,
                "stage": c.stage.name.lower(),
                "model": c.model,
                "model_version": c.model_version,
                "ok": c.ok,
            }
            for c in verdict.checks
        ],
        "scores": [
            {
                "check": f.check,
                "category": f.category,
                "subject": f.subject,
                "max_score": round(f.score, 4),
                "threshold": f.threshold,
            }
            for f in top.values()
        ],
        "consent": consent_bases(verdict),
    }


def consent_bases(verdict: Verdict) -> list[dict]:
    """Each (identity, grant) that authorized a likeness in this verdict, once."""
    bases: dict[tuple[str, str], dict] = {}
    for f in verdict.findings:
        if f.consent:
            basis = {"identity_id": f.identity_id, **f.consent}
            if basis["expires_at"] is None:
                del basis["expires_at"]
            bases.setdefault((f.identity_id, f.consent["grant_id"]), basis)
    return list(bases.values())


def validate_output(spec: OutputSpec, *, max_side: int, max_frames: int) -> OutputSpec:
    """Fill defaults (0 = unset) and reject what the encoder or our ceilings can't take."""
    d = OutputSpec()
    out = OutputSpec(
        width=spec.width or d.width,
        height=spec.height or d.height,
        fps=spec.fps or d.fps,
        num_frames=spec.num_frames or d.num_frames,
        seed=spec.seed,
    )
    for name, value in (("width", out.width), ("height", out.height)):
        if not 16 <= value <= max_side or value % 2:
            raise InvalidInput(f"output {name} {value} must be even and within 16..{max_side}")
    if not 1 <= out.fps <= 60:
        raise InvalidInput(f"output fps {out.fps} must be within 1..60")
    if not 1 <= out.num_frames <= max_frames:
        raise InvalidInput(f"output num_frames {out.num_frames} must be within 1..{max_frames}")
    return out


def _check_run(moderator, stage: Stage, **fields) -> CheckRun:
    """The record of one moderator's run (which model, which version) at a stage."""
    return CheckRun(moderator.name, moderator.model, moderator.model_version, stage, **fields)


def _decisive(policy: Policy, findings: list[Finding]) -> bool:
    """A finding that blocks whatever else is found: over a block threshold, and not a
    likeness (a consent grant may still authorize those)."""
    for finding in findings:
        if finding.category in LIKENESS_CATEGORIES:
            continue
        if policy.judge(replace(finding)).action == Action.BLOCK:
            return True
    return False


def _drain_while_running(future: Future, events: queue.Queue) -> Iterator[Progress]:
    while True:
        try:
            yield events.get(timeout=0.05)
        except queue.Empty:
            if future.done():
                break
    while not events.empty():
        yield events.get_nowait()


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


# Banking a rejected input decodes it again; it was within the request's ceiling already.
MAX_BANKED_PIXELS = 100_000_000


def _combine(pre: Verdict, post: Verdict) -> Verdict:
    """The request's verdict from both checks: the stricter action, all the evidence."""
    decider = post if post.action >= pre.action else pre
    return Verdict(
        action=decider.action,
        stage=decider.stage,
        policy_version=post.policy_version,
        reasons=pre.reasons + post.reasons if pre.action == post.action else decider.reasons,
        findings=pre.findings + post.findings,
        checks=pre.checks + post.checks,
        unevaluated=sorted(set(pre.unevaluated) | set(post.unevaluated)),
    )
