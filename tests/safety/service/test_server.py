"""End to end through a real gRPC server: the request path, its verdicts, its errors."""

from __future__ import annotations

import hashlib
import json

import grpc
import numpy as np
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from PIL import Image

from reelguard.v1 import reelguard_pb2 as pb
from signing.verify import Verifier
from tests.support import (
    Running,
    encode,
    make_config,
    output_bytes,
    png_header_only,
    terminal,
)


def blocked_reason(events, category: str):
    kind, body = terminal(events)
    assert kind == "blocked", (kind, body)
    reasons = [r for r in body.verdict.reasons if r.category == category]
    assert reasons, body.verdict
    return body.verdict, reasons[0]


# ---- pre-check -------------------------------------------------------------------------


def test_enrolled_face_as_input_is_blocked_with_identity_and_score(running, astronaut):
    verdict, reason = blocked_reason(
        running.generate("a portrait in soft light", encode(astronaut)), "public_figure"
    )
    assert verdict.stage == pb.PRE_CHECK
    assert reason.identity_name == "Eileen Collins"
    assert reason.score >= reason.threshold > 0.5
    assert reason.box.width > 40
    assert verdict.decision_id
    record = running.service.store.decision(verdict.decision_id)
    assert record["action"] == "block" and record["stage"] == "pre_check"
    assert record["evidence"]["reasons"][0]["identity_name"] == "Eileen Collins"


@pytest.mark.parametrize(
    "variant",
    [
        lambda a: encode(a[:, ::-1]),  # mirrored
        lambda a: encode(np.asarray(Image.fromarray(a).resize((300, 300)))),  # rescaled
        lambda a: encode(a, "JPEG", quality=35),  # recompressed
    ],
    ids=["flipped", "rescaled", "jpeg35"],
)
def test_altered_copies_of_enrolled_face_are_still_blocked(running, astronaut, variant):
    _, reason = blocked_reason(running.generate("a portrait", variant(astronaut)), "public_figure")
    assert reason.identity_name == "Eileen Collins"


def test_unenrolled_person_is_allowed(running, hopper):
    kind, body = terminal(running.generate("a portrait", encode(hopper, "JPEG")))
    assert kind == "completed", body
    faces = [f for f in body.verdict.findings if f.category == "public_figure"]
    assert faces and all(f.score < f.threshold for f in faces)


@pytest.mark.parametrize("prompt", ["Eileen Collins on the moon", "a poster of éileen COLLINS"])
def test_prompt_naming_enrolled_person_is_blocked(running, prompt):
    verdict, reason = blocked_reason(running.generate(prompt), "public_figure_name")
    assert reason.identity_name == "Eileen Collins"
    assert verdict.stage == pb.PRE_CHECK


def test_blocklisted_prompt_is_blocked(running):
    _, reason = blocked_reason(running.generate("a forbidden  fruit salad"), "blocklist")
    assert "forbidden fruit" in reason.detail


def test_offensive_prompt_is_blocked_by_the_classifier(running):
    _, reason = blocked_reason(running.generate("you stupid fucking idiot"), "profanity")
    assert reason.check == "prompt.classifier"


# ---- the allowed path: a signed MP4 ---------------------------------------------------


@pytest.fixture(scope="module")
def allowed(running, coffee):
    events = running.generate("steam rising from a cup", encode(coffee, "JPEG"), seed=7)
    return events, output_bytes(events)


def test_allowed_request_streams_stages_in_order(allowed):
    events, _ = allowed
    kind, completed = terminal(events)
    assert kind == "completed"
    stages = [e.progress.stage for e in events if e.WhichOneof("event") == "progress"]
    assert stages == sorted(stages)
    assert {pb.PRE_CHECK, pb.GENERATING, pb.POST_CHECK, pb.SIGNING} <= set(stages)
    generating = [e.progress for e in events if e.progress.stage == pb.GENERATING]
    assert generating[-1].done == generating[-1].total == 48


