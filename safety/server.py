"""The gRPC front door: thin servicers that validate, call domain code, map errors.

Domain errors become status codes in exactly one place (`domain_errors`), so a
bad request gets INVALID_ARGUMENT with a message a person can act on and the
server keeps serving.
"""

from __future__ import annotations

import contextlib
import logging
import tempfile
import uuid
from concurrent import futures
from pathlib import Path

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from reelguard.v1 import reelguard_pb2 as pb
from reelguard.v1 import reelguard_pb2_grpc as rpc
from safety.app import Service
from safety.errors import InvalidInput, NotFound
from safety.media import decode_image, sample_video_frames
from safety.pipeline import (
    Accepted,
    Blocked,
    Completed,
    Failed,
    GenerateJob,
    OutputSpec,
    Progress,
    validate_output,
)
from safety.verdict import Finding, Verdict
from signing.verify import INVALID, NO_MANIFEST, TRUSTED, VALID_UNTRUSTED, VerifyReport, sniff_mime

log = logging.getLogger(__name__)

CHUNK_BYTES = 1 << 20
SERVICE_NAMES = [
    pb.DESCRIPTOR.services_by_name[n].full_name
    for n in ("Generation", "Moderation", "Provenance", "Identities")
]


@contextlib.contextmanager
def domain_errors(context):
    """Map domain exceptions to gRPC statuses; anything else propagates as INTERNAL (logged)."""
    try:
        yield
    except InvalidInput as e:
        context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(e))
    except NotFound as e:
        context.abort(grpc.StatusCode.NOT_FOUND, str(e))


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
    return msg


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
    )


_STATUS = {
    TRUSTED: pb.VerifyReport.TRUSTED,
    VALID_UNTRUSTED: pb.VerifyReport.VALID_UNTRUSTED,
    INVALID: pb.VerifyReport.INVALID,
    NO_MANIFEST: pb.VerifyReport.NO_MANIFEST,
}


def report_pb(r: VerifyReport) -> pb.VerifyReport:
    import json

    return pb.VerifyReport(
        status=_STATUS[r.status],
        summary=r.summary,
        signer=r.signer,
        issuer=r.issuer,
        actions=r.actions,
        ingredients=[i["title"] for i in r.ingredients],
        moderation_json=json.dumps(r.moderation) if r.moderation is not None else "",
        failures=[
            pb.ValidationStatus(
                code=s["code"], explanation=s["explanation"], url=s["url"], kind=s["kind"]
            )
            for s in r.failures
        ],
        report_json=r.to_json(),
    )


# ---- servicers -------------------------------------------------------------------------


class GenerationServicer(rpc.GenerationServicer):
    def __init__(self, service: Service) -> None:
        self.service = service

    def Generate(self, request: pb.GenerateRequest, context):
        with domain_errors(context):
            yield from self._generate(request)

    def _generate(self, request: pb.GenerateRequest):
        cfg = self.service.config
        prompt = request.prompt.strip()
        if not prompt:
            raise InvalidInput("prompt is empty; describe the video to generate")
        if len(prompt) > cfg.max_prompt_chars:
            raise InvalidInput(
                f"prompt has {len(prompt)} characters, over the {cfg.max_prompt_chars} limit"
            )
        if request.HasField("driving_video"):
            raise InvalidInput("driving videos are not supported yet; send a prompt and image")
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
        job = GenerateJob(
            request_id=uuid.uuid4().hex,
            tenant=request.tenant or "default",
            prompt=prompt,
            image=image,
            output=output,
        )
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
                with open(event.path, "rb") as f:
                    offset = 0
                    while block := f.read(CHUNK_BYTES):
                        yield pb.GenerateEvent(
                            output_chunk=pb.OutputChunk(data=block, offset=offset)
                        )
                        offset += len(block)
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


class ModerationServicer(rpc.ModerationServicer):
    def __init__(self, service: Service) -> None:
        self.service = service

    def Check(self, request: pb.CheckRequest, context):
        with domain_errors(context):
            return self._check(request)

    def _check(self, request):
        cfg = self.service.config
        prompt = request.prompt.strip() or None
        if prompt is None and not request.HasField("media"):
            raise InvalidInput("nothing to check: send a prompt, media, or both")
        if prompt and len(prompt) > cfg.max_prompt_chars:
            raise InvalidInput(
                f"prompt has {len(prompt)} characters, over the {cfg.max_prompt_chars} limit"
            )
        subjects = []
        if request.HasField("media"):
            subjects = self._subjects(request.media)
        verdict = self.service.gate.check(request.tenant or "default", prompt, subjects)
        return verdict_pb(verdict)

    def _subjects(self, media: pb.Media):
        cfg = self.service.config
        if sniff_mime(media.data).startswith("video/"):
            with tempfile.NamedTemporaryFile(suffix=".video", dir=self.service.gate.work_dir) as f:
                f.write(media.data)
                f.flush()
                try:
                    frames = sample_video_frames(Path(f.name), cfg.post_check_frames)
                except Exception as e:
                    raise InvalidInput(f"video cannot be decoded: {e}") from None
            if not frames:
                raise InvalidInput("video has no decodable frames")
            for frame in frames:
                h, w = frame.pixels.shape[:2]
                if w * h > cfg.max_image_pixels:
                    raise InvalidInput(f"video frames are {w}×{h}, over the pixel limit")
            return [("media_frame", fr.pixels, fr.time_s) for fr in frames]
        image = decode_image(media.data, max_pixels=cfg.max_image_pixels, label="media")
        return [("media", image.pixels, 0.0)]


class ProvenanceServicer(rpc.ProvenanceServicer):
    def __init__(self, service: Service) -> None:
        self.service = service

    def Verify(self, request: pb.VerifyRequest, context):
        with domain_errors(context):
            return self._verify(request)

    def _verify(self, request):
        if not request.media.data:
            raise InvalidInput("media is empty; send the file to verify")
        return report_pb(
            self.service.verifier.verify_bytes(request.media.data, request.media.mime_type)
        )


class IdentitiesServicer(rpc.IdentitiesServicer):
    def __init__(self, service: Service) -> None:
        self.service = service

    def Enroll(self, request: pb.EnrollRequest, context):
        with domain_errors(context):
            return self._enroll(request)

    def _enroll(self, request):
        cfg = self.service.config
        images = [
            decode_image(
                m.data, max_pixels=cfg.max_image_pixels, label=m.filename or f"image {i + 1}"
            )
            for i, m in enumerate(request.images)
        ]
        record = self.service.enroller.enroll(request.name, list(request.aliases), images)
        return pb.Identity(
            id=record.id,
            name=record.name,
            aliases=record.aliases,
            reference_count=record.reference_count,
        )

    def List(self, request, context):
        with domain_errors(context):
            return self._list(request)

    def _list(self, request):
        return pb.ListIdentitiesResponse(
            identities=[
                pb.Identity(
                    id=r.id, name=r.name, aliases=r.aliases, reference_count=r.reference_count
                )
                for r in self.service.store.identities()
            ]
        )


def grpc_options(max_message_bytes: int) -> list[tuple[str, int]]:
    return [
        ("grpc.max_receive_message_length", max_message_bytes),
        ("grpc.max_send_message_length", max_message_bytes),
    ]


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
    port = server.add_insecure_port(address or service.config.grpc_address)
    if port == 0:
        raise RuntimeError(f"cannot listen on {address or service.config.grpc_address}")
    server.start()
    for name in ["", *SERVICE_NAMES]:
        health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    log.info("listening on %s", address or service.config.grpc_address)
    return server, port
