"""dlib's face-recognition network on ONNX Runtime gives dlib's own embeddings (every
enrolled vector and threshold depends on that), and a model file that is not that
network is refused rather than run."""

from __future__ import annotations

from pathlib import Path

import dlib
import numpy as np
import pytest

from safety.likeness.checker import DlibFaceEmbedder, dlib_models_dir
from safety.likeness.dlib_resnet import DlibResnetOnnx, ModelFormatError, build_onnx

MODEL = dlib_models_dir() / "dlib_face_recognition_resnet_model_v1.dat"


@pytest.fixture(scope="module")
def embedder() -> DlibFaceEmbedder:
    return DlibFaceEmbedder()


def looks(astronaut, hopper):
    """Faces at several sizes, mirrored and turned, so the chips differ."""
    for image in (astronaut, hopper):
        yield image
        yield np.ascontiguousarray(image[:, ::-1])
        yield np.ascontiguousarray(np.rot90(image)[::2, ::2])
        yield np.ascontiguousarray(np.clip(image * 0.6 + 40, 0, 255).astype(np.uint8))


def test_embeddings_are_dlibs_own(embedder, astronaut, hopper):
    reference = dlib.face_recognition_model_v1(str(MODEL))
    n = 0
    for image in looks(astronaut, hopper):
        for box, _ in embedder.detect(image):
            x, y, w, h = box
            shape = embedder._landmarks(image, dlib.rectangle(max(x, 0), max(y, 0), x + w, y + h))
            want = np.asarray(reference.compute_face_descriptor(image, shape), np.float32)
            got = embedder.embed(image, box)
            np.testing.assert_allclose(got, want, atol=1e-5)
            n += 1
    assert n >= 6  # the faces were found, so the comparison ran


def test_a_batch_embeds_each_face_as_alone(embedder, astronaut, hopper):
    crops = [
        (image, box) for image in looks(astronaut, hopper) for box, _ in embedder.detect(image)
    ]
    together = embedder.embed_faces(crops)
    alone = [embedder.embed(image, box) for image, box in crops]
    np.testing.assert_allclose(np.stack(together), np.stack(alone), atol=1e-5)


def test_the_model_written_is_valid_onnx():
    onnx = pytest.importorskip("onnx")
    onnx.checker.check_model(onnx.load_from_string(build_onnx(MODEL)), full_check=True)


def test_a_truncated_model_file_is_refused(tmp_path: Path):
    cut = tmp_path / "cut.dat"
    cut.write_bytes(MODEL.read_bytes()[: MODEL.stat().st_size // 2])
    with pytest.raises(ModelFormatError, match="ends early"):
        DlibResnetOnnx(cut)


def test_a_model_with_bytes_appended_is_refused(tmp_path: Path):
    longer = tmp_path / "longer.dat"
    longer.write_bytes(MODEL.read_bytes() + b"\x00")
    with pytest.raises(ModelFormatError, match="after the network"):
        DlibResnetOnnx(longer)


def test_another_dlib_network_is_refused():
    """dlib's face detector is a network in the same format, but not this one."""
    with pytest.raises(ModelFormatError):
        DlibResnetOnnx(dlib_models_dir() / "mmod_human_face_detector.dat")


def test_chips_of_the_wrong_shape_are_refused():
    with pytest.raises(ValueError, match="chips must be"):
        DlibResnetOnnx(MODEL).embed(np.zeros((1, 64, 64, 3), np.uint8))


def test_a_tensor_claiming_a_negative_size_is_refused(tmp_path: Path, monkeypatch):
    """A size read from the file is never trusted to allocate or to move the reader."""
    from safety.likeness import dlib_resnet

    starts = []  # where each tensor begins in the file

    class Spy(dlib_resnet._Reader):
        def tensor(self):
            starts.append(self.pos)
            return super().tensor()

    monkeypatch.setattr(dlib_resnet, "_Reader", Spy)
    dlib_resnet.read_layers(MODEL)
    monkeypatch.undo()
    data = bytearray(MODEL.read_bytes())
    first_dimension = starts[0] + 2  # after the tensor's version, one length byte and one
    data[first_dimension] |= 0x80  # dlib's sign bit: the same number, negative
    bad = tmp_path / "negative.dat"
    bad.write_bytes(bytes(data))
    with pytest.raises(ModelFormatError, match="a tensor of shape"):
        DlibResnetOnnx(bad)
