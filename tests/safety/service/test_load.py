"""Load: 100 concurrent Generate streams against a server with N slots."""

from __future__ import annotations

import os
import threading
import time
from concurrent import futures

import grpc
import pytest

from reelguard.v1 import reelguard_pb2 as pb
from tests.support import Running, SlowGenerator, make_config

STREAMS, SLOTS = 100, 4


@pytest.fixture(scope="module")
def four_slots(tmp_path_factory):
    config = make_config(
        tmp_path_factory.mktemp("load"),
        max_generations=SLOTS,
        max_generations_per_tenant=STREAMS,
        face_workers=0,
        health_interval_s=3600,
    )
    r = Running(config, generator=SlowGenerator())
    yield r
    r.close()


def one_stream(r: Running, i: int) -> tuple[str, float, float]:
    """(outcome, seconds to the first answer, seconds to the end) of one Generate."""
    request = pb.GenerateRequest(
        prompt="a grey wall",
        tenant=f"tenant-{i % 10}",
        output=pb.OutputSpec(width=64, height=64, num_frames=10),
    )
    start = time.monotonic()
    first = None
    try:
        for event in r.generation.Generate(request, timeout=120):
            first = first or time.monotonic() - start
            kind = event.WhichOneof("event")
            if kind in ("completed", "blocked", "failed"):
                return kind, first, time.monotonic() - start
        return "no terminal event", first or 0.0, time.monotonic() - start
    except grpc.RpcError as e:
        return e.code().name, time.monotonic() - start, time.monotonic() - start


def open_fds(r: Running) -> int:
    """This process's descriptors, the store's own database files aside: those belong to
    its connection pool, which keeps up to its size of connections between floods
    (asserted on its own; as the checks sped up, a third flood's timing kept two more
    SQLite connections than the second's, three descriptors each)."""
    database = r.service.store.engine.url.database
    pooled = {database, f"{database}-wal", f"{database}-shm"}
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            count += os.readlink(f"/proc/self/fd/{fd}") not in pooled
        except OSError:
            pass  # closed while listed
    return count


def unpooled_threads(r: Running) -> int:
    """Threads outside the bounded pools (the gate's check and generation pools, and the
    gRPC servers' worker pools): these must not grow with the number of streams."""
    gate = r.service.gate
    pooled = set(gate._check_pool._threads) | set(gate._generation_pool._threads)
    return sum(t not in pooled and not t.name.startswith("grpc_") for t in threading.enumerate())


def flood(r: Running) -> list[tuple[str, float, float]]:
    barrier = threading.Barrier(STREAMS)

    def go(i):
        barrier.wait()  # all 100 at once
        return one_stream(r, i)

    with futures.ThreadPoolExecutor(STREAMS) as pool:
        return list(pool.map(go, range(STREAMS)))


def test_only_n_streams_run_the_rest_are_refused_fast_and_nothing_leaks(four_slots):
    r = four_slots
    for round_ in range(3):
        results = flood(r)
        outcomes = [o for o, _, _ in results]
        assert outcomes.count("completed") == SLOTS, outcomes
        assert outcomes.count("RESOURCE_EXHAUSTED") == STREAMS - SLOTS, outcomes
        # Every refusal came before any admitted stream had finished (each runs >= 1 s).
        slowest_refusal = max(t for o, t, _ in results if o == "RESOURCE_EXHAUSTED")
        fastest_completion = min(end for o, _, end in results if o == "completed")
        assert slowest_refusal < fastest_completion
        # Nothing held afterwards: slots and work files (a stream's slot is given back
        # as its handler unwinds, just after the client read its last event).
        assert settles(lambda: r.service.admission.running() == 0)
        assert settles(lambda: not list(r.service.gate.work_dir.iterdir()))
        if round_ == 1:  # two floods in
            others, fds = unpooled_threads(r), open_fds(r)
    # A third flood leaves no more descriptors and no more threads outside the bounded pools
    # than the second did (a leak per stream would show as ~100; a few come and go with other
    # services in the session, and gRPC closes a finished stream's descriptors a moment
    # later, so both may settle). The pools start threads lazily, so they may still grow,
    # but never past their ceilings.
    deadline = time.monotonic() + 10
    while (unpooled_threads(r) > others or open_fds(r) > fds + 5) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert unpooled_threads(r) <= others + 3
    assert open_fds(r) <= fds + 5
    pool = r.service.store.engine.pool
    assert pool.checkedin() <= pool.size()
    gate = r.service.gate
    assert len(gate._check_pool._threads) <= gate._check_pool._max_workers
    assert len(gate._generation_pool._threads) <= r.config.max_generations
    # And the server still serves.
    kind = [e.WhichOneof("event") for e in r.generate("after the storm", width=64, height=64)][-1]
    assert kind == "completed"


def settles(condition, within_s: float = 5.0) -> bool:
    """Whether `condition` holds within `within_s` (polled)."""
    deadline = time.monotonic() + within_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True
