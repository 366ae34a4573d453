"""A tenant's admin administers only that tenant (the attacks are the tests).

Platform admins (tenant "*") manage identities, global hash banks, consent grants,
other tenants and platform clients; a tenant admin manages its own tenant's clients
(never "*", never another tenant, never a role above its own), reads its own tenant's
grants and policy, and nothing else. Another tenant's client reads as NOT_FOUND.
"""

from __future__ import annotations

import grpc
import pytest

from reelguard.v1 import reelguard_pb2 as pb
from reelguard.v1 import reelguard_pb2_grpc as rpc
from tests.support import Running, encode, make_config


@pytest.fixture(scope="module")
def svc(tmp_path_factory, enrol_collins):
    """A service of its own: if a boundary gave way, these attacks would change it."""
    r = Running(make_config(tmp_path_factory.mktemp("tenant-admin")))
    enrol_collins(r.identities)
    yield r
    r.close()


@pytest.fixture(scope="module")
def studio_admin(svc):
    """An admin client of tenant studio-a: what a studio's own operator holds."""
    return svc.client("admin", "studio-a")[1]


@pytest.fixture(scope="module")
def collins_id(svc) -> str:
    return next(i.id for i in svc.identities.List(pb.ListIdentitiesRequest()).identities)


def refused(fn) -> tuple[grpc.StatusCode, str]:
    with pytest.raises(grpc.RpcError) as e:
        fn()
    return e.value.code(), e.value.details()


def test_a_tenant_admin_cannot_mint_a_platform_or_foreign_client(svc, studio_admin):
    clients = rpc.ClientsStub(studio_admin)
    for tenant, role in (("*", "admin"), ("*", "auditor"), ("studio-b", "generator-client")):
        code, why = refused(
            lambda t=tenant, r=role: clients.Create(
                pb.CreateClientRequest(name="sneaky", tenant=t, role=r)
            )
        )
        assert code == grpc.StatusCode.PERMISSION_DENIED, (tenant, role)
        assert "studio-a" in why
    names = {c.name for c in svc.clients.List(pb.ListClientsRequest()).clients}
    assert "sneaky" not in names  # nothing was created


def test_a_tenant_admin_manages_its_own_tenants_clients(svc, studio_admin):
    clients = rpc.ClientsStub(studio_admin)
    made = clients.Create(
        pb.CreateClientRequest(name="render farm", tenant="studio-a", role="generator-client")
    )
    assert made.client.tenant == "studio-a" and made.token
    # An empty tenant means its own, never "every tenant".
    own = clients.Create(pb.CreateClientRequest(name="farm 2", role="generator-client"))
    assert own.client.tenant == "studio-a"
    listed = clients.List(pb.ListClientsRequest()).clients
    assert listed and {c.tenant for c in listed} == {"studio-a"}
    assert clients.Revoke(pb.ClientRef(id=made.client.id)).revoked_at > 0


def test_a_tenant_admin_cannot_see_or_revoke_other_tenants_clients(svc, studio_admin):
    _, other = svc.client("generator-client", "studio-b")
    other_id = next(
        c.id for c in svc.clients.List(pb.ListClientsRequest()).clients if c.tenant == "studio-b"
    )
    code, _ = refused(lambda: rpc.ClientsStub(studio_admin).Revoke(pb.ClientRef(id=other_id)))
    assert code == grpc.StatusCode.NOT_FOUND  # reads exactly like a client that never existed
    admin_id = next(
        c.id for c in svc.clients.List(pb.ListClientsRequest()).clients if c.tenant == "*"
    )
    code, _ = refused(lambda: rpc.ClientsStub(studio_admin).Revoke(pb.ClientRef(id=admin_id)))
    assert code == grpc.StatusCode.NOT_FOUND
    # The other tenant's client still works.
    assert rpc.ModerationStub(other).Check(pb.CheckRequest(prompt="a cat")).action == pb.ALLOW


def test_a_tenant_admin_cannot_grant_itself_consent(svc, studio_admin, collins_id):
    consent = rpc.ConsentStub(studio_admin)
    for tenant in ("studio-a", "studio-b"):
        code, _ = refused(
            lambda t=tenant: consent.Grant(
                pb.GrantRequest(
                    tenant=t, identity_id=collins_id, scopes=["video"], grantor="us, honestly"
                )
            )
        )
        assert code == grpc.StatusCode.PERMISSION_DENIED
    grants = svc.consent.List(pb.ListGrantsRequest(identity_id=collins_id)).grants
    assert not [g for g in grants if g.grantor == "us, honestly"]


