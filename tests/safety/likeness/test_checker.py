"""A face track is one person: tracks link by box overlap only when the faces agree, and
every identity seen anywhere in a track is reported with its frame times."""

from __future__ import annotations

import numpy as np

from indexes.identity import FaissIdentityIndex
from media.decode import Frame
from safety.likeness.checker import LikenessChecker
from safety.likeness.tracking import Face, track_faces

DIM = 128
RNG = np.random.default_rng(7)
PEOPLE = {
    name: v / np.linalg.norm(v)
    for name, v in {
        "A": RNG.normal(size=DIM),
        "B": RNG.normal(size=DIM),
        "C": RNG.normal(size=DIM),
    }.items()
}
IDS = {"A": 1, "B": 2}  # A and B enrolled; C is not


class MarkedFaces:
    """An embedder that sees, in the same place of each frame, the person the frame's
    first pixel names (0: A, 1: B, 2: C)."""

    model, model_version, dim = "marked", "1", DIM

    def faces(self, pixels):
        person = "ABC"[int(pixels[0, 0, 0])]
        noise = RNG.normal(scale=0.02, size=DIM)
        return [Face((40, 40, 80, 80), 0.99, (PEOPLE[person] + noise).astype(np.float32))]


def clip(people: str) -> list[Frame]:
    out = []
    for i, person in enumerate(people):
        pixels = np.zeros((16, 16, 3), np.uint8)
        pixels[0, 0, 0] = "ABC".index(person)
        out.append(Frame(i * 0.5, pixels))
    return out


def checker() -> LikenessChecker:
    names = {IDS["A"]: ("id-a", "Person A"), IDS["B"]: ("id-b", "Person B")}
    index = FaissIdentityIndex.build(
        DIM,
        np.array(list(IDS.values()), np.int64),
        np.stack([PEOPLE[p] for p in IDS]).astype(np.float32),
    )
    return LikenessChecker(MarkedFaces(), index, names.get)


def test_a_person_who_takes_anothers_place_is_reported_too():
    """A (consented, say) for four frames, then B in the same box: not one track of A."""
    findings = checker().score("output_frame", clip("AAAABBBB"))
    by_name = {f.identity_name: f for f in findings}
    assert set(by_name) == {"Person A", "Person B"}, findings
    assert by_name["Person B"].score > 0.95
    assert by_name["Person B"].track_times_s == [2.0, 2.5, 3.0, 3.5]
    assert by_name["Person A"].track_times_s == [0.0, 0.5, 1.0, 1.5]


def test_an_identity_seen_in_one_frame_of_a_long_track_is_reported():
    findings = checker().score("output_frame", clip("CCCCBCCC"))
    assert [(f.identity_name, f.track_times_s) for f in findings if f.score > 0.9] == [
        ("Person B", [2.0])
    ]


def test_the_same_person_moving_stays_one_track():
    faces = [
        (t, [Face((40 + 4 * i, 40, 80, 80), 0.99, PEOPLE["A"] + RNG.normal(scale=0.02, size=DIM))])
        for i, t in enumerate([0.0, 0.5, 1.0, 1.5])
    ]
    (track,) = track_faces(faces)
    assert track.times == [0.0, 0.5, 1.0, 1.5]


class TwoStage:
    """Detects one face in the same box of every frame; the person is whoever the
    frame's pixels show (a texture per person), and embedding counts its calls."""

    model, model_version, dim = "two-stage", "1", DIM

    def __init__(self) -> None:
        self.embedded = 0

    def detect_frames(self, frames):
        return [[((8, 8, 48, 48), 0.99)] for _ in frames]

    def embed_faces(self, crops):
        self.embedded += len(crops)
        out = []
        for pixels, (x, y, _, _) in crops:
            person = "ABC"[int(pixels[y + 2, x + 2, 0]) // 80]
            out.append((PEOPLE[person] + RNG.normal(scale=0.02, size=DIM)).astype(np.float32))
        return out

    def faces(self, pixels):
        raise AssertionError("the two stages are used for a clip")


def textured(people: str) -> list[Frame]:
    """Frames whose face box holds each person's own texture (its first pixel names them)."""
    out = []
    for i, person in enumerate(people):
        k = "ABC".index(person)
        texture = np.random.default_rng(k).integers(0, 255, (64, 64, 3), np.uint8)
        texture[:, :, 0] = texture[:, :, 0] // 4 + 80 * k  # red band names the person
        out.append(Frame(i * 0.5, texture))
    return out


def checker_with(embedder) -> LikenessChecker:
    base = checker()
    return LikenessChecker(embedder, base.index, base._identity_of)


def test_a_face_that_goes_on_looking_the_same_is_embedded_once():
    embedder = TwoStage()
    findings = checker_with(embedder).score("output_frame", textured("AAAAAAA"))
    assert embedder.embedded == 1
    assert [f.identity_name for f in findings if f.score > 0.9] == ["Person A"]


def test_someone_else_in_the_same_box_is_embedded_and_reported():
    """Tracking saves embeddings only while a face looks the same: B stepping into A's
    place changes the crop, so B is embedded, and reported on its own."""
    embedder = TwoStage()
    findings = checker_with(embedder).score("output_frame", textured("AAAABBBB"))
    names = {f.identity_name: f.track_times_s for f in findings if f.score > 0.9}
    assert names == {"Person A": [0.0, 0.5, 1.0, 1.5], "Person B": [2.0, 2.5, 3.0, 3.5]}
    assert embedder.embedded == 2


def test_a_long_track_is_embedded_again_every_eight_frames():
    embedder = TwoStage()
    checker_with(embedder).score("output_frame", textured("A" * 20))
    assert embedder.embedded == 3  # frames 0, 8 and 16
