"""The gate's threads cannot be starved: generation runs on a pool of its own, sized to
the generation slots, so checks always have threads; and generation has a deadline."""

from __future__ import annotations

import threading
import time

import pytest

from reelguard.v1 import reelguard_pb2 as pb
from tests.support import Running, SlowGenerator, encode, make_config, terminal

SLOTS = 8


@pytest.fixture(scope="module")
def busy(tmp_path_factory):
    generator = SlowGenerator()
    r = Running(
        make_config(
            tmp_path_factory.mktemp("pools"),
            max_generations=SLOTS,
            max_generations_per_tenant=SLOTS,
            max_generation_s=60,
            face_workers=0,
            health_interval_s=3600,
        ),
        generator=generator,
    )
    r.generator = generator
    yield r
    r.close()


def test_checks_run_while_every_generation_slot_is_busy(busy, coffee):
    request = pb.GenerateRequest(
        prompt="a slow grey wall", output=pb.OutputSpec(width=64, height=64, num_frames=200)
    )
    calls = [busy.generation.Generate(request, timeout=120) for _ in range(SLOTS)]
    generating = threading.Barrier(SLOTS + 1, timeout=60)

    def until_generating(call):
        for event in call:
            if event.WhichOneof("event") == "progress" and event.progress.stage == pb.GENERATING:
                break
        generating.wait()

    threads = [threading.Thread(target=until_generating, args=(c,)) for c in calls]
    for t in threads:
        t.start()
    try:
        generating.wait()  # all eight are generating now
        verdict = busy.moderation.Check(
            pb.CheckRequest(prompt="a cup", media=pb.Media(data=encode(coffee))), timeout=20
        )
        assert verdict.action == pb.ALLOW and all(c.ok for c in verdict.checks)
    finally:
        for c in calls:
            c.cancel()
        for t in threads:
            t.join(10)


def test_a_generation_past_max_generation_s_fails_and_stops(busy):
    deadline = time.monotonic() + 30
    while busy.service.admission.running() and time.monotonic() < deadline:
        time.sleep(0.1)  # the streams cancelled above free their slots
    busy.service.gate.max_generation_s = 1.0
    try:
        made_before = busy.generator.frames_made
        events = busy.generate("an endless grey wall", width=64, height=64, num_frames=200)
    finally:
        busy.service.gate.max_generation_s = 60.0
    kind, failed = terminal(events)
    assert kind == "failed" and failed.stage == pb.GENERATING
    assert "max_generation_s" in failed.error
    assert busy.generator.frames_made - made_before < 60  # it stopped, not ran to 200
