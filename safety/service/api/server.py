"""The gRPC front door: thin servicers that validate, call domain code, map errors.

Domain errors become status codes in exactly one place (`domain_errors`), so a
bad request gets INVALID_ARGUMENT with a message a person can act on and the
server keeps serving.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import inspect
import json
import logging
import shutil
import time
import uuid
from concurrent import futures
from pathlib import Path

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from generator.base import read_blocks
from indexes.errors import IndexEntryNotFound, IndexInputError
from indexes.hashbank import DEFAULT_MAX_DISTANCE, media_hashes
from indexes.pdq import from_hex
from reelguard.channel import grpc_options
from reelguard.v1 import reelguard_pb2 as pb
from reelguard.v1 import reelguard_pb2_grpc as rpc
from safety.auth import (
    ADMIN,
    ALL_TENANTS,
    GENERATOR_CLIENT,
    REVIEWER,
    ROLES,
    SENIOR_REVIEWER,
    Principal,
)
from safety.errors import (
    Busy,
    FailedPrecondition,
    Forbidden,
    InvalidInput,
    NotFound,
    Unauthenticated,
    Unavailable,
)
from safety.job import (
    Accepted,
    Blocked,
    Clip,
    Completed,
    DrivingVideo,
    Failed,
    GenerateJob,
    Held,
    OutputSpec,
    Progress,
    SignableMedia,
    validate_output,
)
from safety.media import Frame, VideoLimits, decode_image, decode_video
from safety.observability import REQUEST_ID
from safety.policy_loading import PolicyError
from safety.review import APPROVED, OPEN, PENDING, REJECTED, ReviewItem
from safety.service.admission import Overloaded
from safety.service.app import Service
from safety.store.records import Grant, IdentityRecord
from safety.verdict import Finding, Verdict
from signing.manifest import TRAINED_ALGORITHMIC_MEDIA, Ingredient, ManifestSpec
from signing.report import INVALID, NO_MANIFEST, TRUSTED, VALID_UNTRUSTED, VerifyReport
from signing.verify import sniff_mime

log = logging.getLogger(__name__)

CHUNK_BYTES = 1 << 20
# What Provenance.Sign embeds manifests into: MIME type -> file extension.
SIGNABLE = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/webp": "webp",
    "video/mp4": "mp4",
    "video/quicktime": "mov",
}
SERVICE_NAMES = [
    pb.DESCRIPTOR.services_by_name[n].full_name
    for n in (
        "Generation",
        "Moderation",
        "Provenance",
        "Identities",
        "Consent",
        "HashBanks",
        "Policies",
        "Decisions",
        "Clients",
        "Review",
    )
]
# Who may call what (issue: roles). Reading decisions is tenant-scoped for everyone.
MAY_GENERATE = (GENERATOR_CLIENT, ADMIN)
MAY_READ = ROLES  # verify media, read one's own tenant's decisions
ADMIN_ONLY = (ADMIN,)
REVIEWERS = (REVIEWER, SENIOR_REVIEWER, ADMIN)
TERMINAL = ("completed", "blocked", "failed", "held")


# Domain errors and the statuses they become, in one place.
STATUS_OF_ERROR = (
    (InvalidInput, grpc.StatusCode.INVALID_ARGUMENT),
    (IndexInputError, grpc.StatusCode.INVALID_ARGUMENT),
    (NotFound, grpc.StatusCode.NOT_FOUND),
    (IndexEntryNotFound, grpc.StatusCode.NOT_FOUND),
    (Overloaded, grpc.StatusCode.RESOURCE_EXHAUSTED),
    (Busy, grpc.StatusCode.ABORTED),
    (Unauthenticated, grpc.StatusCode.UNAUTHENTICATED),
    (Forbidden, grpc.StatusCode.PERMISSION_DENIED),
    (Unavailable, grpc.StatusCode.UNAVAILABLE),
    (FailedPrecondition, grpc.StatusCode.FAILED_PRECONDITION),
)
DOMAIN_ERRORS = tuple(error for error, _ in STATUS_OF_ERROR)


@contextlib.contextmanager
def domain_errors(context):
    """Map domain exceptions to gRPC statuses; anything else propagates as INTERNAL (logged)."""
    try:
        yield
    except DOMAIN_ERRORS as e:
        code = next(code for error, code in STATUS_OF_ERROR if isinstance(e, error))
        context.abort(code, str(e))


def _peer_cn(context) -> str:
    """The verified client-certificate CN on an mTLS connection, else ""."""
    names = context.auth_context().get("x509_common_name") or []
    return names[0].decode() if names else ""


def guarded(*roles: str):
    """Declare who may call an RPC. The wrapper authenticates the caller, checks its role
    and maps domain errors to statuses; the method receives the caller's Principal."""
    allowed = frozenset(roles)

    def decorate(method):
        name = method.__qualname__.replace("Servicer.", ".")  # e.g. "Generation.Generate"

        def principal(self, context) -> Principal:
            auth = self.service.auth
            caller = auth.authenticate(context.invocation_metadata(), _peer_cn(context))
            auth.authorize(caller, allowed, name)
            self.service.health.require(name)
            return caller

        @contextlib.contextmanager
        def measured(self, context):
            t0 = time.perf_counter()
            try:
                yield
            finally:
                code = context.code() or grpc.StatusCode.OK
                metrics = self.service.metrics
                metrics.requests.labels(name, code.name).inc()
                metrics.rpc_seconds.labels(name).observe(time.perf_counter() - t0)

        if inspect.isgeneratorfunction(method):

            @functools.wraps(method)
            def wrapper(self, request, context):
                with measured(self, context), domain_errors(context):
                    yield from method(self, request, context, principal(self, context))
        else:

            @functools.wraps(method)
            def wrapper(self, request, context):
                with measured(self, context), domain_errors(context):
                    return method(self, request, context, principal(self, context))

        wrapper.roles = allowed
        return wrapper

    return decorate


