"""The eyes of the performance transfer: the iris model's lids replace the mesh's only
where they agree with it, a real actor's blinks close the character's eyes and its irises
are read as another landmark model reads them, and an iris moves whole across its eye."""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np
import pytest

from generator.base import GenerationInput
from generator.eyelids import (
    actors_lids,
    blinking,
    closing,
    gaze_held,
    lid_sources,
    lids_shown,
    lightness_onto,
    typical_openings,
)
from generator.face_mesh import EYES, LOWER_LIDS, UPPER_LIDS, Face, refine_lids
from generator.irises import Irises
from generator.performance import MeshWarp, PerformanceTransfer, anchors, warp_points
from media.sampling import motion_frames
from tests.landmarks68 import Landmarks, eye_aperture, gaze
from tests.support import TESTDATA, decoded


@pytest.fixture(scope="module")
def character(astronaut):
    canvas, face = PerformanceTransfer().character(astronaut, 256, 256)
    return canvas, face


def contour(points: np.ndarray, k: int, lift: float = 0.0, mirrored: bool = False):
    """The iris model's 16-point contour for eye k as the mesh has it (corner, one lid,
    the other corner, the other lid), its upper lid raised by `lift` pixels; from a
    mirrored crop it starts at the inner corner."""
    outer, inner = EYES[k]
    lower, upper = points[LOWER_LIDS[k], :2], points[UPPER_LIDS[k], :2] - [0, lift]
    if mirrored:
        return np.concatenate([points[[inner], :2], lower[::-1], points[[outer], :2], upper[::-1]])
    return np.concatenate([points[[outer], :2], lower, points[[inner], :2], upper])


def test_the_iris_models_lids_are_taken_only_where_they_agree_with_the_mesh(character):
    _, face = character
    points = face.points.copy()
    width = float(np.linalg.norm(points[EYES[0][1], :2] - points[EYES[0][0], :2]))
    # Read from a mirrored crop: the same contour back to front still lands lid on lid.
    refine_lids(points, 0, contour(face.points, 0, lift=0.1 * width, mirrored=True))
    assert np.allclose(points[UPPER_LIDS[0], 1], face.points[UPPER_LIDS[0], 1] - 0.1 * width)
    assert np.allclose(points[LOWER_LIDS[0], :2], face.points[LOWER_LIDS[0], :2])
    # A contour half an eye away from the mesh's lids is a misread: nothing changes.
    wild = face.points.copy()
    refine_lids(wild, 1, contour(face.points, 1, lift=0.5 * width))
    assert np.array_equal(wild, face.points)


def test_the_actors_lids_show_only_while_the_actors_eye_closes(character, hopper):
    canvas, face = character
    actor = PerformanceTransfer().mesh.detect(hopper)
    typical = typical_openings([actor])
    assert (closing(actor, typical) == 0).all()  # open as usual: the character's own eyes
    assert actors_lids(canvas, face, hopper, actor, closing(actor, typical)) is canvas
    assert (closing(with_openings(actor, (0.05, 0.05)), typical) == 1).all()
    shown = actors_lids(canvas, face, hopper, actor, np.array([1.0, 0.0]))
    changed = np.abs(shown.astype(int) - canvas).max(axis=2) > 8
    for k, (outer, inner) in enumerate(EYES):
        x0, x1 = sorted(int(face.points[i, 0]) for i in (outer, inner))
        y = int(face.points[[outer, inner], 1].mean())
        eye = changed[y - 2 : y + 3, x0:x1]
        assert eye.mean() > 0.5 if k == 0 else not eye.any()  # the weighted eye alone
    assert not changed[: int(face.points[:, 1].min())].any()  # nothing above the face


