"""Wiring: build the embedded service's components from one Config."""

from __future__ import annotations

import logging
import shutil
import socket
import sys
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from generator.base import Generator, source_type
from generator.registry import load_generator
from indexes.hashbank import HashBanks
from indexes.manifests import ManifestRepository
from safety.auth import Authenticator
from safety.gate import Gate, ReviewSettings
from safety.intake import Intake
from safety.likeness.checker import DlibFaceEmbedder, LikenessChecker
from safety.likeness.consent import ConsentRegistry
from safety.likeness.face_pool import ProcessEmbedderPool
from safety.likeness.identities import Enroller, enrolled_names, open_index
from safety.likeness.known_faces import FaceMemory, face_boxes
from safety.likeness.minors import ApparentAge, MinorsCheck, sexual_scores
from safety.likeness.owners import LikenessOwners, verified_by
from safety.moderators.body import BodyMeasure
from safety.moderators.evidence import Evidence
from safety.moderators.plugins import Moderators, Needs, Plugin, configured
from safety.observability import Metrics
from safety.policy.allowlist import Allowlist
from safety.policy.coverage import coverage
from safety.policy.loading import PolicySet
from safety.provenance.recheck import Rechecker
from safety.review.queue import ReviewQueue
from safety.service.admission import Admission
from safety.service.config import Config
from safety.service.health import HealthMonitor
from safety.service.probes import health_components
from safety.service.signers import make_verifier, watermark_key
from safety.service.signers import manifest_signer as make_manifest_signer
from safety.store.audit import AuditLog
from safety.store.interface import Store
from safety.store.opening import open_store
from safety.store.shared_media import SharedMedia
from safety.sync import ChangeFollower
from signing.source_types import generated_source_type
from signing.verify import Verifier
from signing.watermarks import load_watermarker

log = logging.getLogger(__name__)


@dataclass
class Service:
    """Everything one reelguard process runs; `close` releases files and worker processes."""

    config: Config
    intake: Intake  # decodes and validates what callers send, picks the backend
    gate: Gate  # generate, check, sign: every verdict and signature
    policies: PolicySet
    allowlist: Allowlist
    moderators: Moderators  # the configured set (moderators/plugins.py)
    rechecker: Rechecker  # Provenance.Recheck
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
    owners: LikenessOwners | None = None  # the depicted people's own door

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


def builtin_performance(config: Config, metrics: Metrics) -> Generator | None:
    """Beside the built-in generator, the built-in performance transfer takes requests
    with a driving video; another configured backend takes them itself or refuses them."""
    if config.generator != "kenburns":
        return None
    from generator.performance import PerformanceTransfer

    return metrics.timed_load("performance_transfer", PerformanceTransfer)


# This distribution's top-level packages (pyproject's [tool.setuptools.packages.find]).
PROGRAM_PACKAGES = ("generator", "indexes", "media", "reelguard", "safety", "signing")


def program_modules() -> tuple[str, ...]:
    """This program's modules loaded so far: the face workers' server imports them once
    (see ProcessEmbedderPool), where each worker would import them again."""
    return tuple(sorted(m for m in sys.modules if m.partition(".")[0] in PROGRAM_PACKAGES))


