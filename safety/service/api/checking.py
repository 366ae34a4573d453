"""Moderation.Check and Provenance.Sign/Verify: checks and signatures without generating."""

from __future__ import annotations

from reelguard.v1 import reelguard_pb2 as pb
from reelguard.v1 import reelguard_pb2_grpc as rpc
from safety.auth import Principal
from safety.errors import InvalidInput
from safety.intake import ClientClaims
from safety.provenance.recheck import DEFAULT_TOLERANCE
from safety.service.api.convert import recheck_pb, report_pb, trust_anchors_pb, verdict_pb
from safety.service.api.guard import MAY_GENERATE, MAY_READ, Servicer, guarded


class ModerationServicer(Servicer, rpc.ModerationServicer):
    @guarded(*MAY_GENERATE)
    def Check(self, request: pb.CheckRequest, context, caller: Principal):
        service = self.service
        prompt = service.intake.prompt(request.prompt) or None
        if prompt is None and not request.HasField("media"):
            raise InvalidInput("nothing to check: send a prompt, media, or both")
        tenant = caller.tenant_for(request.tenant)
        if not request.HasField("media"):
            return verdict_pb(
                self.told(caller, tenant, service.gate.check(tenant, prompt, [], "video"))
            )
        with service.media_admission.slot(tenant):  # before any decoding
            clips = service.intake.media_clips(request.media.data)
            scope = "video" if clips[0].subject.endswith("_video") else "image"
            verdict = service.gate.check(tenant, prompt, clips, scope)
        return verdict_pb(self.told(caller, tenant, verdict))


class ProvenanceServicer(Servicer, rpc.ProvenanceServicer):
    @guarded(*MAY_GENERATE)
    def Sign(self, request: pb.SignRequest, context, caller: Principal):
        tenant = caller.tenant_for(request.tenant)
        with self.service.media_admission.slot(tenant):  # before any decoding
            media, spec = self.service.intake.signable(
                request.media.data,
                request.media.filename,
                ClientClaims(
                    request.digital_source_type,
                    request.generator_name,
                    request.generator_version,
                    request.model_id,
                ),
                [(m.filename, m.mime_type, m.data) for m in request.ingredients],
            )
            verdict, signed = self.service.gate.sign(tenant, media, spec)
        response = pb.SignResponse(verdict=verdict_pb(self.told(caller, tenant, verdict)))
        if signed:
            response.signed.CopyFrom(
                pb.Media(data=signed, mime_type=media.mime_type, filename=spec.title)
            )
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
        with self.service.media_admission.slot(caller.tenant):  # before any decoding
            result = self.service.rechecker.recheck(
                bytes(request.media.data),
                request.media.mime_type,
                caller.sees,
                request.tolerance or DEFAULT_TOLERANCE,
            )
        return recheck_pb(result)

    @guarded(*MAY_READ)
    def TrustList(self, request: pb.TrustListRequest, context, caller: Principal):
        """The roots this deployment's verifier trusts, for an auditor's verifier elsewhere."""
        return trust_anchors_pb(self.service.verifier)
