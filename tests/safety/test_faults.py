"""Component failures, through the real server: each request ends blocked or failed with a
reason, never with unchecked or unsigned output; other requests go on; gRPC health
reports NOT_SERVING while a component is down and SERVING once it is back.

docs/fail-closed.md lists these cases; keep the two in step.
"""

from __future__ import annotations

import sqlite3
import time

import grpc
import pytest
import sqlalchemy as sa
from grpc_health.v1 import health_pb2, health_pb2_grpc

from generator.kenburns import KenBurnsGenerator
from reelguard.v1 import reelguard_pb2 as pb
from signing.signer import CallbackSigner
from tests.support import Running, encode, make_config, output_bytes, terminal

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


class ExplodesOnRequest(KenBurnsGenerator):
    """The built-in generator, except that a prompt with "explode" crashes it mid-stream."""

    def generate(self, job, out_path, progress):
        if "explode" in job.prompt:
            progress(3, 10)
            out_path.write_bytes(b"half a video")
            raise RuntimeError("CUDA error: an illegal memory access was encountered")
        return super().generate(job, out_path, progress)


@pytest.fixture(scope="module")
def svc(tmp_path_factory, enrol_collins):
    config = make_config(tmp_path_factory.mktemp("faults"), health_interval_s=3600)
    r = Running(config, generator=ExplodesOnRequest())
    enrol_collins(r.identities)
    yield r
    r.close()


def health(svc, service: str = "") -> int:
    name = f"reelguard.v1.{service}" if service else ""
    stub = health_pb2_grpc.HealthStub(svc.channel)
    return stub.Check(health_pb2.HealthCheckRequest(service=name)).status


def generate(svc, prompt="a quiet lake", **kw):
    request = pb.GenerateRequest(prompt=prompt, output=pb.OutputSpec(width=64, height=64, **kw))
    return list(svc.generation.Generate(request, timeout=120))


def assert_serves_again(svc):
    assert svc.service.health.check_now() == {}
    assert health(svc) == SERVING and health(svc, "Generation") == SERVING
    kind, _ = terminal(generate(svc))
    assert kind == "completed"


def test_a_generator_raising_mid_stream_fails_the_request_only(svc):
    events = generate(svc, "explode, please")
    kind, failed = terminal(events)
    assert kind == "failed" and failed.stage == pb.GENERATING
    assert "illegal memory access" in failed.error
    assert output_bytes(events) == b""  # the half-written file never leaves
    assert_serves_again(svc)


def test_a_read_only_store_fails_closed_and_reads_go_on(svc):
    engine = svc.service.store.engine
    read_only = {"on": True}

    def mode(dbapi_connection, _record, _proxy):  # every connection the store takes
        dbapi_connection.execute(f"PRAGMA query_only = {'ON' if read_only['on'] else 'OFF'}")

    sa.event.listen(engine, "checkout", mode)  # SQLite refuses every write, as on a read-only disk
    try:
        events = generate(svc)
        kind, failed = terminal(events)
        # The verdict could not be recorded, so the output is not released.
        assert kind == "failed" and output_bytes(events) == b""
        down = svc.service.health.check_now()
        assert "store" in down and "readonly" in down["store"]
        assert health(svc) == NOT_SERVING and health(svc, "Generation") == NOT_SERVING
        with pytest.raises(grpc.RpcError) as e:
            generate(svc)
        assert e.value.code() == grpc.StatusCode.UNAVAILABLE and "store" in e.value.details()
        # Auditors still verify and read decisions.
        assert health(svc, "Decisions") == SERVING
        report = svc.provenance.Verify(pb.VerifyRequest(media=pb.Media(data=b"\xff\xd8\xff")))
        assert report.status in (pb.VerifyReport.NO_MANIFEST, pb.VerifyReport.INVALID)
    finally:
        read_only["on"] = False
        engine.dispose()  # pooled connections leave too, and new ones write again
    assert_serves_again(svc)


def test_a_front_door_that_cannot_follow_the_change_feed_stops_matching(svc, monkeypatch):
    """Another front door may have removed or added identities meanwhile: matching
    against an index that may be stale is refused, not served."""
    follower, store = svc.service.follower, svc.service.store

    def unreachable(seq, limit=1000):
        raise ConnectionError("connection to the database lost")

    monkeypatch.setattr(follower, "stale_s", 0.3)
    monkeypatch.setattr(store, "changes_after", unreachable)
    time.sleep(1.0)  # the follower's reads fail for longer than stale_s
    down = svc.service.health.check_now()
    assert "change feed has not been read" in down["change_feed"]
    assert health(svc, "Generation") == NOT_SERVING and health(svc, "Moderation") == NOT_SERVING
    with pytest.raises(grpc.RpcError) as e:
        svc.moderation.Check(pb.CheckRequest(prompt="a cat"))
    assert e.value.code() == grpc.StatusCode.UNAVAILABLE and "change_feed" in e.value.details()
    assert health(svc, "Decisions") == SERVING  # reads of the database go on
    monkeypatch.undo()  # the database is back: the follower catches up, and serves again
    deadline = time.monotonic() + 5
    while svc.service.health.check_now() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert_serves_again(svc)


