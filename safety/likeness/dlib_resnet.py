"""dlib's face-recognition ResNet (dlib_face_recognition_resnet_model_v1) on ONNX Runtime.

The same weights, read from the very `.dat` file that face-recognition-models ships and
dlib loads, and the same arithmetic, so the embeddings are dlib's (the test compares them
on real faces) and every enrolled vector and threshold stays valid. Why: the `dlib-bin`
wheel is built without BLAS, and its convolutions took 75–78 ms a face here; ONNX Runtime
runs the same network in a fraction of that, and a batch of faces in one call.

The file is dlib's own serialization (dlib/serialize.h, dlib/dnn/*.h): nested layers,
each written as its version, its sub-network, then its own details, and tensors as raw
little-endian float32. It is parsed with numpy, checked layer by layer against the
network dlib's dnn_face_recognition_ex.cpp defines, and written as an ONNX graph at load
(safety/likeness/onnx_subset.proto).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

CHIP_SIZE = 150  # dlib's face chip: 150 px a side with 25 % padding around the landmarks
CHIP_PADDING = 0.25


class ModelFormatError(ValueError):
    """The file is not the dlib network this module converts."""


class _Reader:
    """dlib's serialization primitives (dlib/serialize.h)."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def _take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise ModelFormatError("the model file ends early")
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def int(self) -> int:
        control = self._take(1)[0]
        size = control & 0x0F
        if size == 0 or size > 8:
            raise ModelFormatError(f"bad integer at byte {self.pos - 1}")
        value = int.from_bytes(self._take(size), "little")
        return -value if control & 0x80 else value

    def float(self) -> float:
        mantissa, exponent = self.int(), self.int()
        if exponent >= 32000:  # dlib's markers for inf, -inf and NaN
            return {32000: np.inf, 32001: -np.inf}.get(exponent, np.nan)
        return float(np.ldexp(float(mantissa), exponent))

    def string(self) -> str:
        n = self.int()
        return self._take(n).decode("ascii", errors="replace")

    def bool(self) -> bool:
        ch = self._take(1)
        if ch not in (b"0", b"1"):
            raise ModelFormatError(f"bad bool at byte {self.pos - 1}")
        return ch == b"1"

    def shape(self) -> tuple[int, int, int, int]:
        if self.int() != 1:
            raise ModelFormatError("unexpected alias_tensor version")
        return tuple(self.int() for _ in range(4))  # type: ignore[return-value]

    def tensor(self) -> np.ndarray:
        if self.int() != 2:
            raise ModelFormatError("unexpected tensor version")
        shape = tuple(self.int() for _ in range(4))
        if min(shape) < 0:
            raise ModelFormatError(f"a tensor of shape {shape}")
        raw = self._take(4 * math.prod(shape))  # Python ints: a hostile size cannot wrap
        return np.frombuffer(raw, "<f4").reshape(shape).astype(np.float32)

    def peek_string(self, prefix: bytes) -> bool:
        return self.data[self.pos + 2 : self.pos + 2 + len(prefix)] == prefix


@dataclass
class Layer:
    kind: str  # con, affine, relu, max_pool, avg_pool, add_prev, fc, tag, skip
    params: dict = field(default_factory=dict)


