"""Blinks: a closing eye shows the actor's own closing lids, fitted to the character's
eye and matched to the skin around it (skin against skin: each side's eye opening, with
its lashes and liner, is left out of the match; matched to the whole patch, the lids
took the tone of the open eye they cover, a dark smudge on a character with dark liner).

Why not the character's own lids: a warp can only squeeze the character's open eye, and
a painted cover (the skin above the lid, a dark line where the lids meet) did not read
as shut to another landmark model. On the people set's 12 portraits, eyes fully closed
that way read, by dlib's 68 points, at 0.57-1.05 of the open eye (median 0.70), and
rolling the upper lid's skin down over the eye at 0.44-1.08 (median 0.52); real blinks
read 0.36-0.5. The actor's closing eye is a real one: with it, 35-36 of the people set's
51 actor blinks close the character's eyes as dlib reads them, against 19, and 39-40
with blinks read by their speed (`blinking`; python bench/performance.py --people
--frames 96). The patch is the lids and the skin to the crease, not the brows, and only
while the eye closes: an open eye stays the character's own.
"""

from __future__ import annotations

import cv2
import numpy as np

from generator.face_mesh import EYES, LOWER_LIDS, UPPER_LIDS, Face, eye_openings

# The actor's eye opening (the mesh's lid gap over the eye's width, unsmoothed) over its
# median through the clip: from CLOSING_FROM the actor's lids start to show, and they
# alone are seen from SHUT_AT. The Face Mesh reads a blink shallow (real blinks on the
# people set's clips, at dlib's 0.36-0.5 of open, read 0.28-0.65 in the mesh), so SHUT_AT
# sits above most of its blinks. The median, not one rest frame: the smoothed face's
# most neutral frame can be a raw frame already closing (vid_retalking_face3, frame 25).
CLOSING_FROM, SHUT_AT = 0.85, 0.6
# The patch, in eye widths about the eye (along: from its outer corner; across: down
# from its corners' line): the lids and the skin to the crease, not the brow.
ALONG, ABOVE, BELOW = (-0.12, 1.12), -0.38, 0.24
FEATHER = 0.12  # the patch's edge fades over this many eye widths
# Hair over an eye (`lid_sources`): over HIDDEN of the skin at the patch's outer end (to
# OUTER_END eye widths from the outer corner) HAIR_DARKER grey levels darker than the
# rest of the patch, while at most CLEAR of the other eye's is. In the people set's 17
# actors' blinks this takes the other eye's lids in 39 of 249 frames: all 24 of
# vid_edtalk_expression_source's (a strand over her temple: its outer end reads 0.84-1.0,
# the other eye's 0-0.04), 8 of vid_retalking_face4's and 2 of vid_sadtalker_WDA_KatieHill's
# (hair), 5 of two clips (lashes past the outer corner). Eyeliner at both eyes' ends
# (vid_sadtalker_WDA_AOC) reads high on both and changes nothing.
HAIR_DARKER, HIDDEN, CLEAR, OUTER_END = 45, 0.5, 0.2, 0.25
EYE_MARGIN = 0.06  # the lashes and liner about an eye's opening, in eye widths
# A skin this colourful (Lab chroma) or more keeps the actor's lids' colour variation; a
# greyer one (a black-and-white photograph: 0) scales it down with its own. The people
# set's colour portraits' skin about the eyes reads 11-30.
SKIN_CHROMA = 8.0
# A blink: both eyes' openings at most BLINK_DIP of their median over the half second
# about (the two eyes' mean; neither above BLINK_EACH), for at most BLINK_LONGEST
# seconds. A blink is faster than any look: on the people set's 17 actor clips (96
# frames at 24 fps) this finds 50 of the 51 blinks dlib's 68 points read (the 51st, a
# laugh's eyes shut for half a second, is deep enough to show shut already), the seven
# the mesh reads too shallow for `closing` among them (behind glasses, half blinks, low
# resolution). dlib reads the 16 other runs it finds at 0.61-0.82 of open; those the
# blink sheet draws are blinks by eye (vid_tpsmm_driving, vid_dpe_s) or too small to tell
# (vid_dpe_d).
BLINK_DIP, BLINK_EACH, BLINK_LONGEST = 0.85, 0.95, 0.35


def typical_openings(faces: list[Face]) -> np.ndarray:
    """Each eye's median opening through the clip."""
    return np.median([eye_openings(face.points) for face in faces], axis=0)