# ---- conversions ----------------------------------------------------------------------


def finding_pb(f: Finding) -> pb.Finding:
    msg = pb.Finding(
        check=f.check,
        category=f.category,
        subject=f.subject,
        score=f.score,
        threshold=f.threshold,
        action=int(f.action),
        detail=f.detail,
        identity_id=f.identity_id,
        identity_name=f.identity_name,
        frame_time_s=f.frame_time_s,
    )
    if f.box:
        msg.box.CopyFrom(pb.BoundingBox(x=f.box[0], y=f.box[1], width=f.box[2], height=f.box[3]))
    if f.bank:
        msg.bank = f.bank
        msg.distance = f.distance
    if f.track_id >= 0:
        msg.track_id = f.track_id
        msg.track_times_s.extend(f.track_times_s)
    if f.consent:
        msg.consent.CopyFrom(
            pb.ConsentBasis(
                grant_id=f.consent["grant_id"],
                scope=f.consent["scope"],
                expires_at=f.consent["expires_at"] or 0.0,
                grantor=f.consent["grantor"],
            )
        )
    return msg


def grant_pb(g: Grant) -> pb.ConsentGrant:
    return pb.ConsentGrant(
        id=g.id,
        tenant=g.tenant,
        identity_id=g.identity_id,
        scopes=g.scopes,
        grantor=g.grantor,
        created_at=g.created_at,
        expires_at=g.expires_at or 0.0,
        revoked_at=g.revoked_at or 0.0,
        revoked_by=g.revoked_by,
        active=g.active(time.time()),
    )


def identity_pb(r: IdentityRecord, grants: list[Grant] = ()) -> pb.Identity:
    return pb.Identity(
        id=r.id,
        name=r.name,
        aliases=r.aliases,
        reference_count=r.reference_count,
        external_id=r.external_id,
        created_at=r.created_at,
        references=[
            pb.Reference(
                vector_id=ref.vector_id, image_sha256=ref.image_sha256, created_at=ref.created_at
            )
            for ref in r.references
        ],
        grants=[grant_pb(g) for g in grants],
    )


def verdict_pb(v: Verdict) -> pb.Verdict:
    return pb.Verdict(
        action=int(v.action),
        reasons=[finding_pb(f) for f in v.reasons],
        findings=[finding_pb(f) for f in v.findings],
        checks=[
            pb.CheckRun(
                name=c.name,
                model=c.model,
                model_version=c.model_version,
                ok=c.ok,
                error=c.error,
                seconds=c.seconds,
                stage=int(c.stage),
            )
            for c in v.checks
        ],
        policy_version=v.policy_version,
        decision_id=v.decision_id,
        stage=int(v.stage),
        unevaluated_categories=v.unevaluated,
    )


