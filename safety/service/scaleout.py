"""Scale-out on Ray Serve: the heavy stages as pools of replicas, the gRPC front door
unchanged.

Serve applications of one deployment each (so the front door reaches each pool in one
handle hop): face detection + embedding, and every moderator plugin that names a pool
(moderators/plugins.py: open_nsfw's "nudity"), on CPU replicas, with
frames from all requests batched (`@serve.batch`); signing on CPU; the generator on
GPU replicas when the cluster has GPUs. The front door (`reelguard serve --ray`) keeps
policy, consent, the identity index, stores and the review queue, and reaches the
pools through proxies that implement the same seams as the in-process parts
(FaceEmbedder, VisualModerator, Generator, the manifest signer), so the pipeline
cannot tell the difference. deploy/ has the same layout for a KubeRay cluster.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from ray import serve

from generator.base import (
    Finished,
    GenerationInput,
    ProgressFn,
    capabilities,
    source_type,
    stream_generation,
)
from generator.registry import load_generator
from media.decode import Frame
from safety.likeness.checker import DlibFaceEmbedder
from safety.likeness.tracking import Face
from safety.moderators import plugins
from safety.moderators.plugins import Plugin
from safety.observability import batch_span, remote_span, setup_tracing, trace_carrier
from safety.service.config import RAY_POOLS, Config
from safety.store.sql_signing import SignerAuthorizations
from signing.allocator import keep_freed_memory
from signing.manifest import ManifestSpec, Signed, SignedFile

log = logging.getLogger(__name__)

APPS = RAY_POOLS
LOCAL_GCS_WAIT_S = 120  # seconds a local Ray head's GCS may take to start


# ---- the pools (run in Ray replicas) -------------------------------------------------


# Each pool call carries some frames of one request and the caller's trace context (W3C
# headers); `tracing` is the config's (kind, endpoint), so spans from replicas reach the
# same collector. `@serve.batch` then gathers the calls of all requests.
Chunk = tuple[list[np.ndarray], dict]


def _flat_frames(chunks: list[Chunk]) -> list[np.ndarray]:
    return [frame for frames, _ in chunks for frame in frames]


def _per_chunk(chunks: list[Chunk], results: list) -> list[list]:
    """Split results for `_flat_frames(chunks)` back into one list per call."""
    out, start = [], 0
    for frames, _ in chunks:
        out.append(results[start : start + len(frames)])
        start += len(frames)
    return out


# A clip's frames go to the face and nudity pools this many per call: few hops per
# request (one frame per call cost 13% of the throughput of two replicas), yet a clip
# still spreads over replicas. Batched pools take twice their batch size of calls, so the
# next batch is queued in the replica while this one computes; both are tuned for this
# size (2 per call left the replicas waiting: bench/ray_moderation.py --per-call).
FRAMES_PER_CALL = 4


@serve.deployment(max_ongoing_requests=8)
class FacePool:
    def __init__(self, min_face_size: int, tracing: tuple[str, str] = ("", "")) -> None:
        setup_tracing(*tracing)
        self.embedder = DlibFaceEmbedder(min_face_size=min_face_size)

    @serve.batch(max_batch_size=4, batch_wait_timeout_s=0.005)
    async def faces(self, chunks: list[Chunk]) -> list[list[list[Face]]]:
        with batch_span("face_pool.batch", [carrier for _, carrier in chunks]):
            return _per_chunk(chunks, [self.embedder.faces(f) for f in _flat_frames(chunks)])


@serve.deployment(max_ongoing_requests=16)
class ModeratorPool:
    """A moderator plugin that names a pool (moderators/plugins.py), served from the same
    registry entry the front door would load; frames of all requests are batched."""

    def __init__(self, plugin: str, config: Config) -> None:
        setup_tracing(config.tracing, config.otlp_endpoint)
        self.plugin = plugins.plugin(plugin)
        self.moderator = self.plugin.load(config, plugins.Needs())

    def describe(self) -> dict:
        return {"model_version": self.moderator.model_version}

    @serve.batch(max_batch_size=8, batch_wait_timeout_s=0.005)
    async def probability(self, chunks: list[Chunk]) -> list[list[float]]:
        with batch_span(f"{self.plugin.pool}_pool.batch", [carrier for _, carrier in chunks]):
            return _per_chunk(chunks, list(self.moderator.probabilities(_flat_frames(chunks))))


@serve.deployment
class GeneratorPool:
    def __init__(
        self, spec: str, device: str, dtype: str, steps: int, tracing: tuple[str, str] = ("", "")
    ) -> None:
        setup_tracing(*tracing)
        self.generator = load_generator(spec, device=device, dtype=dtype, steps=steps)

    def describe(self) -> dict:
        """What the pool's backend is, makes and accepts (the front door refuses a
        request with an input it does not accept)."""
        g = self.generator
        accepts, needs = capabilities(g)
        return {
            "name": g.name,
            "version": g.version,
            "model_id": g.model_id,
            "digital_source_type": source_type(g),
            "accepts": accepts,
            "needs": needs,
        }

    def generate(self, job: GenerationInput, carrier: dict | None = None):
        """Progress steps, then the video's bytes and MIME type (a streaming response)."""
        stop = threading.Event()
        with remote_span("generator_pool.generate", carrier), tempfile.TemporaryDirectory() as tmp:
            try:
                for event in stream_generation(self.generator, job, Path(tmp) / "out", stop):
                    if isinstance(event, Finished):
                        yield ("video", event.path.read_bytes(), event.mime_type)
                    else:
                        yield ("progress", event.done, event.total)
            finally:
                stop.set()  # the caller cancelled (GeneratorExit): stop the generator too


