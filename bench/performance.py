"""Performance transfer: speed at 512² on one core, and quality on real actors.

    taskset -c 0 python bench/performance.py [--frames 48]          # speed only
    taskset -c 0 python bench/performance.py --people [--frames 96] [--strips docs/] [--blinks]
        [--blink-sheet docs/performance-blinks.jpg]

Speed: an actor clip made from a real photo (tests/support.py `talking_clip`) animates
the astronaut photo; the whole transfer (tracking every driving frame, the warp, the
mouth, H.264) against, as a baseline in the same run, encoding as many frames alone.

Quality (`--people`): each actor video of ../shared/testdata/people/ drives one of its
portraits, as the service gives it frames (`motion_frames`, 24 fps). Both clips are read
with dlib's 68-point landmarks (tests/landmarks68.py: not the Face Mesh that drives the
transfer): per signal, the correlation between actor and character over the clip, and
for the eyes the character's movement over the actor's (std ratio), gaze only where both
faces' eyes are open (over 75 % of their median opening) and summed up only over the
clips where the actor's gaze can be read at all: where the actor's two eyes, read
separately, move together (correlation >= GAZE_READABLE; eyes look one way, so readings
that disagree are the reader's noise, not a glance); every actor blink
(eyes under 60 % of their median opening) and whether the character's eyes close with
it (and of the blinks missed, how many the transfer showed shut: the actor's own closed
lids alone over both eyes, read open by dlib); the share of output frames where a face
is found; the identity distance (the service's dlib ResNet embedding) from the output to
the character and to the actor.
`--blink-sheet` draws, so a reader can judge the readings and not only the count, each
blink missed (the actor's eyes and the character's at the actor's deepest frame) and each
closing dlib does not read on the actor (both its eyes' lids shown alone by the transfer
while dlib reads the actor's eyes over 60 % open).
Last on each line (`readers m/s/e`): how far dlib and the Face Mesh agree on the actor's
own mouth, smile and eyes: what an exact transfer of the mesh's reading would score.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import _util  # noqa: F401  (one intra-op thread)

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import skimage  # noqa: E402
from matplotlib import cbook  # noqa: E402
from PIL import Image  # noqa: E402

from generator import eyelids, face_mesh  # noqa: E402
from generator.base import GenerationInput  # noqa: E402
from generator.performance import PerformanceTransfer, for_tracking  # noqa: E402
from media.mp4 import write_mp4  # noqa: E402
from media.sampling import motion_frames  # noqa: E402
from tests.landmarks68 import (  # noqa: E402
    Landmarks,
    eye_aperture,
    eye_gazes,
    head_roll,
    mouth_opening,
    smile_width,
)
from tests.support import decoded, talking_clip  # noqa: E402

PEOPLE = Path(__file__).resolve().parent.parent.parent / "shared" / "testdata" / "people"
ACTORS = [
    "vid_retalking_face1.mp4", "vid_retalking_face2.mp4", "vid_retalking_face3.mp4",
    "vid_retalking_face4.mp4", "vid_retalking_face5.mp4", "vid_sadtalker_WDA_AOC.mp4",
    "vid_sadtalker_WDA_KatieHill.mp4", "vid_edtalk_expression_source.mp4",
    "vid_edtalk_mouth_source.mp4", "vid_edtalk_pose_source1.mp4",
    "vid_edtalk_pose_source2.mp4", "vid_edtalk_uncrop_Obama.mp4",
    "vid_xportrait_driving_video.mp4", "vid_tpsmm_driving.mp4", "vid_dpe_d.mp4",
    "vid_dpe_s.mp4", "vid_real3dportrait_May_5s.mp4",
]  # fmt: skip
CHARACTERS = [
    "img_facenet_paul_rudd.jpg", "img_hallo_ref3.jpg", "img_edtalk_leijun.png",
    "img_ghost_beckham.jpg", "img_ghost_mark.jpg", "img_hallo_ref6.jpg",
    "img_real3dportrait_Macron.png", "img_tpsmm_source.png", "img_facenet_angelina_jolie.jpg",
    "img_edtalk_uncrop_face.jpg", "img_ghost_murakami.jpg", "img_3ddfa_JianzhuGuo.jpg",
]  # fmt: skip
SIGNALS = {"mouth": mouth_opening, "smile": smile_width, "eyes": eye_aperture, "roll": head_roll}
GAZE_READABLE = 0.5
# A blink: eyes under this share of their median opening (the actor's, and the character's
# closing with it).
BLINK_UNDER = 0.6


def speed(frames: int, side: int) -> None:
    hopper = np.asarray(Image.open(cbook.get_sample_data("grace_hopper.jpg")).convert("RGB"))
    actor = cv2.resize(hopper[60:560, 6:506], (side, side))
    _, driving = talking_clip(actor, frames=frames)
    transfer = PerformanceTransfer()
    job = GenerationInput("bench", skimage.data.astronaut(), side, side, 24, frames, 1,
                          driving_frames=driving)  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        transfer.generate(job, Path(tmp) / "out.mp4", lambda d, t: None)
        whole = time.perf_counter() - t0
        t0 = time.perf_counter()
        transfer.actor(driving, 24)
        tracking = time.perf_counter() - t0
        t0 = time.perf_counter()
        write_mp4(driving, Path(tmp) / "plain.mp4", 24)
        encoding = time.perf_counter() - t0
    print(f"{frames} frames at {side}x{side}, one core")
    ms, ratio = whole * 1000 / frames, whole / encoding
    print(f"transfer, whole      : {frames / whole:6.1f} fps  ({ms:6.1f} ms/frame)")
    print(f"  face mesh + irises : {frames / tracking:6.1f} fps")
    print(f"baseline: encode only: {frames / encoding:6.1f} fps   transfer/encode {ratio:.1f}x")


def read(frames: list[np.ndarray], landmarks: Landmarks) -> dict[str, np.ndarray]:
    """Each signal per frame (NaN where dlib finds no face)."""
    out = {name: [] for name in [*SIGNALS, "gaze_left", "gaze_right"]}
    for rgb in frames:
        grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        points = landmarks.detect(grey)
        for name, fn in SIGNALS.items():
            out[name].append(np.nan if points is None else fn(points))
        left, right = (np.nan, np.nan) if points is None else eye_gazes(grey, points)
        out["gaze_left"].append(left)
        out["gaze_right"].append(right)
    read = {k: np.array(v, np.float64) for k, v in out.items()}
    eyes = np.stack([read["gaze_left"], read["gaze_right"]])
    seen = (~np.isnan(eyes)).sum(axis=0)  # the eyes read in each frame (0 without a face)
    read["gaze"] = np.where(seen > 0, np.nansum(eyes, axis=0) / np.maximum(seen, 1), np.nan)
    return read


def relate(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Correlation, and b's spread over a's, where both are known."""
    keep = ~(np.isnan(a) | np.isnan(b))
    if keep.sum() < 5 or np.std(a[keep]) < 1e-9 or np.std(b[keep]) < 1e-9:
        return float("nan"), float("nan")
    return float(np.corrcoef(a[keep], b[keep])[0, 1]), float(np.std(b[keep]) / np.std(a[keep]))


