"""Operators trace a complaint by the request id the client got back: one structured log
line per call and per request outcome, carrying it; the client's own id is kept."""

from __future__ import annotations

import logging

from reelguard.v1 import reelguard_pb2 as pb
from tests.support import encode


def lines(caplog, request_id: str, event: str) -> list[logging.LogRecord]:
    return [
        r
        for r in caplog.records
        if getattr(r, "request_id", None) == request_id and getattr(r, "event", "") == event
    ]


def test_a_generate_requests_lines_are_found_by_the_id_accepted_returned(running, coffee, caplog):
    caplog.set_level(logging.INFO, logger="reelguard.requests")
    events = running.generate("steam over a cup", encode(coffee), width=96, height=96)
    request_id = events[0].accepted.request_id
    assert request_id
    (call,) = lines(caplog, request_id, "rpc")
    assert call.rpc == "Generation.Generate" and call.code == "OK" and call.latency_ms > 0
    assert call.tenant and call.client  # who asked; no prompt text, no token
    (outcome,) = lines(caplog, request_id, "outcome")
    assert outcome.outcome == "completed" and len(outcome.decision_id) == 32
    assert "steam over a cup" not in caplog.text and running.admin_token not in caplog.text


def test_the_clients_request_id_is_kept_and_a_minted_one_returned(running, caplog):
    caplog.set_level(logging.INFO, logger="reelguard.requests")
    stub = running.moderation
    request = pb.CheckRequest(prompt="a cup of tea")
    _, call = stub.Check.with_call(request, metadata=(("x-request-id", "ticket-4711"),))
    assert dict(call.initial_metadata())["x-request-id"] == "ticket-4711"
    assert lines(caplog, "ticket-4711", "rpc")[0].rpc == "Moderation.Check"
    # Not a plain token (a log-injection attempt): replaced by a minted id, returned.
    _, call = stub.Check.with_call(request, metadata=(("x-request-id", "x\\nFAKE LINE"),))
    minted = dict(call.initial_metadata())["x-request-id"]
    assert len(minted) == 32 and lines(caplog, minted, "rpc")