@serve.deployment
class SignerPool:
    def __init__(self, config: Config) -> None:
        from safety.service.signers import manifest_signer

        setup_tracing(config.tracing, config.otlp_endpoint)
        keep_freed_memory()
        # Nothing is signed here that the store does not show a decision for: a caller
        # holding the cluster token (a compromised media worker) cannot have its own
        # bytes or manifest signed (signing/authorization.py).
        self.signer = manifest_signer(config, SignerAuthorizations(config.database))

    def sign(
        self, spec: ManifestSpec, data: bytes, mime_type: str, carrier: dict | None = None
    ) -> Signed:
        with remote_span("signer_pool.sign", carrier):
            return self.signer.sign(spec, data, mime_type)

    def probe(self) -> None:
        """The health probe: a signature over a fixed message, made and dropped here."""
        self.signer.probe()


# ---- proxies (run in the front door) -------------------------------------------------


def fan_out(method, frames: list[np.ndarray], per_call: int) -> list:
    """One result per frame from a pool `method`, called with `per_call` frames at a time
    (the calls run on whichever replicas are free, all at once)."""
    carrier = trace_carrier()
    calls = [
        method.remote((frames[i : i + per_call], carrier)) for i in range(0, len(frames), per_call)
    ]
    return [result for call in calls for result in call.result()]


class RayFaceEmbedder:
    """FaceEmbedder over the face pool: a clip's frames spread across replicas."""

    model = DlibFaceEmbedder.model
    dim = DlibFaceEmbedder.dim

    def __init__(self, handle, frames_per_call: int = FRAMES_PER_CALL) -> None:
        self._handle = handle
        self._per_call = frames_per_call
        self.model_version = DlibFaceEmbedder.version_string()

    def faces(self, pixels: np.ndarray) -> list[Face]:
        return self.faces_of_frames([pixels])[0]

    def faces_of_frames(self, frames: list[np.ndarray]) -> list[list[Face]]:
        return fan_out(self._handle.faces, frames, self._per_call)


class RayModerator:
    """VisualModerator over a plugin's pool: the same names, calibration and findings as
    the plugin's class; the scores come from the replicas."""

    def __init__(self, handle, plugin: Plugin, frames_per_call: int = FRAMES_PER_CALL) -> None:
        cls = plugin.moderator_class()
        self.name, self.model, self.categories = cls.name, cls.model, cls.categories
        self.calibration = getattr(cls, "calibration", {})  # the same model, in the pool
        self._findings = cls.findings
        self._handle = handle
        self._per_call = frames_per_call
        self.model_version = handle.describe.remote().result()["model_version"]

    def score(self, subject: str, frames: list[Frame]):
        pixels = [f.pixels for f in frames]
        scores = fan_out(self._handle.probability, pixels, self._per_call)
        return self._findings(subject, frames, scores)


class RayGenerator:
    """Generator over the generator pool; progress streams back, cancelling stops it."""

    def __init__(self, handle) -> None:
        self._handle = handle.options(stream=True)
        info = handle.describe.remote().result()
        self.name, self.version, self.model_id = info["name"], info["version"], info["model_id"]
        self.digital_source_type = info["digital_source_type"]
        self.accepts, self.needs = info["accepts"], info["needs"]

    def generate(self, job: GenerationInput, out_path: Path, progress: ProgressFn) -> str:
        response = self._handle.generate.remote(job, trace_carrier())
        try:
            for event in response:
                if event[0] == "progress":
                    progress(event[1], event[2])  # raises when the request is cancelled
                else:
                    out_path.write_bytes(event[1])
                    return event[2]
        except BaseException:
            response.cancel()
            raise
        raise RuntimeError("the generator pool ended without a result")