_STATUS = {
    TRUSTED: pb.VerifyReport.TRUSTED,
    VALID_UNTRUSTED: pb.VerifyReport.VALID_UNTRUSTED,
    INVALID: pb.VerifyReport.INVALID,
    NO_MANIFEST: pb.VerifyReport.NO_MANIFEST,
}


def report_pb(r: VerifyReport) -> pb.VerifyReport:
    return pb.VerifyReport(
        status=_STATUS[r.status],
        summary=r.summary,
        signer=r.signer,
        issuer=r.issuer,
        actions=r.actions,
        ingredients=[i["title"] for i in r.ingredients],
        moderation_json=json.dumps(r.moderation) if r.moderation is not None else "",
        recovered_manifest=(r.recovered or {}).get("manifest", ""),
        failures=[
            pb.ValidationStatus(
                code=s["code"], explanation=s["explanation"], url=s["url"], kind=s["kind"]
            )
            for s in r.failures
        ],
        report_json=r.to_json(),
    )


# ---- servicers -------------------------------------------------------------------------


class _Servicer:
    """Every servicer is a thin adapter over the one Service."""

    def __init__(self, service: Service) -> None:
        self.service = service


class GenerationServicer(_Servicer, rpc.GenerationServicer):
    @guarded(*MAY_GENERATE)
    def Generate(self, request: pb.GenerateRequest, context, caller: Principal):
        tenant, key = caller.tenant_for(request.tenant), request.idempotency_key
        request_id = uuid.uuid4().hex
        log_context = REQUEST_ID.set(request_id)  # on every log line of this request
        try:
            yield from self._generate(request, context, tenant, key, request_id)
        finally:
            REQUEST_ID.reset(log_context)

    def _generate(self, request, context, tenant: str, key: str, request_id: str):
        if key:
            previous = self._claim(tenant, key, request, request_id)
            if previous is not None:
                yield from self._replay(previous)
                return
        finished = False
        try:
            # A slot first: over a ceiling the caller hears so before any decoding.
            with self.service.admission.slot(tenant):
                job = self._job(request, request_id, tenant)
                # The RPC ending for any reason (done, cancelled, deadline) stops generating.
                context.add_callback(job.cancel.set)
                for event in self._events(job, keep_output=bool(key)):
                    final = event.WhichOneof("event") in TERMINAL
                    # A request cut short by its client is not a result to replay.
                    if key and final and not job.cancel.is_set():
                        self.service.store.finish_idempotency(
                            tenant, key, event.SerializeToString(), self._kept(request_id)
                        )
                        finished = True
                    yield event
        finally:
            if key and not finished:
                self.service.store.release_idempotency(tenant, key)

    def _claim(self, tenant: str, key: str, request: pb.GenerateRequest, request_id: str):
        """None if this request now owns the key; else the earlier request's record."""
        body = pb.GenerateRequest()
        body.CopyFrom(request)
        body.ClearField("idempotency_key")
        digest = hashlib.sha256(body.SerializeToString(deterministic=True)).hexdigest()
        record = self.service.store.claim_idempotency(tenant, key, digest, request_id)
        if record is None:
            return None
        if record.request_sha256 != digest:
            raise InvalidInput(
                f"idempotency key {key!r} was already used for a different request; "
                "use a new key for a new request"
            )
        if record.terminal is None:
            raise Busy(f"a request with idempotency key {key!r} is still running; retry later")
        return record

    def _replay(self, record):
        """The earlier request's result again: same request id, output and verdict."""
        terminal = pb.GenerateEvent.FromString(record.terminal)
        yield pb.GenerateEvent(accepted=pb.Accepted(request_id=record.request_id))
        if terminal.WhichOneof("event") == "completed":
            yield from _chunks(Path(record.output_path))
        yield terminal

    def _kept(self, request_id: str) -> str:
        path = self.service.config.data_dir / "outputs" / f"{request_id}.mp4"
        return str(path) if path.exists() else ""

    def _job(self, request: pb.GenerateRequest, request_id: str, tenant: str) -> GenerateJob:
        cfg = self.service.config
        prompt = request.prompt.strip()
        if not prompt:
            raise InvalidInput("prompt is empty; describe the video to generate")
        if len(prompt) > cfg.max_prompt_chars:
            raise InvalidInput(
                f"prompt has {len(prompt)} characters, over the {cfg.max_prompt_chars} limit"
            )
        driving = None
        if request.HasField("driving_video"):
            data = request.driving_video.data
            frames = decode_video(
                data,
                _video_limits(cfg),
                cfg.driving_video_frames,
                self.service.gate.work_dir,
                label="driving video",
            )
            driving = DrivingVideo(data, sniff_mime(data) or "video/mp4", frames)
        image = (
            decode_image(request.image.data, max_pixels=cfg.max_image_pixels, label="input image")
            if request.HasField("image")
            else None
        )
        o = request.output
        output = validate_output(
            OutputSpec(o.width, o.height, o.fps, o.num_frames, o.seed),
            max_side=cfg.max_output_side,
            max_frames=cfg.max_output_frames,
        )
        return GenerateJob(
            request_id=request_id,
            tenant=tenant,
            prompt=prompt,
            image=image,
            output=output,
            driving=driving,
        )

    def _events(self, job: GenerateJob, keep_output: bool = False):
        for event in self.service.gate.generate(job):
            if isinstance(event, Accepted):
                yield pb.GenerateEvent(accepted=pb.Accepted(request_id=event.request_id))
            elif isinstance(event, Progress):
                yield pb.GenerateEvent(
                    progress=pb.Progress(
                        stage=int(event.stage),
                        done=event.done,
                        total=event.total,
                        message=event.message,
                    )
                )
            elif isinstance(event, Completed):
                if keep_output:  # a retry with the same idempotency key gets this file
                    kept = self.service.config.data_dir / "outputs" / f"{job.request_id}.mp4"
                    kept.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(event.path, kept)
                yield from _chunks(event.path)
                yield pb.GenerateEvent(
                    completed=pb.Completed(
                        mime_type=event.mime_type,
                        size=event.size,
                        sha256=event.sha256,
                        verdict=verdict_pb(event.verdict),
                    )
                )
            elif isinstance(event, Blocked):
                yield pb.GenerateEvent(blocked=pb.Blocked(verdict=verdict_pb(event.verdict)))
            elif isinstance(event, Failed):
                yield pb.GenerateEvent(failed=pb.Failed(stage=int(event.stage), error=event.error))
            elif isinstance(event, Held):
                yield pb.GenerateEvent(
                    held=pb.Held(
                        ticket=event.ticket, verdict=verdict_pb(event.verdict), status=PENDING
                    )
                )

    @guarded(*MAY_GENERATE)
    def GetResult(self, request: pb.TicketRef, context, caller: Principal):
        item = self.service.review.get_for(request.ticket, caller)
        yield pb.GenerateEvent(accepted=pb.Accepted(request_id=item.request_id))
        if item.status == APPROVED:
            yield from _chunks(Path(item.signed_path))
            yield pb.GenerateEvent(
                completed=pb.Completed(
                    mime_type=item.mime_type,
                    size=Path(item.signed_path).stat().st_size,
                    sha256=item.signed_sha256,
                    verdict=review_verdict_pb(item),
                )
            )
        elif item.status == REJECTED:
            yield pb.GenerateEvent(blocked=pb.Blocked(verdict=review_verdict_pb(item)))
        else:
            verdict = verdict_pb(Verdict.from_dict(item.verdict))
            yield pb.GenerateEvent(
                held=pb.Held(ticket=item.ticket, verdict=verdict, status=item.status)
            )