def test_the_actors_lids_take_the_colour_of_the_skin_about_the_eye_not_of_the_eye(
    character, hopper
):
    """A character with dark liner and irises (the people set's Audrey Hepburn portrait):
    matched to the whole patch, the actor's lids came out as dark as the open eye they
    cover. The skin about the eye is what they must match."""
    canvas, face = character
    actor = PerformanceTransfer().mesh.detect(hopper)
    flat = np.full_like(canvas, 170)  # skin of one tone, then an eye in black
    ring = [EYES[0][0], *UPPER_LIDS[0], EYES[0][1], *LOWER_LIDS[0][::-1]]
    cv2.fillPoly(flat, [np.round(face.points[ring, :2]).astype(np.int32)], (0, 0, 0))
    shown = actors_lids(flat, face, hopper, actor, np.array([1.0, 0.0]))
    outer, inner = face.points[EYES[0][0], :2], face.points[EYES[0][1], :2]
    x0, x1 = sorted(int(v) for v in (outer[0], inner[0]))
    y = int((outer[1] + inner[1]) / 2)
    assert abs(shown[y - 2 : y + 3, x0:x1].mean() - 170) < 40  # lids in the skin's tone


def test_on_a_grey_photograph_the_actors_lids_stay_grey(character, hopper):
    """A black-and-white portrait (the people set's img_hallo_ref3, img_ghost_murakami):
    the actor's lids, their mean colour moved to the grey skin, kept the colour of their
    veins and eyeshadow about it, a bluish cast on a grey face."""
    canvas, face = character
    actor = PerformanceTransfer().mesh.detect(hopper)
    grey = np.full_like(canvas, 170)
    ring = [EYES[0][0], *UPPER_LIDS[0], EYES[0][1], *LOWER_LIDS[0][::-1]]
    cv2.fillPoly(grey, [np.round(face.points[ring, :2]).astype(np.int32)], (20, 20, 20))
    shown = actors_lids(grey, face, hopper, actor, np.array([1.0, 0.0]))
    chroma = cv2.cvtColor(shown, cv2.COLOR_RGB2LAB)[..., 1:].astype(int) - 128
    assert (shown != grey).any() and np.abs(chroma).max() <= 2


def test_a_dark_actors_shiny_lid_on_a_pale_character_does_not_burn_out_white(character, hopper):
    """The lids' lightness was scaled by the ratio of the two skins: a dark-skinned
    actor's lid on a pale character (vid_xportrait_driving_video on Paul Rudd, 2.4x) burnt
    its highlight out to a white blob above the lash line, which read as an open eye's
    white. The skin keeps its tone; what is brighter than it stays short of white."""
    canvas, face = character
    dark = (hopper * 0.35).astype(np.uint8)
    actor = PerformanceTransfer().mesh.detect(dark)
    (outer, inner), upper = EYES[0], UPPER_LIDS[0]
    span = float(np.linalg.norm(actor.points[inner, :2] - actor.points[outer, :2]))
    shine = actor.points[upper, :2].mean(axis=0) - [0, 0.12 * span]
    cv2.circle(dark, tuple(int(v) for v in shine), max(2, int(0.07 * span)), (150, 130, 120), -1)
    flat = np.full_like(canvas, 215)  # a pale skin, then an eye in black
    ring = [outer, *upper, inner, *LOWER_LIDS[0][::-1]]
    cv2.fillPoly(flat, [np.round(face.points[ring, :2]).astype(np.int32)], (0, 0, 0))
    shown = actors_lids(flat, face, dark, actor, np.array([1.0, 0.0]))
    assert shown.max() < 255  # nothing burnt out (the whole shine was 255 before)
    patch = (shown != flat).any(axis=2) & (flat == 215).all(axis=2)
    assert abs(np.median(shown[patch]) - 215) < 20  # and the lids in the skin's tone


def test_hair_over_one_of_the_actors_eyes_is_not_carried_onto_the_characters_lids(
    character, astronaut
):
    """An actor's strand of hair over one eye's outer end (vid_edtalk_expression_source,
    head turned): through every blink its lids, shown alone, carried the strand onto the
    character as a dark bar. Both eyes shut alike in a blink, so that eye's lids come
    from the other eye, mirrored; a clean actor keeps each eye's own."""
    canvas, face = character
    actor = PerformanceTransfer().mesh.detect(astronaut)
    outer, inner = actor.points[EYES[0][0], :2], actor.points[EYES[0][1], :2]
    span = float(np.linalg.norm(inner - outer))
    strand = astronaut.copy()  # a dark band down the face over the image-left eye's end
    x0, x1 = int(outer[0] - 0.3 * span), int(outer[0] + 0.1 * span)
    strand[: int(outer[1] + 0.5 * span), x0:x1] = 35
    assert lid_sources(astronaut, actor) == (0, 1)
    assert lid_sources(strand, actor) == (1, 1)
    flat = np.full_like(canvas, 170)
    shown = actors_lids(flat, face, strand, actor, np.array([1.0, 1.0]))

    def beyond_corner(k: int) -> float:
        """The darkest of the skin just beyond eye k's outer corner."""
        (x, y), (ix, _) = face.points[EYES[k][0], :2], face.points[EYES[k][1], :2]
        reach = max(2, int(0.15 * abs(ix - x)))
        x0 = int(x) - reach if ix > x else int(x) + 1
        return float(shown[int(y) - reach : int(y) + reach, x0 : x0 + reach].mean(axis=2).min())

    assert beyond_corner(0) > beyond_corner(1) - 20  # no bar of hair beside one eye