def closing(actor: Face, typical: np.ndarray) -> np.ndarray:
    """Per eye, how far the actor's lids are shown (0: not at all, 1: alone), from its
    opening now against `typical_openings`. Eyes blink together: an eye already closing
    beside one read shut shuts with it (the mesh reads one eye of a blink shallow where
    hair or a lens frame is over it, and the character half winked); an eye open as
    usual beside a shut one is a wink and stays open."""
    ratio = eye_openings(actor.points) / np.maximum(typical, 1e-6)
    own = np.clip((CLOSING_FROM - ratio) / (CLOSING_FROM - SHUT_AT), 0.0, 1.0)
    together = (own[::-1] >= 1.0) & (own > 0.0)
    return np.where(together, 1.0, own).astype(own.dtype)


def blinking(faces: list[Face], fps: float) -> np.ndarray:
    """Per frame of the clip, whether the actor blinks: both eyes' openings dipped, for
    a moment, below their median about it (BLINK_DIP). The whole clip is known, so a
    blink is read by its speed, not its depth alone: the mesh reads some blinks as
    shallow as a squint, and `closing` alone showed the actor's lids over the
    character's open eye."""
    ratios = np.array([eye_openings(face.points) for face in faces])
    ratios /= np.maximum(np.median(ratios, axis=0), 1e-6)
    reach = max(1, round(fps / 2))
    local = np.array(
        [np.median(ratios[max(0, t - reach) : t + reach + 1], axis=0) for t in range(len(ratios))]
    )
    dips = ratios / np.maximum(local, 1e-6)
    dipped = np.flatnonzero((dips.mean(axis=1) < BLINK_DIP) & (dips.max(axis=1) < BLINK_EACH))
    out = np.zeros(len(faces), bool)
    longest = max(1, round(BLINK_LONGEST * fps))
    for run in np.split(dipped, np.flatnonzero(np.diff(dipped) > 1) + 1) if len(dipped) else []:
        out[run] = len(run) <= longest  # longer: eyes kept shut, read by depth
    # A lid does not open and shut again within one frame: a frame between two of a blink
    # is one the mesh read open through glasses or hair (the character winked for it).
    out[1:-1] |= out[:-2] & out[2:]
    return out


def lids_shown(faces: list[Face], fps: float) -> np.ndarray:
    """Per frame of the clip and per eye, how far the actor's lids are shown: alone
    through a blink (`blinking`: blended, they ghosted over the character's open eye),
    else as far as the eye is closing (`closing`)."""
    typical = typical_openings(faces)
    return np.array([
        np.ones(2) if blink else closing(face, typical)
        for face, blink in zip(faces, blinking(faces, fps), strict=True)
    ])  # fmt: skip


def gaze_held(actor: Face, opened: Face) -> Face:
    """`actor` looking where it looked in `opened` (a frame before its lids began to
    close): each iris carried with its eye's corners from there. Through closing lids
    the iris model reads lashes and lid, not where the eye looks."""
    irises = actor.irises.copy()
    for k in range(2):
        a0, a1 = _eye_axes(opened.points, k)[:2], _eye_axes(actor.points, k)[:2]
        offset = opened.irises[k] - a0[0]
        # The similarity that takes the open eye's corners onto this frame's.
        scale = np.linalg.norm(a1[1]) / max(np.linalg.norm(a0[1]), 1e-6)
        turn = np.arctan2(a1[1][1], a1[1][0]) - np.arctan2(a0[1][1], a0[1][0])
        c, s = np.cos(turn), np.sin(turn)
        irises[k] = a1[0] + scale * np.array([[c, -s], [s, c]]) @ offset
    return Face(actor.points, irises.astype(np.float32), actor.score)


