"""Face-match operating point: genuine vs impostor similarity on real photos, offline.

    python bench/likeness_eval.py

People: astronaut Eileen Collins (skimage), Grace Hopper (matplotlib), the cameraman
(skimage). Each photo is augmented (flip, half size, JPEG q30, brighter, darker,
crop, 10° rotation, lower face occluded); genuine pairs are two views of one person,
impostor pairs two different people. Prints false accept / false reject rates per
threshold, which is how the default `public_figure` threshold in safety/policy/rules.py was
chosen. Three people is a small gallery: the table bounds the threshold, it does not
prove it.
"""

from __future__ import annotations

import io
import itertools
import sys
from pathlib import Path

import _util  # noqa: F401  (thread settings)
import numpy as np
import skimage.data
from matplotlib import cbook
from PIL import Image, ImageEnhance

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from safety.likeness.checker import DlibFaceEmbedder  # noqa: E402
from safety.policy.rules import Policy  # noqa: E402


def views(pixels: np.ndarray, face_box: tuple[int, int, int, int]) -> dict[str, np.ndarray]:
    im = Image.fromarray(pixels)
    x, y, fw, fh = face_box
    masked = pixels.copy()
    masked[y + int(fh * 0.65) : y + fh, x : x + fw] = 128  # a scarf over mouth and chin
    w, h = im.size
    jpeg = io.BytesIO()
    im.save(jpeg, "JPEG", quality=30)
    return {
        "original": pixels,
        "flip": pixels[:, ::-1],
        "half": np.asarray(im.resize((w // 2, h // 2))),
        "jpeg30": np.asarray(Image.open(jpeg).convert("RGB")),
        "bright": np.asarray(ImageEnhance.Brightness(im).enhance(1.5)),
        "dark": np.asarray(ImageEnhance.Brightness(im).enhance(0.6)),
        "crop": pixels[h // 10 : h - h // 10, w // 10 : w - w // 10],
        "rot10": np.asarray(im.rotate(10, resample=Image.BILINEAR)),
        "occluded": masked,
    }


def main() -> None:
    people = {
        "collins": skimage.data.astronaut(),
        "hopper": np.asarray(Image.open(cbook.get_sample_data("grace_hopper.jpg")).convert("RGB")),
        "cameraman": np.stack([skimage.data.camera()] * 3, axis=-1),
    }
    embedder = DlibFaceEmbedder()
    emb, missed = {}, []
    for person, pixels in people.items():
        box = embedder.faces(pixels)[0].box
        for view, img in views(pixels, box).items():
            faces = sorted(embedder.faces(img), key=lambda f: -f.box[2] * f.box[3])
            if faces:
                e = faces[0].embedding
                emb[(person, view)] = e / np.linalg.norm(e)
            else:
                missed.append((person, view))
    genuine, impostor = [], []
    for a, b in itertools.combinations(emb, 2):
        (genuine if a[0] == b[0] else impostor).append(float(emb[a] @ emb[b]))
    genuine, impostor = np.array(genuine), np.array(impostor)
    print(f"{len(emb)} faces embedded, {len(missed)} views without a face: {missed}")
    print(f"genuine pairs {len(genuine)}: min {genuine.min():.3f} median {np.median(genuine):.3f}")
    print(
        f"impostor pairs {len(impostor)}: max {impostor.max():.3f} median {np.median(impostor):.3f}"
    )
    default = Policy().rules["public_figure"].threshold
    print("threshold   false-accept   false-reject")
    for t in (0.85, 0.88, 0.90, 0.91, 0.92, 0.93, 0.94, 0.96):
        far = (impostor >= t).mean()
        frr = (genuine < t).mean()
        mark = "  <- default" if abs(t - default) < 1e-9 else ""
        print(f"   {t:.2f}       {far:7.3f}        {frr:7.3f}{mark}")


if __name__ == "__main__":
    main()
