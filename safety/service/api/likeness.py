"""Likeness: the depicted person's own door over gRPC (the web UI's owner pages and the
CLI's `reelguard owner` call the same domain, safety/likeness/owners.py)."""

from __future__ import annotations

from reelguard.v1 import reelguard_pb2 as pb
from reelguard.v1 import reelguard_pb2_grpc as rpc
from safety.auth import ADMIN, GENERATOR_CLIENT, LIKENESS_OWNER, Principal
from safety.service.api.convert import grant_pb, match_pb, notice_pb
from safety.service.api.guard import ADMIN_ONLY, Servicer, guarded

OWNERS = (LIKENESS_OWNER,)
TENANTS = (GENERATOR_CLIENT, ADMIN)  # the side a notice is against


class LikenessServicer(Servicer, rpc.LikenessServicer):
    @guarded(*OWNERS)
    def ListMatches(self, request: pb.ListMatchesRequest, context, caller: Principal):
        owners = self.service.owners
        return pb.ListMatchesResponse(
            matches=[match_pb(m) for m in owners.matches(caller, request.limit or 100)],
            identity_ids=owners.identities(caller),
        )

    @guarded(*OWNERS)
    def MatchEvidence(self, request: pb.MatchRef, context, caller: Principal):
        jpeg = self.service.owners.evidence(caller, request.id)
        return pb.Media(data=jpeg, mime_type="image/jpeg", filename=f"match-{request.id}.jpg")

    @guarded(*OWNERS)
    def GrantConsent(self, request: pb.OwnerGrantRequest, context, caller: Principal):
        grant = self.service.owners.grant(
            caller, request.identity_id, request.tenant, list(request.scopes), request.days
        )
        return grant_pb(grant)

    @guarded(*OWNERS)
    def RevokeConsent(self, request: pb.OwnerRevokeRequest, context, caller: Principal):
        return grant_pb(self.service.owners.revoke(caller, request.grant_id))

    @guarded(*OWNERS)
    def ListConsent(self, request, context, caller: Principal):
        return pb.ListGrantsResponse(
            grants=[grant_pb(g) for g in self.service.owners.grants(caller)]
        )

    @guarded(*OWNERS)
    def FileTakedown(self, request: pb.TakedownRequest, context, caller: Principal):
        owners = self.service.owners
        notice = owners.takedown(
            caller,
            manifest_id=request.manifest_id,
            data=request.media.data,
            mime_type=request.media.mime_type,
            reason=request.reason,
        )
        return notice_pb(notice, owners.repeat_offences(notice.tenant))

    @guarded(*OWNERS, *TENANTS)
    def ListTakedowns(self, request: pb.ListTakedownsRequest, context, caller: Principal):
        owners = self.service.owners
        notices = owners.notices(caller, request.limit or 100)
        offences = {t: owners.repeat_offences(t) for t in {n.tenant for n in notices}}
        return pb.ListTakedownsResponse(notices=[notice_pb(n, offences[n.tenant]) for n in notices])

    @guarded(*TENANTS)
    def AcknowledgeTakedown(self, request: pb.TakedownRef, context, caller: Principal):
        owners = self.service.owners
        notice = owners.acknowledge(caller, request.id)
        return notice_pb(notice, owners.repeat_offences(notice.tenant))

    @guarded(*ADMIN_ONLY, platform=True)
    def BindOwner(self, request: pb.BindOwnerRequest, context, caller: Principal):
        bound = self.service.owners.bind(caller, request.client_id, list(request.identity_ids))
        return pb.BindOwnerResponse(identity_ids=bound)