def _eye_axes(points: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Eye k's outer corner, the vector to its inner corner, and that vector turned to
    point down the face (the same length)."""
    outer, inner = EYES[k]
    corner = points[outer, :2].astype(np.float32)
    along = points[inner, :2].astype(np.float32) - corner
    down = np.array([-along[1], along[0]], np.float32)
    return corner, along, down if down[1] >= 0 else -down


def _eye_places(points: np.ndarray, k: int, places) -> np.ndarray:
    """Places given in eye widths (along, down) as image pixels."""
    corner, along, down = _eye_axes(points, k)
    return np.array([corner + along * u + down * v for u, v in places], np.float32)


def actors_lids(
    frame: np.ndarray, target: Face, actor_rgb: np.ndarray, actor: Face, weights: np.ndarray
) -> np.ndarray:
    """The frame with each eye's region replaced, as far as `weights` says, by the
    actor's: mapped corner to corner (and square to the eye), its colour moved to the
    character's skin about the eye (Lab mean over the patch less both eyes' openings,
    lightness in proportion)."""
    out = frame
    height, width = frame.shape[:2]
    reference = ((0.0, 0.0), (1.0, 0.0), (0.5, ABOVE))
    sources = lid_sources(actor_rgb, actor) if weights.min() >= 1 else (0, 1)  # a blink
    for k in range(2):
        weight = float(weights[k])
        if weight <= 0:
            continue
        j = sources[k]
        place = cv2.getAffineTransform(
            _eye_places(actor.points, j, reference), _eye_places(target.points, k, reference)
        )
        box = _patch(target.points, k)
        span = float(np.linalg.norm(_eye_axes(target.points, k)[1]))
        sigma = max(1.0, FEATHER * span / 2)
        margin = int(np.ceil(3 * sigma)) + 2  # the feathered edge fades to nothing inside
        x0, y0 = np.maximum(np.floor(box.min(axis=0)).astype(int) - margin, 0)
        x1, y1 = np.minimum(np.ceil(box.max(axis=0)).astype(int) + margin + 1, [width, height])
        if x1 - x0 < 3 or y1 - y0 < 3:
            continue
        place[:, 2] -= [x0, y0]  # into the box
        size = (int(x1 - x0), int(y1 - y0))
        piece = cv2.warpAffine(actor_rgb, place, size, borderMode=cv2.BORDER_REFLECT)
        region = box - [x0, y0]
        mask = np.zeros((size[1], size[0]), np.uint8)
        cv2.fillConvexPoly(mask, np.round(region).astype(np.int32), 255, cv2.LINE_AA)
        mask = cv2.GaussianBlur(mask, (0, 0), sigma)
        here = out[y0:y1, x0:x1]
        # Skin against skin: each side's eye opening (iris, white, liner) left out.
        actor_eye = _opening(actor.points, j) @ place[:, :2].T + place[:, 2]
        target_eye = _opening(target.points, k) - [x0, y0]
        margin_px = max(1, int(round(EYE_MARGIN * span)))
        piece = _matched(
            piece,
            here,
            (mask > 128) & ~_filled(actor_eye, mask.shape, margin_px),
            (mask > 128) & ~_filled(target_eye, mask.shape, margin_px),
        )
        alpha = (mask / 255.0 * weight)[..., None]
        out = out.copy() if out is frame else out
        out[y0:y1, x0:x1] = (here * (1 - alpha) + piece * alpha).astype(np.uint8)
    return out


def lid_sources(actor_rgb: np.ndarray, actor: Face) -> tuple[int, int]:
    """Which of the actor's eyes each eye's lids are taken from through a blink: its
    own, unless hair hides that eye's outer end and not the other's; then the other's,
    mirrored (mapped outer corner to outer corner). Both eyes shut alike in a blink, and
    a strand over one temple (vid_edtalk_expression_source, head turned) was carried onto
    the character's lids as a dark bar on a flat block in every blink. Hidden: much of
    the patch's outer end much darker than the rest of it (HIDDEN, HAIR_DARKER)."""
    boxes = [_patch(actor.points, k) for k in range(2)]
    corner = np.maximum(np.floor(np.min(boxes, axis=(0, 1))).astype(int), 0)
    end = np.ceil(np.max(boxes, axis=(0, 1))).astype(int) + 1
    crop = actor_rgb[corner[1] : end[1], corner[0] : end[0]]
    if crop.shape[0] < 3 or crop.shape[1] < 3:
        return (0, 1)
    lightness = cv2.cvtColor(crop, cv2.COLOR_RGB2LAB)[..., 0].astype(np.float32)
    points = actor.points[:, :2] - corner
    span = float(np.linalg.norm(_eye_axes(points, 0)[1]))
    margin = max(1, int(2 * EYE_MARGIN * span))  # the lashes and liner left out

    def skin(k: int, along: tuple[float, float]) -> np.ndarray:
        area = np.zeros(lightness.shape, np.uint8)
        cv2.fillConvexPoly(area, np.round(_patch(points, k, along)).astype(np.int32), 255)
        return lightness[(area > 0) & ~_filled(_opening(points, k), area.shape, margin)]

    outer = [skin(k, (ALONG[0], OUTER_END)) for k in range(2)]
    rest = [skin(k, (OUTER_END, ALONG[1])) for k in range(2)]
    if not all(len(pixels) for pixels in outer + rest):
        return (0, 1)
    hidden = [
        float((far_end < np.median(patch_rest) - HAIR_DARKER).mean())
        for far_end, patch_rest in zip(outer, rest, strict=True)
    ]
    for k in range(2):
        if hidden[k] >= HIDDEN and hidden[1 - k] <= CLEAR:
            return (1 - k, 1 - k)
    return (0, 1)


