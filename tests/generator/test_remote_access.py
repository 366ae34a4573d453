"""The generator backend is not an open door: it generates only for callers holding its
token (or a client certificate), speaks TLS, and listens on loopback unless told."""

from __future__ import annotations

import grpc
import pytest

from generator.base import GenerationInput
from generator.kenburns import KenBurnsGenerator
from generator.remote import RemoteGenerator, serve_backend
from reelguard.channel import connect
from reelguard.v1 import reelguard_pb2 as pb
from reelguard.v1 import reelguard_pb2_grpc as rpc
from safety.service.tls import init_dev_tls, issue_client_certificate
from tests.support import cli

TOKEN = "backend-secret-" + "x" * 32
REQUEST = pb.BackendRequest(prompt="raw, unmoderated", width=64, height=64, num_frames=2)


def job() -> GenerationInput:
    return GenerationInput("a grey wall", None, 64, 64, 8, 2, 0)


@pytest.fixture(scope="module")
def token_backend():
    server, port = serve_backend(KenBurnsGenerator(), "127.0.0.1:0", token=TOKEN, insecure=True)
    yield f"127.0.0.1:{port}"
    server.stop(None)


def code_of(channel) -> grpc.StatusCode:
    with pytest.raises(grpc.RpcError) as e:
        list(rpc.GeneratorBackendStub(channel).Generate(REQUEST, timeout=30))
    return e.value.code()


def test_anyone_reaching_the_port_without_the_token_is_refused(token_backend):
    assert code_of(grpc.insecure_channel(token_backend)) == grpc.StatusCode.UNAUTHENTICATED
    assert code_of(connect(token_backend, "not-the-token")) == grpc.StatusCode.UNAUTHENTICATED
    assert code_of(connect(token_backend, TOKEN[:-1])) == grpc.StatusCode.UNAUTHENTICATED


def test_the_token_holder_generates(token_backend, tmp_path):
    generator = RemoteGenerator(token_backend, TOKEN)
    assert generator.generate(job(), tmp_path / "out.mp4", lambda d, t: None) == "video/mp4"
    assert (tmp_path / "out.mp4").stat().st_size > 0


def test_a_backend_speaks_plaintext_only_on_loopback_and_only_when_told():
    for insecure in (False, True):
        with pytest.raises(ValueError, match="plaintext is for loopback only"):
            serve_backend(KenBurnsGenerator(), "0.0.0.0:0", token=TOKEN, insecure=insecure)
    with pytest.raises(ValueError, match="takes --insecure, said explicitly"):
        serve_backend(KenBurnsGenerator(), "127.0.0.1:0", token=TOKEN)


def test_a_client_ca_without_a_server_certificate_does_not_start_an_open_port(tls):
    """`--tls-client-ca` on a plaintext port checked no certificate at all: it served
    raw generation to anyone who reached it."""
    paths, _, _ = tls
    with pytest.raises(ValueError, match="which only TLS carries"):
        serve_backend(KenBurnsGenerator(), "127.0.0.1:0", tls_client_ca=paths.ca, insecure=True)
    r = cli("backend", "serve", "--listen", "127.0.0.1:0", "--tls-client-ca", str(paths.ca))
    assert r.returncode != 0 and "which only TLS carries" in r.stderr


def test_a_backend_needs_a_credential_to_check():
    with pytest.raises(ValueError, match="token"):
        serve_backend(KenBurnsGenerator(), "127.0.0.1:0")


def test_a_client_will_not_send_its_token_in_clear_beyond_loopback():
    with pytest.raises(ValueError, match="REELGUARD_BACKEND_CA"):
        RemoteGenerator("192.0.2.10:50061", TOKEN)


@pytest.fixture(scope="module")
def tls(tmp_path_factory):
    d = tmp_path_factory.mktemp("backend-tls")
    paths = init_dev_tls(d, ["localhost", "127.0.0.1"])
    cert, key = issue_client_certificate(d, "reelguard-frontdoor")
    return paths, cert, key


def test_over_mutual_tls_only_a_certified_client_generates(tls, tmp_path):
    paths, cert, key = tls
    server, port = serve_backend(
        KenBurnsGenerator(),
        "127.0.0.1:0",
        tls_cert=paths.server_cert,
        tls_key=paths.server_key,
        tls_client_ca=paths.ca,
    )
    try:
        address = f"localhost:{port}"
        assert code_of(grpc.insecure_channel(address)) == grpc.StatusCode.UNAVAILABLE  # no TLS
        assert code_of(connect(address, None, paths.ca)) == grpc.StatusCode.UNAVAILABLE  # no cert
        generator = RemoteGenerator(address, None, paths.ca, cert=cert, key=key)
        assert generator.generate(job(), tmp_path / "tls.mp4", lambda d, t: None) == "video/mp4"
    finally:
        server.stop(None)


def test_the_cli_refuses_a_public_backend_without_tls(tmp_path):
    r = cli("backend", "serve", "--listen", "0.0.0.0:0", env={"REELGUARD_BACKEND_TOKEN": TOKEN})
    assert r.returncode != 0 and "loopback only" in r.stderr
    assert TOKEN not in r.stdout + r.stderr


def test_frames_a_backend_returns_stay_pixels(token_backend, tmp_path):
    """The authenticated path still carries real frames (not just a status)."""
    import av

    RemoteGenerator(token_backend, TOKEN).generate(job(), tmp_path / "o.mp4", lambda d, t: None)
    with av.open(str(tmp_path / "o.mp4")) as c:
        frame = next(c.decode(video=0)).to_ndarray(format="rgb24")
    assert frame.shape == (64, 64, 3)
