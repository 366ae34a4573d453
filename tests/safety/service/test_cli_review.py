"""Review from a terminal: a held request keeps its ticket, `result` follows it, and
`review` gives reviewers the queue with the web UI's rules."""

from __future__ import annotations

import os
import re
import subprocess

import pytest

from reelguard.v1 import reelguard_pb2 as pb
from tests.support import EXE, REVIEW_LIKENESS, Running, encode, make_config, scene


@pytest.fixture(scope="module")
def svc(tmp_path_factory, enrol_collins):
    r = Running(make_config(tmp_path_factory.mktemp("cli-review"), policy=REVIEW_LIKENESS))
    enrol_collins(r.identities)
    r.studio_token = r.client("generator-client", "studio-a")[0]
    r.reviewer_token = r.client("reviewer")[0]
    yield r
    r.close()


@pytest.fixture
def portrait(tmp_path, astronaut):
    looks = iter(
        [("camera", (0, 0)), ("page", (0, 400)), ("text", (400, 0)), ("coins", (200, 200))]
    )

    def make() -> str:
        path = tmp_path / f"portrait-{len(list(tmp_path.glob('portrait-*')))}.png"
        path.write_bytes(encode(scene(astronaut, *next(looks))))
        return str(path)

    return make


def as_(svc, token, *args, **kw) -> subprocess.CompletedProcess:
    return svc.cli(*args, env={"REELGUARD_TOKEN": token}, **kw)


def held_ticket(svc, image: str, tmp_path) -> str:
    r = as_(
        svc,
        svc.studio_token,
        "generate",
        "--prompt",
        "a portrait",
        "--image",
        image,
        "--out",
        str(tmp_path / "never.mp4"),
        "--frames",
        "8",
        "--width",
        "96",
        "--height",
        "96",
    )
    assert r.returncode == 5, (r.stdout, r.stderr)  # its own exit code: held
    assert not (tmp_path / "never.mp4").exists()  # an unsigned output is never delivered
    ticket = re.search(r"HELD for human review: ticket (\w+)", r.stdout).group(1)
    assert f"reelguard result {ticket}" in r.stderr
    return ticket


def test_a_held_request_is_followed_to_its_signed_output(svc, portrait, tmp_path):
    ticket = held_ticket(svc, portrait(), tmp_path)
    pending = as_(svc, svc.studio_token, "result", ticket, "--out", str(tmp_path / "out.mp4"))
    assert pending.returncode == 5 and "pending" in pending.stdout
    listing = as_(svc, svc.reviewer_token, "review", "list")
    assert listing.returncode == 0 and ticket in listing.stdout
    # Ages as the web UI takes them: the item is younger than an hour, older than 0 s.
    young = as_(svc, svc.reviewer_token, "review", "list", "--older-than", "1h")
    assert young.returncode == 0 and ticket not in young.stdout
    assert ticket in as_(svc, svc.reviewer_token, "review", "list", "--older-than", "0s").stdout
    shown = as_(svc, svc.reviewer_token, "review", "show", ticket)
    assert "public_figure" in shown.stdout and "a portrait" in shown.stdout
    # The held media, to a reviewer who may see the item; never to the generation client.
    saved = as_(svc, svc.reviewer_token, "review", "media", ticket, "--out", tmp_path / "h.mp4")
    assert saved.returncode == 0, saved.stderr
    assert (tmp_path / "h.mp4").read_bytes()[4:8] == b"ftyp"
    refused = as_(svc, svc.studio_token, "review", "media", ticket, "--out", tmp_path / "x.mp4")
    assert refused.returncode == 4 and "PERMISSION_DENIED" in refused.stderr
    assert not (tmp_path / "x.mp4").exists()
    decided = as_(
        svc,
        svc.reviewer_token,
        "review",
        "decide",
        ticket,
        "--decision",
        "approve",
        "--reason",
        "false_positive",
    )
    assert decided.returncode == 0 and f"{ticket}: approved" in decided.stdout
    done = as_(svc, svc.studio_token, "result", ticket, "--out", str(tmp_path / "out.mp4"))
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "out.mp4").stat().st_size > 0 and "C2PA-signed" in done.stdout
    # The approval reads as a decision, not as a finding scored 1.000 against 0.000; the
    # generation client is told a person decided, not which one.
    assert "  - human review: approve in human review: false_positive" in done.stdout
    assert "score 1.000 >= threshold 0.000" not in done.stdout
    # Reviewers see one another by name (the id beside it, for the record).
    approved = as_(svc, svc.reviewer_token, "review", "list", "--status", "approved")
    assert f"{ticket}  approved" in approved.stdout
    assert "approve by test reviewer (" in approved.stdout
    # The text report says who released it, as the JSON does (human_review).
    anchors = (svc.config.keys_dir / "root.pem").read_text()
    (tmp_path / "anchors.pem").write_text(anchors)
    report = as_(svc, svc.studio_token, "verify", tmp_path / "out.mp4", "--trust-anchors",
                 tmp_path / "anchors.pem")  # fmt: skip
    assert "human review: approve (false_positive) by " in report.stdout
    assert f"ticket {ticket}" in report.stdout and "at release:   policy" in report.stdout


def test_result_wait_returns_once_a_reviewer_decides(svc, portrait, tmp_path):
    ticket = held_ticket(svc, portrait(), tmp_path)
    waiting = subprocess.Popen(
        [
            EXE,
            "--address",
            svc.address,
            "result",
            ticket,
            "--wait",
            "--interval",
            "0.3",
            "--out",
            str(tmp_path / "waited.mp4"),
        ],
        env={**os.environ, "REELGUARD_TOKEN": svc.studio_token},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        first = waiting.stderr.readline()  # it is waiting before anyone decides
        assert "pending, waiting for a reviewer" in first, first
        reviewer = svc.client("reviewer")[1]
        from reelguard.v1 import reelguard_pb2_grpc as rpc

        rpc.ReviewStub(reviewer).Decide(
            pb.DecideRequest(tickets=[ticket], decision="approve", reason_code="false_positive")
        )
        out, err = waiting.communicate(timeout=60)
    finally:
        waiting.kill()
    assert waiting.returncode == 0, err
    assert "C2PA-signed" in out
    assert (tmp_path / "waited.mp4").stat().st_size > 0


def test_reviewers_rules_hold_in_the_terminal(svc, portrait, tmp_path):
    ticket = held_ticket(svc, portrait(), tmp_path)
    # A generation client does not review.
    refused = as_(svc, svc.studio_token, "review", "list")
    assert refused.returncode == 4 and "PERMISSION_DENIED" in refused.stderr
    claimed = as_(svc, svc.reviewer_token, "review", "claim", ticket)
    assert claimed.returncode == 0
    other = svc.client("reviewer")[0]
    busy = as_(
        svc,
        other,
        "review",
        "decide",
        ticket,
        "--decision",
        "reject",
        "--reason",
        "likeness_no_consent",
    )
    assert busy.returncode == 4 and "ABORTED" in busy.stderr  # someone else holds the claim
    rejected = as_(
        svc,
        svc.reviewer_token,
        "review",
        "decide",
        ticket,
        "--decision",
        "reject",
        "--reason",
        "likeness_no_consent",
    )
    assert rejected.returncode == 0
    appealed = as_(svc, svc.studio_token, "review", "appeal", ticket, "--reason", "it is our actor")
    assert appealed.returncode == 0 and "appealed" in appealed.stdout
