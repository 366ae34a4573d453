"""Releasing an approved item is a recorded state machine (approved → releasing →
released): a crash between signing and recording leaves neither a second signature nor
a lost release; the release resumes after a restart."""

from __future__ import annotations

import os
import signal
import threading
import time

import grpc
import pytest

from reelguard.channel import connect
from reelguard.v1 import reelguard_pb2 as pb
from reelguard.v1 import reelguard_pb2_grpc as rpc
from tests.support import (
    REVIEW_LIKENESS,
    Running,
    cli,
    encode,
    free_port,
    make_config,
    output_bytes,
    scene,
    serve_process,
    terminal,
)

KILLED_CONFIG = """
face_workers = 0
web_address = ""
[policy]
name = "review-likeness"
[policy.categories.public_figure]
threshold = 0.92
action = "review"
"""


def held(r: Running, studio, pixels) -> pb.Held:
    return held_on(studio, pixels)


def approve(reviewer, ticket):
    return rpc.ReviewStub(reviewer).Decide(
        pb.DecideRequest(tickets=[ticket], decision="approve", reason_code="false_positive"),
        timeout=60,
    )


def releases(r: Running, request_id: str) -> list[dict]:
    return [
        d
        for d in r.service.store.decisions(limit=1000)
        if d["request_id"] == request_id and d["action"] == "allow"
    ]


def test_a_crash_after_signing_releases_once_and_resumes_after_restart(
    tmp_path, astronaut, enrol_collins, monkeypatch
):
    config = make_config(tmp_path, policy=REVIEW_LIKENESS, face_workers=0)
    r = Running(config)
    try:
        enrol_collins(r.identities)
        studio = r.client("generator-client", "studio-a")[1]
        reviewer = r.client("reviewer")[1]
        h = held(r, studio, astronaut)
        item = r.service.review.get(h.ticket)
        store = r.service.review.store
        real = store.update_review_item

        def dies_once_signed(ticket, status, values, entry, **kw):
            if values.get("signed_path"):  # signed, the release not yet recorded
                raise RuntimeError("the process was killed here")
            return real(ticket, status, values, entry, **kw)

        monkeypatch.setattr(store, "update_review_item", dies_once_signed)
        with pytest.raises(grpc.RpcError):
            approve(reviewer, h.ticket)
        monkeypatch.setattr(store, "update_review_item", real)
        # A second approval of the same ticket must not sign it again.
        try:
            approve(reviewer, h.ticket)
        except grpc.RpcError as e:
            assert e.code() in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.ABORTED)
        assert len(releases(r, item.request_id)) <= 1
    finally:
        r.close()
    again = Running(config)  # the restart resumes what was releasing
    try:
        result = list(
            rpc.GenerationStub(again.channel).GetResult(pb.TicketRef(ticket=h.ticket), timeout=60)
        )
        kind, completed = terminal(result)
        assert kind == "completed" and output_bytes(result)
        assert len(releases(again, item.request_id)) == 1  # signed and recorded exactly once
        assert again.service.audit.verify().ok
    finally:
        again.close()


