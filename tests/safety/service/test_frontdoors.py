"""Two front doors, one PostgreSQL: separate data dirs, nothing shared but the database
and the signing chain. Clients, enrolments, held items, review decisions and web
sessions made through one work through the other; after `kill -9` of one the other
goes on serving, nothing acknowledged is lost, and the audit chain verifies."""

from __future__ import annotations

import os
import re
import signal
import time

import grpc
import pytest
import requests

from reelguard.channel import connect
from reelguard.v1 import reelguard_pb2 as pb
from reelguard.v1 import reelguard_pb2_grpc as rpc
from signing.keys import init_dev_chain
from tests.support import cli, encode, free_port, output_bytes, scene, serve_process, terminal

CONFIG = """
database_url = "{url}"
signing_key = "{keys}/signer.key"
signing_chain = "{keys}/chain.pem"
watermark_key_file = "{keys}/watermark.key"
web_address = "127.0.0.1:{web}"
metrics_address = ""
face_workers = 1
sync_poll_s = 0.2
[policy]
name = "review-likeness"
[policy.categories.public_figure]
threshold = 0.92
action = "review"
"""


class FrontDoor:
    def __init__(self, root, name: str, url: str, keys) -> None:
        self.data_dir = root / name
        self.data_dir.mkdir()
        self.port, self.web_port = free_port(), free_port()
        self.base = f"http://127.0.0.1:{self.web_port}"
        (self.data_dir / "reelguard.toml").write_text(
            CONFIG.format(url=url, keys=keys, web=self.web_port)
        )
        self.proc = serve_process(self.data_dir, self.port)

    def channel(self, token: str) -> grpc.Channel:
        return connect(f"127.0.0.1:{self.port}", token)


@pytest.fixture
def doors(postgres, tmp_path):
    url = postgres.fresh_database("frontdoors")
    keys = tmp_path / "keys"
    init_dev_chain(keys)
    started = []
    try:
        started.append(FrontDoor(tmp_path, "a", url, keys))  # makes the first admin
        started.append(FrontDoor(tmp_path, "b", url, keys))
        yield started[0], started[1], url
    finally:
        for door in started:
            door.proc.kill()
            door.proc.wait(timeout=30)


def client(admin: grpc.Channel, role: str, tenant: str = "*") -> str:
    request = pb.CreateClientRequest(name=role, tenant=tenant, role=role)
    return rpc.ClientsStub(admin).Create(request).token


def web_login(base: str, token: str) -> requests.Session:
    s = requests.Session()
    form = s.get(f"{base}/login", timeout=10).text
    csrf = re.search(r'name="csrf" value="([^"]+)"', form).group(1)
    r = s.post(
        f"{base}/login", data={"csrf": csrf, "token": token}, allow_redirects=False, timeout=10
    )
    assert r.status_code == 302, r.text
    return s


def findings_of(moderation, image: bytes) -> set[str]:
    """Who the image's faces were matched with."""
    verdict = moderation.Check(pb.CheckRequest(media=pb.Media(data=image)), timeout=60)
    return {f.identity_name for f in verdict.findings if f.category == "public_figure"}


def test_two_front_doors_on_one_database(doors, enrol_collins, astronaut):
    a, b, url = doors
    admin_a = a.channel((a.data_dir / "admin.token").read_text().strip())
    assert not (b.data_dir / "admin.token").exists()  # b found a's clients: no second admin

    # A client created through a authenticates on b.
    studio = client(admin_a, "generator-client", "studio-a")
    on_b = b.channel(studio)
    rpc.ModerationStub(on_b).Check(pb.CheckRequest(prompt="a lighthouse at dusk"), timeout=30)

    # An identity enrolled through a is matched by b, within 2 s.
    image = encode(scene(astronaut, "coins", (0, 0)))
    assert "Eileen Collins" not in findings_of(rpc.ModerationStub(on_b), image)
    enrolled = time.monotonic()
    enrol_collins(rpc.IdentitiesStub(admin_a))
    while "Eileen Collins" not in findings_of(rpc.ModerationStub(on_b), image):
        assert time.monotonic() - enrolled < 2.0 + 5.0, "b never matched the enrolment"
        time.sleep(0.1)

    # Held by b, approved through a's Review RPC, fetched through b's GetResult.
    request = pb.GenerateRequest(
        prompt="a portrait",
        image=pb.Media(data=image),
        output=pb.OutputSpec(width=64, height=64, num_frames=6),
    )
    held = list(rpc.GenerationStub(on_b).Generate(request, timeout=120))[-1]
    assert held.WhichOneof("event") == "held", held
    reviewer, auditor = client(admin_a, "reviewer"), client(admin_a, "auditor")
    decided = rpc.ReviewStub(a.channel(reviewer)).Decide(
        pb.DecideRequest(tickets=[held.held.ticket], decision="approve", reason_code="newsworthy")
    )
    assert decided.results[0].item.status == "approved"
    events = list(rpc.GenerationStub(on_b).GetResult(pb.TicketRef(ticket=held.held.ticket)))
    kind, done = terminal(events)
    assert kind == "completed" and len(output_bytes(events)) == done.size > 0

    # A reviewer's web session started on a is valid on b; logging out on b ends it on a.
    session = web_login(a.base, reviewer)
    on_b_web = requests.Session()
    on_b_web.cookies.update(session.cookies)
    page = on_b_web.get(f"{b.base}/", allow_redirects=False, timeout=10)
    assert page.status_code == 200
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    on_b_web.post(f"{b.base}/logout", data={"csrf": csrf}, timeout=10)
    assert session.get(f"{a.base}/", allow_redirects=False, timeout=10).status_code == 302

    # Decisions acknowledged by a, then a is killed mid-stream: b serves them all.
    moderation_a = rpc.ModerationStub(a.channel(studio))
    acked = [
        moderation_a.Check(pb.CheckRequest(prompt=f"a lighthouse {i}"), timeout=30).decision_id
        for i in range(5)
    ]
    os.kill(a.proc.pid, signal.SIGKILL)
    a.proc.wait(timeout=30)
    decisions = rpc.DecisionsStub(b.channel(auditor))
    for decision_id in acked:
        assert decisions.Get(pb.DecisionRef(id=decision_id)).id == decision_id
    rpc.ModerationStub(on_b).Check(pb.CheckRequest(prompt="still serving"), timeout=30)
    verified = cli("audit", "--database", url, "verify")
    assert verified.returncode == 0, verified.stderr
    assert "has its audit entry" in verified.stdout