def review_verdict_pb(item: ReviewItem) -> pb.Verdict:
    """The final verdict of a reviewed item: the human decision, with the evidence."""
    verdict = verdict_pb(Verdict.from_dict(item.verdict))
    verdict.action = pb.ALLOW if item.status == APPROVED else pb.BLOCK
    verdict.reasons.append(
        pb.Finding(
            check="human_review",
            category=item.reason_code or "",
            subject="review",
            score=1.0,
            action=verdict.action,
            detail=f"{item.decision} by reviewer {item.decided_by}: {item.reason_code}",
        )
    )
    return verdict


def review_item_pb(item: ReviewItem) -> pb.ReviewItem:
    return pb.ReviewItem(
        ticket=item.ticket,
        request_id=item.request_id,
        tenant=item.tenant,
        prompt=item.prompt,
        category=item.category,
        priority=item.priority,
        status=item.status,
        claimed_by=item.claimed_by or "",
        claim_expires=item.claim_expires or 0.0,
        verdict=verdict_pb(Verdict.from_dict(item.verdict)),
        decision=item.decision or "",
        reason_code=item.reason_code or "",
        notes=item.notes or "",
        decided_by=item.decided_by or "",
        created_at=item.created_at,
        appeal_reason=item.appeal_reason or "",
    )