def test_kill_9_between_signing_and_recording_releases_exactly_once_after_restart(
    tmp_path, astronaut, enrol_collins
):
    """The same crash as above, as a real one: the server process is killed (SIGKILL) at
    the fail point between signing the release and recording it."""
    (tmp_path / "reelguard.toml").write_text(KILLED_CONFIG)
    port, marker = free_port(), tmp_path / "failpoint-reached"
    stop_there = {"REELGUARD_FAILPOINT": "review.released_not_recorded"}
    proc = serve_process(tmp_path, port, {**stop_there, "REELGUARD_FAILPOINT_MARKER": str(marker)})
    try:
        token = (tmp_path / "admin.token").read_text().strip()
        channel = connect(f"127.0.0.1:{port}", token)
        enrol_collins(rpc.IdentitiesStub(channel))
        h = held_on(channel, astronaut)
        request_id = rpc.ReviewStub(channel).Get(pb.TicketRef(ticket=h.ticket)).request_id
        answered: list = []
        approving = threading.Thread(target=lambda: answered.append(try_approve(channel, h)))
        approving.start()
        deadline = time.monotonic() + 60
        while not marker.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert marker.exists(), "the release never reached the point between its steps"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        approving.join(timeout=30)
        assert answered and isinstance(answered[0], grpc.RpcError)  # never acknowledged
        channel.close()

        proc = serve_process(tmp_path, port)  # start-up resumes what was releasing
        channel = connect(f"127.0.0.1:{port}", token)
        events = list(rpc.GenerationStub(channel).GetResult(pb.TicketRef(ticket=h.ticket)))
        kind, _ = terminal(events)
        assert kind == "completed"
        report = rpc.ProvenanceStub(channel).Verify(
            pb.VerifyRequest(media=pb.Media(data=output_bytes(events)))
        )
        assert report.status == pb.VerifyReport.TRUSTED, report
        # A second approval neither signs again nor records a second release.
        again = try_approve(channel, h)
        assert isinstance(again, grpc.RpcError) or again.results[0].item.status == "approved"
        allows = [
            d
            for d in rpc.DecisionsStub(channel).List(pb.ListDecisionsRequest(limit=1000)).decisions
            if d.request_id == request_id and d.action == pb.ALLOW
        ]
        assert len(allows) == 1, allows
        channel.close()
        verified = cli(
            "audit", "--database", f"sqlite:///{tmp_path / 'reelguard.sqlite3'}", "verify"
        )
        assert verified.returncode == 0, verified.stderr
    finally:
        proc.kill()
        proc.wait(timeout=30)


def held_on(channel, pixels) -> pb.Held:
    request = pb.GenerateRequest(
        prompt="a portrait",
        image=pb.Media(data=encode(pixels)),
        output=pb.OutputSpec(width=64, height=64, num_frames=6),
    )
    kind, h = terminal(list(rpc.GenerationStub(channel).Generate(request, timeout=120)))
    assert kind == "held"
    return h


def try_approve(channel, h: pb.Held):
    try:
        return approve(channel, h.ticket)
    except grpc.RpcError as e:
        return e


def test_decided_media_are_deleted_after_the_retention_period(tmp_path, astronaut, enrol_collins):
    """Held outputs and kept inputs of decided items do not stay on disk forever."""
    import time

    config = make_config(tmp_path, policy=REVIEW_LIKENESS, face_workers=0)
    r = Running(config)
    try:
        enrol_collins(r.identities)
        studio = r.client("generator-client", "studio-a")[1]
        reviewer = r.client("reviewer")[1]
        old = held(r, studio, scene(astronaut, "coins", (0, 0)))
        recent = held(r, studio, scene(astronaut, "page", (400, 400)))
        for h in (old, recent):
            rpc.ReviewStub(reviewer).Decide(
                pb.DecideRequest(
                    tickets=[h.ticket], decision="reject", reason_code="likeness_no_consent"
                )
            )
        queue = r.service.review
        old_item, recent_item = queue.get(old.ticket), queue.get(recent.ticket)
        keys = [old_item.held_path] + [i["path"] for i in old_item.spec["ingredients"]]
        files = [queue.media.path(k) for k in keys]  # this front door's cached copies
        assert all(f.exists() for f in files) and all(queue.media.exists(k) for k in keys)
        month = 30 * 86400
        assert queue.purge_decided(older_than_s=month) == 0  # decided just now: kept
        assert all(queue.media.exists(k) for k in keys)
        assert queue.purge_decided(older_than_s=month, now=time.time() + month + 60) == 2
        assert not any(f.exists() for f in files)  # the cache files ...
        assert not any(queue.media.exists(k) for k in keys)  # ... and the database's bytes
        assert not queue.media.exists(recent_item.held_path)
        entries = [e for e in r.service.audit.entries() if e["kind"] == "purged"]
        assert {old.ticket, recent.ticket} <= {e["subject"] for e in entries}
        assert r.service.audit.verify().ok
        kind, _ = terminal(
            list(rpc.GenerationStub(studio).GetResult(pb.TicketRef(ticket=old.ticket)))
        )
        assert kind == "blocked"  # the verdict outlives the media
        assert queue.purge_decided(older_than_s=month, now=time.time() + month + 60) == 0
    finally:
        r.close()