def build_service(config: Config, generator: Generator | None = None) -> Service:
    config.data_dir.mkdir(parents=True, exist_ok=True)
    # This run's name: it owns its idempotency claims and its entries in the change feed.
    owner_prefix = f"{socket.gethostname()}:{config.data_dir.resolve()}#"
    claim_owner = owner_prefix + uuid.uuid4().hex[:12]
    store = open_store(config.database, data_dir=config.data_dir, origin=claim_owner)
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
        embedder, manifest_signer = pools.embedder, pools.manifest_signer
        generator = generator or pools.generator
        closers.append(pools.close)
    else:
        pools = None
        # Face models in worker processes (frames of a clip embedded on every core), or
        # in this process with face_workers = 0.
        # Workers load their models while this process loads the rest; the load time
        # recorded for them runs until they are ready (below).
        faces_started = time.perf_counter()
        embedder = (
            ProcessEmbedderPool(
                config.face_workers, config.face_detect_min_size, preload=program_modules()
            )
            if config.face_workers > 0
            else metrics.timed_load(
                "face_models",
                lambda: DlibFaceEmbedder(min_face_size=config.face_detect_min_size),
            )
        )
        if hasattr(embedder, "close"):
            closers.append(embedder.close)
        # It signs only what a decision recorded in the store authorizes, as the Ray
        # signer pool does (signing/authorization.py).
        manifest_signer = make_manifest_signer(config, store)
    # The performance transfer's models load on a thread of their own meanwhile.
    loader = ThreadPoolExecutor(1, thread_name_prefix="performance-load")
    performance = loader.submit(builtin_performance, config, metrics)
    loader.shutdown(wait=False)
    index = open_index(config.index_path, store, embedder.dim, config.index_flat_max)
    consent = ConsentRegistry(store, store)
    banks = HashBanks(store)

    def load(plugin: Plugin):
        """A configured moderator: its Ray pool's proxy with `--ray`, else the model here."""
        if pools is not None and plugin.pool:
            return pools.moderator(plugin)
        return metrics.timed_load(plugin.name, lambda: plugin.load(config, needs))

    needs = Needs(enrolled_names=partial(enrolled_names, store), banks=banks)
    moderators = Moderators.build(configured(config), config, needs, load)
    # How much body a frame shows, beside the faces the likeness detector finds: the
    # nudity classifiers' hits and the minors check's signal count only on a body.
    faces = FaceMemory(face_boxes(embedder))  # the likeness check's boxes, for the body
    body = metrics.timed_load("body", lambda: BodyMeasure(faces))
    evidence = Evidence(body, moderators.sexual_signals)
    minors = MinorsCheck(
        metrics.timed_load("apparent_age", ApparentAge),
        [sexual_scores(m) for m in moderators.sexual_signals],
        body=body,
    )
    likeness = LikenessChecker(embedder, index, store.identity_for_vector, minors, faces)
    moderators = moderators.with_visual(likeness)
    allowlist = Allowlist(store)
    # Held, released and kept outputs: in the database, so any front door can serve them.
    media = SharedMedia(store, config.data_dir / "media")
    manifests = ManifestRepository(store)  # the pipeline remembers, Verify recovers
    # Outputs are marked with it (when `watermark` is on); Verify reads it either way.
    watermarker = metrics.timed_load(
        "watermark", lambda: load_watermarker(config.watermark_backend, watermark_key(config))
    )
    policies = PolicySet(config.policy, config.policy_dir)
    generator = generator or load_generator(
        config.generator,
        device=config.generator_device,
        dtype=config.generator_dtype,
        steps=config.generator_steps,
    )
    _refuse_undeclared_generation(generator)
    intake = Intake(config.limits, [generator, performance.result()])
    gate = Gate(
        prompt_moderators=moderators.text,
        image_moderators=moderators.visual,
        policies=policies,
        consent=consent,
        manifest_signer=manifest_signer,
        manifests=manifests,
        store=store,
        work_dir=config.data_dir / "work",
        check_timeout_s=config.check_timeout_s,
        sampling=config.sampling,
        review=ReviewSettings(
            media,
            banks,
            reject_bank=config.review_reject_bank,
            lease_s=config.review_lease_s,
            allowlist_days=config.review_allowlist_days,
            double_review_share=config.review_double_share,
        ),
        allowlist=allowlist,
        evidence=evidence,
        metrics=metrics,
        watermarker=watermarker if config.watermark else None,
        generation_workers=config.max_generations,
        max_generation_s=config.max_generation_s,
    )
    metrics.set_coverage(
        (row.kind, row.category, row.evaluated)
        for row in coverage(moderators.text, moderators.visual, policies.for_tenant(""))
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
    auth = Authenticator(store, config.client_subjects)
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
    health = HealthMonitor(
        health_components(store, manifest_signer, enroller, follower), config.health_interval_s
    )
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
    verifier = make_verifier(config, manifests, watermarker)
    if isinstance(embedder, ProcessEmbedderPool):  # SERVING only once the workers are ready
        embedder.ready()
        metrics.model_load_seconds.labels("face_models").set(time.perf_counter() - faces_started)
    rechecker = Rechecker(
        verifier,
        store,
        moderators.visual,
        policies,
        config.sampling,
        grants=store,
        reviews=store,
        limits=config.limits.video,
        evidence=evidence,
    )
    return Service(
        config,
        intake,
        gate,
        policies,
        allowlist,
        moderators,
        rechecker,
        enroller,
        consent,
        banks,
        verifier,
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
        LikenessOwners(store, consent, banks, verified_by(verifier), config.max_image_pixels),
    )


def _refuse_undeclared_generation(generator: Generator) -> None:
    """A backend whose output we would sign as a camera capture (or as an edit of one)
    is refused at start: its declared IPTC source type must be a generated one."""
    try:
        generated_source_type(source_type(generator))
    except ValueError as e:
        raise RuntimeError(f"generator {getattr(generator, 'name', generator)!r}: {e}") from None
