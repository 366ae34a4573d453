"""Generators that run elsewhere, over gRPC (`GeneratorBackend` in proto/).

`RemoteGenerator` is the client reelguard uses for `generator = "remote:HOST:PORT"`;
`serve_backend` exposes any local Generator as such a service, so a GPU host can run
the model while reelguard's checks run on CPU hosts. Pre-check, post-check and
signing stay in reelguard: the backend only ever sees moderated input.
"""

from __future__ import annotations

import io
import threading
import uuid
from concurrent import futures
from pathlib import Path
from tempfile import TemporaryDirectory

import grpc
import numpy as np
from PIL import Image

from generator.base import (
    IMAGE,
    TEXT,
    TRAINED_MODEL,
    GenerationInput,
    Generator,
    ProgressFn,
    Step,
    source_type,
    stream_generation,
)
from media.mp4 import read_blocks
from reelguard.channel import (
    BearerTokenCheck,
    connect,
    grpc_options,
    is_loopback,
    server_credentials,
)
from reelguard.v1 import reelguard_pb2 as pb
from reelguard.v1 import reelguard_pb2_grpc as rpc

CHUNK_BYTES = 1 << 20
MAX_OUTPUT_BYTES = 4 << 30  # a backend cannot fill the disk


def _png(pixels: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, "PNG", compress_level=1)
    return out.getvalue()


def _pixels(png: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(png)) as im:
        return np.asarray(im.convert("RGB"))


class RemoteGenerator:
    """A GeneratorBackend elsewhere; what it accepts and makes is what it says of itself
    (Describe); one that says nothing is taken as a model server taking text and images."""

    name = "remote"
    version = "1"

    def __init__(
        self,
        address: str,
        token: str | None = None,
        ca: Path | None = None,
        timeout_s: float = 3600.0,
        cert: Path | None = None,
        key: Path | None = None,
        insecure: bool = False,
    ) -> None:
        if token and ca is None and not insecure and not is_loopback(address):
            raise ValueError(
                f"remote generator {address}: its token would cross the network in clear; "
                "set REELGUARD_BACKEND_CA (the backend's CA) for TLS, or "
                "REELGUARD_BACKEND_INSECURE=1 on a network you trust"
            )
        self.address = address
        self.model_id = f"remote:{address}"
        self.timeout_s = timeout_s
        self._stub = rpc.GeneratorBackendStub(connect(address, token, ca, cert, key))
        self._info: pb.BackendInfo | None = None

    def _described(self) -> pb.BackendInfo | None:
        """The backend's own description, asked once it answers (None until then)."""
        if self._info is None:
            try:
                self._info = self._stub.Describe(pb.DescribeRequest(), timeout=10)
            except grpc.RpcError as e:
                if e.code() != grpc.StatusCode.UNIMPLEMENTED:
                    return None  # not reachable yet: ask again next time
                # A backend from before Describe: what every backend took then.
                self._info = pb.BackendInfo(accepts=[TEXT, IMAGE])
        return self._info

    @property
    def accepts(self) -> frozenset[str]:
        info = self._described()
        return frozenset(info.accepts) if info is not None else frozenset({TEXT, IMAGE})

    @property
    def needs(self) -> frozenset[str]:
        info = self._described()
        return frozenset(info.needs) if info is not None else frozenset()

    @property
    def digital_source_type(self) -> str:
        info = self._described()
        return (info.digital_source_type if info is not None else "") or TRAINED_MODEL

    def generate(self, job: GenerationInput, out_path: Path, progress: ProgressFn) -> str:
        request = pb.BackendRequest(
            prompt=job.prompt,
            image_png=_png(job.image) if job.image is not None else b"",
            width=job.width,
            height=job.height,
            fps=job.fps,
            num_frames=job.num_frames,
            seed=job.seed,
            driving_frames_png=[_png(f) for f in job.driving_frames or []],
            request_id=uuid.uuid4().hex,
        )
        call = self._stub.Generate(request, timeout=self.timeout_s)
        written = 0
        try:
            with open(out_path, "wb") as out:
                for event in call:
                    kind = event.WhichOneof("event")
                    if kind == "progress":
                        progress(event.progress.done, event.progress.total)  # may cancel
                    elif kind == "chunk":
                        written += len(event.chunk.data)
                        if event.chunk.offset != out.tell() or written > MAX_OUTPUT_BYTES:
                            raise RuntimeError(
                                f"remote generator {self.address} sent a bad or oversized stream"
                            )
                        out.write(event.chunk.data)
                    elif kind == "done":
                        return event.done.mime_type or "video/mp4"
        except grpc.RpcError as e:
            raise RuntimeError(
                f"remote generator {self.address}: {e.code().name}: {e.details()}"
            ) from None
        finally:
            call.cancel()  # a no-op once done; stops the remote work on any early exit
        raise RuntimeError(f"remote generator {self.address} ended without a result")


