"""Performance transfer: the actor's driving video really animates the character.

The actor is a real face photo (Grace Hopper) whose mouth the test opens and closes
with a warp of its own; the character is another real photo (the astronaut). What is
measured is what a viewer sees: dlib's landmarks read off the decoded output."""

from __future__ import annotations

import io
import json
from pathlib import Path

import c2pa
import cv2
import grpc
import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from generator.base import TEXT, GenerationInput
from generator.face_mesh import EYES, INNER_LIPS_BOTTOM, Face, interocular, mouth_opening
from generator.performance import (
    FOLD_SLACK,
    MeshWarp,
    NoFaceToAnimate,
    PerformanceTransfer,
    anchors,
    brightened,
    pose_counted,
    unfolded,
    warp_points,
)
from generator.retarget import head_pose, retarget, smooth
from reelguard.v1 import reelguard_pb2 as pb
from tests.support import (
    Running,
    decoded,
    encode,
    make_config,
    mouth_series,
    output_bytes,
    talking_clip,
    terminal,
)


@pytest.fixture(scope="module")
def actor(hopper):
    face = cv2.resize(hopper[100:420, 100:420], (320, 320), interpolation=cv2.INTER_AREA)
    return talking_clip(face)


@pytest.fixture(scope="module")
def transfer():
    return PerformanceTransfer()


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    keep = ~(np.isnan(a) | np.isnan(b))
    assert keep.sum() >= 0.9 * len(a), "faces were lost in too many frames"
    return float(np.corrcoef(a[keep], b[keep])[0, 1])


def test_the_characters_mouth_follows_the_actors(transfer, actor, astronaut, tmp_path):
    mp4, frames = actor
    grey = [cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in frames]
    job = GenerationInput("a talk", astronaut, 256, 256, 12, len(frames), 1, driving_frames=grey)
    steps = []
    transfer.generate(job, tmp_path / "out.mp4", lambda done, total: steps.append(done))
    out = decoded(tmp_path / "out.mp4")
    assert len(out) == len(frames) and steps == list(range(1, len(frames) + 1))
    actor_mouth, character_mouth = mouth_series(frames), mouth_series(out)
    assert np.nanmax(character_mouth) - np.nanmin(character_mouth) > 0.15  # it visibly moves
    assert correlation(actor_mouth, character_mouth) >= 0.8


def test_a_still_actor_leaves_the_character_still(transfer, hopper, astronaut, tmp_path):
    still = [cv2.cvtColor(cv2.resize(hopper, (320, 375)), cv2.COLOR_RGB2GRAY)] * 6
    job = GenerationInput("still", astronaut, 256, 256, 12, 6, 1, driving_frames=still)
    transfer.generate(job, tmp_path / "out.mp4", lambda d, t: None)
    out = decoded(tmp_path / "out.mp4")
    first = out[0].astype(np.int16)
    assert all(np.abs(f.astype(np.int16) - first).mean() < 2.0 for f in out)


def test_a_head_pose_gone_astray_cannot_fold_the_face():
    neutral = np.random.default_rng(0).uniform(100, 200, (468, 3)).astype(np.float32)
    wild = (neutral - 150) * 4 + 150  # a fit four times the size
    turned = neutral @ Rotation.from_euler("y", 80, degrees=True).as_matrix().T
    scale, _, _ = head_pose(neutral, wild)
    assert scale <= 1.3 + 1e-6
    _, rotation, _ = head_pose(neutral, turned)  # a turn of 80 degrees, held to 35
    assert np.degrees(np.arccos((np.trace(rotation) - 1) / 2)) <= 35 + 1e-3