class ReviewServicer(_Servicer, rpc.ReviewServicer):
    @guarded(*REVIEWERS)
    def List(self, request: pb.ListReviewRequest, context, caller: Principal):
        items = self.service.review.list(
            tuple(request.statuses) or OPEN,
            request.tenant if caller.tenant == ALL_TENANTS else caller.tenant,
            request.category,
            request.min_priority,
            min(request.limit or 100, 1000),
            request.older_than_s,
        )
        return pb.ListReviewResponse(items=[review_item_pb(i) for i in items])

    @guarded(*REVIEWERS)
    def Get(self, request: pb.TicketRef, context, caller: Principal):
        return review_item_pb(self.service.review.get_for(request.ticket, caller))

    @guarded(*REVIEWERS)
    def Claim(self, request: pb.TicketRef, context, caller: Principal):
        self.service.review.get_for(request.ticket, caller)
        return review_item_pb(self.service.review.claim(request.ticket, caller))

    @guarded(*REVIEWERS)
    def Decide(self, request: pb.DecideRequest, context, caller: Principal):
        if not request.tickets:
            raise InvalidInput("name at least one ticket")
        results = []
        for ticket in request.tickets:
            try:
                item = self.service.review.claim_and_decide(
                    ticket,
                    caller,
                    request.decision,
                    request.reason_code,
                    request.notes,
                    request.allowlist_content,
                    request.allowlist_identity,
                )
                results.append(pb.DecideResult(ticket=ticket, ok=True, item=review_item_pb(item)))
            except (InvalidInput, NotFound, Busy, Forbidden) as e:
                if len(request.tickets) == 1:
                    raise  # one ticket: its error is the call's status
                results.append(pb.DecideResult(ticket=ticket, ok=False, error=str(e)))
        return pb.DecideResponse(results=results)

    @guarded(*REVIEWERS, GENERATOR_CLIENT)
    def Appeal(self, request: pb.AppealRequest, context, caller: Principal):
        self.service.review.get_for(request.ticket, caller)
        return review_item_pb(self.service.review.appeal(request.ticket, caller, request.reason))


def _chunks(path: Path):
    for offset, block in read_blocks(path, CHUNK_BYTES):
        yield pb.GenerateEvent(output_chunk=pb.OutputChunk(data=block, offset=offset))


class ModerationServicer(_Servicer, rpc.ModerationServicer):
    @guarded(*MAY_GENERATE)
    def Check(self, request: pb.CheckRequest, context, caller: Principal):
        cfg = self.service.config
        prompt = request.prompt.strip() or None
        if prompt is None and not request.HasField("media"):
            raise InvalidInput("nothing to check: send a prompt, media, or both")
        if prompt and len(prompt) > cfg.max_prompt_chars:
            raise InvalidInput(
                f"prompt has {len(prompt)} characters, over the {cfg.max_prompt_chars} limit"
            )
        clips, scope = [], "video"
        if request.HasField("media"):
            clips.append(media_clip(self.service, request.media.data))
            scope = "video" if clips[0].subject.endswith("_video") else "image"
        verdict = self.service.gate.check(caller.tenant_for(request.tenant), prompt, clips, scope)
        return verdict_pb(verdict)


def _video_limits(cfg) -> VideoLimits:
    return VideoLimits(cfg.max_video_seconds, cfg.max_video_side, cfg.max_image_pixels)


