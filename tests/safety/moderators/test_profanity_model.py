"""The numpy classifier must be the package's classifier: same probabilities, every text."""

from __future__ import annotations

import numpy as np
import pytest

from safety.moderators.profanity import ProfanityModel
from tests.support import OFFENSIVE, modules_loaded_by

BENIGN_PROMPTS = [
    "a golden retriever running on a beach at sunset",
    "an astronaut floating above the earth, cinematic",
    "a chef slicing tomatoes in a busy kitchen",
    "kids playing football in the park",  # a minor, nothing else
    "a slow pan across a misty mountain lake",
]
OFFENSIVE_PROMPTS = [
    OFFENSIVE,
    "you stupid bitch",
    "shut up you worthless piece of shit",
    "what an asshole",
]

HOSTILE = [
    "",
    "   ",
    "FUCKING MORON",  # case folds like the vectorizer's lowercase
    "the of and",  # stop words only
    "idiot " * 5000,  # one term many times
    "ﬁne ÅNGSTRÖM ß İstanbul 東京 моросить",  # unicode word characters and casefolding
    "shit_head 1diot id10t moron!!! m0ron",
    "\x00\ufeffbad\u200bword",
]


def test_equals_the_packaged_classifier_on_every_text():
    reference = pytest.importorskip("profanity_check")  # the test extra installs it
    texts = BENIGN_PROMPTS + OFFENSIVE_PROMPTS + HOSTILE
    ours = ProfanityModel().predict_prob(texts)
    theirs = reference.predict_prob(texts)
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-12)
    assert ours[len(BENIGN_PROMPTS) :].max() > 0.9  # the comparison covers offensive scores


def test_starting_it_imports_neither_sklearn_nor_scipy():
    loaded = modules_loaded_by(
        "from safety.moderators.prompt import PromptModerator; PromptModerator()"
    )
    assert loaded.isdisjoint({"sklearn", "scipy", "joblib"}), loaded


def test_version_names_the_package_release_the_weights_came_from():
    assert ProfanityModel().version.count(".") == 2