def test_allowed_output_is_a_trusted_signed_mp4_with_full_manifest(running, allowed):
    events, data = allowed
    _, completed = terminal(events)
    assert hashlib.sha256(data).hexdigest() == completed.sha256 and len(data) == completed.size
    assert data[4:8] == b"ftyp"
    anchors = running.service.config.keys_dir.joinpath("root.pem").read_text()
    report = Verifier(anchors).verify_bytes(data)
    assert report.status == "trusted", report.to_json()
    assert report.actions == ["c2pa.created"]
    # The built-in generator computes a camera path over the input: no trained model,
    # and the manifest says so (a diffusion backend's says trainedAlgorithmicMedia).
    assert report.digital_source_types == [
        "http://cv.iptc.org/newscodes/digitalsourcetype/algorithmicMedia"
    ]
    assert [(i["title"], i["relationship"]) for i in report.ingredients] == [
        ("input.jpeg", "inputTo")
    ]
    moderation = report.moderation
    assert moderation["action"] == "allow"
    assert moderation["decision_id"] == completed.verdict.decision_id
    assert moderation["policy_version"] == completed.verdict.policy_version
    frames = moderation["frames_checked"]["output_frame"]  # how much was looked at, where
    assert 2 <= frames["checked"] <= frames["total"]
    decision = running.service.store.decision(completed.verdict.decision_id)["evidence"]
    times = decision["frames_checked"]["output_frame"]["times_s"]  # in the decision record
    assert len(times) == frames["checked"] and times == sorted(times)
    checked = {(c["name"], c["stage"]) for c in moderation["checks"]}
    assert {
        ("prompt", "pre_check"),
        ("image.nudity", "pre_check"),
        ("likeness", "pre_check"),
        ("image.nudity", "post_check"),
        ("likeness", "post_check"),
    } <= checked
    assert all(c["model_version"] for c in moderation["checks"])
    assert any(s["category"] == "sexual" for s in moderation["scores"])
    record = running.service.store.decision(completed.verdict.decision_id)
    assert record["output_sha256"] == completed.sha256 and record["action"] == "allow"


def test_without_anchors_the_output_is_valid_but_untrusted(allowed):
    report = Verifier(None).verify_bytes(allowed[1])
    assert report.status == "valid_untrusted"
    assert "signingCredential.untrusted" in [f["code"] for f in report.failures]


def test_one_flipped_media_byte_is_invalid_with_hash_mismatch(running, allowed):
    data = bytearray(allowed[1])
    mdat = data.find(b"mdat")
    data[mdat + 200] ^= 0x01
    report = running.provenance.Verify(pb.VerifyRequest(media=pb.Media(data=bytes(data))))
    assert report.status == pb.VerifyReport.INVALID
    assert "assertion.bmffHash.mismatch" in [f.code for f in report.failures]
    assert "media data" in json.loads(report.report_json)["tampered"]


def test_verify_rpc_reports_trusted_with_moderation(running, allowed):
    report = running.provenance.Verify(pb.VerifyRequest(media=pb.Media(data=allowed[1])))
    assert report.status == pb.VerifyReport.TRUSTED
    assert json.loads(report.moderation_json)["action"] == "allow"
    assert report.ingredients == ["input.jpeg"]


# ---- post-check --------------------------------------------------------------------------


class FaceLeakingGenerator:
    """A test backend whose output shows an enrolled face whatever the prompt says."""

    name, version, model_id = "face-leak", "1", "test/face-leak"

    def __init__(self, face: np.ndarray) -> None:
        self.face = face

    def generate(self, job, out_path, progress):
        from media.mp4 import write_mp4

        frame = np.asarray(Image.fromarray(self.face).resize((job.width, job.height)))
        write_mp4([frame] * job.num_frames, out_path, job.fps)
        progress(job.num_frames, job.num_frames)
        return "video/mp4"


def test_post_check_blocks_what_pre_check_could_not_see(tmp_path, astronaut, enrol_collins):
    r = Running(make_config(tmp_path), generator=FaceLeakingGenerator(astronaut))
    try:
        enrol_collins(r.identities)
        events = r.generate("a quiet meadow", width=256, height=256, num_frames=12)
        verdict, reason = blocked_reason(events, "public_figure")
        assert verdict.stage == pb.POST_CHECK
        assert reason.subject == "output_frame" and reason.identity_name == "Eileen Collins"
        assert output_bytes(events) == b""  # nothing signed or returned
        assert not list((tmp_path / "work").iterdir())  # nothing left behind either
    finally:
        r.close()


# ---- bad input: clear errors, and the server keeps serving -------------------------------


@pytest.mark.parametrize(
    "image, words",
    [
        (b"", "empty"),
        (b"this is not an image at all", "not a recognised image"),
        (lambda a: encode(a, "JPEG")[:3000], "truncated"),
        (lambda a: encode(a)[:5000], "truncated"),
        (png_header_only(30000, 30000), "decompression bomb"),
        (png_header_only(8000, 8000), "megapixels"),
        (lambda a: encode(a, "GIF"), "GIF"),
    ],
    ids=[
        "zero-bytes",
        "not-an-image",
        "truncated-jpeg",
        "truncated-png",
        "bomb-30000",
        "over-pixel-limit",
        "gif",
    ],
)
def test_bad_images_get_invalid_argument_and_server_keeps_serving(running, astronaut, image, words):
    data = image(astronaut) if callable(image) else image
    with pytest.raises(grpc.RpcError) as err:
        running.generate("a calm lake", data)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert words in err.value.details()
    assert health(running) == health_pb2.HealthCheckResponse.SERVING


