"""A signer whose key lives in a PKCS#11 token (an HSM, or SoftHSM in tests).

The private key is generated inside the token and never leaves it: c2pa-python hands
the callback the full COSE Sig_structure; the token hashes and signs it
(CKM_ECDSA_SHA256) or, for tokens without that mechanism (SoftHSM 2.6), we hash it
with SHA-256 and the token signs the digest (CKM_ECDSA). The raw r‖s signature goes
back. The PIN comes from an environment variable, never from
a file or a log line.
"""

from __future__ import annotations

import hashlib
import os
import threading

import c2pa
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_der_public_key

from signing.signer import SigningKeyError


def _pkcs11():
    try:
        import pkcs11
    except ImportError:
        raise SigningKeyError(
            "PKCS#11 signing needs python-pkcs11: pip install 'reelguard[hsm]'"
        ) from None
    return pkcs11


class Pkcs11Signer:
    """ES256 with an EC P-256 private key held in a PKCS#11 token."""

    alg = c2pa.C2paSigningAlg.ES256

    def __init__(
        self,
        module: str,
        token_label: str,
        key_label: str,
        pin_env: str,
        certificate_chain_pem: str,
    ) -> None:
        pkcs11 = _pkcs11()
        pin = os.environ.get(pin_env)
        if not pin:
            raise SigningKeyError(f"set the token PIN in the environment variable {pin_env}")
        try:
            token = pkcs11.lib(module).get_token(token_label=token_label)
            self._session = token.open(user_pin=pin)
            self._key = self._session.get_key(
                object_class=pkcs11.ObjectClass.PRIVATE_KEY, label=key_label
            )
        except pkcs11.PKCS11Error as e:
            # The exception names the failure class (PinIncorrect, NoSuchKey...), not the PIN.
            raise SigningKeyError(
                f"PKCS#11 token {token_label!r} key {key_label!r}: {type(e).__name__}"
            ) from None
        mechanisms = set(token.slot.get_mechanisms())
        self._hash_in_token = pkcs11.Mechanism.ECDSA_SHA256 in mechanisms
        self._mechanism = (
            pkcs11.Mechanism.ECDSA_SHA256 if self._hash_in_token else pkcs11.Mechanism.ECDSA
        )
        self._lock = threading.Lock()  # one operation at a time per session
        self.certificate_chain_pem = certificate_chain_pem

    def sign(self, data: bytes) -> bytes:
        payload = data if self._hash_in_token else hashlib.sha256(data).digest()
        with self._lock:
            return self._key.sign(payload, mechanism=self._mechanism)

    def close(self) -> None:
        self._session.close()


def generate_token_key(
    module: str, token_label: str, key_label: str, pin: str
) -> ec.EllipticCurvePublicKey:
    """Create an EC P-256 key pair inside the token (private key not extractable) and
    return its public key, to be certified by a CA."""
    pkcs11 = _pkcs11()
    from pkcs11.util.ec import encode_ec_public_key, encode_named_curve_parameters

    token = pkcs11.lib(module).get_token(token_label=token_label)
    with token.open(rw=True, user_pin=pin) as session:
        params = session.create_domain_parameters(
            pkcs11.KeyType.EC,
            {pkcs11.Attribute.EC_PARAMS: encode_named_curve_parameters("secp256r1")},
            local=True,
        )
        public, _ = params.generate_keypair(
            store=True,
            label=key_label,
            private_template={
                pkcs11.Attribute.SENSITIVE: True,
                pkcs11.Attribute.EXTRACTABLE: False,
            },
        )
        key = load_der_public_key(encode_ec_public_key(public))
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise SigningKeyError("the token did not return an EC public key")
    return key


def token_signing_request(
    module: str, token_label: str, key_label: str, pin: str, subject: x509.Name
) -> x509.CertificateSigningRequest:
    """A CSR for the token's key pair, signed inside the token: the private key never
    leaves it. The request takes its form (subject, the claim-signing extensions) from
    `signing_request`, made with a throwaway key; the token's public key and signature
    replace the throwaway's (asn1crypto, which python-pkcs11 itself uses)."""
    pkcs11 = _pkcs11()
    from asn1crypto import csr as asn1_csr
    from asn1crypto import keys as asn1_keys
    from cryptography.hazmat.primitives.serialization import Encoding
    from pkcs11.util.ec import encode_ec_public_key, encode_ecdsa_signature

    from signing.keys import signing_request

    form = signing_request(ec.generate_private_key(ec.SECP256R1()), subject)
    request = asn1_csr.CertificationRequest.load(form.public_bytes(Encoding.DER))
    info = request["certification_request_info"]
    try:
        with _session(module, token_label, pin) as session:
            public = session.get_key(object_class=pkcs11.ObjectClass.PUBLIC_KEY, label=key_label)
            private = session.get_key(object_class=pkcs11.ObjectClass.PRIVATE_KEY, label=key_label)
            info["subject_pk_info"] = asn1_keys.PublicKeyInfo.load(encode_ec_public_key(public))
            digest = hashlib.sha256(info.dump(force=True)).digest()
            signature = private.sign(digest, mechanism=pkcs11.Mechanism.ECDSA)
    except pkcs11.PKCS11Error as e:
        raise SigningKeyError(
            f"PKCS#11 token {token_label!r} key {key_label!r}: {type(e).__name__}"
        ) from None
    request["signature"] = encode_ecdsa_signature(signature)
    csr = x509.load_der_x509_csr(request.dump(force=True))
    if not csr.is_signature_valid:
        raise SigningKeyError(f"the token's signature on the request for {key_label!r} is invalid")
    return csr


WATERMARK_KEY_INFO = b"reelguard watermark key v1"


def _session(module: str, token_label: str, pin: str, *, rw: bool = False):
    pkcs11 = _pkcs11()
    return pkcs11.lib(module).get_token(token_label=token_label).open(rw=rw, user_pin=pin)


def generate_token_secret(module: str, token_label: str, key_label: str, pin: str) -> None:
    """Create a 256-bit HMAC secret inside the token (sensitive, not extractable): the
    root of the watermark key, which then lives nowhere on disk."""
    pkcs11 = _pkcs11()
    with _session(module, token_label, pin, rw=True) as session:
        session.generate_key(
            pkcs11.KeyType.GENERIC_SECRET,
            256,
            label=key_label,
            store=True,
            template={
                pkcs11.Attribute.SENSITIVE: True,
                pkcs11.Attribute.EXTRACTABLE: False,
                pkcs11.Attribute.SIGN: True,
            },
        )


def token_watermark_key(module: str, token_label: str, key_label: str, pin: str) -> bytes:
    """The watermark key: HMAC-SHA256 of a fixed label under the token's secret,
    computed inside the token. The same token gives the same key on every front door;
    the secret itself never leaves it."""
    pkcs11 = _pkcs11()
    try:
        with _session(module, token_label, pin) as session:
            secret = session.get_key(object_class=pkcs11.ObjectClass.SECRET_KEY, label=key_label)
            return bytes(secret.sign(WATERMARK_KEY_INFO, mechanism=pkcs11.Mechanism.SHA256_HMAC))
    except pkcs11.PKCS11Error as e:
        raise SigningKeyError(
            f"PKCS#11 token {token_label!r} watermark secret {key_label!r}: {type(e).__name__}"
        ) from None


def chain_pem(*certs: x509.Certificate) -> str:
    from cryptography.hazmat.primitives import serialization

    return "".join(c.public_bytes(serialization.Encoding.PEM).decode() for c in certs)
