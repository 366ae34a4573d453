"""Safe transport by default: gRPC and the review UI serve beyond loopback only over TLS,
unless the operator says `allow_insecure = true` (and then the log says so)."""

from __future__ import annotations

import logging
import os

import pytest

from safety.service.api.server import start_server
from safety.service.web import WebServer
from tests.support import Running, cli, make_config


@pytest.fixture(scope="module")
def svc(tmp_path_factory):
    r = Running(make_config(tmp_path_factory.mktemp("transport"), face_workers=0))
    yield r
    r.close()


def test_grpc_beyond_loopback_in_clear_is_refused(svc):
    with pytest.raises(ValueError, match="allow_insecure"):
        start_server(svc.service, "0.0.0.0:0")


def test_the_review_ui_beyond_loopback_in_clear_is_refused(svc):
    with pytest.raises(ValueError, match="allow_insecure"):
        WebServer(svc.service, "0.0.0.0:0")


def test_allow_insecure_serves_and_says_so(svc, caplog):
    svc.service.config.allow_insecure = True
    try:
        with caplog.at_level(logging.WARNING):
            server, port = start_server(svc.service, "0.0.0.0:0")
        server.stop(None)
    finally:
        svc.service.config.allow_insecure = False
    assert port > 0 and "speaks no TLS" in caplog.text


def test_serve_refuses_a_public_address_without_tls_before_loading_models(tmp_path):
    env = {"REELGUARD_DATA_DIR": str(tmp_path), "REELGUARD_WEB_ADDRESS": ""}
    r = cli("serve", "--listen", "0.0.0.0:0", env={**os.environ, **env}, timeout=60)
    assert r.returncode == 3 and "allow_insecure" in r.stderr
    assert "loading models" not in r.stdout
