"""Metrics, traces and structured logs: what operators watch.

Metrics are Prometheus (one registry per service, served on `metrics_address`);
traces are OpenTelemetry spans per request and stage (no-op unless `tracing` is set);
logs are JSON lines with the request id when `log_format = "json"`. No label, span
attribute or log field carries a secret or user content (prompts stay out).
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import time
from collections.abc import Callable, Iterator

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

from safety.verdict import Verdict

tracer = trace.get_tracer("reelguard")
# The request being served on this thread, for log lines.
REQUEST_ID: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")

STAGE_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)


class Metrics:
    def __init__(self) -> None:
        r = self.registry = CollectorRegistry()
        self.requests = Counter(
            "reelguard_requests", "RPCs by method and final status code", ["rpc", "code"],
            registry=r,
        )  # fmt: skip
        self.rpc_seconds = Histogram(
            "reelguard_rpc_seconds", "RPC duration (whole stream for streaming RPCs)", ["rpc"],
            buckets=STAGE_BUCKETS, registry=r,
        )  # fmt: skip
        self.verdicts = Counter(
            "reelguard_verdicts", "Decisions by stage, action and leading category",
            ["stage", "action", "category"], registry=r,
        )  # fmt: skip
        self.stage_seconds = Histogram(
            "reelguard_stage_seconds", "Time per pipeline stage", ["stage"],
            buckets=STAGE_BUCKETS, registry=r,
        )  # fmt: skip
        self.model_load_seconds = Gauge(
            "reelguard_model_load_seconds", "Time to load each model at start", ["model"],
            registry=r,
        )  # fmt: skip
        self.generations_running = Gauge(
            "reelguard_generations_running", "Generation slots in use", registry=r
        )
        self.review_queue = Gauge(
            "reelguard_review_queue_items", "Held items waiting for a reviewer", registry=r
        )
        self.index_vectors = Gauge(
            "reelguard_identity_index_vectors", "Reference vectors in the identity index",
            registry=r,
        )  # fmt: skip
        self.category_evaluated = Gauge(
            "reelguard_category_evaluated",
            "1 when a deployed model with a declared calibration covers the harm category",
            ["kind", "category"], registry=r,
        )  # fmt: skip
        self.component_up = Gauge(
            "reelguard_component_up", "1 when the component's health probe passes",
            ["component"], registry=r,
        )  # fmt: skip

    def set_coverage(self, rows) -> None:
        """`rows`: (kind, category, evaluated) for every harm category (policy/coverage.py)."""
        for kind, category, evaluated in rows:
            self.category_evaluated.labels(kind, category).set(1 if evaluated else 0)

    def count_verdict(self, verdict: Verdict) -> None:
        category = verdict.reasons[0].category if verdict.reasons else ""
        self.verdicts.labels(
            verdict.stage.name.lower(), verdict.action.name.lower(), category
        ).inc()

    @contextlib.contextmanager
    def stage(self, name: str, parent: trace.Span | None = None) -> Iterator[trace.Span]:
        """Time a pipeline stage (histogram) and trace it (a child span of `parent`)."""
        context = trace.set_span_in_context(parent) if parent is not None else None
        span = tracer.start_span(name, context=context)
        # Current for this thread while the stage runs (and for work it hands to the gate's
        # pool, which copies the context): calls to Ray pools carry it along.
        token = otel_context.attach(trace.set_span_in_context(span))
        t0 = time.perf_counter()
        try:
            yield span
        except BaseException as e:
            span.record_exception(e)
            span.set_status(trace.Status(trace.StatusCode.ERROR, type(e).__name__))
            raise
        finally:
            otel_context.detach(token)
            span.end()
            self.stage_seconds.labels(name).observe(time.perf_counter() - t0)

    def timed_load(self, model: str, load: Callable[[], object]):
        t0 = time.perf_counter()
        try:
            return load()
        finally:
            self.model_load_seconds.labels(model).set(time.perf_counter() - t0)

    def serve(self, address: str):
        """Serve /metrics on `address` ("host:port"); returns the bound port."""
        host, port = address.rsplit(":", 1)
        server, _thread = start_http_server(int(port), host, registry=self.registry)
        self._server = server
        return server.server_port

    def close(self) -> None:
        server = getattr(self, "_server", None)
        if server is not None:
            server.shutdown()
            server.server_close()


def trace_carrier() -> dict[str, str]:
    """The current trace context as W3C headers, to send with a call to another process."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier


@contextlib.contextmanager
def remote_span(name: str, carrier: dict[str, str] | None) -> Iterator[trace.Span]:
    """A span in another process (a Ray replica) under the caller's span."""
    with tracer.start_as_current_span(name, context=propagate.extract(carrier or {})) as span:
        yield span


@contextlib.contextmanager
def batch_span(name: str, carriers: list[dict[str, str]]) -> Iterator[trace.Span]:
    """One span for a batch that serves several requests, linked to each of them."""
    links = []
    for carrier in carriers:
        context = trace.get_current_span(propagate.extract(carrier)).get_span_context()
        if context.is_valid:
            links.append(trace.Link(context))
    with tracer.start_as_current_span(name, links=links) as span:
        span.set_attribute("reelguard.batch_size", len(carriers))
        yield span


def setup_tracing(kind: str, endpoint: str = "") -> None:
    """ "console" prints spans; "otlp" exports to an OpenTelemetry collector (`endpoint`,
    e.g. http://localhost:4317); "" leaves tracing off (the API's no-op tracer)."""
    if not kind:
        return
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter

    if kind == "console":
        exporter = ConsoleSpanExporter()
    elif kind == "otlp":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        exporter = OTLPSpanExporter(endpoint=endpoint or None)
    else:
        raise ValueError(f"tracing must be '', 'console' or 'otlp', not {kind!r}")
    provider = TracerProvider(resource=Resource.create({"service.name": "reelguard"}))
    provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)


class _RequestId(logging.Filter):
    """The current call's request id, on a line that names no request of its own (a
    review action names the held request's, which its client got back)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", ""):
            record.request_id = REQUEST_ID.get()
        return True


TIME_FORMAT = "%Y-%m-%dT%H:%M:%S%z"  # with the zone: lines from several hosts line up


def setup_logging(fmt: str = "text", level: int = logging.INFO) -> None:
    """Text for people at a terminal, or JSON lines (with the request id) for collectors."""
    handler = logging.StreamHandler()
    handler.addFilter(_RequestId())
    if fmt == "json":
        from pythonjsonlogger.json import JsonFormatter

        handler.setFormatter(
            JsonFormatter(
                "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
                rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
                datefmt=TIME_FORMAT,
            )
        )
    elif fmt == "text":
        handler.setFormatter(
            logging.Formatter(
                "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s",
                datefmt=TIME_FORMAT,
            )
        )
    else:
        raise ValueError(f"log_format must be 'text' or 'json', not {fmt!r}")
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
