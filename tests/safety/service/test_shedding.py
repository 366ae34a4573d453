"""Load shedding: with every slot busy, a Generate is refused before it costs the server
anything a flood could multiply — no authentication, no decoding of its body."""

from __future__ import annotations

import contextlib

import grpc
import pytest

from reelguard.channel import connect
from tests.safety.service.test_limits import request, start, wait_until
from tests.support import Running, SlowGenerator, make_config

GENERATE = "/reelguard.v1.Generation/Generate"


@pytest.fixture(scope="module")
def full(tmp_path_factory):
    """A service whose only generation slot is taken."""
    generator = SlowGenerator()
    r = Running(
        make_config(tmp_path_factory.mktemp("shed"), max_generations=1), generator=generator
    )
    busy = start(r, "tenant-a")
    yield r
    busy.cancel()
    assert wait_until(lambda: r.service.admission.running() == 0)
    r.close()


def raw_generate(channel: grpc.Channel, body: bytes):
    """Generate with an arbitrary body: the bytes go out as they are."""
    call = channel.unary_stream(GENERATE, request_serializer=None, response_deserializer=None)
    return list(call(body, timeout=10))


def test_a_refused_caller_is_neither_authenticated_nor_decoded(full):
    before = full.service.metrics.requests.labels("Generation.Generate", "RESOURCE_EXHAUSTED")
    count = before._value.get()
    # A wrong token and a body that is not a GenerateRequest: were either read first, the
    # answer would be UNAUTHENTICATED or INTERNAL, after a store lookup or a parse.
    stranger = connect(full.address, "not-a-token")
    with pytest.raises(grpc.RpcError) as err:
        raw_generate(stranger, b"\xff\xfe not a protobuf")
    assert err.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "all 1 generation slots are busy" in err.value.details()
    # It still answers with a request id, and is counted like any other call.
    assert dict(err.value.initial_metadata()).get("x-request-id")
    assert before._value.get() == count + 1
    stranger.close()


def test_with_a_slot_free_the_caller_is_authenticated_as_ever(full, tmp_path):
    other = Running(make_config(tmp_path), generator=SlowGenerator())
    try:
        stranger = connect(other.address, "not-a-token")
        with pytest.raises(grpc.RpcError) as err:
            list(stranger.unary_stream(GENERATE, request_serializer=None)(
                request("t").SerializeToString(), timeout=10
            ))  # fmt: skip
        assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED
        stranger.close()
    finally:
        other.close()


def test_media_calls_are_shed_while_every_media_slot_is_busy(full):
    admission = full.service.media_admission
    stranger = connect(full.address, "not-a-token")
    with contextlib.ExitStack() as held:
        for n in range(admission.max_total):
            held.enter_context(admission.slot(f"tenant-{n}"))
        for method in ("Sign", "Verify", "Recheck"):
            call = stranger.unary_unary(
                f"/reelguard.v1.Provenance/{method}", request_serializer=None
            )
            with pytest.raises(grpc.RpcError) as err:
                call(b"\x00 not a protobuf", timeout=10)
            assert err.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED, method
            assert "media check slots are busy" in err.value.details()
        # Check takes a slot only with media, which its body would have to be decoded to
        # know: it is never shed, so a caller is authenticated as ever.
        check = stranger.unary_unary("/reelguard.v1.Moderation/Check", request_serializer=None)
        with pytest.raises(grpc.RpcError) as err:
            check(b"", timeout=10)
        assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED
    stranger.close()
