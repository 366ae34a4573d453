"""Pre-check latency for one 512×512 image: face detect + embed + FAISS match, and nudity.

    python bench/precheck.py [--repeat 50]

Runs the same `Gate._evaluate` the service runs (checks concurrently, with deadlines),
and prints each model alone too. Baseline: decoding the same PNG.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import tempfile
from pathlib import Path

import _util  # noqa: F401  (thread settings)
import skimage.data
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from media.decode import Frame, decode_image  # noqa: E402
from safety.job import Clip  # noqa: E402
from safety.service.app import build_service  # noqa: E402
from safety.service.config import Config  # noqa: E402
from safety.verdict import Stage  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=50)
    args = ap.parse_args()
    buf = io.BytesIO()
    Image.fromarray(skimage.data.astronaut()).save(buf, "PNG")
    png = buf.getvalue()
    with tempfile.TemporaryDirectory() as tmp:
        service = build_service(Config(data_dir=Path(tmp)))
        image = decode_image(png, max_pixels=10**8)
        service.enroller.enroll("Eileen Collins", [], [image])
        frame = [Frame(0.0, image.pixels)]
        gate = service.gate
        by_name = {m.name: m for m in gate.image_moderators}
        nudity, likeness = by_name["image.nudity"], by_name["likeness"]
        policy = service.policies.for_tenant("bench")
        body = gate.checks.evidence.body

        def precheck():
            img = decode_image(png, max_pixels=10**8)
            clip = Clip("input_image", [Frame(0.0, img.pixels)])
            verdict = gate.checks.evaluate(Stage.PRE_CHECK, None, [clip], "bench", "video", policy)
            assert verdict.reasons and verdict.reasons[0].identity_name == "Eileen Collins"

        cases = [
            ("decode PNG (baseline)", lambda: decode_image(png, max_pixels=10**8)),
            ("nudity (open_nsfw)", lambda: nudity.score("input_image", frame)),
            ("face detect+embed+match", lambda: likeness.score("input_image", frame)),
            # Paid only by a frame a nudity classifier reads at 0.4 or more (evidence.py),
            # on the faces the likeness check found on it.
            ("body measure (a hit's frame)", lambda: body.exposures([image.pixels])),
            ("pre-check: decode + both", precheck),
        ]
        base = None
        print(
            f"one 512x512 PNG, {args.repeat} runs each, 1 intra-op thread per model; "
            "the pre-check also runs the prompt-free hash-bank check"
        )
        for name, fn in cases:
            fn()
            samples = _util.timed(fn, args.repeat)
            med = statistics.median(samples)
            base = base or med
            print(f"{name:>26}: {_util.summary(samples)}   {med / base:7.1f}x baseline")
        service.close()


if __name__ == "__main__":
    main()
