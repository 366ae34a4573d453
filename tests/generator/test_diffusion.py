"""The diffusers backend on tiny random-weight text-to-video and image-to-video
pipelines the tests build and save (the real loading code; real weights can't ship)."""

from __future__ import annotations

import av
import grpc
import numpy as np
import pytest

from generator.base import GenerationInput
from reelguard.v1 import reelguard_pb2 as pb
from safety.job import Cancelled
from signing.verify import Verifier
from tests.support import Running, encode, make_config, needs, output_bytes, terminal

pytestmark = needs("torch", "diffusers", extra="diffusers")


@pytest.fixture(scope="module")
def tiny_pipeline(tmp_path_factory):
    from generator.testing import save_tiny_text_to_video

    return save_tiny_text_to_video(tmp_path_factory.mktemp("tiny-t2v") / "pipeline")


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


def test_bad_setups_and_inputs_say_what_is_wrong(generator, tiny_pipeline, tmp_path, coffee):
    import torch

    from generator.diffusion import DiffusersGenerator

    with pytest.raises(ValueError, match="no model_index.json"):
        DiffusersGenerator(tmp_path / "nowhere")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="sees no CUDA device"):
            DiffusersGenerator(tiny_pipeline, device="cuda")
    with pytest.raises(ValueError, match="'half' is not one of float32, float16, bfloat16"):
        DiffusersGenerator(tiny_pipeline, dtype="half")
    with pytest.raises(ValueError, match="text-to-video pipeline"):
        generator.generate(job(image=np.asarray(coffee)), tmp_path / "y.mp4", lambda *_: None)
    with pytest.raises(ValueError, match="multiples of 8"):
        generator.generate(job(width=66), tmp_path / "z.mp4", lambda *_: None)


def test_the_configured_dtype_is_the_one_the_pipeline_runs_in(tiny_pipeline, tmp_path):
    """The half-precision path a GPU takes (float16 there), on bfloat16 here."""
    import torch

    from generator.diffusion import DiffusersGenerator

    half = DiffusersGenerator(tiny_pipeline, device="cpu", dtype="bfloat16", steps=2)
    assert half.pipe.unet.dtype == torch.bfloat16 and half.pipe.vae.dtype == torch.bfloat16
    assert half.generate(job(), tmp_path / "half.mp4", lambda *_: None) == "video/mp4"
    with av.open(str(tmp_path / "half.mp4")) as container:
        assert sum(1 for _ in container.decode(video=0)) == 16


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
        # A diffusion model's output is labelled as a trained model's (the built-in pan and
        # zoom's is algorithmicMedia).
        assert [t.rsplit("/", 1)[-1] for t in report.digital_source_types] == [
            "trainedAlgorithmicMedia"
        ]
        # An input image to a text-only pipeline: refused before anything runs, never
        # generated with the image ignored.
        with pytest.raises(grpc.RpcError) as refused:
            r.generate("a cup", encode(np.zeros((64, 64, 3), np.uint8)))
        assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert "generator 'diffusers' cannot use image" in refused.value.details()
    finally:
        r.close()


@pytest.fixture(scope="module")
def image_to_video(tmp_path_factory):
    from generator.diffusion import DiffusersGenerator
    from generator.testing import save_tiny_image_to_video

    saved = save_tiny_image_to_video(tmp_path_factory.mktemp("tiny-svd") / "pipeline")
    return DiffusersGenerator(saved, device="cpu", steps=2)


def test_an_image_to_video_pipeline_animates_the_input_image(image_to_video, tmp_path, coffee):
    steps = []
    out = tmp_path / "out.mp4"
    still = np.asarray(coffee)
    image_to_video.generate(
        job(image=still, num_frames=8), out, lambda done, total: steps.append((done, total))
    )
    assert steps == [(1, 2), (2, 2)]
    with av.open(str(out)) as container:
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    assert len(frames) == 8 and frames[0].shape == (64, 64, 3)
    assert image_to_video.model_id == "StableVideoDiffusionPipeline:pipeline"
    with pytest.raises(ValueError, match="image-to-video pipeline: send an input image"):
        image_to_video.generate(job(num_frames=8), tmp_path / "none.mp4", lambda *_: None)


def test_image_to_video_through_the_service_signs_the_input_as_ingredient(
    image_to_video, tmp_path, coffee
):
    r = Running(make_config(tmp_path, face_workers=0), generator=image_to_video)
    try:
        events = r.generate(
            "the cup steams", encode(coffee, "JPEG"), width=64, height=64, num_frames=8, fps=8
        )
        kind, _ = terminal(events)
        assert kind == "completed"
        report = Verifier((r.config.keys_dir / "root.pem").read_text()).verify_bytes(
            output_bytes(events), "video/mp4"
        )
        assert report.status == "trusted"
        manifest = report.manifest
        assert [i["relationship"] for i in manifest["ingredients"]] == ["inputTo"]
        assert "StableVideoDiffusionPipeline" in report.to_json()
    finally:
        r.close()