@pytest.mark.parametrize("mine, theirs", [(60, 215), (150, 170), (200, 90), (40, 0), (1, 250)])
def test_the_lids_lightness_takes_skin_to_skin_in_order_and_inside_white(mine, theirs):
    """`lightness_onto`: the actor's skin lands on the character's, darker stays darker,
    nothing passes white; a black skin is no error."""
    lightness = np.arange(256, dtype=np.float32)
    out = lightness_onto(lightness, float(mine), float(theirs))
    assert abs(lightness_onto(np.float32(mine), float(mine), float(theirs)) - theirs) < 1
    assert (np.diff(out) >= 0).all() and 0 <= out.min() and out.max() <= 255


def test_one_eye_shut_shuts_the_other_already_closing_but_a_wink_stays_a_wink(hopper):
    """Eyes blink together: where the mesh reads one eye of a blink shut and the other
    only closing (hair or a lens frame over it: vid_edtalk_expression_source, frames
    81-82, 0.31 and 0.77 of open), the character half winked; the closing eye now shuts
    with the shut one. An eye as open as usual beside a shut one is a wink, and stays."""
    actor = PerformanceTransfer().mesh.detect(hopper)
    typical = typical_openings([actor])
    assert closing(with_openings(actor, (0.3, 0.8)), typical).tolist() == [1.0, 1.0]
    assert closing(with_openings(actor, (0.3, 1.0)), typical).tolist() == [1.0, 0.0]
    both_closing = closing(with_openings(actor, (0.7, 0.8)), typical)  # neither shut yet
    assert 0 < both_closing[1] < both_closing[0] < 1


def test_a_blink_is_read_by_its_speed_where_the_mesh_reads_it_shallow(hopper):
    """A blink the mesh reads shallow (both eyes at 0.75 of open for two frames, as
    behind glasses, or caught halfway by the frame rate) is still a blink: `closing`
    alone showed the actor's lids only in part over the character's open eye, and the
    blink did not read shut. Eyes narrowed as far for a second (a squint), or one eye
    shut quickly (a wink), are not blinks."""
    actor = PerformanceTransfer().mesh.detect(hopper)
    typical = typical_openings([actor])

    def clip(*moments):
        """48 frames at 24 fps, open but for `(first, last, ratios)` runs."""
        openings = [(1.0, 1.0)] * 48
        for first, last, ratios in moments:
            openings[first : last + 1] = [ratios] * (last + 1 - first)
        return [with_openings(actor, o) for o in openings]

    shallow = clip((20, 21, (0.75, 0.75)))
    assert closing(shallow[20], typical).max() < 1  # what showed before
    assert np.flatnonzero(blinking(shallow, 24)).tolist() == [20, 21]
    assert (lids_shown(shallow, 24)[20:22] == 1).all()  # the actor's lids alone
    assert not blinking(clip((10, 33, (0.75, 0.75))), 24).any()  # a squint
    assert not blinking(clip((20, 22, (0.2, 1.0))), 24).any()  # a wink
    # One frame read with one eye open inside a blink (behind glasses, vid_retalking_face5, frame
    # 11: one eye at 0.68 of its usual opening, the other at 1.02): the character winked.
    broken = clip((20, 21, (0.6, 0.6)), (22, 22, (0.6, 1.0)), (23, 24, (0.6, 0.6)))
    assert np.flatnonzero(blinking(broken, 24)).tolist() == [20, 21, 22, 23, 24]