def media_clip(service: Service, data: bytes, label: str = "media") -> Clip:
    """An uploaded image (one frame) or video (sampled frames) as a clip, within the
    configured ceilings; subject "<label>" or "<label>_video"."""
    cfg = service.config
    if sniff_mime(data).startswith("video/"):
        frames = decode_video(
            data, _video_limits(cfg), cfg.post_check_frames, service.gate.work_dir, label=label
        )
        return Clip(f"{label}_video", frames)
    image = decode_image(data, max_pixels=cfg.max_image_pixels, label=label)
    return Clip(label, [Frame(0.0, image.pixels)])


class ProvenanceServicer(_Servicer, rpc.ProvenanceServicer):
    @guarded(*MAY_GENERATE)
    def Sign(self, request: pb.SignRequest, context, caller: Principal):
        data = request.media.data
        mime = sniff_mime(data)
        if mime not in SIGNABLE:
            raise InvalidInput(
                f"media is {mime or 'in an unsupported format'}; sign JPEG, PNG, WebP, MP4 or MOV"
            )
        clip = media_clip(self.service, data)
        ingredients = []
        for i, m in enumerate(request.ingredients):
            if not m.data:
                raise InvalidInput(f"ingredient {i + 1} is empty")
            ingredients.append(
                Ingredient(
                    m.filename or f"ingredient-{i + 1}",
                    sniff_mime(m.data) or m.mime_type or "application/octet-stream",
                    m.data,
                )
            )
        spec = ManifestSpec(
            title=request.media.filename or f"signed.{SIGNABLE[mime]}",
            generator_name=request.generator_name or "unspecified",
            generator_version=request.generator_version or "",
            model_id=request.model_id or "",
            moderation={},
            ingredients=ingredients,
            digital_source_type=request.digital_source_type or TRAINED_ALGORITHMIC_MEDIA,
        )
        verdict, signed = self.service.gate.sign(
            caller.tenant_for(request.tenant), SignableMedia(data, mime, clip), spec
        )
        response = pb.SignResponse(verdict=verdict_pb(verdict))
        if signed:
            response.signed.CopyFrom(pb.Media(data=signed, mime_type=mime, filename=spec.title))
        return response

    @guarded(*MAY_READ)
    def Verify(self, request: pb.VerifyRequest, context, caller: Principal):
        if not request.media.data:
            raise InvalidInput("media is empty; send the file to verify")
        return report_pb(
            self.service.verifier.verify_bytes(request.media.data, request.media.mime_type)
        )


class IdentitiesServicer(_Servicer, rpc.IdentitiesServicer):
    @guarded(*ADMIN_ONLY)
    def Enroll(self, request: pb.EnrollRequest, context, caller: Principal):
        cfg = self.service.config
        images = [
            decode_image(
                m.data, max_pixels=cfg.max_image_pixels, label=m.filename or f"image {i + 1}"
            )
            for i, m in enumerate(request.images)
        ]
        record = self.service.enroller.enroll(
            request.name, list(request.aliases), images, request.external_id
        )
        return identity_pb(record)

    @guarded(*ADMIN_ONLY)
    def List(self, request, context, caller: Principal):
        return pb.ListIdentitiesResponse(
            identities=[identity_pb(r) for r in self.service.store.identities()]
        )

    @guarded(*ADMIN_ONLY)
    def Show(self, request: pb.IdentityRef, context, caller: Principal):
        record = self.service.store.identity(request.id)
        if record is None:
            raise NotFound(f"no enrolled identity {request.id!r}")
        return identity_pb(record, self.service.store.grants(identity_id=request.id))

    @guarded(*ADMIN_ONLY)
    def Remove(self, request: pb.IdentityRef, context, caller: Principal):
        return identity_pb(self.service.enroller.remove(request.id))

    @guarded(*ADMIN_ONLY)
    def ReloadIndex(self, request: pb.ReloadIndexRequest, context, caller: Principal):
        enroller = self.service.enroller
        count = enroller.rebuild() if request.rebuild else enroller.reload()
        return pb.ReloadIndexResponse(vectors=count, kind=enroller.index.kind)