def test_a_tenant_admin_reads_only_its_own_tenants_grants(svc, studio_admin, collins_id):
    mine = svc.consent.Grant(
        pb.GrantRequest(tenant="studio-a", identity_id=collins_id, scopes=["image"], grantor="A")
    )
    theirs = svc.consent.Grant(
        pb.GrantRequest(tenant="studio-b", identity_id=collins_id, scopes=["image"], grantor="B")
    )
    seen = rpc.ConsentStub(studio_admin).List(pb.ListGrantsRequest(tenant="studio-b")).grants
    ids = {g.id for g in seen}
    assert mine.id in ids and theirs.id not in ids
    code, _ = refused(
        lambda: rpc.ConsentStub(studio_admin).Revoke(pb.RevokeRequest(grant_id=theirs.id))
    )
    assert code == grpc.StatusCode.PERMISSION_DENIED
    svc.consent.Revoke(pb.RevokeRequest(grant_id=mine.id, revoked_by="test"))
    svc.consent.Revoke(pb.RevokeRequest(grant_id=theirs.id, revoked_by="test"))


def test_a_tenant_admin_cannot_touch_global_hash_banks(svc, studio_admin, coffee):
    banks = rpc.HashBanksStub(studio_admin)
    svc.banks.Create(pb.CreateBankRequest(name="csam-like", description="platform bank"))
    added = svc.banks.Add(
        pb.AddToBankRequest(bank="csam-like", media=pb.Media(data=encode(coffee)))
    )
    attempts = [
        lambda: banks.Remove(pb.RemoveFromBankRequest(entry_id=added.entry_ids[0])),
        lambda: banks.Add(pb.AddToBankRequest(bank="csam-like", pdq_hex=["0" * 64])),
        lambda: banks.Create(pb.CreateBankRequest(name="mine")),
        lambda: banks.List(pb.ListBanksRequest()),
    ]
    for attempt in attempts:
        assert refused(attempt)[0] == grpc.StatusCode.PERMISSION_DENIED
    listing = {b.name: b.entries for b in svc.banks.List(pb.ListBanksRequest()).banks}
    assert listing["csam-like"] == len(added.entry_ids)  # the entry is still there


def test_a_tenant_admin_cannot_enrol_remove_or_list_identities(
    svc, studio_admin, collins_id, coffee
):
    ids = rpc.IdentitiesStub(studio_admin)
    attempts = [
        lambda: ids.Remove(pb.IdentityRef(id=collins_id)),
        lambda: ids.Enroll(pb.EnrollRequest(name="x", images=[pb.Media(data=encode(coffee))])),
        lambda: ids.List(pb.ListIdentitiesRequest()),
        lambda: ids.Show(pb.IdentityRef(id=collins_id)),  # would show every tenant's grants
        lambda: ids.ReloadIndex(pb.ReloadIndexRequest(rebuild=True)),
    ]
    for attempt in attempts:
        assert refused(attempt)[0] == grpc.StatusCode.PERMISSION_DENIED
    assert svc.identities.Show(pb.IdentityRef(id=collins_id)).name == "Eileen Collins"


def test_a_tenant_admin_reads_its_own_policy_only(svc, studio_admin):
    policies = rpc.PoliciesStub(studio_admin)
    assert policies.Get(pb.GetPolicyRequest(tenant="studio-a")).version
    assert policies.Get(pb.GetPolicyRequest()).version  # its own, by default
    code, _ = refused(lambda: policies.Get(pb.GetPolicyRequest(tenant="studio-b")))
    assert code == grpc.StatusCode.PERMISSION_DENIED
    assert refused(lambda: policies.Reload(pb.ReloadPoliciesRequest()))[0] == (
        grpc.StatusCode.PERMISSION_DENIED
    )


def test_through_the_cli_a_tenant_admin_is_refused_a_platform_client(svc):
    token, _ = svc.client("admin", "studio-a")
    r = svc.cli(
        "clients",
        "create",
        "--name",
        "x",
        "--tenant",
        "*",
        "--role",
        "admin",
        env={"REELGUARD_TOKEN": token},
    )
    assert r.returncode == 4, r.stderr
    assert "PERMISSION_DENIED" in r.stderr and "studio-a" in r.stderr
    assert token not in r.stdout + r.stderr