def with_openings(face, ratios):
    """`face` with each eye's lids brought together about their middle to `ratios` of
    its opening."""
    points = face.points.copy()
    for upper, lower, ratio in zip(UPPER_LIDS, LOWER_LIDS, ratios, strict=True):
        middle = (points[upper, 1].mean() + points[lower, 1].mean()) / 2
        points[upper, 1] = middle + (points[upper, 1] - middle) * ratio
        points[lower, 1] = middle + (points[lower, 1] - middle) * ratio
    return replace(face, points=points)


def renderer(canvas, face):
    """The transfer's frame for a target face, as it renders one with the actor's eyes
    open: the canvas warped without its irises, the irises drawn whole."""
    irises = Irises(canvas, face)
    height, width = canvas.shape[:2]
    fixed = anchors(warp_points(face), width, height)
    warp = MeshWarp(irises.bare, np.concatenate([warp_points(face), fixed]))

    def render(target):
        frame = warp(np.concatenate([warp_points(target), fixed]))
        return irises.draw(frame, target)

    return render


def glancing(canvas, face, along: float):
    """The character rendered with both irises moved `along` eye widths to image-right."""
    moved = face.irises.copy()
    for k, (outer, inner) in enumerate(EYES):
        ends = sorted([face.points[outer, :2], face.points[inner, :2]], key=lambda p: p[0])
        moved[k] += (ends[1] - ends[0]) * along
    return renderer(canvas, face)(replace(face, irises=moved.astype(np.float32)))


def test_an_iris_moved_across_its_eye_is_seen_there(astronaut):
    """Read by dlib's 68 points and the darkest pixels of each eye, not by the mesh that
    placed it: a warp alone only sheared the iris between its lids."""
    canvas, face = PerformanceTransfer().character(astronaut, 512, 512)
    marks = Landmarks()

    def seen(rgb):
        grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        return gaze(grey, marks.detect(grey))

    left, ahead, right = (seen(glancing(canvas, face, a)) for a in (-0.15, 0.0, 0.15))
    assert left < ahead < right
    assert right - left >= 0.15  # at least half of the 0.3 the irises were moved


def test_the_bare_canvas_keeps_no_copy_of_the_iris(astronaut):
    canvas, face = PerformanceTransfer().character(astronaut, 512, 512)
    bare = Irises(canvas, face).bare
    for k in range(2):
        x, y = np.round(face.irises[k]).astype(int)
        grey = cv2.cvtColor(bare, cv2.COLOR_RGB2GRAY).astype(float)
        before = cv2.cvtColor(canvas, cv2.COLOR_RGB2GRAY).astype(float)
        assert (
            grey[y - 2 : y + 3, x - 2 : x + 3].mean()
            > before[y - 2 : y + 3, x - 2 : x + 3].mean() + 15
        )


def test_every_blink_of_a_real_actor_closes_the_characters_eyes(astronaut, tmp_path):
    """A real actor (the people set's vid_retalking_face3.mp4, its first 40 frames at
    24 fps: three blinks) drives the astronaut; dlib's 68 points, not the mesh, read both
    clips. Each run of frames where the actor's eyes are under 60 % of their median
    opening finds the character's under 60 % of theirs within a frame. With the
    character's own lids squeezed and painted over, 2 of this clip's 5 blinks (96 frames)
    were caught."""
    driving = motion_frames(TESTDATA / "people" / "vid_retalking_face3.mp4", 24, 40)
    job = GenerationInput("blink", astronaut, 384, 384, 24, len(driving), 1,
                          driving_frames=driving)  # fmt: skip
    PerformanceTransfer().generate(job, tmp_path / "out.mp4", lambda d, t: None)
    marks = Landmarks()

    def openings(frames):
        return np.array([eye_aperture(marks.detect(cv2.cvtColor(f, cv2.COLOR_RGB2GRAY)))
                         for f in frames])  # fmt: skip

    actor, character = openings(driving), openings(decoded(tmp_path / "out.mp4"))
    closed = np.flatnonzero(actor < 0.6 * np.median(actor))
    shut = character < 0.6 * np.median(character)
    runs = np.split(closed, np.flatnonzero(np.diff(closed) > 1) + 1)
    assert len(runs) >= 3
    for run in runs:
        assert shut[max(run[0] - 1, 0) : run[-1] + 2].any(), f"blink at frames {run} missed"