def test_a_head_moved_against_the_edge_turns_no_more_of_the_face_over(transfer, hopper, astronaut):
    """An actor who rolls the head and moves it far across the frame pushes the
    character's face against the ring that holds the background still: the warp would
    turn triangles over (an eye torn, as on the people set's vid_tpsmm_driving). The
    pose is taken back until it folds no more than the expression alone (plus the
    slack slivers are allowed), and what is kept of it still turns the head the same
    way."""
    canvas, character = transfer.character(astronaut, 256, 256)
    actor = transfer.mesh.detect(hopper)
    moved = cv2.getRotationMatrix2D((300, 300), 30, 1.0)
    moved[:, 2] += (160, 140)  # a third of the frame down and across
    shifted = actor.points.copy()
    shifted[:, :2] = shifted[:, :2] @ moved[:, :2].T + moved[:, 2]
    irises = actor.irises @ moved[:, :2].T + moved[:, 2]
    current = Face(shifted, irises.astype(np.float32), 1.0)
    fixed = anchors(warp_points(character), 256, 256)
    warp = MeshWarp(canvas, np.concatenate([warp_points(character), fixed]))

    def folded(face):  # as the transfer counts them: off the frame's edge, not the lips
        points = np.concatenate([warp_points(face), fixed])
        return warp.folded(points, pose_counted(warp))

    still = retarget(character, current, actor, current)
    posed = retarget(character, actor, actor, current)
    assert folded(posed) > folded(still) + FOLD_SLACK  # the attack folds the face
    kept = unfolded(warp, fixed, still, posed)
    assert folded(kept) <= folded(still) + FOLD_SLACK

    def roll(face):
        (ox, oy), (ix, iy) = face.points[EYES[0][0], :2], face.points[EYES[1][0], :2]
        return np.degrees(np.arctan2(iy - oy, ix - ox))

    asked, given = roll(posed) - roll(still), roll(kept) - roll(still)
    assert asked * given > 0 and abs(given) <= abs(asked)  # part of the turn, that way


def test_a_brightened_mouth_keeps_its_teeth_short_of_white():
    """A dark-skinned actor's mouth on a light-skinned character is brightened by the
    ratio of their skin tones: scaled alone, teeth past white clipped into flat blocks
    (which pulled the output's identity towards the actor's). Eased, lighter stays
    lighter and nothing reaches white; below the knee, brightness is in proportion."""
    teeth = np.linspace(120.0, 200.0, 9)
    assert (np.minimum(teeth * 1.6, 255) == 255).sum() == 5  # scaled alone: five flat
    eased = brightened(teeth, 1.6)
    assert (np.diff(eased) > 1).all() and eased.max() < 255
    assert np.allclose(brightened(np.array([50.0, 100.0]), 1.6), [80.0, 160.0])


def test_landmarks_are_smoothed_without_lag():
    """A still face's jitter is damped; a fast move is followed within a frame or two."""
    rng = np.random.default_rng(1)
    base = rng.uniform(0, 100, (468, 3)).astype(np.float32)
    base[33, :2], base[263, :2] = (30, 50), (70, 50)  # 40 px between the eyes
    still = [base + rng.normal(0, 0.8, base.shape).astype(np.float32) for _ in range(30)]
    faces = smooth([Face(p, p[[33, 263], :2], 1.0) for p in still], fps=24)
    jitter_in = np.std([p[1, 0] for p in still])
    jitter_out = np.std([f.points[1, 0] for f in faces[10:]])
    assert jitter_out < 0.5 * jitter_in
    step = [base] * 10 + [base + np.float32(20)] * 10  # a 20 px jump
    moved = smooth([Face(p, p[[33, 263], :2], 1.0) for p in step], fps=24)
    assert moved[12].points[1, 0] - base[1, 0] > 15  # caught up within two frames


def test_no_face_to_animate_or_follow_is_a_clear_error(transfer, coffee, astronaut, tmp_path):
    blank = [np.full((64, 64), 128, np.uint8)] * 3
    with pytest.raises(NoFaceToAnimate, match="character image shows no face"):
        transfer.generate(
            GenerationInput("x", coffee, 64, 64, 8, 3, 1, driving_frames=blank),
            tmp_path / "a.mp4",
            lambda d, t: None,
        )
    with pytest.raises(NoFaceToAnimate, match="driving video shows no face"):
        transfer.generate(
            GenerationInput("x", astronaut, 256, 256, 8, 3, 1, driving_frames=blank),
            tmp_path / "b.mp4",
            lambda d, t: None,
        )