def open_eyes(a: dict, c: dict, signal: str) -> tuple[np.ndarray, np.ndarray]:
    """`signal` of both clips, NaN where either face's eyes are under 75 % of their
    median opening: through closing lids the darkest pixels are lashes, not an iris."""
    shut = (a["eyes"] < 0.75 * np.nanmedian(a["eyes"])) | (
        c["eyes"] < 0.75 * np.nanmedian(c["eyes"])
    )
    return np.where(shut, np.nan, a[signal]), np.where(shut, np.nan, c[signal])


def gaze_readable(actor: dict[str, np.ndarray]) -> float:
    """How far the actor's two eyes' readings agree (correlation, open eyes only)."""
    left, right = open_eyes(actor, actor, "gaze_left")[0], open_eyes(actor, actor, "gaze_right")[0]
    return relate(left, right)[0]


def blink_runs(actor: np.ndarray, character: np.ndarray) -> list[tuple[int, int, float, float]]:
    """The actor's blinks: runs of frames (first, last) with its eyes under 60 % of their
    median opening; for each, the actor's least opening and the character's least within a
    frame of the run, both over their own medians (the character's eyes close with it
    under 0.6)."""
    a, c = actor / np.nanmedian(actor), character / np.nanmedian(character)
    out, i = [], 0
    while i < len(a):
        if a[i] < BLINK_UNDER:
            j = i
            while j + 1 < len(a) and a[j + 1] < BLINK_UNDER:
                j += 1
            near = c[max(0, i - 1) : j + 2]
            lowest = float(np.nanmin(near)) if np.isfinite(near).any() else float("nan")
            out.append((i, j, float(np.nanmin(a[i : j + 1])), lowest))
            i = j + 1
        else:
            i += 1
    return out