def _patch(points: np.ndarray, k: int, along: tuple[float, float] = ALONG) -> np.ndarray:
    """The corners of eye k's patch (ABOVE to BELOW, `along` the eye), in order round it."""
    start, end = along
    return _eye_places(points, k, [(start, ABOVE), (end, ABOVE), (end, BELOW), (start, BELOW)])


def _opening(points: np.ndarray, k: int) -> np.ndarray:
    """Eye k's opening: corner, upper lid, corner, lower lid (image pixels)."""
    outer, inner = EYES[k]
    ring = [outer, *UPPER_LIDS[k], inner, *LOWER_LIDS[k][::-1]]
    return points[ring, :2].astype(np.float32)


def _filled(polygon: np.ndarray, shape: tuple[int, int], margin: int) -> np.ndarray:
    """The polygon's pixels, grown by `margin` (the lashes and liner about an eye)."""
    out = np.zeros(shape, np.uint8)
    cv2.fillPoly(out, [np.round(polygon).astype(np.int32)], 255)
    out = cv2.dilate(out, np.ones((2 * margin + 1, 2 * margin + 1), np.uint8))
    return out > 0


def _matched(
    piece: np.ndarray, here: np.ndarray, mine_at: np.ndarray, theirs_at: np.ndarray
) -> np.ndarray:
    """`piece` with its Lab mean over `mine_at` moved to `here`'s over `theirs_at`:
    the chroma shifted, the lightness by `lightness_onto`. The chroma about its mean
    varies no more than the character's skin has colour (`SKIN_CHROMA`): on a grey
    photograph an actor's veins and eyeshadow kept a bluish cast."""
    if not mine_at.any() or not theirs_at.any():
        return piece
    lab = cv2.cvtColor(piece, cv2.COLOR_RGB2LAB).astype(np.float32)
    mine = lab[mine_at].mean(axis=0)
    theirs = cv2.cvtColor(here, cv2.COLOR_RGB2LAB).astype(np.float32)[theirs_at].mean(axis=0)
    lab[..., 0] = lightness_onto(lab[..., 0], float(mine[0]), float(theirs[0]))
    lab[..., 1:] += theirs[1:] - mine[1:]
    colour = float(np.hypot(*(theirs[1:] - 128.0))) / SKIN_CHROMA
    if colour < 1.0:
        lab[..., 1:] = theirs[1:] + (lab[..., 1:] - theirs[1:]) * colour
    return cv2.cvtColor(np.clip(lab, 0, 255).astype(np.uint8), cv2.COLOR_LAB2RGB)


def lightness_onto(lightness: np.ndarray, mine: float, theirs: float) -> np.ndarray:
    """Lab lightness (0-255) with the skin's `mine` taken to `theirs`: scaled by their
    ratio (lashes and creases keep their depth in proportion) up to halfway from the
    character's skin to white, and above that what is left of the actor's range spread
    evenly over what is left to white. Scaled throughout, a dark actor's lid on a pale
    character (2.4x on vid_xportrait_driving_video and Paul Rudd) burnt its shine out
    to a white blob, which read as an open eye's white."""
    gain = theirs / max(mine, 1.0)
    knee = (255.0 + theirs) / 2  # where the scaling stops, in the output
    start = knee / max(gain, 1e-6)  # and in the actor's lightness
    if start >= 255.0:
        return lightness * gain
    above = min(gain, (255.0 - knee) / (255.0 - start))
    return np.where(lightness <= start, lightness * gain, knee + (lightness - start) * above)
