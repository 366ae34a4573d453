"""TrustMark as the watermark: the real package and loader on a tiny TrustMark
architecture the test builds and saves (its trained weights can't ship), with the
network shut so any download attempt fails the test."""

from __future__ import annotations

import hashlib
import urllib.request

import numpy as np
import pytest

from signing.watermark import payload_for
from signing.watermarks import load_watermarker
from tests.support import needs

pytestmark = needs("torch", "trustmark", extra="trustmark")

TINY = """
model:
  target: trustmark.model.TrustMark_Arch
  params:
    cover_key: image
    secret_key: secret
    secret_len: 100
    resolution: 256
    secret_encoder_config: {target: trustmark.unet.Unet1, params: {width: 4, ndown: 2}}
    secret_decoder_config: {target: trustmark.unet.SecretDecoder, params: {arch: resnet18}}
    discriminator_config: {target: trustmark.model.Identity}
    loss_config: {target: trustmark.model.Identity}
    noise_config: {target: trustmark.model.Identity}
"""


@pytest.fixture
def weights(tmp_path, monkeypatch):
    """A tiny random-weight TrustMark "Q" in a directory, registered as if published."""
    import torch
    from omegaconf import OmegaConf
    from trustmark import trustmark as published
    from trustmark.model import instantiate_from_config

    from signing.trustmark_watermark import weight_files

    def no_network(*args, **kwargs):
        raise AssertionError(f"a download was attempted: {args}")

    monkeypatch.setattr(urllib.request, "urlretrieve", no_network)
    (tmp_path / "trustmark_Q.yaml").write_text(TINY)
    torch.manual_seed(0)
    model = instantiate_from_config(OmegaConf.create(TINY).model)
    for part in ("encoder", "decoder"):
        torch.save({"state_dict": model.state_dict()}, tmp_path / f"{part}_Q.ckpt")
    for name in weight_files("Q"):
        digest = hashlib.md5((tmp_path / name).read_bytes()).hexdigest()
        monkeypatch.setitem(published.MODEL_CHECKSUMS, name, digest)
    return tmp_path


def frame() -> np.ndarray:
    rng = np.random.default_rng(1)
    return rng.integers(0, 256, (288, 320, 3), dtype=np.uint8)


def test_it_loads_from_the_directory_and_marks_frames(weights):
    marker = load_watermarker(f"trustmark:{weights}", bytes(32))
    assert marker.alg == "com.adobe.trustmark.Q"
    pixels = frame()
    marked = marker.embed(pixels, payload_for("0123456789abcdef" * 2))
    assert marked.shape == pixels.shape and marked.dtype == np.uint8
    assert not np.array_equal(marked, pixels)
    # Random weights decode noise: the error-correcting code rejects it.
    assert not marker.read([marked]).found


def test_a_frame_whose_bits_decode_cleanly_gives_back_the_payload(weights):
    """TrustMark's own decode and BCH_4 correction, with the trained network's output
    stood in for by the packet it would produce (one bit flipped: corrected)."""
    import torch

    marker = load_watermarker(f"trustmark:{weights}", bytes(32))
    payload = payload_for("fedcba9876543210" * 2)
    bits = "".join(f"{b:08b}" for b in payload)
    packet = marker._tm.ecc.encode_binary([bits])[0]
    packet[3] = 1 - packet[3]
    logits = torch.tensor(packet * 2 - 1).unsqueeze(0)

    class TrainedDecoder(torch.nn.Module):
        def forward(self, image):
            return logits

    marker._tm.decoder.decoder = TrainedDecoder()
    reading = marker.read([frame(), frame()])
    assert reading.found and reading.payload == payload


def test_missing_or_unpublished_weights_are_refused_by_name(weights, tmp_path_factory):
    empty = tmp_path_factory.mktemp("empty")
    with pytest.raises(ValueError, match="trustmark_Q.yaml is missing: copy TrustMark's"):
        load_watermarker(f"trustmark:{empty}", bytes(32))
    (weights / "decoder_Q.ckpt").write_bytes(b"something else")
    with pytest.raises(ValueError, match="decoder_Q.ckpt is not TrustMark's published"):
        load_watermarker(f"trustmark:{weights}", bytes(32))
    with pytest.raises(ValueError, match="variant 'X'"):
        load_watermarker(f"trustmark-X:{weights}", bytes(32))
    with pytest.raises(ValueError, match='use "dwt-dct-qim" or'):
        load_watermarker("stegano:/x", bytes(32))


def test_the_service_marks_its_outputs_with_trustmark_and_says_so(weights, tmp_path, coffee):
    from reelguard.v1 import reelguard_pb2 as pb
    from signing.verify import Verifier
    from tests.support import Running, encode, make_config, output_bytes, terminal

    config = make_config(
        tmp_path / "data", watermark_backend=f"trustmark:{weights}", face_workers=0
    )
    r = Running(config)
    try:
        events = r.generate("steam over a cup", encode(coffee, "JPEG"), width=96, height=96)
        assert terminal(events)[0] == "completed"
        anchors = (config.keys_dir / "root.pem").read_text()
        report = Verifier(anchors).verify_bytes(output_bytes(events), "video/mp4")
        assert report.status == "trusted"
        assert report.moderation["watermark"]["alg"] == "com.adobe.trustmark.Q"
        via_rpc = r.provenance.Verify(pb.VerifyRequest(media=pb.Media(data=output_bytes(events))))
        assert via_rpc.status == pb.VerifyReport.TRUSTED
    finally:
        r.close()
