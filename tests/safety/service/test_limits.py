"""Back-pressure: generation slots, refusal before heavy work, cancellation frees slots."""

from __future__ import annotations

import time

import grpc
import pytest

from reelguard.v1 import reelguard_pb2 as pb
from tests.support import Running, SlowGenerator, make_config, sql


@pytest.fixture(scope="module")
def slow(tmp_path_factory):
    generator = SlowGenerator()
    r = Running(
        make_config(
            tmp_path_factory.mktemp("limits"), max_generations=2, max_generations_per_tenant=1
        ),
        generator=generator,
    )
    r.generator = generator
    yield r
    r.close()


def request(tenant: str, frames: int = 40) -> pb.GenerateRequest:
    return pb.GenerateRequest(
        prompt="a grey wall",
        tenant=tenant,
        output=pb.OutputSpec(width=64, height=64, num_frames=frames),
    )


def start(r: Running, tenant: str):
    """Open a stream and wait until it is generating; returns the call."""
    call = r.generation.Generate(request(tenant), timeout=60)
    for event in call:
        if event.WhichOneof("event") == "progress" and event.progress.stage == pb.GENERATING:
            return call
    raise AssertionError("stream ended before generating")


def wait_until(predicate, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_ceilings_refuse_at_once_and_slots_come_back(slow):
    a = start(slow, "tenant-a")
    b = start(slow, "tenant-b")
    assert slow.service.admission.running() == 2
    for tenant, words in [
        ("tenant-c", "all 2 generation slots are busy"),
        ("tenant-a", "all 2 generation slots are busy"),
    ]:
        t0 = time.monotonic()
        with pytest.raises(grpc.RpcError) as err:
            list(slow.generation.Generate(request(tenant), timeout=10))
        assert err.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert words in err.value.details() and time.monotonic() - t0 < 1.0
    a.cancel()
    b.cancel()
    assert wait_until(lambda: slow.service.admission.running() == 0)


def test_per_tenant_limit(slow):
    a = start(slow, "tenant-a")
    with pytest.raises(grpc.RpcError) as err:
        list(slow.generation.Generate(request("tenant-a"), timeout=10))
    assert err.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "tenant 'tenant-a' already runs 1 generation(s)" in err.value.details()
    a.cancel()
    assert wait_until(lambda: slow.service.admission.running() == 0)


def test_cancelling_stops_generation_and_frees_the_slot(slow):
    before = slow.generator.frames_made
    call = start(slow, "tenant-x")
    call.cancel()
    assert wait_until(lambda: slow.service.admission.running() == 0)
    time.sleep(0.5)
    made = slow.generator.frames_made - before
    assert made < 20  # of 40: it stopped at the next progress report
    again = list(slow.generation.Generate(request("tenant-x", frames=3), timeout=30))
    assert again[-1].WhichOneof("event") == "completed"


def test_a_passed_deadline_ends_the_stream_and_frees_the_slot(slow):
    with pytest.raises(grpc.RpcError) as err:
        list(slow.generation.Generate(request("tenant-d"), timeout=1.0))
    assert err.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert wait_until(lambda: slow.service.admission.running() == 0)


# ---- idempotency keys ----------------------------------------------------------------------


def keyed(prompt: str, key: str, image: bytes | None = None, tenant: str = "t") -> list:
    req = pb.GenerateRequest(
        prompt=prompt,
        tenant=tenant,
        idempotency_key=key,
        output=pb.OutputSpec(width=64, height=64, num_frames=6),
    )
    if image is not None:
        req.image.CopyFrom(pb.Media(data=image))
    return req


def test_a_retried_request_gets_the_same_result_not_a_second_generation(running):
    from tests.support import output_bytes, terminal

    first = list(running.generation.Generate(keyed("a quiet pond", "k-1"), timeout=60))
    second = list(running.generation.Generate(keyed("a quiet pond", "k-1"), timeout=60))
    assert first[0].accepted.request_id == second[0].accepted.request_id
    assert output_bytes(first) == output_bytes(second) and output_bytes(first)
    (_, a), (_, b) = terminal(first), terminal(second)
    assert a.verdict.decision_id == b.verdict.decision_id and a.sha256 == b.sha256
    rows = sql(
        running.service.store,
        "SELECT COUNT(*) FROM decisions WHERE request_id = :r",
        r=first[0].accepted.request_id,
    )
    assert rows[0][0] == 1  # generated, checked and signed once
    # Keys are per tenant: another tenant's same key is a new request.
    other = list(running.generation.Generate(keyed("a quiet pond", "k-1", tenant="u"), timeout=60))
    assert other[0].accepted.request_id != first[0].accepted.request_id


def test_a_blocked_result_is_replayed_and_a_reused_key_is_refused(running, astronaut):
    from tests.support import encode, terminal

    image = encode(astronaut)
    first = terminal(list(running.generation.Generate(keyed("portrait", "k-2", image))))
    again = terminal(list(running.generation.Generate(keyed("portrait", "k-2", image))))
    assert first[0] == again[0] == "blocked"
    assert first[1].verdict.decision_id == again[1].verdict.decision_id
    with pytest.raises(grpc.RpcError) as err:
        list(running.generation.Generate(keyed("a different prompt", "k-2", image)))
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "already used for a different request" in err.value.details()


def test_a_key_in_flight_is_refused_and_released_if_the_stream_dies(slow):
    req = pb.GenerateRequest(
        prompt="a grey wall",
        tenant="tenant-k",
        idempotency_key="k-3",
        output=pb.OutputSpec(width=64, height=64, num_frames=40),
    )
    call = slow.generation.Generate(req, timeout=60)
    for event in call:
        if event.WhichOneof("event") == "progress" and event.progress.stage == pb.GENERATING:
            break
    with pytest.raises(grpc.RpcError) as err:
        list(slow.generation.Generate(req, timeout=10))
    assert err.value.code() == grpc.StatusCode.ABORTED and "still running" in err.value.details()
    call.cancel()
    assert wait_until(lambda: slow.service.admission.running() == 0)
    short = pb.GenerateRequest()
    short.CopyFrom(req)
    short.output.num_frames = 3
    short.idempotency_key = "k-3"
    # The dead stream's claim was released: the key is free again (for any request).
    assert wait_until(
        lambda: not sql(slow.service.store, "SELECT 1 FROM idempotency WHERE key = 'k-3'")
    )
    done = list(slow.generation.Generate(short, timeout=30))
    assert done[-1].WhichOneof("event") == "completed"


def test_a_claim_a_killed_run_left_is_freed_when_its_front_door_restarts(tmp_path):
    """kill -9 mid-request leaves the key claimed with no one to finish or release it:
    every retry was refused as "still running", forever."""
    import hashlib

    req = keyed("a quiet pond", "k-crash")
    body = pb.GenerateRequest()
    body.CopyFrom(req)
    body.ClearField("idempotency_key")
    digest = hashlib.sha256(body.SerializeToString(deterministic=True)).hexdigest()
    first = Running(make_config(tmp_path))
    try:
        owner = first.service.claim_owner.split("#")[0] + "#killed-run"
        first.service.store.claim_idempotency("t", "k-crash", digest, "req-dead", owner, 3600)
        with pytest.raises(grpc.RpcError) as err:
            list(first.generation.Generate(req, timeout=30))
        assert err.value.code() == grpc.StatusCode.ABORTED
    finally:
        first.close()
    second = Running(make_config(tmp_path))  # the front door, restarted
    try:
        done = list(second.generation.Generate(req, timeout=60))
        assert done[-1].WhichOneof("event") == "completed"
    finally:
        second.close()


def test_kept_outputs_and_their_keys_are_forgotten_after_retention(tmp_path):
    """Kept outputs (replays of idempotent requests) and leftover work directories would
    otherwise fill the disk: past retention both go, and a retry runs anew."""
    import os

    from safety.service.app import purge_outputs

    r = Running(make_config(tmp_path))
    try:
        first = list(r.generation.Generate(keyed("a quiet pond", "k-old"), timeout=60))
        media = r.service.review.media
        key = f"outputs/{first[0].accepted.request_id}.mp4"
        kept = media.path(key)
        assert kept.exists() and media.exists(key)
        stale = r.service.gate.work_dir / "tmp-from-a-killed-run"
        stale.mkdir()
        os.utime(stale, (time.time() - 7200, time.time() - 7200))
        fresh = r.service.gate.work_dir / "tmp-of-a-running-request"
        fresh.mkdir()
        # As if the retention had passed since the request (retention -1 s: all of them).
        purge_outputs(r.service.store, media, r.service.gate.work_dir, -1, 3600)
        assert not kept.exists() and not media.exists(key)
        assert not stale.exists() and fresh.exists()
        again = list(r.generation.Generate(keyed("a quiet pond", "k-old"), timeout=60))
        assert again[0].accepted.request_id != first[0].accepted.request_id
        assert again[-1].WhichOneof("event") == "completed"
    finally:
        r.close()
