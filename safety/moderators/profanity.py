"""alt-profanity-check's offensive-language classifier, evaluated with numpy alone.

The same TF-IDF vocabulary and five sigmoid-calibrated linear SVMs the package ships,
exported once to models/profanity.npz (models/export_profanity.py), so a start does not
import scikit-learn and SciPy to unpickle them."""

from __future__ import annotations

import importlib.resources
import re
from collections.abc import Sequence

import numpy as np


class ProfanityModel:
    """P(offensive) for each text: TF-IDF (l2) -> 5 linear SVMs -> sigmoid -> mean."""

    def __init__(self) -> None:
        path = importlib.resources.files("safety.moderators") / "models" / "profanity.npz"
        with path.open("rb") as f, np.load(f, allow_pickle=False) as arrays:
            self.version = str(arrays["version"])
            self._token = re.compile(str(arrays["token_pattern"]))
            self._index = {str(term): i for i, term in enumerate(arrays["terms"])}
            # Folding idf into the weights: w_k . (tf*idf)/|tf*idf| needs one dot product.
            idf = arrays["idf"]
            self._idf = idf
            self._weights = (arrays["coef"] * idf).T.copy()  # (terms, folds)
            self._intercept = arrays["intercept"]
            self._a, self._b = arrays["a"], arrays["b"]

    def predict_prob(self, texts: Sequence[str]) -> np.ndarray:
        out = np.empty(len(texts))
        for n, text in enumerate(texts):
            counts: dict[int, int] = {}
            for token in self._token.findall(text.lower()):
                if (i := self._index.get(token)) is not None:
                    counts[i] = counts.get(i, 0) + 1
            decision = self._intercept.copy()
            if counts:
                idx = np.fromiter(counts, dtype=np.int64, count=len(counts))
                tf = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
                norm = np.linalg.norm(tf * self._idf[idx])
                decision += (tf @ self._weights[idx]) / norm
            out[n] = np.mean(1.0 / (1.0 + np.exp(self._a * decision + self._b)))
        return out
