"""The wire between reelguard's gRPC endpoints: client channels (plaintext or TLS, mTLS
with a client certificate, the caller's bearer token on every call), and the server side
of the same (TLS credentials, a bearer-token check, the loopback rule)."""

from __future__ import annotations

import collections
import hashlib
import hmac
import ipaddress
from pathlib import Path

import grpc

MAX_MESSAGE_BYTES = 64 * 1024 * 1024


def grpc_options(max_message_bytes: int) -> list[tuple[str, int]]:
    return [
        ("grpc.max_receive_message_length", max_message_bytes),
        ("grpc.max_send_message_length", max_message_bytes),
    ]


class _CallDetails(
    collections.namedtuple(
        "_CallDetails", "method timeout metadata credentials wait_for_ready compression"
    ),
    grpc.ClientCallDetails,
):
    pass


class _BearerToken(
    grpc.UnaryUnaryClientInterceptor,
    grpc.UnaryStreamClientInterceptor,
    grpc.StreamUnaryClientInterceptor,
    grpc.StreamStreamClientInterceptor,
):
    """Adds `authorization: Bearer <token>` on a plaintext channel (gRPC refuses call
    credentials there; on TLS the standard access-token credentials do this)."""

    def __init__(self, token: str) -> None:
        self._header = ("authorization", f"Bearer {token}")

    def _details(self, d):
        metadata = [*(d.metadata or ()), self._header]
        return _CallDetails(
            d.method, d.timeout, metadata, d.credentials, d.wait_for_ready, d.compression
        )

    def intercept_unary_unary(self, continuation, details, request):
        return continuation(self._details(details), request)

    def intercept_unary_stream(self, continuation, details, request):
        return continuation(self._details(details), request)

    def intercept_stream_unary(self, continuation, details, requests):
        return continuation(self._details(details), requests)

    def intercept_stream_stream(self, continuation, details, requests):
        return continuation(self._details(details), requests)


def connect(
    address: str,
    token: str | None = None,
    ca: Path | None = None,
    cert: Path | None = None,
    key: Path | None = None,
    max_message_bytes: int = MAX_MESSAGE_BYTES,
) -> grpc.Channel:
    """A channel to `address`: TLS when `ca` (the server's CA bundle) is given, with a
    client certificate when `cert` and `key` are; the token rides on every call."""
    options = grpc_options(max_message_bytes)
    if ca is None:
        channel = grpc.insecure_channel(address, options=options)
        return grpc.intercept_channel(channel, _BearerToken(token)) if token else channel
    credentials = grpc.ssl_channel_credentials(
        root_certificates=ca.read_bytes(),
        private_key=key.read_bytes() if key else None,
        certificate_chain=cert.read_bytes() if cert else None,
    )
    if token:
        credentials = grpc.composite_channel_credentials(
            credentials, grpc.access_token_call_credentials(token)
        )
    return grpc.secure_channel(address, credentials, options=options)


def is_loopback(address: str) -> bool:
    """Whether HOST:PORT (or [v6]:PORT) names this machine only: localhost, 127.0.0.0/8, ::1."""
    host = address.rsplit(":", 1)[0].strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a name (or "" / "0.0.0.0" style wildcards are caught above)
        return False


def server_credentials(
    cert: Path, key: Path, client_ca: Path | None = None
) -> grpc.ServerCredentials:
    """TLS for a server; with `client_ca`, mutual TLS: a client certificate is required."""
    ca = client_ca.read_bytes() if client_ca else None
    return grpc.ssl_server_credentials(
        [(key.read_bytes(), cert.read_bytes())],
        root_certificates=ca,
        require_client_auth=ca is not None,
    )


class BearerTokenCheck(grpc.ServerInterceptor):
    """Refuse (UNAUTHENTICATED) every call whose `authorization: Bearer` token is not the
    expected one; compared in constant time, the token itself kept only as a hash."""

    def __init__(self, token: str) -> None:
        self._digest = hashlib.sha256(token.encode()).digest()

        def refuse(request, context):
            context.abort(grpc.StatusCode.UNAUTHENTICATED, "a valid bearer token is required")

        self._refusal = grpc.unary_unary_rpc_method_handler(refuse)
        self._stream_refusal = grpc.unary_stream_rpc_method_handler(refuse)

    def _valid(self, metadata) -> bool:
        presented = dict(metadata or ()).get("authorization", "")
        scheme, _, token = presented.partition(" ")
        digest = hashlib.sha256(token.strip().encode()).digest()
        return scheme.lower() == "bearer" and hmac.compare_digest(digest, self._digest)

    def intercept_service(self, continuation, handler_call_details):
        if self._valid(handler_call_details.invocation_metadata):
            return continuation(handler_call_details)
        handler = continuation(handler_call_details)
        if handler is not None and handler.response_streaming:
            return self._stream_refusal
        return self._refusal