def test_an_unusable_signer_fails_closed_and_reports_not_serving(svc):
    signer = svc.service.gate.manifest_signer.inner  # under the authorization check
    working = signer.signer

    def hsm_unreachable(data: bytes) -> bytes:
        raise ConnectionError("PKCS#11 token not present")

    signer.signer = CallbackSigner(hsm_unreachable, working.certificate_chain_pem)
    try:
        events = generate(svc)
        kind, failed = terminal(events)
        assert kind == "failed" and failed.stage == pb.SIGNING
        assert output_bytes(events) == b""  # nothing unsigned escapes
        down = svc.service.health.check_now()
        assert "token not present" in down["signer"]
        assert health(svc, "Generation") == NOT_SERVING
        assert health(svc, "Provenance") == NOT_SERVING  # its Sign method needs the signer
        assert health(svc, "Moderation") == SERVING  # checks need no signer
        assert svc.moderation.Check(pb.CheckRequest(prompt="a cat")).action == pb.ALLOW
    finally:
        signer.signer = working
    assert_serves_again(svc)


def test_a_crashing_face_model_blocks_and_reports_not_serving(svc, monkeypatch):
    def crash(pixels):
        raise RuntimeError("dlib: bad_alloc")

    embedder = svc.service.enroller.embedder
    monkeypatch.setattr(embedder, "faces", crash)
    monkeypatch.setattr(embedder, "faces_of_frames", crash)
    monkeypatch.setattr(embedder, "detect_frames", crash)
    events = generate(svc)  # a prompt alone still gets a post-check of its frames
    kind, blocked = terminal(events)
    assert kind == "blocked" and output_bytes(events) == b""
    assert any(
        r.category == "check_error" and "bad_alloc" in r.detail for r in blocked.verdict.reasons
    )
    assert "face_models" in svc.service.health.check_now()
    assert health(svc, "Moderation") == NOT_SERVING
    monkeypatch.undo()
    assert_serves_again(svc)


def test_a_corrupt_index_file_changes_nothing_live_and_is_rebuilt(svc, astronaut):
    path = svc.config.index_path
    good = path.read_bytes()
    path.write_bytes(b"\x00garbage" * 100)
    with pytest.raises(grpc.RpcError) as e:
        svc.identities.ReloadIndex(pb.ReloadIndexRequest(rebuild=False))
    assert e.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "unchanged" in e.value.details() and "reindex" in e.value.details()
    # The index in memory still protects the enrolled person.
    kind, blocked = terminal(generate_with_image(svc, astronaut))
    assert kind == "blocked" and blocked.verdict.reasons[0].identity_name == "Eileen Collins"
    # Rebuilding from the store writes a good file again.
    assert svc.identities.ReloadIndex(pb.ReloadIndexRequest(rebuild=True)).vectors == 1
    assert path.read_bytes() != b"\x00garbage" * 100 and len(path.read_bytes()) == len(good)
    assert_serves_again(svc)


def test_a_corrupt_index_file_at_start_is_rebuilt_from_the_store(
    tmp_path, astronaut, enrol_collins
):
    config = make_config(tmp_path, face_workers=0)
    first = Running(config)
    enrol_collins(first.identities)
    first.close()
    config.index_path.write_bytes(b"not a faiss index")
    second = Running(config)
    try:
        kind, _ = terminal(generate_with_image(second, astronaut))
        assert kind == "blocked"
    finally:
        second.close()


def test_an_unreadable_signing_key_stops_start_up_with_a_clear_error(tmp_path):
    from safety.service.app import build_service
    from signing.keys import init_dev_chain
    from signing.signer import SigningKeyError

    paths = init_dev_chain(tmp_path / "keys")
    paths.key.write_bytes(b"-----BEGIN PRIVATE KEY-----\nnot base64\n-----END PRIVATE KEY-----\n")
    config = make_config(tmp_path / "data", signing_key=paths.key, signing_chain=paths.chain)
    with pytest.raises(SigningKeyError, match="not a readable PEM key"):
        build_service(config)


def generate_with_image(svc, pixels):
    request = pb.GenerateRequest(
        prompt="a portrait",
        image=pb.Media(data=encode(pixels)),
        output=pb.OutputSpec(width=64, height=64),
    )
    return list(svc.generation.Generate(request, timeout=120))


def test_sqlite_query_only_is_what_a_read_only_database_raises(tmp_path):
    """The read-only store above is simulated with query_only; the error is the same kind
    SQLite raises for a database on a read-only file."""
    path = tmp_path / "ro.db"
    sqlite3.connect(path).execute("CREATE TABLE t (x)").connection.commit()
    path.chmod(0o444)
    ro = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        ro.execute("INSERT INTO t VALUES (1)")
