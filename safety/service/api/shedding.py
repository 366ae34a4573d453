"""Load shedding: when every slot a method needs is busy, its calls are refused before
the request is decoded, the caller authenticated or the guard's work done.

A sync gRPC server runs interceptors on its polling thread, ahead of the worker pool;
what they return still runs on a worker, so the refusal is a handler that only sends
the status (no deserializer: the body stays bytes). A flood then costs each refused
caller tens of microseconds of the server's time instead of a place in the queue behind
authentication and parsing (bench/load.py). The per-tenant ceilings, which need the
caller's tenant, are still judged in the servicer after authentication."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable

import grpc

from safety.observability import Metrics
from safety.service.admission import Admission
from safety.service.api.guard import REQUEST_ID_HEADER

log = logging.getLogger("reelguard.requests")

# Methods that take a slot on every call (Check takes one only when it carries media,
# which the body would have to be decoded to know): full name -> (rpc, which admission).
SHED = {
    "/reelguard.v1.Generation/Generate": ("Generation.Generate", "generation"),
    "/reelguard.v1.Provenance/Sign": ("Provenance.Sign", "media"),
    "/reelguard.v1.Provenance/Verify": ("Provenance.Verify", "media"),
    "/reelguard.v1.Provenance/Recheck": ("Provenance.Recheck", "media"),
}


class ShedWhenFull(grpc.ServerInterceptor):
    def __init__(self, admissions: dict[str, Admission], metrics: Metrics) -> None:
        self._admissions = admissions
        self._metrics = metrics

    def intercept_service(self, continuation, handler_call_details):
        shed = SHED.get(handler_call_details.method)
        if shed is not None:
            name, kind = shed
            reason = self._admissions[kind].full()
            if reason is not None:
                return self._refusal(name, reason, streaming=kind == "generation")
        return continuation(handler_call_details)

    def _refusal(self, name: str, reason: str, streaming: bool) -> grpc.RpcMethodHandler:
        def refuse(_body: bytes, context: grpc.ServicerContext) -> None:
            t0 = time.perf_counter()
            # Minted: while shedding, nothing the caller sent is read, its metadata included.
            request_id = uuid.uuid4().hex
            context.send_initial_metadata(((REQUEST_ID_HEADER, request_id),))
            self._metrics.requests.labels(name, "RESOURCE_EXHAUSTED").inc()
            log.info(
                "%s RESOURCE_EXHAUSTED (shed: %s)",
                name,
                reason,
                extra={"event": "rpc", "rpc": name, "code": "RESOURCE_EXHAUSTED",
                       "request_id": request_id, "shed": True,
                       "latency_ms": round((time.perf_counter() - t0) * 1000, 3)},
            )  # fmt: skip
            context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, reason)

        make: Callable = (
            grpc.unary_stream_rpc_method_handler
            if streaming
            else grpc.unary_unary_rpc_method_handler
        )
        return make(refuse)