def _details(r: _Reader) -> Layer:
    """One layer's own fields, by the version string each layer writes first."""
    version = r.string()
    if version in ("con_4", "con_5", "con_6"):
        params = r.tensor().ravel()
        num_filters = r.int()
        nr, nc, stride_y, stride_x, pad_y, pad_x = (r.int() for _ in range(6))
        filters, biases = r.shape(), r.shape()
        for _ in range(4):
            r.float()  # learning-rate and weight-decay multipliers
        use_bias = r.bool() if version in ("con_5", "con_6") else True
        if version == "con_6" and r.bool():
            raise ModelFormatError("a convolution with a fused relu is not this network")
        n = int(np.prod(filters))
        weights = params[:n].reshape(filters)
        bias = (
            params[n : n + int(np.prod(biases))] if use_bias else np.zeros(num_filters, np.float32)
        )
        return Layer(
            "con",
            dict(
                weights=weights,
                bias=bias,
                stride=(stride_y, stride_x),
                pads=(pad_y, pad_x),
                kernel=(nr, nc),
            ),
        )
    if version in ("bn_con2", "bn_fc2"):
        raise ModelFormatError("a training-time batch-norm layer is not this saved network")
    if version in ("affine_", "affine_2"):
        params = r.tensor().ravel()
        gamma, _beta = r.shape(), r.shape()
        mode = r.int()
        if version == "affine_2" and r.bool():
            raise ModelFormatError("a disabled affine layer is not this network")
        n = int(np.prod(gamma))
        return Layer("affine", dict(gamma=params[:n], beta=params[n : 2 * n], mode=mode))
    if version in ("relu_", "relu_2"):
        if version == "relu_2" and r.bool():
            raise ModelFormatError("a disabled relu is not this network")
        return Layer("relu")
    if version in ("max_pool_2", "avg_pool_2"):
        nr, nc, stride_y, stride_x, pad_y, pad_x = (r.int() for _ in range(6))
        return Layer(
            version[:-2], dict(kernel=(nr, nc), stride=(stride_y, stride_x), pads=(pad_y, pad_x))
        )
    if version == "add_prev_":
        return Layer("add_prev")
    if version in ("fc_2", "fc_3"):
        num_outputs, num_inputs = r.int(), r.int()
        params = r.tensor().ravel()
        weights, _biases = r.shape(), r.shape()
        if r.int() != 1:  # FC_NO_BIAS
            raise ModelFormatError("a fully connected layer with a bias is not this network")
        for _ in range(4):
            r.float()
        if version == "fc_3":
            r.bool()
        w = params[: int(np.prod(weights))].reshape(num_inputs, num_outputs)
        return Layer("fc", dict(weights=w))
    raise ModelFormatError(f"unexpected layer {version!r}")


def read_layers(path: Path) -> tuple[list[Layer], tuple[float, float, float]]:
    """The network's layers from input to output (tags and skips as kind 'tag'/'skip'
    are told apart below), and the input layer's channel means."""
    r = _Reader(Path(path).read_bytes())
    if r.int() != 1 or r.string() != "loss_metric_2":
        raise ModelFormatError("not a dlib metric-learning network")
    r.float(), r.float()  # the loss's margin and distance threshold: training only
    versions = []  # outer to inner: 1 for a tag or skip layer, 2-3 for a layer with details
    while not r.peek_string(b"input_rgb_image"):
        versions.append(r.int())
        if len(versions) > 1000:
            raise ModelFormatError("no input layer found")
    if r.string() != "input_rgb_image_sized":
        raise ModelFormatError("unexpected input layer")
    means = (r.float(), r.float(), r.float())
    r.int(), r.int()  # the chip size the network was trained on
    layers: list[Layer] = []
    for i, version in enumerate(reversed(versions)):
        if version == 1:
            layers.append(Layer("tag"))
            continue
        layers.append(_details(r))
        for _ in range(3):
            r.bool()
        for _ in range(3):
            r.tensor()  # gradients and cached outputs, empty in a saved net
        if i == 0 and version == 3:
            r.int()
    if r.pos != len(r.data):
        raise ModelFormatError("unexpected bytes after the network")
    _mark_skips(layers)
    return layers, means


def _mark_skips(layers: list[Layer]) -> None:
    """A residual_down block reads, from input to output, `tag1 … tag2 skip1 avg_pool
    add_prev2`: the second of two adjacent markers is skip1, back to the block's input."""
    for a, b in zip(layers, layers[1:], strict=False):
        if a.kind == "tag" and b.kind == "tag":
            b.kind = "skip"


