"""Who may call what: tokens, roles, tenants, revocation, TLS and mutual TLS."""

from __future__ import annotations

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from reelguard.channel import connect
from reelguard.v1 import reelguard_pb2 as pb
from reelguard.v1 import reelguard_pb2_grpc as rpc
from safety.service.api.server import SERVICE_NAMES
from safety.service.tls import init_dev_tls, issue_client_certificate
from tests.support import Running, encode, make_config


def every_rpc():
    """(stub class, method name, request class) for every RPC the service defines."""
    for full_name in SERVICE_NAMES:
        service = pb.DESCRIPTOR.services_by_name[full_name.rsplit(".", 1)[1]]
        stub = getattr(rpc, f"{service.name}Stub")
        for method in service.methods:
            request = getattr(pb, method.input_type.name)
            yield pytest.param(stub, method.name, request, id=f"{service.name}.{method.name}")


def call(channel, stub, method, request):
    result = getattr(stub(channel), method)(request, timeout=30)
    return list(result) if not hasattr(result, "ListFields") else result


def code_of(fn) -> grpc.StatusCode:
    with pytest.raises(grpc.RpcError) as e:
        fn()
    return e.value.code()


@pytest.mark.parametrize(("stub", "method", "request_cls"), list(every_rpc()))
def test_every_rpc_refuses_a_caller_without_credentials(running, stub, method, request_cls):
    with grpc.insecure_channel(running.address) as bare:
        assert code_of(lambda: call(bare, stub, method, request_cls())) == (
            grpc.StatusCode.UNAUTHENTICATED
        )


def test_health_and_reflection_need_no_token(running):
    with grpc.insecure_channel(running.address) as bare:
        status = health_pb2_grpc.HealthStub(bare).Check(health_pb2.HealthCheckRequest()).status
    assert status == health_pb2.HealthCheckResponse.SERVING


def test_unknown_malformed_and_revoked_tokens_are_unauthenticated(running):
    for channel in (
        connect(running.address, "rg_not-a-real-token"),
        grpc.intercept_channel(grpc.insecure_channel(running.address), _Header("Basic abc")),
    ):
        code = code_of(lambda ch=channel: rpc.ModerationStub(ch).Check(pb.CheckRequest(prompt="x")))
        assert code == grpc.StatusCode.UNAUTHENTICATED
    token, channel = running.client("generator-client", "studio-a")
    assert rpc.ModerationStub(channel).Check(pb.CheckRequest(prompt="a cat")).action == pb.ALLOW
    client_id = running.service.store.client_by_token(_digest(token)).id
    rpc.ClientsStub(running.channel).Revoke(pb.ClientRef(id=client_id))
    with pytest.raises(grpc.RpcError) as e:
        rpc.ModerationStub(channel).Check(pb.CheckRequest(prompt="a cat"))
    assert e.value.code() == grpc.StatusCode.UNAUTHENTICATED and "revoked" in e.value.details()


@pytest.mark.parametrize("role", ["generator-client", "auditor", "reviewer", "senior-reviewer"])
def test_only_admins_change_identities_policy_consent_banks_and_clients(running, role, coffee):
    _, channel = running.client(role)
    admin_calls = [
        lambda: rpc.IdentitiesStub(channel).Enroll(
            pb.EnrollRequest(name="X", images=[pb.Media(data=encode(coffee))])
        ),
        lambda: rpc.IdentitiesStub(channel).List(pb.ListIdentitiesRequest()),
        lambda: rpc.PoliciesStub(channel).Reload(pb.ReloadPoliciesRequest()),
        lambda: rpc.ConsentStub(channel).Grant(pb.GrantRequest(tenant="t", identity_id="i")),
        lambda: rpc.HashBanksStub(channel).Create(pb.CreateBankRequest(name="b")),
        lambda: rpc.ClientsStub(channel).Create(
            pb.CreateClientRequest(name="me", tenant="*", role="admin")
        ),
    ]
    for fn in admin_calls:
        with pytest.raises(grpc.RpcError) as e:
            fn()
        assert e.value.code() == grpc.StatusCode.PERMISSION_DENIED
        assert "admin" in e.value.details() and role in e.value.details()


def test_auditors_verify_but_do_not_generate(running):
    _, channel = running.client("auditor")
    report = rpc.ProvenanceStub(channel).Verify(
        pb.VerifyRequest(media=pb.Media(data=encode(_noise())))
    )
    assert report.status == pb.VerifyReport.NO_MANIFEST
    code = code_of(lambda: list(rpc.GenerationStub(channel).Generate(pb.GenerateRequest())))
    assert code == grpc.StatusCode.PERMISSION_DENIED