def test_an_actor_with_eyes_shut_still_makes_the_character_not_the_actor(astronaut, tmp_path):
    """While the actor's eyes close, the character shows the actor's lids: an actor who
    keeps them shut (the people set's vid_xportrait_driving_video.mp4, frames 32-63 at
    24 fps: a laugh, eyes screwed shut for half a second) must still give every frame
    the character's identity, by the service's own embedding."""
    from safety.likeness.checker import DlibFaceEmbedder

    driving = motion_frames(TESTDATA / "people" / "vid_xportrait_driving_video.mp4", 24, 64)
    driving = driving[32:]
    transfer = PerformanceTransfer()
    _, _, raw = transfer.actor(driving, 24)
    shown = [closing(face, typical_openings(raw)).min() for face in raw]
    assert sum(weight == 1 for weight in shown) >= 8  # the actor's lids alone, a while
    job = GenerationInput("shut", astronaut, 384, 384, 24, len(driving), 1,
                          driving_frames=driving)  # fmt: skip
    transfer.generate(job, tmp_path / "out.mp4", lambda d, t: None)
    embedder = DlibFaceEmbedder()

    def identity(pixels):
        return max(embedder.faces(pixels), key=lambda f: f.box[2] * f.box[3]).embedding

    character, actor = identity(astronaut), identity(driving[0])
    for frame in decoded(tmp_path / "out.mp4"):
        me = identity(frame)
        assert np.linalg.norm(me - character) < 0.6 < np.linalg.norm(me - actor)


def test_the_irises_are_read_as_another_landmark_model_reads_them():
    """The people set's vid_tpsmm_driving.mp4 (96 frames at 24 fps): its two eyes, read
    apart by dlib's 68 points and the darkest pixels, move together (r 0.65; most of
    that is its three blinks, frames 20-22, 56-60 and 89-91, which dlib reads as open eyes
    looking down: docs/performance-transfer.md). The iris model read its image-left eye
    backwards from MediaPipe's crop (r -0.40 to dlib's reading) and right from the crop's
    mirror image (0.89); with only MediaPipe's crops the tracked irises agreed at 0.28.
    Both ways, averaged: 0.61."""
    driving = motion_frames(TESTDATA / "people" / "vid_tpsmm_driving.mp4", 24, 96)
    _, _, raw = PerformanceTransfer().actor(driving, 24)
    marks = Landmarks()
    tracked, read, openings = [], [], []
    for rgb, face in zip(driving, raw, strict=True):
        grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        points = marks.detect(grey)
        if face is None or points is None:
            continue
        along = []
        for (outer, inner), iris in zip(EYES, face.irises, strict=True):
            left, right = sorted(
                [face.points[outer, :2], face.points[inner, :2]], key=lambda p: p[0]
            )
            along.append(np.dot(iris - left, right - left) / np.dot(right - left, right - left))
        tracked.append(np.mean(along))
        read.append(gaze(grey, points))
        openings.append(eye_aperture(points))
    open_eyes = np.array(openings) >= 0.75 * np.median(openings)  # lashes are not irises
    assert open_eyes.sum() >= 60
    agreement = np.corrcoef(np.array(tracked)[open_eyes], np.array(read)[open_eyes])[0, 1]
    assert agreement >= 0.5


def test_through_a_blink_the_eyes_look_where_they_looked(character):
    """While the lids close the iris model reads lashes: the irises are carried with
    their eyes' corners from the last open frame, through a turned, nearer, moved head."""
    _, face = character
    turn, scale, shift = np.radians(12), 1.2, np.array([9.0, -4.0])
    rotation = scale * np.array([[np.cos(turn), -np.sin(turn)], [np.sin(turn), np.cos(turn)]])
    moved = face.points.copy()
    moved[:, :2] = face.points[:, :2] @ rotation.T + shift
    misread = Face(moved, np.zeros((2, 2), np.float32), 1.0)  # what closing lids gave
    held = gaze_held(misread, face)
    np.testing.assert_allclose(held.irises, face.irises @ rotation.T + shift, atol=1e-3)
    assert held.points is moved
