"""A diffusers text-to-video or image-to-video pipeline as a Generator.

Weights come from a local directory only (`save_pretrained` output); nothing is
downloaded. Device and dtype follow the hardware (CUDA + fp16 when present) unless
configured. Progress comes from the pipeline's per-step callback, and the same
callback is where a cancelled request stops the denoising loop.
"""

from __future__ import annotations

import inspect
import threading
from pathlib import Path

import numpy as np
from PIL import Image

from generator.base import IMAGE, TEXT, TRAINED_MODEL, GenerationInput, ProgressFn
from media.mp4 import write_mp4

DTYPES = ("float32", "float16", "bfloat16")


class DiffusersGenerator:
    name = "diffusers"
    digital_source_type = TRAINED_MODEL

    def __init__(
        self,
        model_dir: Path,
        device: str = "auto",
        dtype: str = "auto",
        steps: int = 25,
        cpu_threads: int = 1,
    ) -> None:
        import diffusers
        import torch

        if not (Path(model_dir) / "model_index.json").is_file():
            raise ValueError(
                f"{model_dir} is not a saved diffusers pipeline (no model_index.json); "
                "weights load from a local directory only, nothing is downloaded"
            )
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        elif device.startswith("cuda") and not torch.cuda.is_available():
            raise ValueError(
                f"generator_device = {device!r}, but torch {torch.__version__} sees no CUDA "
                'device here; use "auto" or "cpu"'
            )
        if dtype == "auto":
            dtype = "float16" if device.startswith("cuda") else "float32"
        if dtype not in DTYPES:
            raise ValueError(f"generator_dtype {dtype!r} is not one of {', '.join(DTYPES)}")
        if device == "cpu":
            torch.set_num_threads(cpu_threads)  # 2 threads on 2 cores ran 4x slower here
        self.device, self.steps = device, steps
        self.pipe = diffusers.DiffusionPipeline.from_pretrained(
            model_dir, local_files_only=True, torch_dtype=getattr(torch, dtype)
        ).to(device)
        self.pipe.set_progress_bar_config(disable=True)
        self.version = diffusers.__version__
        self.model_id = f"{type(self.pipe).__name__}:{Path(model_dir).name}"
        params = inspect.signature(self.pipe.__call__).parameters
        self._step_api = next((p for p in ("callback_on_step_end", "callback") if p in params), "")
        self._takes_image = "image" in params
        # Image-only pipelines (Stable Video Diffusion) animate the image; the prompt was
        # still moderated, it just doesn't steer them.
        self._takes_prompt = "prompt" in params
        self._takes_fps = "fps" in params  # SVD conditions on the output frame rate
        # What the pipeline uses: a driving video never (no diffusers pipeline here takes
        # one), an image if its call does, text unless it is image-only.
        self.accepts = frozenset(
            ({TEXT} if self._takes_prompt else set()) | ({IMAGE} if self._takes_image else set())
        )
        self.needs = frozenset() if self._takes_prompt else frozenset({IMAGE})
        self._lock = threading.Lock()  # a pipeline runs one generation at a time

    def generate(self, job: GenerationInput, out_path: Path, progress: ProgressFn) -> str:
        import torch

        if job.width % 8 or job.height % 8:
            raise ValueError(f"{self.model_id} needs width and height in multiples of 8")
        steps = self.steps
        kwargs: dict = {
            "num_frames": job.num_frames,
            "height": job.height,
            "width": job.width,
            "num_inference_steps": steps,
            "generator": torch.Generator(device="cpu").manual_seed(job.seed),
            "output_type": "np",
        }
        if self._takes_prompt:
            kwargs["prompt"] = job.prompt
        if self._takes_fps:
            kwargs["fps"] = job.fps
        if job.image is not None:
            if not self._takes_image:
                raise ValueError(
                    f"{self.model_id} is a text-to-video pipeline; it cannot animate an "
                    "input image (send a prompt alone, or configure an image-to-video one)"
                )
            kwargs["image"] = Image.fromarray(job.image).resize((job.width, job.height))
        elif not self._takes_prompt:
            raise ValueError(
                f"{self.model_id} is an image-to-video pipeline: send an input image to animate"
            )
        # The callback reports progress and, by raising, stops a cancelled request.
        if self._step_api == "callback_on_step_end":

            def on_step_end(pipe, step, timestep, tensors):
                progress(step + 1, steps)
                return tensors

            kwargs["callback_on_step_end"] = on_step_end
        elif self._step_api == "callback":
            kwargs["callback"] = lambda step, timestep, latents: progress(step + 1, steps)
            kwargs["callback_steps"] = 1
        with self._lock, torch.inference_mode():
            frames = self.pipe(**kwargs).frames
        video = np.asarray(frames[0])
        if video.dtype != np.uint8:
            video = (np.clip(video, 0.0, 1.0) * 255).round().astype(np.uint8)
        write_mp4(list(video), out_path, job.fps)
        return "video/mp4"
