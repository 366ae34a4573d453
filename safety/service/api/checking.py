"""Moderation.Check and Provenance.Sign/Verify: checks and signatures without generating."""

from __future__ import annotations

from reelguard.v1 import reelguard_pb2 as pb
from reelguard.v1 import reelguard_pb2_grpc as rpc
from safety.auth import (
    Principal,
)
from safety.errors import (
    FailedPrecondition,
    InvalidInput,
    NotFound,
)
from safety.job import (
    SignableMedia,
)
from safety.recheck import DEFAULT_TOLERANCE, recheck
from safety.service.api.convert import recheck_pb, report_pb, verdict_pb
from safety.service.api.guard import MAY_GENERATE, MAY_READ, Servicer, guarded
from safety.service.api.uploads import SIGNABLE, media_clip
from safety.verdict import Verdict
from signing.manifest import (
    TRAINED_ALGORITHMIC_MEDIA,
    Ingredient,
    ManifestSpec,
    generated_source_type,
)
from signing.verify import sniff_mime


class ModerationServicer(Servicer, rpc.ModerationServicer):
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
        tenant = caller.tenant_for(request.tenant)
        if not request.HasField("media"):
            return verdict_pb(self.service.gate.check(tenant, prompt, [], "video"))
        with self.service.media_admission.slot(tenant):  # before any decoding
            clip = media_clip(self.service, request.media.data)
            scope = "video" if clip.subject.endswith("_video") else "image"
            return verdict_pb(self.service.gate.check(tenant, prompt, [clip], scope))


class ProvenanceServicer(Servicer, rpc.ProvenanceServicer):
    @guarded(*MAY_GENERATE)
    def Sign(self, request: pb.SignRequest, context, caller: Principal):
        tenant = caller.tenant_for(request.tenant)
        with self.service.media_admission.slot(tenant):  # before any decoding
            return self._sign(request, tenant)

    def _sign(self, request: pb.SignRequest, tenant: str) -> pb.SignResponse:
        data = request.media.data
        mime = sniff_mime(data)
        if mime not in SIGNABLE:
            raise InvalidInput(
                f"media is {mime or 'in an unsupported format'}; sign JPEG, PNG, WebP, MP4 or MOV"
            )
        try:
            source_type = generated_source_type(
                request.digital_source_type or TRAINED_ALGORITHMIC_MEDIA
            )
        except ValueError as e:
            raise InvalidInput(str(e)) from None
        clip = media_clip(self.service, data)
        if clip.audio_streams and self.service.config.sign_refuse_audio:
            raise InvalidInput(
                f"media has {clip.audio_streams} audio stream(s), and this deployment signs "
                "no audio it cannot moderate; remove the audio and retry"
            )
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
            digital_source_type=source_type,
            training_mining=self.service.gate.policies.for_tenant(tenant).training_mining,
        )
        claims = {
            "digital_source_type": source_type,
            "generator_name": spec.generator_name,
            "generator_version": spec.generator_version,
            "model_id": spec.model_id,
        }
        verdict, signed = self.service.gate.sign(
            tenant, SignableMedia(data, mime, clip, claims), spec
        )
        response = pb.SignResponse(verdict=verdict_pb(verdict))
        if signed:
            response.signed.CopyFrom(pb.Media(data=signed, mime_type=mime, filename=spec.title))
        return response

    @guarded(*MAY_READ)
    def Verify(self, request: pb.VerifyRequest, context, caller: Principal):
        if not request.media.data:
            raise InvalidInput("media is empty; send the file to verify")
        with self.service.media_admission.slot(caller.tenant):  # before any decoding
            report = self.service.verifier.verify_bytes(request.media.data, request.media.mime_type)
        return report_pb(report)

    @guarded(*MAY_READ)
    def Recheck(self, request: pb.RecheckRequest, context, caller: Principal):
        """Re-run a signed output's recorded checks at its recorded sample positions."""
        if not request.media.data:
            raise InvalidInput("media is empty; send the signed output to recheck")
        service = self.service
        with service.media_admission.slot(caller.tenant):  # before any decoding
            report = service.verifier.verify_bytes(request.media.data, request.media.mime_type)
            decision_id = (report.moderation or {}).get("decision_id", "")
            if not report.trusted or not decision_id:
                raise FailedPrecondition(
                    f"only a trusted reelguard output can be rechecked: {report.summary}"
                )
            record = service.store.decision(decision_id)
            # Another tenant's decision reads exactly like a missing one.
            if record is None or not caller.sees(record["tenant"]):
                raise NotFound(f"no decision {decision_id!r} here")
            result = recheck(
                bytes(request.media.data),  # decoded where it lies, as uploads are
                Verdict.from_dict(record["evidence"]),
                service.gate.checks.image_moderators,
                service.gate.policies.for_tenant(record["tenant"]),
                service.gate.sampling,
                request.tolerance or DEFAULT_TOLERANCE,
            )
        return recheck_pb(result)
