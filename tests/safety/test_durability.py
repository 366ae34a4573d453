"""kill -9 while decisions are being written: after a restart every acknowledged decision
is there, and the audit chain verifies."""

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
from tests.support import alive, children, cli, encode, free_port, scene, serve_process

CONFIG = """
face_workers = 1
web_address = ""
[policy]
name = "review-likeness"
[policy.categories.public_figure]
threshold = 0.92
action = "review"
"""


def test_acknowledged_decisions_survive_kill_9(tmp_path, enrol_collins, scenes_for_durability):
    (tmp_path / "reelguard.toml").write_text(CONFIG)
    port = free_port()
    proc = serve_process(tmp_path, port)
    try:
        token = (tmp_path / "admin.token").read_text().strip()
        channel = connect(f"127.0.0.1:{port}", token)
        enrol_collins(rpc.IdentitiesStub(channel))
        tickets = []
        for pixels in scenes_for_durability:
            request = pb.GenerateRequest(
                prompt="a portrait",
                image=pb.Media(data=encode(pixels)),
                output=pb.OutputSpec(width=64, height=64, num_frames=6),
            )
            last = list(rpc.GenerationStub(channel).Generate(request, timeout=120))[-1]
            assert last.WhichOneof("event") == "held", last
            tickets.append(last.held.ticket)

        acked_decisions: list[str] = []  # automatic decisions the server acknowledged
        acked_reviews: dict[str, str] = {}  # human decisions acknowledged: ticket -> status
        stop = threading.Event()

        def write_decisions():
            moderation, review = rpc.ModerationStub(channel), rpc.ReviewStub(channel)
            i = 0
            while not stop.is_set():
                try:
                    if i < len(tickets):
                        decision = "approve" if i % 2 else "reject"
                        r = review.Decide(
                            pb.DecideRequest(
                                tickets=[tickets[i]], decision=decision, reason_code="load_test"
                            ),
                            timeout=30,
                        )
                        acked_reviews[tickets[i]] = r.results[0].item.status
                    v = moderation.Check(pb.CheckRequest(prompt=f"a lighthouse {i}"), timeout=30)
                    acked_decisions.append(v.decision_id)
                except grpc.RpcError:
                    return  # the server died under us: what was acknowledged is what counts
                i += 1

        writer = threading.Thread(target=write_decisions)
        writer.start()
        deadline = time.monotonic() + 60
        while len(acked_reviews) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)
        workers = children(proc.pid)
        os.kill(proc.pid, signal.SIGKILL)  # mid-write: no shutdown, no flush
        proc.wait(timeout=30)
        # Its model workers go with it (no orphans holding models in memory).
        deadline = time.monotonic() + 10
        while any(alive(w) for w in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert workers and not any(alive(w) for w in workers)
        stop.set()
        writer.join(timeout=60)
        channel.close()
        assert len(acked_reviews) >= 3 and acked_decisions

        proc = serve_process(tmp_path, port)
        channel = connect(f"127.0.0.1:{port}", token)
        decisions = rpc.DecisionsStub(channel)
        for decision_id in acked_decisions:
            assert decisions.Get(pb.DecisionRef(id=decision_id)).action == pb.ALLOW
        for ticket, status in acked_reviews.items():
            assert rpc.ReviewStub(channel).Get(pb.TicketRef(ticket=ticket)).status == status
        channel.close()
        url = f"sqlite:///{tmp_path / 'reelguard.sqlite3'}"
        verified = cli("audit", "--database", url, "verify")
        assert verified.returncode == 0, verified.stderr
        audited = cli("audit", "--database", url, "export").stdout
        assert all(d in audited for d in acked_decisions)
        assert all(f'"subject": "{t}"' in audited for t in acked_reviews)
    finally:
        proc.kill()
        proc.wait(timeout=30)


@pytest.fixture
def scenes_for_durability(astronaut):
    """Six pictures of the enrolled person that hash differently."""
    backgrounds = ["camera", "coins", "page", "text", "clock", "checkerboard"]
    corners = [(0, 0), (0, 400), (400, 0), (400, 400), (200, 200), (0, 200)]
    return [scene(astronaut, b, c) for b, c in zip(backgrounds, corners, strict=True)]