def caught(runs: list[tuple[int, int, float, float]]) -> int:
    """How many of `blink_runs` the character's eyes close with."""
    return sum(lowest < BLINK_UNDER for *_, lowest in runs)


def shown_shut(runs: list[tuple[int, int, float, float]], lids: np.ndarray) -> int:
    """How many of `blink_runs` the character's eyes do not close with (as dlib reads
    them) although, within a frame of the run, the transfer showed the actor's own lids
    alone over both eyes (`lids`: per frame, the less of the two eyes' `lids_shown`,
    generator/eyelids.py): dlib's misses, not the transfer's."""
    return sum(
        lowest >= BLINK_UNDER and lids[max(0, first - 1) : last + 2].max() >= 1.0
        for first, last, _, lowest in runs
    )


def blink_report(actor: np.ndarray, character: np.ndarray, runs: list) -> None:
    """Each blink's readings, and both faces' open eyes (dlib's lid gap over the eye's
    width, median): on a narrow-eyed character 60 % of the open eye can sit near the
    least a closed eye reads."""
    print(f"    eyes open: actor {np.nanmedian(actor):.3f}, character {np.nanmedian(character):.3f}"
          f" (least {np.nanmin(character):.3f})")  # fmt: skip
    for first, last, a, c in runs:
        print(f"    frames {first}-{last}: actor {a:.2f}, character {c:.2f} "
              f"{'caught' if c < BLINK_UNDER else 'missed'}")  # fmt: skip


def readers_agree(faces: list, actor: dict[str, np.ndarray]) -> dict[str, float]:
    """Per signal, how far the two landmark models agree on the actor alone: the Face
    Mesh as the transfer reads it (`faces`, smoothed) against dlib's readings: what a
    transfer that carried the mesh's reading exactly, read back without error, would
    score (the character moves as the mesh reads the actor, not as dlib does)."""
    mesh = {
        "mouth": [face_mesh.mouth_opening(f.points) for f in faces],
        "smile": [face_mesh.mouth_width(f.points) for f in faces],
        "eyes": [face_mesh.eye_openings(f.points).mean() for f in faces],
    }
    return {k: relate(actor[k], np.array(v, np.float64))[0] for k, v in mesh.items()}


def distance(a: np.ndarray | None, b: np.ndarray | None) -> float:
    return float(np.linalg.norm(a - b)) if a is not None and b is not None else float("nan")


def identity(embedder, image: np.ndarray) -> np.ndarray | None:
    faces = embedder.faces(image)
    return max(faces, key=lambda f: f.box[2] * f.box[3]).embedding if faces else None


