"""Metrics, traces and JSON logs from a real service."""

from __future__ import annotations

import io
import json
import logging
import re
import urllib.request

import grpc
import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from reelguard.v1 import reelguard_pb2 as pb
from reelguard.v1 import reelguard_pb2_grpc as rpc
from safety.observability import REQUEST_ID, setup_logging
from tests.support import encode, terminal

SPANS = InMemorySpanExporter()


@pytest.fixture(scope="module", autouse=True)
def in_memory_tracing():
    """What `tracing = "console"` sets up, with an exporter the test can read."""
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(SPANS))
    trace.set_tracer_provider(provider)
    yield


def value(text: str, name: str, **labels) -> float:
    """One sample from Prometheus text format."""
    for line in text.splitlines():
        if not line.startswith(name + ("{" if labels else " ")):
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', line.split(" ")[0]))
        if all(found.get(k) == v for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"no sample {name} {labels}")


def test_metrics_count_requests_verdicts_stages_and_components(running, astronaut):
    port = running.service.metrics.serve("127.0.0.1:0")
    try:
        kind, _ = terminal(running.generate("a red kite over the sea", width=64, height=64))
        assert kind == "completed"
        kind, _ = terminal(running.generate("a portrait", encode(astronaut)))
        assert kind == "blocked"
        with grpc.insecure_channel(running.address) as bare, pytest.raises(grpc.RpcError):
            rpc.ModerationStub(bare).Check(pb.CheckRequest(prompt="x"))
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
            text = r.read().decode()
    finally:
        running.service.metrics.close()
    assert value(text, "reelguard_requests_total", rpc="Generation.Generate", code="OK") >= 2
    assert (
        value(text, "reelguard_requests_total", rpc="Moderation.Check", code="UNAUTHENTICATED") >= 1
    )
    assert (
        value(
            text,
            "reelguard_verdicts_total",
            stage="pre_check",
            action="block",
            category="public_figure",
        )
        >= 1
    )
    assert (
        value(text, "reelguard_verdicts_total", stage="post_check", action="allow", category="")
        >= 1
    )
    for stage in ("pre_check", "generate", "post_check", "sign"):
        assert value(text, "reelguard_stage_seconds_count", stage=stage) >= 1
    assert value(text, "reelguard_identity_index_vectors") == 1
    assert value(text, "reelguard_model_load_seconds", model="face_models") > 0
    assert value(text, "reelguard_component_up", component="signer") == 1
    assert value(text, "reelguard_generations_running") == 0
    assert value(text, "reelguard_review_queue_items") == 0
    assert running.admin_token not in text  # no secret in metrics


def test_a_request_is_one_trace_with_a_span_per_stage(running):
    SPANS.clear()
    kind, _ = terminal(running.generate("fog rolling over hills", width=64, height=64))
    assert kind == "completed"
    spans = {s.name: s for s in SPANS.get_finished_spans()}
    root = spans["reelguard.generate"]
    for stage in ("pre_check", "generate", "post_check", "sign"):
        child = spans[stage]
        assert child.parent.span_id == root.context.span_id
        assert child.context.trace_id == root.context.trace_id
        assert child.end_time >= child.start_time
    assert root.attributes["reelguard.tenant"] == "default"
    assert "fog" not in json.dumps({k: str(v) for k, v in root.attributes.items()})  # no prompts


def test_json_logs_carry_the_request_id():
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        setup_logging("json")
        stream = io.StringIO()
        root.handlers[0].setStream(stream)
        token = REQUEST_ID.set("req-123")
        logging.getLogger("safety.test").warning("held for review")
        REQUEST_ID.reset(token)
        line = json.loads(stream.getvalue().strip())
        assert line["request_id"] == "req-123" and line["message"] == "held for review"
        assert line["level"] == "WARNING" and line["logger"] == "safety.test"
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4}", line["time"])  # zoned
    finally:
        root.handlers[:], _ = saved
        root.setLevel(saved[1])
    with pytest.raises(ValueError, match="log_format"):
        setup_logging("xml")


def test_spans_in_ray_pools_join_the_callers_trace():
    """What a pool replica does with the trace context each call carries."""
    from generator.base import GenerationInput
    from safety.observability import batch_span, trace_carrier, tracer
    from safety.service.scaleout import GeneratorPool

    pool = GeneratorPool.func_or_class("kenburns", "auto", "auto", 1)
    with tracer.start_as_current_span("caller") as caller:
        carrier = trace_carrier()
    assert "traceparent" in carrier
    job = GenerationInput("a kite", None, 64, 64, 8, 4, 0)
    events = list(pool.generate(job, carrier))
    assert events[-1][0] == "video" and events[-1][2] == "video/mp4"
    (span,) = [s for s in SPANS.get_finished_spans() if s.name == "generator_pool.generate"]
    assert span.parent.span_id == caller.get_span_context().span_id
    # A batch serving two requests links to both.
    with tracer.start_as_current_span("a"):
        a = trace_carrier()
    with tracer.start_as_current_span("b"):
        b = trace_carrier()
    with batch_span("face_pool.batch", [a, b]) as batch:
        pass
    assert len(batch.links) == 2
