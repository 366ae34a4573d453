"""The signing key and the trust anchors from config: one place for the service, the
CLI's `verify` and the Ray signer pool (so none of them imports the others)."""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

import sqlalchemy as sa

from indexes.manifests import ManifestRepository
from safety.provenance.recovery import DurableCredentials
from safety.service.config import Config
from safety.store.opening import open_store
from signing.authorization import AuthorizedSigner, SigningAuthorizations
from signing.keys import chain_paths, init_dev_chain
from signing.manifest import C2paManifestSigner
from signing.signer import KeyFileSigner, Signer, SigningKeyError
from signing.verify import Verifier
from signing.watermark import Watermarker
from signing.watermarks import load_watermarker

log = logging.getLogger(__name__)


def signing_material(config: Config) -> tuple[Path, Path, Path | None]:
    """(key, chain, dev root or None): the configured chain, else a dev chain made once."""
    if config.signing_key and config.signing_chain:
        return config.signing_key, config.signing_chain, None
    paths = chain_paths(config.keys_dir)
    if not paths.key.exists():
        init_dev_chain(config.keys_dir)
        log.warning(
            "created a development signing chain in %s (not for production)", config.keys_dir
        )
    return paths.key, paths.chain, paths.root_cert


def make_signer(config: Config) -> Signer:
    """The configured signer: a PKCS#11 token key, else a key file (or the dev chain)."""
    if config.signing_pkcs11_module:
        from signing.pkcs11 import Pkcs11Signer

        if not config.signing_chain:
            raise ValueError("signing_pkcs11_module needs signing_chain (the key's certificates)")
        return Pkcs11Signer(
            config.signing_pkcs11_module,
            config.signing_pkcs11_token,
            config.signing_pkcs11_key,
            config.signing_pkcs11_pin_env,
            config.signing_chain.read_text(),
        )
    key, chain, _ = signing_material(config)
    return KeyFileSigner(key, chain)


def manifest_signer(config: Config, authorizations: SigningAuthorizations) -> AuthorizedSigner:
    """The configured key behind C2PA signing, signing only what a decision recorded in
    `authorizations` allows (signing/authorization.py): the front door's own signer and
    the Ray signer pool's are this one."""
    return AuthorizedSigner(
        C2paManifestSigner(
            make_signer(config),
            thumbnails=config.thumbnails,
            tsa_url=config.tsa_url,
            trust_anchors_pem=trust_anchors_pem(config),
        ),
        authorizations,
    )


def trust_anchors_pem(config: Config) -> str | None:
    if config.trust_anchors:
        return config.trust_anchors.read_text()
    dev_root = chain_paths(config.keys_dir).root_cert
    return dev_root.read_text() if dev_root.exists() else None


def make_verifier(
    config: Config,
    repository: ManifestRepository | None = None,
    watermarker: Watermarker | None = None,
    anchors: str | None = None,
) -> Verifier:
    """A verifier with the configured anchors (or the PEM `anchors`: a service's trust
    list); with a manifest repository it can also recover stripped manifests (the CLI
    opens the service's store, read-only, if there is one: an auditor needs no write
    access to it)."""
    tsa = config.tsa_trust_anchors.read_text() if config.tsa_trust_anchors else None
    kept = not config.uses_embedded_database or config.embedded_database_path.exists()
    if repository is None and kept:
        try:
            repository = ManifestRepository(
                open_store(config.database, data_dir=config.data_dir, read_only=True)
            )
        except (RuntimeError, sa.exc.SQLAlchemyError) as e:
            # Embedded manifests still verify; only recovery of stripped ones is off.
            log.warning("no manifest recovery: cannot read the database: %s", e)
    marker = watermarker
    if marker is None and watermark_key_path(config).exists():  # else: no watermark reading
        marker = load_watermarker(config.watermark_backend, watermark_key(config))
    recovery = (
        DurableCredentials(repository, marker, config.max_image_pixels)
        if repository is not None
        else None
    )
    return Verifier(anchors or trust_anchors_pem(config), tsa, recovery)


def watermark_key_path(config: Config) -> Path:
    return config.watermark_key_file or config.data_dir / "watermark.key"


def watermark_key(config: Config) -> bytes:
    """The watermark's secret key: derived in the signing token (`watermark_key_pkcs11`),
    or read from a file, created on first use (32 random bytes, mode 0600). A file
    readable by others is refused, like a signing key."""
    if config.watermark_key_pkcs11:
        return _token_watermark_key(config)
    path = watermark_key_path(config)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process made it first
        else:
            with os.fdopen(fd, "wb") as f:
                f.write(secrets.token_bytes(32))
    if path.stat().st_mode & 0o077:
        raise PermissionError(f"the watermark key {path} is readable by others; chmod 600 it")
    key = path.read_bytes()
    if len(key) < 16:
        raise ValueError(f"the watermark key {path} is shorter than 16 bytes")
    return key


def _token_watermark_key(config: Config) -> bytes:
    from signing.pkcs11 import token_watermark_key

    if config.watermark_key_file:
        raise ValueError("set watermark_key_file or watermark_key_pkcs11, not both")
    if not config.signing_pkcs11_module:
        raise ValueError("watermark_key_pkcs11 needs the token: set signing_pkcs11_module")
    pin = token_pin(config)
    return token_watermark_key(
        config.signing_pkcs11_module,
        config.signing_pkcs11_token,
        config.watermark_key_pkcs11,
        pin,
    )


def token_pin(config: Config) -> str:
    """The signing token's PIN, from the environment variable the config names."""
    pin = os.environ.get(config.signing_pkcs11_pin_env)
    if not pin:
        raise SigningKeyError(
            f"set the token PIN in the environment variable {config.signing_pkcs11_pin_env}"
        )
    return pin
