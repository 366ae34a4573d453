"""A CLIP moderator: zero-shot classification of frames into harm categories.

CLIP weights cannot ship in a pip package, so the checkpoint is loaded from a local
path (`clip_checkpoint`; `clip_model` names the open_clip architecture, and
`clip_model_config` may add a JSON architecture of your own). Nothing is downloaded:
open_clip's tokenizer vocabulary ships inside the package. Needs the `clip` extra
(torch, open_clip_torch).

Each category is a handful of text prompts; a frame's score for a category is the
softmax mass its prompts take against the category prompts plus neutral ones. No
zero-shot model is claimed to cover `sexual_minors`: that category needs purpose-built
classifiers and hash banks, and stays listed as not evaluated.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

from media.decode import Frame
from safety.moderators.protocol import package_version
from safety.verdict import Finding

DEFAULT_PROMPTS = {
    "violence": ["a photo of graphic violence", "a photo of a bloody injury", "a photo of gore"],
    "hate_symbols": [
        "a photo of a swastika",
        "a photo of a hate symbol",
        "a photo of a burning cross",
    ],
    "self_harm": ["a photo of self-harm", "a photo of cuts on a wrist"],
    "weapons": ["a photo of a gun", "a photo of a rifle", "a photo of a knife held as a weapon"],
}
NEUTRAL_PROMPTS = [
    "a photo",
    "a photo of people",
    "a photo of an animal",
    "a landscape photo",
    "a photo of food",
    "a photo of an object",
    "a photo of a room",
]


class ClipModerator:
    name = "image.clip"
    model = "open_clip"

    def __init__(
        self,
        model_name: str,
        checkpoint: Path,
        model_config: Path | None = None,
        prompts: dict[str, list[str]] | None = None,
        calibration: str = "",
    ) -> None:
        """`calibration`: where the operator measured this checkpoint at the policy's
        thresholds. Without it the categories are scored but not counted as evaluated: a
        checkpoint nobody measured (the tests' random one, say) covers nothing."""
        try:
            import open_clip
            import torch
        except ImportError:
            raise RuntimeError(
                "the CLIP moderator needs the clip extra: pip install 'reelguard[clip]'"
            ) from None
        if not checkpoint.is_file():
            raise RuntimeError(f"CLIP checkpoint {checkpoint} not found (weights are local only)")
        torch.set_num_threads(1)  # 1 intra-op thread per worker: faster on small machines
        if model_config is not None:
            open_clip.add_model_config(model_config)
        model, _, preprocess = open_clip.create_model_and_transforms(
            model_name, pretrained=str(checkpoint)
        )
        model.eval()
        self._torch = torch
        self._model, self._preprocess = model, preprocess
        self.prompts = prompts or DEFAULT_PROMPTS
        self.categories = tuple(self.prompts)
        self.calibration = {c: calibration for c in self.categories} if calibration else {}
        self.model_version = (
            f"open_clip {package_version('open_clip_torch')} {model_name} ({checkpoint.name})"
        )
        self._texts = texts = [p for ps in self.prompts.values() for p in ps] + NEUTRAL_PROMPTS
        self._owner = [c for c, ps in self.prompts.items() for _ in ps] + [""] * len(
            NEUTRAL_PROMPTS
        )
        tokenizer = open_clip.get_tokenizer(model_name)
        with torch.no_grad():
            text = model.encode_text(tokenizer(texts))
            self._text = text / text.norm(dim=-1, keepdim=True)
        self._lock = threading.Lock()

    def score(self, subject: str, frames: list[Frame]) -> list[Finding]:
        from PIL import Image

        torch = self._torch
        batch = torch.stack([self._preprocess(Image.fromarray(f.pixels)) for f in frames])
        with self._lock, torch.no_grad():
            image = self._model.encode_image(batch)
            image = image / image.norm(dim=-1, keepdim=True)
            scale = self._model.logit_scale.exp()
            probs = (scale * image @ self._text.T).softmax(dim=-1).numpy()
        owner = np.array(self._owner)
        findings = []
        for frame, row in zip(frames, probs, strict=True):
            for category in self.categories:
                mass = float(row[owner == category].sum())
                best = int(np.argmax(np.where(owner == category, row, -1)))
                findings.append(
                    Finding(
                        check=self.name,
                        category=category,
                        subject=subject,
                        score=mass,
                        detail=f"zero-shot {mass:.3f}; closest prompt {self._texts[best]!r}",
                        frame_time_s=frame.time_s,
                    )
                )
        return findings