def test_a_tenant_sees_only_its_own_decisions(running):
    _, a = running.client("generator-client", "tenant-a")
    _, b = running.client("generator-client", "tenant-b")
    verdict = rpc.ModerationStub(a).Check(pb.CheckRequest(prompt="a lighthouse"))
    mine = rpc.DecisionsStub(a).Get(pb.DecisionRef(id=verdict.decision_id))
    assert mine.tenant == "tenant-a" and mine.action == pb.ALLOW and mine.evidence_json
    # Tenant B asking for A's decision hears what it would for an id that never existed.
    with pytest.raises(grpc.RpcError) as e:
        rpc.DecisionsStub(b).Get(pb.DecisionRef(id=verdict.decision_id))
    assert e.value.code() == grpc.StatusCode.NOT_FOUND
    listed = rpc.DecisionsStub(b).List(pb.ListDecisionsRequest(tenant="tenant-a")).decisions
    assert all(d.tenant == "tenant-b" for d in listed)
    assert verdict.decision_id not in {d.id for d in listed}
    everyone = rpc.DecisionsStub(running.channel).List(pb.ListDecisionsRequest(tenant="tenant-a"))
    assert verdict.decision_id in {d.id for d in everyone.decisions}


def test_a_tenant_token_cannot_act_for_another_tenant(running):
    _, a = running.client("generator-client", "tenant-a")
    with pytest.raises(grpc.RpcError) as e:
        rpc.ModerationStub(a).Check(pb.CheckRequest(prompt="a cat", tenant="tenant-b"))
    assert e.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert "tenant-a" in e.value.details() and "tenant-b" in e.value.details()
    code = code_of(
        lambda: list(
            rpc.GenerationStub(a).Generate(pb.GenerateRequest(prompt="a cat", tenant="tenant-b"))
        )
    )
    assert code == grpc.StatusCode.PERMISSION_DENIED
    # Its own tenant named explicitly is fine.
    rpc.ModerationStub(a).Check(pb.CheckRequest(prompt="a cat", tenant="tenant-a"))


def test_tokens_are_stored_only_as_hashes(running):
    token, _ = running.client("auditor", "x")
    database = running.config.embedded_database_path
    stored = b"".join(p.read_bytes() for p in database.parent.glob(database.name + "*"))
    assert token.encode() not in stored
    assert _digest(token).encode() in stored


def test_bad_client_requests_are_invalid_argument(running):
    clients = rpc.ClientsStub(running.channel)
    for request, words in [
        (pb.CreateClientRequest(name="x", tenant="t", role="root"), "unknown role"),
        (pb.CreateClientRequest(name="", tenant="t", role="auditor"), "name"),
        (pb.CreateClientRequest(name="x", tenant="t", role="auditor", no_token=True), "cert"),
    ]:
        with pytest.raises(grpc.RpcError) as e:
            clients.Create(request)
        assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT and words in e.value.details()


@pytest.fixture(scope="module")
def tls_service(tmp_path_factory):
    root = tmp_path_factory.mktemp("tls")
    paths = init_dev_tls(root / "tls")
    config = make_config(
        root / "data",
        tls_cert=paths.server_cert,
        tls_key=paths.server_key,
        tls_client_ca=paths.ca,
        face_workers=0,
        client_subjects={"studio-a": "*.studio-a.example"},
    )
    running = Running(config)
    yield running, root / "tls", paths
    running.close()


