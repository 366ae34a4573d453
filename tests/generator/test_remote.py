"""A generator elsewhere, over gRPC: the same checks and signing, its progress and errors."""

from __future__ import annotations

import threading
import time

import grpc
import pytest

from generator.kenburns import KenBurnsGenerator
from generator.remote import RemoteGenerator, serve_backend
from reelguard.v1 import reelguard_pb2 as pb
from signing.verify import Verifier
from tests.support import Running, encode, make_config, output_bytes, terminal


class Backend(KenBurnsGenerator):
    """KenBurns, slowed so that cancellation can be seen, or failing on request."""

    def __init__(self) -> None:
        self.cancelled = threading.Event()

    def generate(self, job, out_path, progress):
        if "fail" in job.prompt:
            raise RuntimeError("model weights missing on the GPU host")
        if "slow" in job.prompt:
            try:
                for i in range(100):
                    time.sleep(0.05)
                    progress(i, 100)
            except RuntimeError:
                self.cancelled.set()
                raise
        return super().generate(job, out_path, progress)


@pytest.fixture(scope="module")
def remote(tmp_path_factory, enrol_collins):
    backend = Backend()
    server, port = serve_backend(backend, "127.0.0.1:0", token="front-door-to-gpu", insecure=True)
    r = Running(
        make_config(tmp_path_factory.mktemp("remote"), face_workers=0),
        generator=RemoteGenerator(f"127.0.0.1:{port}", "front-door-to-gpu"),
    )
    r.backend = backend
    enrol_collins(r.identities)
    yield r
    r.close()
    server.stop(None)


def test_a_remote_generation_is_checked_and_signed(remote, coffee):
    events = remote.generate("steam over a cup", encode(coffee, "JPEG"), width=96, height=96)
    kind, completed = terminal(events)
    assert kind == "completed"
    progress = [e.progress for e in events if e.WhichOneof("event") == "progress"]
    assert any(p.stage == pb.GENERATING and p.total > 0 for p in progress)
    report = Verifier((remote.config.keys_dir / "root.pem").read_text()).verify_bytes(
        output_bytes(events), "video/mp4"
    )
    assert report.status == "trusted"
    assert "remote:127.0.0.1" in report.to_json()  # the model id names the backend


def test_remote_input_is_pre_checked_before_it_is_sent(remote, astronaut):
    kind, blocked = terminal(remote.generate("a portrait", encode(astronaut)))
    assert kind == "blocked" and blocked.verdict.stage == pb.PRE_CHECK


def test_a_backend_failure_ends_failed_with_its_reason(remote):
    kind, failed = terminal(remote.generate("please fail", width=64, height=64))
    assert kind == "failed" and failed.stage == pb.GENERATING
    assert "model weights missing" in failed.error


def test_cancelling_the_client_cancels_the_remote_work(remote):
    request = pb.GenerateRequest(prompt="slow clouds", output=pb.OutputSpec(width=64, height=64))
    call = remote.generation.Generate(request, timeout=60)
    for event in call:
        if event.WhichOneof("event") == "progress" and event.progress.stage == pb.GENERATING:
            break
    call.cancel()
    assert remote.backend.cancelled.wait(10)
    with pytest.raises(grpc.RpcError):
        next(call)


def test_a_remote_backend_says_what_it_accepts_and_gets_the_performance(tmp_path, hopper):
    """A remote performance backend declares the driving video it takes (Describe) and
    gets its frames; a remote text-and-image backend is not sent one."""
    import cv2

    from generator.base import DRIVING_VIDEO, GenerationInput
    from generator.performance import PerformanceTransfer

    server, port = serve_backend(PerformanceTransfer(), "127.0.0.1:0", token="t", insecure=True)
    plain, plain_port = serve_backend(KenBurnsGenerator(), "127.0.0.1:0", token="t", insecure=True)
    try:
        remote = RemoteGenerator(f"127.0.0.1:{port}", "t")
        assert DRIVING_VIDEO in remote.accepts
        assert remote.digital_source_type.rsplit("/", 1)[-1] == "algorithmicMedia"
        assert DRIVING_VIDEO not in RemoteGenerator(f"127.0.0.1:{plain_port}", "t").accepts
        face = cv2.resize(hopper, (256, 300))
        grey = [cv2.cvtColor(face, cv2.COLOR_RGB2GRAY)] * 4
        job = GenerationInput("a talk", face, 128, 128, 8, 4, 1, driving_frames=grey)
        assert remote.generate(job, tmp_path / "out.mp4", lambda d, t: None) == "video/mp4"
        assert (tmp_path / "out.mp4").stat().st_size > 0
    finally:
        server.stop(None)
        plain.stop(None)
