"""Post-check of a 10 s, 24 fps, 720p clip: frames checked and time per stage.

    python bench/postcheck.py [--face]

The clip is the built-in generator's pan over a photo (coffee, or the astronaut with
--face so that face embedding runs too). Baseline: decoding every frame of the clip.
Target: the whole post-check in <= 1.5 s on 2 cores, at 2 frames a second.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

import _util  # noqa: F401  (thread settings)
import av
import skimage.data

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from generator.base import GenerationInput  # noqa: E402
from generator.kenburns import KenBurnsGenerator  # noqa: E402
from media.sampling import sample_video_frames  # noqa: E402
from safety.job import GenerateJob, OutputSpec  # noqa: E402
from safety.service.app import build_service  # noqa: E402
from safety.service.config import Config  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--face", action="store_true")
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        photo = skimage.data.astronaut() if args.face else skimage.data.coffee()
        clip = tmp / "clip.mp4"
        KenBurnsGenerator().generate(
            GenerationInput("bench", photo, 1280, 720, 24, 240, 0), clip, lambda d, t: None
        )
        service = build_service(Config(data_dir=tmp / "data"))
        gate = service.gate
        # A non-empty hash bank, so that the PDQ hashing of every frame is measured too.
        service.banks.create("bench")
        service.banks.add("bench", ["0" * 64], "bench")
        job = GenerateJob("bench", "bench", "bench", None, OutputSpec())

        def decode_all():
            with av.open(str(clip)) as c:
                c.streams.video[0].thread_type = "AUTO"
                for _ in c.decode(video=0):
                    pass

        def timed(fn):
            fn()
            return statistics.median(_util.timed(fn, args.repeat))

        frames = sample_video_frames(clip, gate.sampling).frames
        stages = {"decode all 240 frames (baseline)": timed(decode_all)}
        stages[f"sample frames ({gate.sampling.fps:g}/s + cuts + inserts)"] = timed(
            lambda: sample_video_frames(clip, gate.sampling)
        )
        for moderator in gate.checks.image_moderators:
            stages[f"{moderator.name} on sampled frames"] = timed(
                lambda m=moderator: m.score("output_frame", frames)
            )
        policy = service.policies.for_tenant("bench")
        stages["post-check total (as served)"] = timed(lambda: gate._post_check(clip, job, policy))
        verdict, _ = gate._post_check(clip, job, policy)
        base = stages["decode all 240 frames (baseline)"]
        print(
            f"10 s, 24 fps, 1280x720 ({'face' if args.face else 'no face'}); "
            f"{len(frames)} frames checked; median of {args.repeat}; verdict {verdict.action.name}"
        )
        for name, secs in stages.items():
            print(f"{name:>36}: {secs * 1000:8.1f} ms  {secs / base:5.2f}x baseline")
        service.close()


if __name__ == "__main__":
    main()