class RayManifestSigner:
    """ManifestSigner over the signer pool: the key stays in the pool's replicas."""

    def __init__(self, handle) -> None:
        self._handle = handle

    def sign(self, spec: ManifestSpec, data: bytes, mime_type: str) -> Signed:
        return self._handle.sign.remote(spec, data, mime_type, trace_carrier()).result()

    def sign_bytes(self, spec: ManifestSpec, data: bytes, mime_type: str) -> bytes:
        return self.sign(spec, data, mime_type).data

    def sign_file(
        self, spec: ManifestSpec, source: Path, dest: Path, mime_type: str, *, move: bool = False
    ) -> SignedFile:
        """The bytes travel to the pool and back (the key stays there): no in-place flow."""
        signed = self.sign(spec, source.read_bytes(), mime_type)
        dest.write_bytes(signed.data)
        return SignedFile(signed.manifest, hashlib.sha256(signed.data).hexdigest())

    def probe(self) -> None:
        self._handle.probe.remote().result()


# ---- wiring --------------------------------------------------------------------------


def pool_options(config: Config, name: str, gpus: float = 0.0) -> dict:
    """Deployment options of one pool: its CPUs (and GPUs) per replica, its autoscaling."""
    pool = config.ray_pool(name)
    return {
        "ray_actor_options": {"num_cpus": pool["num_cpus"], "num_gpus": gpus},
        "autoscaling_config": {
            k: pool[k] for k in ("min_replicas", "max_replicas", "target_ongoing_requests")
        },
    }


def generator_gpus(config: Config) -> float:
    """GPUs per generator replica: as configured, or 1 when the cluster has any (-1)."""
    if config.ray_generator_gpus >= 0:
        return config.ray_generator_gpus
    import ray

    return 1.0 if ray.cluster_resources().get("GPU", 0) > 0 else 0.0


def applications(config: Config) -> dict[str, serve.Application]:
    """The pools, configured from `config` (deploy/serve-config.yaml mirrors this)."""
    gpus = generator_gpus(config)
    tracing = (config.tracing, config.otlp_endpoint)
    return {
        "faces": FacePool.options(**pool_options(config, "faces")).bind(
            config.face_detect_min_size, tracing
        ),
        **{
            p.pool: ModeratorPool.options(**pool_options(config, p.pool)).bind(p.name, config)
            for p in plugins.PLUGINS
            if p.pool
        },
        "generator": GeneratorPool.options(**pool_options(config, "generator", gpus)).bind(
            config.generator,
            config.generator_device,
            config.generator_dtype,
            config.generator_steps,
            tracing,
        ),
        "signer": SignerPool.options(**pool_options(config, "signer")).bind(config),
    }


# Builders for `serve deploy` / KubeRay (import_path safety.service.scaleout:<name>_app).
def _builder(name: str):
    def build(args: dict) -> serve.Application:
        config = Config.load(Path(args["config"]) if args.get("config") else None)
        return applications(config)[name]

    return build


faces_app, generator_app, signer_app = (_builder(n) for n in ("faces", "generator", "signer"))


def moderator_app(args: dict) -> serve.Application:
    """A moderator plugin's pool: args {"config": path, "pool": the plugin's pool name}."""
    return _builder(args["pool"])(args)


@dataclass
class RayPools:
    """The front door's view of the pools."""

    embedder: RayFaceEmbedder
    generator: RayGenerator
    manifest_signer: RayManifestSigner
    started_ray: bool

    def moderator(self, plugin: Plugin) -> RayModerator:
        """The proxy of a plugin that names a pool."""
        return RayModerator(serve.get_app_handle(f"reelguard-{plugin.pool}"), plugin)

    @classmethod
    def start(cls, config: Config) -> RayPools:
        """Connect to Ray (`ray_address`, or a local instance), deploy the pools unless
        `ray_deploy` is off (a cluster that runs deploy/serve-config.yaml), get handles."""
        import ray

        started = not ray.is_initialized()
        if started and not config.ray_address:
            # A local head's GCS gets 30 s to bind its port by default; on a busy small
            # host (2 cores, models loading beside it) that has run out before now.
            os.environ.setdefault("RAY_gcs_server_port_wait_time_s", str(LOCAL_GCS_WAIT_S))
        if started:
            ray.init(
                # No address: an instance of our own ("local"), never a cluster that
                # someone else's `ray start` left running on this machine.
                address=config.ray_address or "local",
                num_cpus=config.ray_local_cpus or None,
                include_dashboard=False,
                log_to_driver=False,
            )
        if config.ray_deploy:
            serve.start(proxy_location="Disabled")
            for name, app in applications(config).items():
                serve.run(app, name=f"reelguard-{name}", route_prefix=None)
        handle = {n: serve.get_app_handle(f"reelguard-{n}") for n in APPS}
        log.info("Ray Serve pools ready: %s", ", ".join(APPS))
        return cls(
            RayFaceEmbedder(handle["faces"]),
            RayGenerator(handle["generator"]),
            RayManifestSigner(handle["signer"]),
            started,
        )

    def close(self) -> None:
        import ray

        if self.started_ray:
            serve.shutdown()
            ray.shutdown()