@pytest.fixture(scope="module")
def nobody_enrolled(tmp_path_factory):
    r = Running(make_config(tmp_path_factory.mktemp("performance"), face_workers=0))
    yield r
    r.close()


def test_through_the_service_the_clip_performs_and_the_manifest_says_how(
    nobody_enrolled, actor, astronaut
):
    mp4, frames = actor
    request = pb.GenerateRequest(
        prompt="the astronaut talks",
        image=pb.Media(data=encode(astronaut, "JPEG")),
        driving_video=pb.Media(data=mp4),
        output=pb.OutputSpec(width=256, height=256, fps=12, num_frames=len(frames)),
    )
    events = list(nobody_enrolled.generation.Generate(request, timeout=300))
    kind, done = terminal(events)
    assert kind == "completed", done
    out = decoded(output_bytes(events))
    assert correlation(mouth_series(frames), mouth_series(out)) >= 0.8
    signed = output_bytes(events)
    report = nobody_enrolled.provenance.Verify(pb.VerifyRequest(media=pb.Media(data=signed)))
    assert report.status == pb.VerifyReport.TRUSTED, report.failures
    with c2pa.Reader("video/mp4", io.BytesIO(signed)) as reader:
        (manifest,) = json.loads(reader.crjson())["manifests"]
    actions = manifest["assertions"]["c2pa.actions.v2"]["actions"]
    assert [a["action"] for a in actions] == ["c2pa.created", "c2pa.edited"]
    assert actions[0]["softwareAgent"]["name"] == "reelguard/performance"
    assert actions[0]["digitalSourceType"].endswith("/algorithmicMedia")  # no trained model
    # The edit names its ingredients: the character image and the performance.
    assert len(actions[1]["parameters"]["ingredients"]) == 2


class TextOnly:
    name, version, model_id = "text-to-video", "1", "test/text-only"
    accepts, needs = frozenset({TEXT}), frozenset()

    def generate(self, job, out_path: Path, progress):
        raise AssertionError("a refused request must not reach the backend")


def test_a_backend_that_cannot_use_a_driving_video_refuses_it(tmp_path, actor, astronaut):
    r = Running(make_config(tmp_path, face_workers=0, generator="custom"), generator=TextOnly())
    try:
        request = pb.GenerateRequest(
            prompt="a talk",
            image=pb.Media(data=encode(astronaut)),
            driving_video=pb.Media(data=actor[0]),
        )
        with pytest.raises(grpc.RpcError) as e:
            list(r.generation.Generate(request, timeout=60))
        assert e.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert "'text-to-video' cannot use driving video and image" in e.value.details()
        assert r.service.store.decisions() == []  # refused before any check ran
    finally:
        r.close()


def test_a_cancelled_transfer_stops_at_the_next_frame(transfer, actor, astronaut, tmp_path):
    _, frames = actor
    grey = [cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in frames]
    job = GenerationInput("x", astronaut, 256, 256, 12, len(frames), 1, driving_frames=grey)
    seen = []

    def progress(done, total):
        seen.append(done)
        if done == 3:
            raise RuntimeError("cancelled")  # what the gate's progress raises

    with pytest.raises(RuntimeError, match="cancelled"):
        transfer.generate(job, tmp_path / "out.mp4", progress)
    assert seen == [1, 2, 3] and not (tmp_path / "out.mp4").exists()


def eye_line_degrees(frames: list[np.ndarray]) -> np.ndarray:
    from tests.landmarks68 import Landmarks, head_roll

    landmarks = Landmarks()
    found = [landmarks.detect(cv2.cvtColor(f, cv2.COLOR_RGB2GRAY)) for f in frames]
    return np.array([np.nan if p is None else head_roll(p) for p in found])


