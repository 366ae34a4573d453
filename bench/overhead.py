"""Safety overhead with the diffusers backend: pre-check + post-check + signing as a
fraction of generation time, through the real Gate.

    python bench/overhead.py [--model-dir DIR] [--size 256] [--frames 16] [--steps 25]

DIR is a diffusers text-to-video pipeline saved locally (on a GPU host: CUDA + fp16 are
picked up by themselves). Without one, a tiny random-weight pipeline is built: its
generation is nearly free, so the fraction it prints is only a smoke test — the
issue's target (<= 2 %) is for a real model on a GPU.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import _util  # noqa: F401  (thread settings)

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from generator.diffusion import DiffusersGenerator  # noqa: E402
from safety.job import Completed, GenerateJob, OutputSpec  # noqa: E402
from safety.service.app import build_service  # noqa: E402
from safety.service.config import Config  # noqa: E402


def stage_seconds(service) -> dict[str, float]:
    totals = {}
    for family in service.metrics.registry.collect():
        if family.name == "reelguard_stage_seconds":
            for sample in family.samples:
                if sample.name.endswith("_sum"):
                    totals[sample.labels["stage"]] = sample.value
    return totals


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model-dir", type=Path)
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--frames", type=int, default=16)
    ap.add_argument("--steps", type=int, default=25)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        model_dir = args.model_dir
        if model_dir is None:
            from generator.testing import save_tiny_text_to_video

            model_dir = save_tiny_text_to_video(tmp / "tiny")
        generator = DiffusersGenerator(model_dir, steps=args.steps)
        service = build_service(Config(data_dir=tmp / "data"), generator=generator)
        spec = OutputSpec(args.size, args.size, 8, args.frames, 0)
        for i in range(args.repeat + 1):
            if i == 1:  # the first run warms caches and kernels; measure the rest
                before = stage_seconds(service)
            job = GenerateJob(
                f"bench-{i}", "bench", "a lighthouse at dusk", None, spec, backend=generator
            )
            last = list(service.gate.generate(job))[-1]
            assert isinstance(last, Completed), last
        after = stage_seconds(service)
        service.close()
    spent = {k: (after[k] - before.get(k, 0.0)) / args.repeat for k in after}
    safety = spent["pre_check"] + spent["post_check"] + spent["sign"]
    print(f"{generator.model_id} on {generator.device}, {args.size}x{args.size}, "
          f"{args.frames} frames, {args.steps} steps; mean of {args.repeat}")  # fmt: skip
    for stage in ("pre_check", "generate", "post_check", "sign"):
        print(f"{stage:>10}: {spent[stage] * 1000:9.1f} ms")
    print(f"safety overhead (pre + post + sign): {safety / spent['generate'] * 100:.1f} % "
          "of generation time")  # fmt: skip


if __name__ == "__main__":
    main()