@pytest.mark.parametrize("prompt", ["", "   \n\t"])
def test_empty_prompt_is_invalid_argument(running, prompt):
    with pytest.raises(grpc.RpcError) as err:
        running.generate(prompt)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "prompt is empty" in err.value.details()


@pytest.mark.parametrize(
    "output", [{"width": 15}, {"width": 4000}, {"num_frames": 100000}, {"fps": 500}]
)
def test_out_of_range_output_spec_is_invalid_argument(running, output):
    with pytest.raises(grpc.RpcError) as err:
        running.generate("a lake", **output)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_over_4mb_media_is_accepted(running):
    noise = np.random.default_rng(0).integers(0, 256, (1400, 1400, 3), dtype=np.uint8)
    data = encode(noise)
    assert len(data) > 5 * 1024 * 1024
    verdict = running.moderation.Check(pb.CheckRequest(media=pb.Media(data=data)))
    assert verdict.action == pb.ALLOW


def test_check_rpc_scores_media_and_prompt(running, astronaut):
    verdict = running.moderation.Check(
        pb.CheckRequest(prompt="a sunny day", media=pb.Media(data=encode(astronaut)))
    )
    assert verdict.action == pb.BLOCK
    assert {f.category for f in verdict.findings} >= {"sexual", "profanity", "public_figure"}
    assert {c.name for c in verdict.checks} == {
        "prompt",
        "image.nudity",
        "image.graphic",
        "likeness",
        "hashbank",
    }


def verdict_frames(verdict) -> tuple[int, int]:
    (frames,) = verdict.frames_checked
    return frames.checked, frames.total


def test_check_rpc_samples_video(running, allowed):
    verdict = running.moderation.Check(pb.CheckRequest(media=pb.Media(data=allowed[1])))
    assert verdict.action == pb.ALLOW
    times = {f.frame_time_s for f in verdict.findings if f.category == "sexual"}
    checked, total = verdict_frames(verdict)
    assert len(times) == checked and checked >= 2 * (total / 24)  # 2 a second, at least


def test_enrolment_rejects_images_without_exactly_one_face(running, coffee):
    with pytest.raises(grpc.RpcError) as err:
        running.identities.Enroll(
            pb.EnrollRequest(
                name="Nobody", images=[pb.Media(data=encode(coffee), filename="coffee.png")]
            )
        )
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "coffee.png: no face found" in err.value.details()


# ---- standard services ------------------------------------------------------------------


def health(r: Running, service: str = "") -> int:
    stub = health_pb2_grpc.HealthStub(r.channel)
    return stub.Check(health_pb2.HealthCheckRequest(service=service)).status


def test_health_and_reflection(running):
    assert health(running) == health_pb2.HealthCheckResponse.SERVING
    assert health(running, "reelguard.v1.Generation") == health_pb2.HealthCheckResponse.SERVING
    stub = reflection_pb2_grpc.ServerReflectionStub(running.channel)
    responses = stub.ServerReflectionInfo(
        iter([reflection_pb2.ServerReflectionRequest(list_services="")])
    )
    names = {s.name for r in responses for s in r.list_services_response.service}
    assert {
        "reelguard.v1.Generation",
        "reelguard.v1.Moderation",
        "reelguard.v1.Provenance",
        "reelguard.v1.Identities",
        "grpc.health.v1.Health",
    } <= names


def test_image_decode_is_of_the_sent_bytes_not_a_path(running):
    # An image whose bytes name a file on the server must be treated as bytes only.
    with pytest.raises(grpc.RpcError) as err:
        running.generate("a lake", b"/etc/passwd")
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_a_second_server_on_a_taken_address_refuses_to_start(running):
    """gRPC binds with SO_REUSEPORT by default: a second front door (another data dir,
    another database) on the same address started and took half the requests."""
    from safety.service.api.server import start_server

    second = None
    try:
        with pytest.raises(RuntimeError, match="the address is taken"):
            second, _ = start_server(running.service, running.address)
    finally:
        if second is not None:
            second.stop(None)


def test_reflection_answers_on_its_stable_v1_name(running):
    """grpcurl and Postman ask grpc.reflection.v1 first; only v1alpha answered."""
    ask = running.channel.stream_stream(
        "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
        request_serializer=reflection_pb2.ServerReflectionRequest.SerializeToString,
        response_deserializer=reflection_pb2.ServerReflectionResponse.FromString,
    )
    responses = ask(iter([reflection_pb2.ServerReflectionRequest(list_services="")]))
    names = {s.name for r in responses for s in r.list_services_response.service}
    assert {"reelguard.v1.Generation", "grpc.reflection.v1.ServerReflection"} <= names
    symbol = ask(
        iter(
            [
                reflection_pb2.ServerReflectionRequest(
                    file_containing_symbol="reelguard.v1.Moderation"
                )
            ]
        )
    )
    assert next(symbol).file_descriptor_response.file_descriptor_proto
