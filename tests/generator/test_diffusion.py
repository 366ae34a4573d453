"""The diffusers backend on a tiny random-weight text-to-video pipeline the test builds
and saves (the real loading code; the real weights can't ship)."""

from __future__ import annotations

import json

import av
import numpy as np
import pytest

from generator.base import GenerationInput
from reelguard.v1 import reelguard_pb2 as pb
from safety.pipeline import Cancelled
from signing.verify import Verifier
from tests.support import Running, encode, make_config, output_bytes, terminal

torch = pytest.importorskip("torch")
diffusers = pytest.importorskip("diffusers")


@pytest.fixture(scope="module")
def tiny_pipeline(tmp_path_factory):
    """TextToVideoSDPipeline with a 2-level UNet3D, a 1-channel-wide VAE and a 2-layer CLIP
    text encoder; a character-level tokenizer written here (no hub download)."""
    from diffusers import (
        AutoencoderKL,
        DDIMScheduler,
        TextToVideoSDPipeline,
        UNet3DConditionModel,
    )
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    d = tmp_path_factory.mktemp("tiny-t2v")
    torch.manual_seed(0)
    unet = UNet3DConditionModel(
        block_out_channels=(8, 16),
        layers_per_block=1,
        sample_size=8,
        in_channels=4,
        out_channels=4,
        down_block_types=("CrossAttnDownBlock3D", "DownBlock3D"),
        up_block_types=("UpBlock3D", "CrossAttnUpBlock3D"),
        cross_attention_dim=16,
        attention_head_dim=4,
        norm_num_groups=4,
    )
    vae = AutoencoderKL(
        block_out_channels=[8, 8],
        in_channels=3,
        out_channels=3,
        down_block_types=["DownEncoderBlock2D"] * 2,
        up_block_types=["UpDecoderBlock2D"] * 2,
        latent_channels=4,
        norm_num_groups=4,
        sample_size=32,
    )
    text_encoder = CLIPTextModel(
        CLIPTextConfig(
            bos_token_id=0,
            eos_token_id=1,
            pad_token_id=1,
            hidden_size=16,
            intermediate_size=32,
            num_attention_heads=4,
            num_hidden_layers=2,
            vocab_size=64,
            projection_dim=16,
        )
    )
    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for c in "abcdefghijklmnopqrstuvwxyz":
        vocab[c], vocab[c + "</w>"] = len(vocab), len(vocab) + 1
    (d / "vocab.json").write_text(json.dumps(vocab))
    (d / "merges.txt").write_text("#version: 0.2\n")
    tokenizer = CLIPTokenizer(str(d / "vocab.json"), str(d / "merges.txt"), model_max_length=16)
    scheduler = DDIMScheduler(beta_schedule="scaled_linear", clip_sample=False)
    TextToVideoSDPipeline(
        vae=vae, text_encoder=text_encoder, tokenizer=tokenizer, unet=unet, scheduler=scheduler
    ).save_pretrained(d / "pipeline")
    return d / "pipeline"


@pytest.fixture(scope="module")
def generator(tiny_pipeline):
    from generator.diffusion import DiffusersGenerator

    return DiffusersGenerator(tiny_pipeline, device="cpu", steps=2)


def job(**kw) -> GenerationInput:
    defaults = dict(
        prompt="a red kite", image=None, width=64, height=64, fps=8, num_frames=16, seed=3
    )
    return GenerationInput(**{**defaults, **kw})


def test_it_writes_the_frames_and_reports_each_step(generator, tmp_path):
    steps = []
    out = tmp_path / "out.mp4"
    assert (
        generator.generate(job(), out, lambda done, total: steps.append((done, total)))
        == "video/mp4"
    )
    assert steps == [(1, 2), (2, 2)]
    with av.open(str(out)) as container:
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    assert len(frames) == 16 and frames[0].shape == (64, 64, 3)
    assert generator.model_id == "TextToVideoSDPipeline:pipeline"


def test_the_same_seed_gives_the_same_video(generator, tmp_path):
    a, b = tmp_path / "a.mp4", tmp_path / "b.mp4"
    generator.generate(job(seed=7), a, lambda *_: None)
    generator.generate(job(seed=7), b, lambda *_: None)
    assert a.read_bytes() == b.read_bytes()


def test_a_cancelled_request_stops_the_denoising_loop(tiny_pipeline, tmp_path):
    from generator.diffusion import DiffusersGenerator

    slow = DiffusersGenerator(tiny_pipeline, device="cpu", steps=6)
    seen = []

    def progress(done, total):
        seen.append(done)
        if done == 2:
            raise Cancelled("client went away")

    with pytest.raises(Cancelled):
        slow.generate(job(), tmp_path / "x.mp4", progress)
    assert seen == [1, 2] and not (tmp_path / "x.mp4").exists()


def test_bad_setups_and_inputs_say_what_is_wrong(generator, tmp_path, coffee):
    from generator.diffusion import DiffusersGenerator

    with pytest.raises(ValueError, match="no model_index.json"):
        DiffusersGenerator(tmp_path / "nowhere")
    with pytest.raises(ValueError, match="text-to-video pipeline"):
        generator.generate(job(image=np.asarray(coffee)), tmp_path / "y.mp4", lambda *_: None)
    with pytest.raises(ValueError, match="multiples of 8"):
        generator.generate(job(width=66), tmp_path / "z.mp4", lambda *_: None)


def test_through_the_service_it_is_checked_and_signed_like_any_backend(generator, tmp_path):
    r = Running(make_config(tmp_path, face_workers=0), generator=generator)
    try:
        request = pb.GenerateRequest(
            prompt="waves at dusk", output=pb.OutputSpec(width=64, height=64, num_frames=16, fps=8)
        )
        events = list(r.generation.Generate(request, timeout=120))
        kind, completed = terminal(events)
        assert kind == "completed"
        steps = [e.progress for e in events if e.WhichOneof("event") == "progress"]
        assert [(p.done, p.total) for p in steps if p.stage == pb.GENERATING] == [(1, 2), (2, 2)]
        report = Verifier((r.config.keys_dir / "root.pem").read_text()).verify_bytes(
            output_bytes(events), "video/mp4"
        )
        assert report.status == "trusted" and "TextToVideoSDPipeline" in report.to_json()
        # An input image to a text-only pipeline: a clear failure, nothing unsigned.
        kind, failed = terminal(r.generate("a cup", encode(np.zeros((64, 64, 3), np.uint8))))
        assert kind == "failed" and "text-to-video pipeline" in failed.error
    finally:
        r.close()
