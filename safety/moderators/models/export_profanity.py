"""Re-export alt-profanity-check's shipped classifier as plain arrays (profanity.npz).

    python -m safety.moderators.models.export_profanity   # needs alt-profanity-check + sklearn

Why: unpickling the wheel's joblib files imports scikit-learn and SciPy, 1.4 s of every
start. The model is a TF-IDF vocabulary and five sigmoid-calibrated linear SVMs, which
numpy evaluates exactly (tests/safety/moderators/test_profanity_model.py compares every
probability with the package's own predict_prob)."""

from __future__ import annotations

import importlib.metadata
from importlib import resources
from pathlib import Path

import joblib
import numpy as np

OUT = Path(__file__).with_name("profanity.npz")


def export(out: Path = OUT) -> Path:
    data = resources.files("profanity_check") / "data"
    vectorizer = joblib.load(data / "vectorizer.joblib")
    model = joblib.load(data / "model.joblib")
    params = vectorizer.get_params()
    # The arrays below encode exactly this configuration; anything else needs new code.
    assert params["analyzer"] == "word" and params["ngram_range"] == (1, 1)
    assert params["lowercase"] and params["norm"] == "l2" and params["use_idf"]
    assert not params["sublinear_tf"] and params["preprocessor"] is None
    assert model.method == "sigmoid" and list(model.classes_) == [0, 1]
    terms = sorted(vectorizer.vocabulary_, key=vectorizer.vocabulary_.get)
    folds = model.calibrated_classifiers_
    np.savez_compressed(
        out,
        version=np.array(importlib.metadata.version("alt-profanity-check")),
        token_pattern=np.array(params["token_pattern"]),
        terms=np.array(terms),
        idf=vectorizer.idf_,
        coef=np.stack([f.estimator.coef_[0] for f in folds]),
        intercept=np.array([f.estimator.intercept_[0] for f in folds]),
        a=np.array([f.calibrators[0].a_ for f in folds]),
        b=np.array([f.calibrators[0].b_ for f in folds]),
    )
    return out


if __name__ == "__main__":
    print(export())