class BackendServicer(rpc.GeneratorBackendServicer):
    def __init__(self, generator: Generator) -> None:
        self.generator = generator

    def Describe(self, request: pb.DescribeRequest, context) -> pb.BackendInfo:
        g = self.generator
        return pb.BackendInfo(
            name=g.name,
            version=g.version,
            model_id=g.model_id,
            digital_source_type=source_type(g),
            accepts=sorted(getattr(g, "accepts", {TEXT, IMAGE})),
            needs=sorted(getattr(g, "needs", ())),
        )

    def Generate(self, request: pb.BackendRequest, context):
        if not request.prompt or request.width <= 0 or request.height <= 0:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "prompt and output size are required")
        job = GenerationInput(
            prompt=request.prompt,
            image=_pixels(request.image_png) if request.image_png else None,
            width=request.width,
            height=request.height,
            fps=request.fps or 24,
            num_frames=request.num_frames or 48,
            seed=request.seed,
            driving_frames=[_pixels(f) for f in request.driving_frames_png] or None,
        )
        stop = threading.Event()
        context.add_callback(stop.set)
        with TemporaryDirectory() as tmp:
            try:
                for event in stream_generation(self.generator, job, Path(tmp) / "out", stop):
                    if isinstance(event, Step):
                        step = pb.Progress(stage=pb.GENERATING, done=event.done, total=event.total)
                        yield pb.BackendEvent(progress=step)
                    else:
                        yield from _chunks(event.path)
                        yield pb.BackendEvent(done=pb.BackendDone(mime_type=event.mime_type))
            except Exception as e:
                context.abort(grpc.StatusCode.INTERNAL, f"generation failed: {e}")


def _chunks(path: Path):
    for offset, block in read_blocks(path, CHUNK_BYTES):
        yield pb.BackendEvent(chunk=pb.OutputChunk(data=block, offset=offset))


def serve_backend(
    generator: Generator,
    address: str,
    max_workers: int = 4,
    *,
    token: str | None = None,
    tls_cert: Path | None = None,
    tls_key: Path | None = None,
    tls_client_ca: Path | None = None,
    insecure: bool = False,
):
    """Serve `generator` as a GeneratorBackend; returns (server, bound port).

    The backend makes raw, unmoderated video for whoever calls it, so every call needs
    the bearer `token`, or a client certificate from `tls_client_ca` (mutual TLS, which
    needs TLS: a client CA on a plaintext port checked nothing); and it speaks TLS
    (`tls_cert`, `tls_key`), or plaintext on loopback only and only when `insecure`
    says so explicitly."""
    if not token and tls_client_ca is None:
        raise ValueError(
            "a generator backend needs a credential to check: a bearer token "
            "(REELGUARD_BACKEND_TOKEN) or a client CA for mutual TLS"
        )
    if tls_client_ca is not None and tls_cert is None:
        raise ValueError(
            "--tls-client-ca checks client certificates, which only TLS carries: give the "
            "backend its own certificate and key (--tls-cert, --tls-key)"
        )
    if tls_cert is None and not is_loopback(address):
        raise ValueError(
            f"{address} is reachable beyond this machine and there is no TLS: give a "
            "certificate and key (plaintext is for loopback only)"
        )
    if tls_cert is None and not insecure:
        raise ValueError(
            f"{address} without TLS speaks plaintext: on loopback that takes --insecure, "
            "said explicitly; or give a certificate and key"
        )
    interceptors = [BearerTokenCheck(token)] if token else []
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="backend"),
        options=[*grpc_options(64 << 20), ("grpc.so_reuseport", 0)],  # one server per port
        interceptors=interceptors,
    )
    rpc.add_GeneratorBackendServicer_to_server(BackendServicer(generator), server)
    if tls_cert is not None:
        if tls_key is None:
            raise ValueError("a TLS certificate needs its key")
        port = server.add_secure_port(address, server_credentials(tls_cert, tls_key, tls_client_ca))
    else:
        port = server.add_insecure_port(address)
    server.start()
    return server, port
