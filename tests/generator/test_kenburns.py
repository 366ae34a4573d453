import hashlib

import av
import numpy as np

from generator.base import GenerationInput
from generator.kenburns import KenBurnsGenerator
from generator.registry import load_generator


def job(**kw) -> GenerationInput:
    base = dict(
        prompt="a red balloon", image=None, width=128, height=96, fps=12, num_frames=10, seed=3
    )
    base.update(kw)
    return GenerationInput(**base)


def test_writes_a_real_h264_mp4_with_progress(tmp_path):
    seen = []
    mime = KenBurnsGenerator().generate(job(), tmp_path / "o.mp4", lambda d, t: seen.append((d, t)))
    assert mime == "video/mp4"
    assert seen[-1] == (10, 10) and len(seen) == 10
    with av.open(str(tmp_path / "o.mp4")) as c:
        stream = c.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert (stream.width, stream.height) == (128, 96)
        assert sum(1 for _ in c.decode(stream)) == 10


def test_same_seed_same_video_other_seed_other_video(tmp_path):
    def digest(name, **kw):
        KenBurnsGenerator().generate(job(**kw), tmp_path / name, lambda d, t: None)
        return hashlib.sha256((tmp_path / name).read_bytes()).hexdigest()

    assert digest("a.mp4") == digest("b.mp4")
    assert digest("c.mp4", seed=4) != digest("a.mp4")


def test_moves_over_the_input_image(tmp_path, coffee):
    KenBurnsGenerator().generate(job(image=coffee), tmp_path / "o.mp4", lambda d, t: None)
    with av.open(str(tmp_path / "o.mp4")) as c:
        frames = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    assert np.abs(frames[0].astype(int) - frames[-1].astype(int)).mean() > 2  # the camera moved
    # The colours come from the coffee photo, not from a drawn scene.
    assert abs(frames[0].mean() - coffee.mean()) < 25


def test_load_generator_by_name_and_by_path():
    assert isinstance(load_generator("kenburns"), KenBurnsGenerator)
    assert isinstance(load_generator("generator.kenburns:KenBurnsGenerator"), KenBurnsGenerator)