def test_mutual_tls_authenticates_a_registered_certificate(tls_service):
    running, tls_dir, paths = tls_service
    running.service.auth.create_client(
        "render farm", "studio-a", "generator-client", cert_subject="render-farm", with_token=False
    )
    cert, key = issue_client_certificate(tls_dir, "render-farm")
    with connect(running.address, ca=paths.ca, cert=cert, key=key) as channel:
        verdict = rpc.ModerationStub(channel).Check(pb.CheckRequest(prompt="a cat"))
        assert verdict.action == pb.ALLOW
        assert running.service.store.decision(verdict.decision_id)["tenant"] == "studio-a"
    # A certificate from the same CA that no client is bound to: a valid TLS peer, no access.
    stranger_cert, stranger_key = issue_client_certificate(tls_dir, "stranger")
    with connect(running.address, ca=paths.ca, cert=stranger_cert, key=stranger_key) as channel:
        code = code_of(lambda: rpc.ModerationStub(channel).Check(pb.CheckRequest(prompt="a")))
        assert code == grpc.StatusCode.UNAUTHENTICATED
    # A token over TLS works too, but the server still demands a client certificate.
    token = running.admin_token
    with connect(running.address, token, ca=paths.ca, cert=cert, key=key) as channel:
        assert rpc.ClientsStub(channel).List(pb.ListClientsRequest()).clients
    with connect(running.address, token, ca=paths.ca) as channel:
        code = code_of(lambda: rpc.ClientsStub(channel).List(pb.ListClientsRequest(), timeout=5))
        assert code == grpc.StatusCode.UNAVAILABLE
    # Plaintext to a TLS port goes nowhere.
    with connect(running.address, token) as channel:
        code = code_of(lambda: rpc.ClientsStub(channel).List(pb.ListClientsRequest(), timeout=5))
        assert code == grpc.StatusCode.UNAVAILABLE


# ---- helpers --------------------------------------------------------------------------


def _digest(token: str) -> str:
    from safety.auth import token_digest

    return token_digest(token)


def _noise():
    import numpy as np

    return np.random.default_rng(1).integers(0, 255, (64, 64, 3), dtype=np.uint8)


class _Header(grpc.UnaryUnaryClientInterceptor):
    """Sends an arbitrary authorization header (to test malformed ones)."""

    def __init__(self, value: str) -> None:
        self.value = value

    def intercept_unary_unary(self, continuation, details, request):
        from reelguard.channel import _CallDetails

        d = details
        metadata = [*(d.metadata or ()), ("authorization", self.value)]
        return continuation(
            _CallDetails(d.method, d.timeout, metadata, d.credentials, d.wait_for_ready, None),
            request,
        )


def test_the_web_ui_serves_https_with_the_same_certificate(tls_service):
    import ssl
    import urllib.request

    from safety.service.web import WebServer

    running, _, paths = tls_service
    web = WebServer(running.service, "127.0.0.1:0").start()
    try:
        context = ssl.create_default_context(cafile=str(paths.ca))
        with urllib.request.urlopen(
            f"https://localhost:{web.port}/login", context=context, timeout=10
        ) as page:
            assert page.status == 200 and b"reviewer token" in page.read()
            assert "Secure" in page.headers["Set-Cookie"]
    finally:
        web.stop()


def test_a_certificate_subject_names_one_client_ever(tls_service):
    """A tenant admin bound the platform admin's certificate subject to a client of its
    own; the newest match won, so the platform admin's certificate then authenticated as
    the tenant's client. Now a subject is bound once, and a tenant binds only its own."""
    running, tls_dir, paths = tls_service
    running.service.auth.create_client("ops console", "*", "admin", cert_subject="ops-console")
    cert, key = issue_client_certificate(tls_dir, "ops-console")
    studio_token, _ = running.client("admin", "studio-a")
    # The server demands a client certificate of every caller; a token says who calls.
    studio = rpc.ClientsStub(connect(running.address, studio_token, paths.ca, cert, key))
    platform = rpc.ClientsStub(connect(running.address, running.admin_token, paths.ca, cert, key))
    for subject in ("ops-console", "cam.studio-b.example"):  # another's, or not its own
        with pytest.raises(grpc.RpcError) as e:
            studio.Create(
                pb.CreateClientRequest(
                    name="copy", role="generator-client", cert_subject=subject, no_token=True
                )
            )
        assert e.value.code() == grpc.StatusCode.PERMISSION_DENIED
        assert "*.studio-a.example" in e.value.details()
    own = pb.CreateClientRequest(
        name="camera", role="generator-client", cert_subject="cam.studio-a.example", no_token=True
    )
    assert studio.Create(own).client.tenant == "studio-a"
    # Nobody binds a subject twice, not even a platform admin; revoked ones stay bound.
    for subject in ("ops-console", "cam.studio-a.example"):
        with pytest.raises(grpc.RpcError) as e:
            platform.Create(
                pb.CreateClientRequest(
                    name="dup", tenant="studio-a", role="admin", cert_subject=subject
                )
            )
        assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "a subject names one client, ever" in e.value.details()
    with connect(running.address, ca=paths.ca, cert=cert, key=key) as channel:
        listed = rpc.ClientsStub(channel).List(pb.ListClientsRequest()).clients
        assert {c.tenant for c in listed} >= {"*", "studio-a"}  # still the platform admin
