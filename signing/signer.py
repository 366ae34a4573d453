"""Signers: the one seam between C2PA signing and where private keys live.

c2pa-python hands a signer the bytes to sign (the COSE Sig_structure) and wants the
signature back; a key file and a KMS/HSM both fit that callback, so both are
`Signer`s and the manifest code never sees a key.
"""

from __future__ import annotations

import stat
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import c2pa
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec


class SigningKeyError(RuntimeError):
    """The signing key or chain cannot be used; the message never contains key material."""


class Signer(Protocol):
    alg: c2pa.C2paSigningAlg
    certificate_chain_pem: str  # end-entity first, then intermediates (root optional)

    def sign(self, data: bytes) -> bytes:
        """Sign `data` (the full COSE Sig_structure) and return the signature."""
        ...


class KeyFileSigner:
    """ES256 with a PEM private key on disk; refuses keys readable by group or others."""

    alg = c2pa.C2paSigningAlg.ES256

    def __init__(self, key_path: Path, chain_path: Path) -> None:
        try:
            mode = key_path.stat().st_mode
        except OSError as e:
            raise SigningKeyError(f"signing key {key_path} is unreadable: {e.strerror}") from None
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise SigningKeyError(
                f"signing key {key_path} is accessible by group/others "
                f"(mode {stat.S_IMODE(mode):o}); run: chmod 600 {key_path}"
            )
        try:
            key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        except (OSError, ValueError, TypeError):
            # Deliberately no exception text: parsers may echo key bytes.
            raise SigningKeyError(f"signing key {key_path} is not a readable PEM key") from None
        if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
            raise SigningKeyError(f"signing key {key_path} must be an EC P-256 key for ES256")
        try:
            self.certificate_chain_pem = chain_path.read_text()
        except OSError as e:
            raise SigningKeyError(f"certificate chain {chain_path}: {e.strerror}") from None
        self._key = key

    def sign(self, data: bytes) -> bytes:
        return self._key.sign(data, ec.ECDSA(hashes.SHA256()))


class CallbackSigner:
    """Delegates signing to a callable, e.g. a KMS or PKCS#11 client; the key never leaves it."""

    def __init__(
        self,
        sign: Callable[[bytes], bytes],
        certificate_chain_pem: str,
        alg: c2pa.C2paSigningAlg = c2pa.C2paSigningAlg.ES256,
    ) -> None:
        self._sign = sign
        self.certificate_chain_pem = certificate_chain_pem
        self.alg = alg

    def sign(self, data: bytes) -> bytes:
        return self._sign(data)
