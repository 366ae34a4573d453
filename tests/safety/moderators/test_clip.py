"""The CLIP moderator's real loading code, on a tiny random-weight model built here."""

from __future__ import annotations

import json

import pytest

from media.decode import Frame
from reelguard.v1 import reelguard_pb2 as pb
from safety.moderators.clip import DEFAULT_PROMPTS, ClipModerator
from tests.support import Running, encode, make_config, needs

pytestmark = needs("torch", "open_clip", extra="clip")

TINY = {
    "embed_dim": 32,
    "vision_cfg": {"image_size": 32, "layers": 1, "width": 64, "patch_size": 16, "head_width": 32},
    "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 32, "heads": 1, "layers": 1},
}


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory):
    import open_clip
    import torch

    d = tmp_path_factory.mktemp("clip")
    config = d / "tiny-clip-test.json"
    config.write_text(json.dumps(TINY))
    open_clip.add_model_config(config)
    torch.manual_seed(0)
    model = open_clip.create_model("tiny-clip-test", pretrained=None)
    checkpoint = d / "tiny.pt"
    torch.save(model.state_dict(), checkpoint)
    return config, checkpoint


def test_loads_a_local_checkpoint_and_scores_every_category(tiny_checkpoint, coffee, astronaut):
    config, checkpoint = tiny_checkpoint
    mod = ClipModerator("tiny-clip-test", checkpoint, config)
    assert mod.categories == tuple(DEFAULT_PROMPTS)
    frames = [Frame(0.0, coffee), Frame(0.5, astronaut)]
    findings = mod.score("output_frame", frames)
    assert len(findings) == len(frames) * len(DEFAULT_PROMPTS)
    per_frame = {}
    for f in findings:
        assert 0.0 <= f.score <= 1.0 and "closest prompt" in f.detail
        per_frame.setdefault(f.frame_time_s, 0.0)
        per_frame[f.frame_time_s] += f.score
    assert all(total < 1.0 for total in per_frame.values())  # neutral prompts take the rest
    assert "tiny.pt" in mod.model_version


def test_missing_checkpoint_is_a_clear_error(tmp_path):
    with pytest.raises(RuntimeError, match="not found"):
        ClipModerator("ViT-B-32", tmp_path / "nope.pt")


@pytest.mark.parametrize("calibration", ["", "the operator's eval set: FP 0.5 % at 0.5"])
def test_configured_clip_covers_the_visual_categories_only_once_measured(
    tiny_checkpoint, tmp_path, coffee, calibration
):
    """A random-weight checkpoint scores, but is no coverage until its operator says
    where its thresholds were measured (`clip_calibration`)."""
    config, checkpoint = tiny_checkpoint
    r = Running(
        make_config(
            tmp_path,
            clip_model="tiny-clip-test",
            clip_checkpoint=checkpoint,
            clip_model_config=config,
            clip_calibration=calibration,
        )
    )
    try:
        verdict = r.moderation.Check(pb.CheckRequest(media=pb.Media(data=encode(coffee))))
        evaluated = {f.category for f in verdict.findings if f.check == "image.clip"}
        assert evaluated == set(DEFAULT_PROMPTS)  # scored either way
        gaps = set(verdict.unevaluated_categories)
        clip_only = {"visual/weapons", "visual/hate_symbols", "visual/self_harm"}
        assert (clip_only <= gaps) is (not calibration)
        assert not (clip_only & gaps) or not calibration
        # No zero-shot model is claimed to cover sexual_minors (the minors check does).
        assert "sexual_minors" not in evaluated
    finally:
        r.close()