def test_the_characters_head_turns_with_the_actors(transfer, hopper, astronaut, tmp_path):
    """Head roll: the actor's clip turned ±8° over time; the character's eye line turns
    the same way."""
    face = cv2.resize(hopper[100:420, 100:420], (320, 320))
    angles = 8 * np.sin(2 * np.pi * np.arange(24) / 12)
    turned = [
        cv2.warpAffine(face, cv2.getRotationMatrix2D((160, 160), a, 1.0), (320, 320))
        for a in angles
    ]
    grey = [cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in turned]
    job = GenerationInput("turn", astronaut, 256, 256, 12, len(turned), 1, driving_frames=grey)
    transfer.generate(job, tmp_path / "out.mp4", lambda d, t: None)
    out = decoded(tmp_path / "out.mp4")
    actor_roll, character_roll = eye_line_degrees(turned), eye_line_degrees(out)
    assert np.nanmax(character_roll) - np.nanmin(character_roll) > 8  # it visibly turns
    assert correlation(actor_roll, character_roll) >= 0.8


def test_a_face_lost_for_some_frames_holds_its_pose_and_recovers(
    transfer, actor, astronaut, tmp_path
):
    _, frames = actor
    lost = [*frames[:10], *[np.full_like(frames[0], 128)] * 3, *frames[13:]]
    job = GenerationInput("gap", astronaut, 256, 256, 12, len(lost), 1, driving_frames=lost)
    transfer.generate(job, tmp_path / "out.mp4", lambda d, t: None)
    out = decoded(tmp_path / "out.mp4")
    held = [np.abs(out[i].astype(np.int16) - out[9]).mean() for i in (10, 11, 12)]
    assert max(held) < 2.0  # the last pose, held (not a jump, not a grey mouth)
    mouth = mouth_series(out)
    assert np.nanmax(mouth[13:]) - np.nanmin(mouth[13:]) > 0.1  # and moving again after


def test_the_output_stays_the_character_not_the_actor(transfer, actor, hopper, astronaut, tmp_path):
    """Performance transfer must not put the actor's face on someone else: the output's
    identity embedding (the service's own) is nearer the character's than the actor's."""
    from safety.likeness.checker import DlibFaceEmbedder

    _, frames = actor
    job = GenerationInput("id", astronaut, 256, 256, 12, len(frames), 1, driving_frames=frames)
    transfer.generate(job, tmp_path / "out.mp4", lambda d, t: None)
    out = decoded(tmp_path / "out.mp4")
    embedder = DlibFaceEmbedder()

    def identity(pixels):
        (face,) = sorted(embedder.faces(pixels), key=lambda f: -f.box[2] * f.box[3])[:1]
        return face.embedding

    character, performer = identity(astronaut), identity(frames[0])
    for frame in out[:: len(out) // 4]:
        me = identity(frame)
        assert np.linalg.norm(me - character) < 0.6 < np.linalg.norm(me - performer)


def test_the_character_opens_its_mouth_as_far_as_the_actor(transfer, hopper, astronaut):
    """As far in units of each face's size: the Face Mesh reads real actors' openings as
    dlib does (slope 0.96 on the people set), so a gain on the lips doubled a wide
    opening into a gape no landmark model could read back."""
    _, character = transfer.character(astronaut, 256, 256)
    actor = transfer.mesh.detect(hopper)
    opened = actor.points.copy()
    lower = [*INNER_LIPS_BOTTOM, 178, 88, 95, 402, 318, 324]  # the lower inner lip
    opened[lower, 1] += 0.15 * interocular(actor.points)
    target = retarget(character, actor, actor, Face(opened, actor.irises, 1.0))
    asked = mouth_opening(opened) - mouth_opening(actor.points)
    given = mouth_opening(target.points) - mouth_opening(character.points)
    assert asked > 0.1 and given == pytest.approx(asked, rel=0.15)