# The layer kinds of dnn_face_recognition_ex.cpp's anet_type, from input to output.
def _expected_kinds() -> list[str]:
    block = ["con", "affine", "relu", "con", "affine"]
    ares = ["tag", *block, "add_prev", "relu"]
    down = ["tag", *block, "tag", "skip", "avg_pool", "add_prev", "relu"]
    kinds = ["con", "affine", "relu", "max_pool"]
    kinds += ares * 3  # level 4: 32 filters
    kinds += down + ares * 3  # level 3: 64
    kinds += down + ares * 2  # level 2: 128
    kinds += down + ares * 2  # level 1: 256
    kinds += down  # level 0: 256
    return kinds + ["avg_pool", "fc"]


class _Graph:
    """An ONNX graph being written (safety/likeness/onnx_subset.proto)."""

    def __init__(self) -> None:
        from safety.likeness import onnx_subset_pb2 as pb

        self.pb = pb
        self.graph = pb.GraphProto(name="dlib_face_recognition_resnet_model_v1")

    def const(self, name: str, value: np.ndarray) -> str:
        value = np.ascontiguousarray(value)
        kind = {
            np.dtype("float32"): self.pb.TensorProto.FLOAT,
            np.dtype("int64"): self.pb.TensorProto.INT64,
        }[value.dtype]
        self.graph.initializer.add(
            name=name,
            dims=value.shape,
            data_type=kind,
            raw_data=value.astype(value.dtype.newbyteorder("<")).tobytes(),
        )
        return name

    def node(self, op: str, inputs: list[str], **attrs: int | list[int]) -> str:
        out = f"t{len(self.graph.node)}"
        node = self.graph.node.add(op_type=op, input=inputs, output=[out], name=out)
        for key, value in attrs.items():
            if isinstance(value, list):
                node.attribute.add(name=key, type=self.pb.AttributeProto.INTS, ints=value)
            else:
                node.attribute.add(name=key, type=self.pb.AttributeProto.INT, i=value)
        return out

    def io(self, which: str, name: str, kind: int, dims: list[int | str]) -> None:
        value = getattr(self.graph, which).add(name=name)
        value.type.tensor_type.elem_type = kind
        for d in dims:
            dim = value.type.tensor_type.shape.dim.add()
            if isinstance(d, str):
                dim.dim_param = d
            else:
                dim.dim_value = d

    def model(self, output: str) -> bytes:
        self.graph.node[-1].output[0] = output
        model = self.pb.ModelProto(ir_version=8, producer_name="reelguard", graph=self.graph)
        model.opset_import.add(domain="", version=17)
        return model.SerializeToString()