class ConsentServicer(_Servicer, rpc.ConsentServicer):
    @guarded(*ADMIN_ONLY)
    def Grant(self, request: pb.GrantRequest, context, caller: Principal):
        grant = self.service.consent.grant(
            request.tenant,
            request.identity_id,
            list(request.scopes),
            request.grantor,
            request.expires_at or None,
        )
        return grant_pb(grant)

    @guarded(*ADMIN_ONLY)
    def Revoke(self, request: pb.RevokeRequest, context, caller: Principal):
        return grant_pb(self.service.consent.revoke(request.grant_id, request.revoked_by))

    @guarded(*ADMIN_ONLY)
    def List(self, request: pb.ListGrantsRequest, context, caller: Principal):
        grants = self.service.store.grants(request.tenant, request.identity_id)
        return pb.ListGrantsResponse(grants=[grant_pb(g) for g in grants])


class HashBanksServicer(_Servicer, rpc.HashBanksServicer):
    @guarded(*ADMIN_ONLY)
    def Create(self, request: pb.CreateBankRequest, context, caller: Principal):
        bank = self.service.banks.create(
            request.name, request.max_distance or DEFAULT_MAX_DISTANCE, request.description
        )
        return pb.HashBank(
            name=bank.name, max_distance=bank.max_distance, description=bank.description
        )

    @guarded(*ADMIN_ONLY)
    def Add(self, request: pb.AddToBankRequest, context, caller: Principal):
        hashes = []
        for text in request.pdq_hex:
            try:
                from_hex(text.strip().lower())
            except ValueError as e:
                raise InvalidInput(f"not a PDQ hash: {text!r} ({e})") from None
            hashes.append(text.strip().lower())
        media_id = uuid.uuid4().hex[:12]
        if request.HasField("media"):
            clip = media_clip(self.service, request.media.data)
            hashes += media_hashes([f.pixels for f in clip.frames])
        if not hashes:
            raise InvalidInput("nothing to add: send media or PDQ hashes")
        ids = self.service.banks.add(request.bank, hashes, media_id, request.note)
        return pb.AddToBankResponse(entry_ids=ids, pdq_hex=hashes)

    @guarded(*ADMIN_ONLY)
    def Remove(self, request: pb.RemoveFromBankRequest, context, caller: Principal):
        self.service.banks.remove(request.entry_id)
        return pb.RemoveFromBankResponse()

    @guarded(*ADMIN_ONLY)
    def List(self, request, context, caller: Principal):
        counts: dict[str, int] = {}
        for entry in self.service.store.bank_entries():
            counts[entry.bank] = counts.get(entry.bank, 0) + 1
        return pb.ListBanksResponse(
            banks=[
                pb.HashBank(
                    name=b.name,
                    max_distance=b.max_distance,
                    description=b.description,
                    entries=counts.get(b.name, 0),
                )
                for b in self.service.store.banks()
            ]
        )


class PoliciesServicer(_Servicer, rpc.PoliciesServicer):
    @guarded(*ADMIN_ONLY)
    def Reload(self, request, context, caller: Principal):
        try:
            versions = self.service.gate.policies.reload()
        except PolicyError as e:
            raise InvalidInput(f"policies not reloaded: {e}") from None
        return pb.ReloadPoliciesResponse(
            policies=[pb.PolicyVersion(tenant=t, version=v) for t, v in versions.items()]
        )

    @guarded(*ADMIN_ONLY)
    def Get(self, request: pb.GetPolicyRequest, context, caller: Principal):
        policy = self.service.gate.policies.for_tenant(request.tenant)
        return pb.GetPolicyResponse(
            name=policy.name,
            version=policy.version,
            rules=[
                pb.PolicyRule(
                    category=c,
                    threshold=r.threshold,
                    action=int(r.action),
                    required=list(r.required),
                )
                for c, r in sorted(policy.rules.items())
            ],
        )


def decision_pb(record: dict) -> pb.Decision:
    msg = pb.Decision(
        id=record["id"],
        request_id=record["request_id"],
        tenant=record["tenant"],
        stage=pb.Stage.Value(record["stage"].upper()),
        action=pb.Action.Value(record["action"].upper()),
        policy_version=record["policy_version"],
        created_at=record["created_at"],
    )
    if "evidence" in record:
        msg.evidence_json = json.dumps(record["evidence"])
    return msg