def quality(
    frames: int, strips: Path | None, blinks_detail: bool = False, sheet: Path | None = None
) -> None:
    from safety.likeness.checker import DlibFaceEmbedder

    transfer, landmarks, embedder = PerformanceTransfer(), Landmarks(), DlibFaceEmbedder()
    rows, sheet_rows = [], []
    print(f"{'actor':<34} {'character':<28} mouth(x)  smile(x)  eyes(x)  gaze(x)[eyes] roll "
          "blinks found  id:char/actor  readers m/s/e")  # fmt: skip
    for n, video in enumerate(ACTORS):
        if not (PEOPLE / video).exists():
            continue
        name = CHARACTERS[n % len(CHARACTERS)]
        character = np.asarray(Image.open(PEOPLE / name).convert("RGB"))
        driving = motion_frames(PEOPLE / video, 24, frames)
        job = GenerationInput("q", character, 512, 512, 24, len(driving), 1, driving_frames=driving)
        with tempfile.TemporaryDirectory() as tmp:
            transfer.generate(job, Path(tmp) / "out.mp4", lambda d, t: None)
            output = decoded(Path(tmp) / "out.mp4")
        a, c = read(driving, landmarks), read(output, landmarks)
        rel = {k: relate(a[k], c[k]) for k in (*SIGNALS, "gaze")}
        rel["gaze"] = relate(*open_eyes(a, c, "gaze"))
        readable = gaze_readable(a)
        blink_list = blink_runs(a["eyes"], c["eyes"])
        runs, closed = len(blink_list), caught(blink_list)
        found = float(np.mean(~np.isnan(c["mouth"])))
        out_id = [identity(embedder, f) for f in output[:: max(1, len(output) // 6)]]
        out_id = [e for e in out_id if e is not None]
        me = np.mean(out_id, axis=0) if out_id else None
        d_char = distance(me, identity(embedder, character))
        d_actor = distance(me, identity(embedder, driving[0]))
        faces, _, raw = transfer.actor(driving, 24)
        agree = readers_agree(faces, a)
        lids = eyelids.lids_shown(raw, 24).min(axis=1)  # both eyes' lids shown alone: 1
        unread = shown_shut(blink_list, lids)
        if sheet is not None:
            clip = (Path(video).stem, driving, output, raw, a, c)
            sheet_rows += blink_rows(transfer.mesh, *clip, blink_list, lids)
        rows.append((rel, runs, closed, found, d_char, d_actor, readable, agree, unread))
        lips, wide, eyes, look = rel["mouth"], rel["smile"], rel["eyes"], rel["gaze"]
        print(
            f"{video:<34} {name:<28} {lips[0]:5.2f}({lips[1]:3.1f}) {wide[0]:5.2f}({wide[1]:3.1f}) "
            f"{eyes[0]:5.2f}({eyes[1]:3.1f}) {look[0]:5.2f}({look[1]:3.1f})[{readable:5.2f}] "
            f"{rel['roll'][0]:5.2f} {closed:>2}/{runs:<2} {found:6.0%}  {d_char:.2f}/{d_actor:.2f}"
            f"  {agree['mouth']:.2f}/{agree['smile']:.2f}/{agree['eyes']:.2f}"
        )
        if blinks_detail:
            blink_report(a["eyes"], c["eyes"], blink_list)
        if strips is not None and n < 2:
            picks = moments(a, min(len(driving), len(output)))
            strip(driving, output, picks, strips / f"performance-{Path(video).stem}.jpg")
    if sheet_rows:
        sheet.parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(sheet), cv2.cvtColor(np.vstack(sheet_rows), cv2.COLOR_RGB2BGR),
                    [cv2.IMWRITE_JPEG_QUALITY, 80])  # fmt: skip
        print(f"wrote {sheet}: {len(sheet_rows)} rows")
    if rows:
        for k in ("mouth", "smile", "eyes", "gaze", "roll"):
            values = [r[0][k][0] for r in rows if not np.isnan(r[0][k][0])]
            line = f"{k:>6}: median correlation {np.median(values):.2f}, lowest {min(values):.2f}"
            if k in rows[0][7]:
                ceiling = [r[7][k] for r in rows if not np.isnan(r[7][k])]
                line += f"; the readers on the actor alone: median {np.median(ceiling):.2f}"
            print(line)
        readable = [r for r in rows if r[6] >= GAZE_READABLE and not np.isnan(r[0]["gaze"][0])]
        if readable:
            r_gaze = [r[0]["gaze"][0] for r in readable]
            moved = [r[0]["gaze"][1] for r in readable]
            print(
                f"  gaze where the actor's gaze reads (eyes agree >= {GAZE_READABLE}): "
                f"{len(readable)} of {len(rows)} clips, median correlation "
                f"{np.median(r_gaze):.2f}, lowest {min(r_gaze):.2f}, "
                f"movement {min(moved):.1f}-{max(moved):.1f}x the actor's"
            )
        nearer = sum(r[4] < r[5] for r in rows)
        print(
            f"blinks caught {sum(r[2] for r in rows)} of {sum(r[1] for r in rows)} "
            f"(of those missed, shown shut but read open: {sum(r[8] for r in rows)}); "
            f"faces found in >= {min(r[3] for r in rows):.0%} of output frames; "
            f"nearer the character in {nearer} of {len(rows)}"
        )


def questioned(runs: list, lids: np.ndarray, eyes: np.ndarray) -> list[tuple[int, str]]:
    """The frames `--blink-sheet` draws: each blink missed, at the actor's deepest frame
    (`eyes`: dlib's reading over its median); then each run of frames where the transfer
    showed the actor's lids alone over both eyes and dlib reads no blink of the actor
    within a frame of it, at its middle."""
    picks = [(first + int(np.nanargmin(eyes[first : last + 1])), "missed")
             for first, last, _, lowest in runs if not lowest < BLINK_UNDER]  # fmt: skip
    counted = np.zeros(len(lids), bool)
    for first, last, *_ in runs:
        counted[max(0, first - 1) : last + 2] = True
    shut = np.flatnonzero(lids >= 1.0)
    for group in np.split(shut, np.flatnonzero(np.diff(shut) > 1) + 1) if len(shut) else []:
        if not counted[group].any():
            picks.append((int(group[len(group) // 2]), "unread"))
    return picks


def blink_rows(mesh, stem: str, driving: list, output: list, raw: list, a: dict, c: dict,
               runs: list, lids: np.ndarray) -> list[np.ndarray]:  # fmt: skip
    """`--blink-sheet`'s rows (`questioned`): the actor's eyes beside the character's."""
    eyes_a, eyes_c = a["eyes"] / np.nanmedian(a["eyes"]), c["eyes"] / np.nanmedian(c["eyes"])
    rows = []
    for d, kind in questioned(runs, lids, eyes_a):
        if d >= len(output):
            continue
        seen = mesh.detect(output[d])
        tracked = for_tracking(driving[d])[0]  # the size the actor's face was read at
        actor = eyes_crop(tracked, raw[d].points, f"{stem} {d}: {eyes_a[d]:.2f} ({kind})")
        character = eyes_crop(output[d], None if seen is None else seen.points,
                              f"character: {eyes_c[d]:.2f}")  # fmt: skip
        rows.append(np.hstack([actor, character]))
    return rows


def eyes_crop(frame: np.ndarray, points: np.ndarray | None, label: str) -> np.ndarray:
    """Both eyes (about the Face Mesh's outer corners) at 300x100, labelled."""
    crop = np.full((100, 300, 3), 64, np.uint8)
    if points is not None:
        (lx, ly), (rx, ry) = points[face_mesh.EYES[0][0], :2], points[face_mesh.EYES[1][0], :2]
        span, cx, cy = abs(rx - lx), (lx + rx) / 2, (ly + ry) / 2
        x0, x1 = int(max(cx - 0.75 * span, 0)), int(min(cx + 0.75 * span, frame.shape[1]))
        y0, y1 = int(max(cy - 0.25 * span, 0)), int(min(cy + 0.25 * span, frame.shape[0]))
        if x1 - x0 > 2 and y1 - y0 > 2:
            crop = cv2.resize(frame[y0:y1, x0:x1], (300, 100), interpolation=cv2.INTER_CUBIC)
    cv2.putText(crop, label, (3, 14), cv2.FONT_HERSHEY_SIMPLEX, 0.42, (255, 255, 0), 1)
    return crop


def moments(actor: dict[str, np.ndarray], count: int) -> list[int]:
    """Five frames worth seeing: the first, the actor's mouth widest open, eyes most
    closed, head most rolled, the last (in time order; evenly spread if they repeat)."""

    def most(values: np.ndarray) -> int:
        return int(np.nanargmax(values)) if np.isfinite(values).any() else 0

    picks = {0, count - 1, most(actor["mouth"][:count]), most(-actor["eyes"][:count])}
    picks.add(most(np.abs(actor["roll"][:count] - np.nanmedian(actor["roll"]))))
    for extra in np.linspace(0, count - 1, 7).astype(int)[1:-1]:
        if len(picks) >= 5:
            break
        picks.add(int(extra))
    return sorted(picks)[:5]


def strip(actor: list[np.ndarray], character: list[np.ndarray], picks: list[int],
          path: Path) -> None:  # fmt: skip
    """The picked moments: the actor above, the character below."""
    top = np.hstack([cv2.resize(actor[i], (256, 256)) for i in picks])
    bottom = np.hstack([cv2.resize(character[i], (256, 256)) for i in picks])
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), cv2.cvtColor(np.vstack([top, bottom]), cv2.COLOR_RGB2BGR),
                [cv2.IMWRITE_JPEG_QUALITY, 85])  # fmt: skip
    print(f"wrote {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, default=48)
    parser.add_argument("--side", type=int, default=512)
    parser.add_argument("--people", action="store_true", help="the quality report")
    parser.add_argument("--strips", type=Path, help="write two frame strips here")
    parser.add_argument("--blinks", action="store_true", help="each blink's readings")
    parser.add_argument("--blink-sheet", type=Path, help="draw the blinks in question here")
    args = parser.parse_args()
    cv2.setNumThreads(1)
    if args.people:
        quality(args.frames, args.strips, args.blinks, args.blink_sheet)
    else:
        speed(args.frames, args.side)


if __name__ == "__main__":
    main()
