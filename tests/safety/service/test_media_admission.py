"""Verify, Check and Sign decode untrusted media: they go under admission control like
Generate, and hostile files sent at once leave the server serving."""

from __future__ import annotations

from concurrent import futures

import grpc
import numpy as np
import pytest

from reelguard.v1 import reelguard_pb2 as pb
from safety.service.fuzz import encode_h264
from tests.support import Running, make_config


@pytest.fixture(scope="module")
def bomb(tmp_path_factory) -> bytes:
    """A few KB that decode to 600 black 1080p frames (3.7 GB as RGB)."""
    black = np.zeros((1080, 1920, 3), np.uint8)
    return encode_h264(tmp_path_factory.mktemp("bomb") / "bomb.mp4", [black] * 600, 1920, 1080)


@pytest.fixture(scope="module")
def one_slot(tmp_path_factory):
    config = make_config(
        tmp_path_factory.mktemp("media-slots"),
        max_media_checks=1,
        max_media_checks_per_tenant=1,
        face_workers=0,
        health_interval_s=3600,
    )
    r = Running(config)
    yield r
    r.close()


def outcome(call) -> str:
    try:
        call()
        return "ok"
    except grpc.RpcError as e:
        return e.code().name


def test_media_rpcs_past_their_slots_are_refused_at_once(one_slot, bomb):
    calls = [
        lambda: one_slot.provenance.Verify(pb.VerifyRequest(media=pb.Media(data=bomb))),
        lambda: one_slot.moderation.Check(pb.CheckRequest(media=pb.Media(data=bomb))),
        lambda: one_slot.provenance.Sign(pb.SignRequest(media=pb.Media(data=bomb))),
    ] * 3
    with futures.ThreadPoolExecutor(len(calls)) as pool:
        outcomes = list(pool.map(outcome, calls))
    assert "RESOURCE_EXHAUSTED" in outcomes, outcomes
    assert set(outcomes) <= {"ok", "RESOURCE_EXHAUSTED", "INVALID_ARGUMENT"}, outcomes
    # The slot is free again afterwards.
    assert one_slot.service.media_admission.running() == 0
    assert outcome(lambda: one_slot.moderation.Check(pb.CheckRequest(prompt="a cat"))) == "ok"


def test_four_bombs_at_once_leave_the_server_serving(running, bomb):
    calls = [lambda: running.provenance.Verify(pb.VerifyRequest(media=pb.Media(data=bomb)))] * 4
    with futures.ThreadPoolExecutor(4) as pool:
        outcomes = list(pool.map(outcome, calls))
    assert set(outcomes) <= {"ok", "RESOURCE_EXHAUSTED"}, outcomes
    report = running.provenance.Verify(pb.VerifyRequest(media=pb.Media(data=bomb)))
    assert report.status == pb.VerifyReport.NO_MANIFEST
    assert running.moderation.Check(pb.CheckRequest(prompt="a cat")).action == pb.ALLOW