class DecisionsServicer(_Servicer, rpc.DecisionsServicer):
    @guarded(*MAY_READ)
    def Get(self, request: pb.DecisionRef, context, caller: Principal):
        record = self.service.store.decision(request.id)
        # Another tenant's record reads exactly like a missing one: ids leak nothing.
        if record is None or not caller.sees(record["tenant"]):
            raise NotFound(f"no decision {request.id!r}")
        return decision_pb(record)

    @guarded(*MAY_READ)
    def List(self, request: pb.ListDecisionsRequest, context, caller: Principal):
        tenant = request.tenant if caller.tenant == ALL_TENANTS else caller.tenant
        limit = min(request.limit or 100, 1000)
        return pb.ListDecisionsResponse(
            decisions=[decision_pb(r) for r in self.service.store.decisions(tenant, limit)]
        )


def client_pb(c) -> pb.Client:
    return pb.Client(
        id=c.id,
        name=c.name,
        tenant=c.tenant,
        role=c.role,
        cert_subject=c.cert_subject,
        created_at=c.created_at,
        revoked_at=c.revoked_at or 0.0,
    )


class ClientsServicer(_Servicer, rpc.ClientsServicer):
    @guarded(*ADMIN_ONLY)
    def Create(self, request: pb.CreateClientRequest, context, caller: Principal):
        record, token = self.service.auth.create_client(
            request.name, request.tenant, request.role, request.cert_subject, not request.no_token
        )
        return pb.CreateClientResponse(client=client_pb(record), token=token)

    @guarded(*ADMIN_ONLY)
    def List(self, request, context, caller: Principal):
        return pb.ListClientsResponse(clients=[client_pb(c) for c in self.service.store.clients()])

    @guarded(*ADMIN_ONLY)
    def Revoke(self, request: pb.ClientRef, context, caller: Principal):
        return client_pb(self.service.auth.revoke(request.id))


def _listen(server: grpc.Server, config, address: str) -> int:
    """Bind with TLS when a certificate is configured (mTLS with a client CA), else plaintext."""
    if not config.tls_cert:
        return server.add_insecure_port(address)
    if not config.tls_key:
        raise ValueError("tls_cert is set but tls_key is not")
    client_ca = config.tls_client_ca.read_bytes() if config.tls_client_ca else None
    credentials = grpc.ssl_server_credentials(
        [(config.tls_key.read_bytes(), config.tls_cert.read_bytes())],
        root_certificates=client_ca,
        require_client_auth=client_ca is not None,
    )
    return server.add_secure_port(address, credentials)


def start_server(service: Service, address: str | None = None, max_workers: int = 8):
    """Start serving; returns (server, bound port). Health reports SERVING once up."""
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="grpc"),
        options=grpc_options(service.config.max_message_bytes),
    )
    rpc.add_GenerationServicer_to_server(GenerationServicer(service), server)
    rpc.add_ModerationServicer_to_server(ModerationServicer(service), server)
    rpc.add_ProvenanceServicer_to_server(ProvenanceServicer(service), server)
    rpc.add_IdentitiesServicer_to_server(IdentitiesServicer(service), server)
    rpc.add_ConsentServicer_to_server(ConsentServicer(service), server)
    rpc.add_HashBanksServicer_to_server(HashBanksServicer(service), server)
    rpc.add_PoliciesServicer_to_server(PoliciesServicer(service), server)
    rpc.add_DecisionsServicer_to_server(DecisionsServicer(service), server)
    rpc.add_ClientsServicer_to_server(ClientsServicer(service), server)
    rpc.add_ReviewServicer_to_server(ReviewServicer(service), server)
    health_servicer = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection(
        [
            *SERVICE_NAMES,
            health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
            reflection.SERVICE_NAME,
        ],
        server,
    )
    port = _listen(server, service.config, address or service.config.grpc_address)
    if port == 0:
        raise RuntimeError(f"cannot listen on {address or service.config.grpc_address}")
    server.start()
    for name in ["", *SERVICE_NAMES]:
        health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)

    def publish(short_name: str, serving: bool) -> None:
        status = health_pb2.HealthCheckResponse
        name = f"{pb.DESCRIPTOR.package}.{short_name}" if short_name else ""
        health_servicer.set(name, status.SERVING if serving else status.NOT_SERVING)

    service.health.on_change(publish)
    service.health.start()
    log.info("listening on %s", address or service.config.grpc_address)
    return server, port
