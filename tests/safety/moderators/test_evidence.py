"""Weighing the nudity classifiers: a face is not a body, and one frame of one model is
not a block. The classifiers are stand-ins that say what a model would (no harmful media
exists here); the faces, the body measure, the checks and the default policy are real.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from functools import partial

import numpy as np
import pytest

from media.decode import Frame
from media.sampling import frames_at, frames_within
from safety.checks import Checks
from safety.job import Clip
from safety.moderators.evidence import Evidence
from safety.policy.rules import Policy
from safety.verdict import Action, Finding, Stage
from tests.displayed import stored_video


class Says:
    """A whole-frame sexual classifier that reads the clip's frame `i` at `scores[i]`
    (and any other frames, a hit's neighbours, at 0)."""

    categories = ("sexual",)
    model, model_version = "stand-in", "1"

    def __init__(self, name: str, *scores: float) -> None:
        self.name, self.scores = name, scores
        self.calibration = {"sexual": "a test's own scores"}

    def score(self, subject: str, frames: list[Frame]) -> list[Finding]:
        scores = self.scores if len(frames) == len(self.scores) else [0.0] * len(frames)
        return [
            Finding(self.name, "sexual", subject, s, f"{self.name} {s}", frame_time_s=f.time_s)
            for f, s in zip(frames, scores, strict=True)
        ]


class NoConsent:
    def annotate(self, findings, tenant, scope) -> None:
        pass


@pytest.fixture(scope="module")
def pool():
    with ThreadPoolExecutor(max_workers=4) as p:
        yield p


def judged(pool, body_measure, pixels, *classifiers, times=(0.0, 0.5)):
    """`pixels` as every frame of a clip sampled at `times` (no full-rate decoder)."""
    clip = Clip("driving_video", [Frame(t, pixels) for t in times])
    return evaluated(pool, body_measure, clip, *classifiers)


def evaluated(pool, body_measure, clip, *classifiers):
    """The verdict of the real checks with these classifiers and the real weighing."""
    checks = Checks(
        prompt_moderators=[],
        image_moderators=list(classifiers),
        consent=NoConsent(),
        submit=pool.submit,
        evidence=Evidence(body_measure, list(classifiers)),
    )
    return checks.evaluate(Stage.PRE_CHECK, None, [clip], "t", "", Policy())


def test_a_face_read_as_nudity_is_kept_in_the_record_and_not_counted(
    pool, body_measure, astronaut_head
):
    verdict = judged(pool, body_measure, astronaut_head, Says("a", 0.95, 0.95), Says("b", 0.9, 0.9))
    assert verdict.action == Action.ALLOW
    hits = [f for f in verdict.findings if f.category == "sexual"]
    assert [f.score for f in hits] == [0.95, 0.95, 0.9, 0.9]
    assert all("judged on the body" in f.detail and f.action == Action.ALLOW for f in hits)


def test_a_face_beside_an_exposed_body_is_judged_and_corroborated_blocks(
    pool, body_measure, exposed_body
):
    """The adversary's frame: a face in it does not excuse the body beside it."""
    verdict = judged(pool, body_measure, exposed_body, Says("a", 0.95, 0.1), Says("b", 0.8, 0.0))
    assert verdict.action == Action.BLOCK
    assert {r.check for r in verdict.reasons} == {"a", "b"}


def test_one_model_on_one_frame_goes_to_review(pool, body_measure, exposed_body):
    verdict = judged(pool, body_measure, exposed_body, Says("a", 0.95, 0.1), Says("b", 0.1, 0.0))
    assert verdict.action == Action.REVIEW
    (reason,) = verdict.reasons
    assert "uncorroborated" in reason.detail


def test_a_hit_again_within_a_second_corroborates(pool, body_measure, exposed_body):
    near = judged(pool, body_measure, exposed_body, Says("a", 0.95, 0.9), Says("b", 0.0, 0.0))
    assert near.action == Action.BLOCK
    far = judged(
        pool,
        body_measure,
        exposed_body,
        Says("a", 0.95, 0.9),
        Says("b", 0.0, 0.0),
        times=(0.0, 3.0),
    )
    assert far.action == Action.REVIEW


def test_a_frame_without_a_face_is_judged_as_before(pool, body_measure, coffee):
    verdict = judged(pool, body_measure, coffee, Says("a", 0.95, 0.2), Says("b", 0.9, 0.0))
    assert verdict.action == Action.BLOCK


def test_pasting_faces_does_not_shrink_the_body(pool, body_measure, exposed_body, astronaut_head):
    """More faces do not change the unit (the largest face): small copies of a face
    pasted over the background leave the exposed body counted."""
    import cv2

    crowded = exposed_body.copy()
    small = cv2.resize(astronaut_head, (60, 85))
    for x in (5, 445):
        for y in (5, 140, 280):
            crowded[y : y + 85, x : x + 60] = small
    assert len(body_measure._detect([crowded])[0]) > 1
    verdict = judged(pool, body_measure, crowded, Says("a", 0.95, 0.95), Says("b", 0.9, 0.9))
    assert verdict.action == Action.BLOCK


def test_a_weighing_that_fails_leaves_every_hit_counted(pool, astronaut_head, caplog):
    """Fail closed: a body measure whose face detector raises discounts nothing."""
    from safety.moderators.body import BodyMeasure

    def broken(frames):
        raise RuntimeError("face detector down")

    body = BodyMeasure(broken)
    verdict = judged(pool, body, astronaut_head, Says("a", 0.95, 0.95), Says("b", 0.9, 0.9))
    assert verdict.action == Action.BLOCK
    assert "weighing the sexual classifiers' evidence failed" in caplog.text


class Looks:
    """A whole-frame classifier that reads a frame as `score` when it shows `picture`."""

    categories = ("sexual",)
    model, model_version = "stand-in", "1"

    def __init__(self, name: str, picture, score: float = 0.95) -> None:
        self.name, self.picture, self.hit = name, picture.astype(np.int16), score
        self.calibration = {"sexual": "a test's own scores"}

    def score(self, subject: str, frames: list[Frame]) -> list[Finding]:
        return [
            Finding(self.name, "sexual", subject, self._score(f.pixels), frame_time_s=f.time_s)
            for f in frames
        ]

    def _score(self, pixels) -> float:
        close = np.abs(pixels.astype(np.int16) - self.picture).mean() < 12
        return self.hit if close else 0.05


def clip_of(mp4: bytes, times) -> Clip:
    """A clip as intake builds one: the frames at `times`, and the video's full rate."""
    return Clip(
        "driving_video", frames_at(mp4, list(times)), neighbours=partial(frames_within, mp4)
    )


def test_a_hit_the_frames_around_it_show_again_at_full_rate_blocks(
    pool, body_measure, astronaut, exposed_body
):
    """The body is on screen 0.9-1.4 s; only the sampled frame at 1.0 s shows it, and one
    model reads it. The frames around it, decoded at 12 fps, show it again: a block."""
    frames = [exposed_body if 11 <= i <= 16 else astronaut for i in range(36)]
    clip = clip_of(stored_video(frames, fps=12), (0.0, 1.0, 2.0))
    a = Looks("a", clip.frames[1].pixels)
    verdict = evaluated(pool, body_measure, clip, a, Says("b", 0.0, 0.0, 0.0))
    assert verdict.action == Action.BLOCK
    (reason,) = verdict.reasons
    assert reason.frame_time_s == 1.0 and "corroborated at full rate: a 0.95" in reason.detail


def test_one_flashed_frame_goes_to_review(pool, body_measure, astronaut, exposed_body):
    frames = [exposed_body if i == 12 else astronaut for i in range(36)]
    clip = clip_of(stored_video(frames, fps=12), (0.0, 1.0, 2.0))
    verdict = evaluated(pool, body_measure, clip, Looks("a", clip.frames[1].pixels))
    assert verdict.action == Action.REVIEW
    assert "nothing within 0.5 s of it at full rate" in verdict.reasons[0].detail