def build_onnx(path: Path) -> bytes:
    """The ONNX model of the network in `path`: input uint8 chips [N, 150, 150, 3] RGB,
    output float32 [N, 128]."""
    layers, means = read_layers(path)
    if [layer.kind for layer in layers] != _expected_kinds():
        raise ModelFormatError("the file is not dlib_face_recognition_resnet_model_v1's network")
    g = _Graph()
    g.io("input", "chips", g.pb.TensorProto.UINT8, ["n", CHIP_SIZE, CHIP_SIZE, 3])
    g.io("output", "embeddings", g.pb.TensorProto.FLOAT, ["n", 128])
    # dlib's input layer: (pixel - channel mean) / 256, planes R, G, B.
    x = g.node("Cast", ["chips"], to=g.pb.TensorProto.FLOAT)
    x = g.node("Transpose", [x], perm=[0, 3, 1, 2])
    x = g.node("Sub", [x, g.const("means", np.array(means, np.float32).reshape(1, 3, 1, 1))])
    x = g.node("Div", [x, g.const("scale", np.array(256.0, np.float32))])
    shape = (3, CHIP_SIZE, CHIP_SIZE)  # channels, rows, columns of x
    tags: list[tuple[str, tuple[int, ...]]] = []
    i = 0
    while i < len(layers):
        layer, p = layers[i], layers[i].params
        if layer.kind == "con":
            w, b = p["weights"], p["bias"]
            if layers[i + 1].kind == "affine":  # dlib's BN<con<...>>: fold it into the conv
                a = layers[i + 1].params
                w = w * a["gamma"].reshape(-1, 1, 1, 1)
                b = b * a["gamma"] + a["beta"]
                i += 1
            (ky, kx), (sy, sx), (py, px) = p["kernel"], p["stride"], p["pads"]
            ins = [
                x,
                g.const(f"w{i}", w.astype(np.float32)),
                g.const(f"b{i}", b.astype(np.float32)),
            ]
            x = g.node("Conv", ins, kernel_shape=[ky, kx], strides=[sy, sx], pads=[py, px, py, px])
            shape = (w.shape[0], *_pooled(shape[1:], p["kernel"], p["stride"], p["pads"]))
        elif layer.kind == "relu":
            x = g.node("Relu", [x])
        elif layer.kind in ("max_pool", "avg_pool"):
            (ky, kx), (sy, sx), (py, px) = p["kernel"], p["stride"], p["pads"]
            if ky == 0:  # avg_pool_everything
                x = g.node("Flatten", [g.node("GlobalAveragePool", [x])])
                shape = (shape[0], 1, 1)
            elif py or px:
                raise ModelFormatError("padded pooling is not this network")
            else:
                op = "MaxPool" if layer.kind == "max_pool" else "AveragePool"
                x = g.node(op, [x], kernel_shape=[ky, kx], strides=[sy, sx])
                shape = (shape[0], *_pooled(shape[1:], p["kernel"], p["stride"], (0, 0)))
        elif layer.kind == "tag":
            tags.append((x, shape))
        elif layer.kind == "skip":
            x, shape = tags[-2]
        elif layer.kind == "add_prev":
            other, other_shape = tags[-1]
            tags.clear()
            # dlib adds tensors of different sizes as if the smaller were zero-padded at
            # the end of each dimension (more channels, rows or columns).
            out = tuple(max(a, b) for a, b in zip(shape, other_shape, strict=True))
            x = g.node("Add", [_pad_to(g, x, shape, out), _pad_to(g, other, other_shape, out)])
            shape = out
        elif layer.kind == "fc":
            x = g.node("MatMul", [x, g.const(f"fc{i}", p["weights"].astype(np.float32))])
        i += 1
    return g.model("embeddings")


def _pooled(size: tuple[int, ...], kernel, stride, pads) -> tuple[int, ...]:
    return tuple(
        1 + (n + 2 * p - k) // s for n, k, s, p in zip(size, kernel, stride, pads, strict=True)
    )


def _pad_to(g: _Graph, x: str, shape: tuple[int, ...], out: tuple[int, ...]) -> str:
    if shape == out:
        return x
    extra = [0, 0, 0, 0, 0, *(o - s for o, s in zip(out, shape, strict=True))]
    return g.node("Pad", [x, g.const(f"pad_{x}", np.array(extra, np.int64))])


class DlibResnetOnnx:
    """The embedding network: `embed(chips)` for uint8 RGB chips of 150² (dlib.get_face_chip)."""

    def __init__(self, path: Path, threads: int = 1) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self._session = ort.InferenceSession(
            build_onnx(path), options, providers=["CPUExecutionProvider"]
        )

    def embed(self, chips: np.ndarray) -> np.ndarray:
        chips = np.ascontiguousarray(chips, dtype=np.uint8)
        if chips.ndim != 4 or chips.shape[1:] != (CHIP_SIZE, CHIP_SIZE, 3):
            raise ValueError(f"chips must be [n, {CHIP_SIZE}, {CHIP_SIZE}, 3], got {chips.shape}")
        if len(chips) == 0:
            return np.zeros((0, 128), np.float32)
        return self._session.run(["embeddings"], {"chips": chips})[0]
