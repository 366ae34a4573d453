"""The admin services: identities, consent, hash banks, policies and clients."""

from __future__ import annotations

import uuid

from indexes.hashbank import DEFAULT_MAX_DISTANCE
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
from safety.policy.coverage import coverage
from safety.policy.loading import PolicyError
from safety.service.api.convert import client_pb, coverage_pb, grant_pb, identity_pb
from safety.service.api.guard import ADMIN_ONLY, Servicer, guarded


class IdentitiesServicer(Servicer, rpc.IdentitiesServicer):
    @guarded(*ADMIN_ONLY, platform=True)
    def Enroll(self, request: pb.EnrollRequest, context, caller: Principal):
        intake = self.service.intake
        images = [
            intake.image(m.data, m.filename or f"image {i + 1}")
            for i, m in enumerate(request.images)
        ]
        enrolled = self.service.enroller.enroll_checked(
            request.name, list(request.aliases), images, request.external_id
        )
        identity = identity_pb(enrolled.record)
        identity.warnings.extend(enrolled.warnings)
        return identity

    @guarded(*ADMIN_ONLY, platform=True)
    def List(self, request, context, caller: Principal):
        return pb.ListIdentitiesResponse(
            identities=[identity_pb(r) for r in self.service.store.identities()]
        )

    @guarded(*ADMIN_ONLY, platform=True)
    def Show(self, request: pb.IdentityRef, context, caller: Principal):
        record = self.service.store.identity(request.id)
        if record is None:
            raise NotFound(f"no enrolled identity {request.id!r}")
        return identity_pb(record, self.service.store.grants(identity_id=request.id))

    @guarded(*ADMIN_ONLY, platform=True)
    def Remove(self, request: pb.IdentityRef, context, caller: Principal):
        return identity_pb(self.service.enroller.remove(request.id))

    @guarded(*ADMIN_ONLY, platform=True)
    def ReloadIndex(self, request: pb.ReloadIndexRequest, context, caller: Principal):
        enroller = self.service.enroller
        count = enroller.rebuild() if request.rebuild else enroller.reload()
        return pb.ReloadIndexResponse(vectors=count, kind=enroller.index.kind)


class ConsentServicer(Servicer, rpc.ConsentServicer):
    @guarded(*ADMIN_ONLY, platform=True)
    def Grant(self, request: pb.GrantRequest, context, caller: Principal):
        grant = self.service.consent.grant(
            request.tenant,
            request.identity_id,
            list(request.scopes),
            request.grantor,
            request.expires_at or None,
        )
        return grant_pb(grant)

    @guarded(*ADMIN_ONLY, platform=True)
    def Revoke(self, request: pb.RevokeRequest, context, caller: Principal):
        return grant_pb(self.service.consent.revoke(request.grant_id, request.revoked_by))

    @guarded(*ADMIN_ONLY)
    def List(self, request: pb.ListGrantsRequest, context, caller: Principal):
        grants = self.service.store.grants(caller.own_tenant(request.tenant), request.identity_id)
        return pb.ListGrantsResponse(grants=[grant_pb(g) for g in grants])


class HashBanksServicer(Servicer, rpc.HashBanksServicer):
    @guarded(*ADMIN_ONLY, platform=True)
    def Create(self, request: pb.CreateBankRequest, context, caller: Principal):
        bank = self.service.banks.create(
            request.name,
            request.max_distance or DEFAULT_MAX_DISTANCE,
            request.description,
            csam=request.csam,
        )
        return pb.HashBank(
            name=bank.name,
            max_distance=bank.max_distance,
            description=bank.description,
            csam=bank.csam,
        )

    @guarded(*ADMIN_ONLY, platform=True)
    def Add(self, request: pb.AddToBankRequest, context, caller: Principal):
        hashes = self.service.intake.bank_hashes(
            self.service.banks.bank(request.bank),
            list(request.pdq_hex),
            request.media.data if request.HasField("media") else None,
        )
        media_id = uuid.uuid4().hex[:12]
        ids = self.service.banks.add(request.bank, hashes, media_id, request.note)
        return pb.AddToBankResponse(entry_ids=ids, pdq_hex=hashes)

    @guarded(*ADMIN_ONLY, platform=True)
    def Remove(self, request: pb.RemoveFromBankRequest, context, caller: Principal):
        self.service.banks.remove(request.entry_id)
        return pb.RemoveFromBankResponse()

    @guarded(*ADMIN_ONLY, platform=True)
    def List(self, request, context, caller: Principal):
        counts = self.service.store.bank_counts()
        return pb.ListBanksResponse(
            banks=[
                pb.HashBank(
                    name=b.name,
                    max_distance=b.max_distance,
                    description=b.description,
                    csam=b.csam,
                    entries=counts.get(b.name, 0),
                )
                for b in self.service.store.banks()
            ]
        )


class PoliciesServicer(Servicer, rpc.PoliciesServicer):
    @guarded(*ADMIN_ONLY)
    def Coverage(self, request: pb.CoverageRequest, context, caller: Principal):
        moderators = self.service.moderators
        policy = self.service.policies.for_tenant(caller.tenant_for(request.tenant))
        rows = coverage(moderators.text, moderators.visual, policy)
        return pb.CoverageResponse(
            policy_version=policy.version, categories=[coverage_pb(row) for row in rows]
        )

    @guarded(*ADMIN_ONLY, platform=True)
    def Reload(self, request, context, caller: Principal):
        if self.service.policies.directory is None:  # it "succeeded", re-reading nothing
            raise FailedPrecondition(
                "no policy_dir is configured, so there is nothing to reload: set policy_dir "
                "in the config (<tenant>.toml files) and restart"
            )
        try:
            versions = self.service.policies.reload()
        except PolicyError as e:
            raise InvalidInput(f"policies not reloaded: {e}") from None
        return pb.ReloadPoliciesResponse(
            policies=[pb.PolicyVersion(tenant=t, version=v) for t, v in versions.items()]
        )

    @guarded(*ADMIN_ONLY)
    def Get(self, request: pb.GetPolicyRequest, context, caller: Principal):
        policy = self.service.policies.for_tenant(caller.tenant_for(request.tenant))
        return pb.GetPolicyResponse(
            name=policy.name,
            version=policy.version,
            rules=[
                pb.PolicyRule(
                    category=c,
                    threshold=r.threshold,
                    action=int(r.action),
                    required=list(r.required),
                    review_threshold=r.review_threshold or 0.0,
                )
                for c, r in sorted(policy.rules.items())
            ],
        )


class ClientsServicer(Servicer, rpc.ClientsServicer):
    @guarded(*ADMIN_ONLY)
    def Create(self, request: pb.CreateClientRequest, context, caller: Principal):
        record, token = self.service.auth.create_client(
            request.name,
            request.tenant,
            request.role,
            request.cert_subject,
            not request.no_token,
            by=caller,
        )
        return pb.CreateClientResponse(client=client_pb(record), token=token)

    @guarded(*ADMIN_ONLY)
    def List(self, request, context, caller: Principal):
        visible = [c for c in self.service.store.clients() if caller.sees(c.tenant)]
        return pb.ListClientsResponse(clients=[client_pb(c) for c in visible])

    @guarded(*ADMIN_ONLY)
    def Revoke(self, request: pb.ClientRef, context, caller: Principal):
        return client_pb(self.service.auth.revoke(request.id, by=caller))
