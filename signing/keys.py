"""A development signing chain: an ES256 root CA and one end-entity signing certificate.

Production deployments point the config at their own chain and key (or a KMS/HSM
callback); this exists so that a fresh install can sign, and a test can verify
against a root it controls.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from signing.profile import CLAIM_SIGNING_EKU, CLAIM_SIGNING_POLICY, MAX_VALIDITY_DAYS


@dataclass(frozen=True)
class ChainPaths:
    root_cert: Path  # trust anchor for verifiers
    chain: Path  # end-entity certificate followed by the root, PEM
    key: Path  # end-entity private key, PKCS#8 PEM, mode 0600


def chain_paths(directory: Path) -> ChainPaths:
    return ChainPaths(directory / "root.pem", directory / "chain.pem", directory / "signer.key")


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "XX"),  # ISO 3166 user-assigned: a dev chain
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "reelguard development"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def issue_signing_certificate(
    ca_key: ec.EllipticCurvePrivateKey,
    ca_cert: x509.Certificate,
    public_key: ec.EllipticCurvePublicKey,
    common_name: str = "reelguard dev signer",
    days: int = MAX_VALIDITY_DAYS,
) -> x509.Certificate:
    """An end-entity C2PA signing certificate for `public_key`, wherever its private key
    lives (a file, a KMS, an HSM), on the claim-signing leaf profile (`signing/profile.py`):
    digitalSignature and not a CA (both critical), EKU c2pa-kp-claimSigning and
    emailProtection, the C2PA certificate policy, AKI/SKI, at most 366 days."""
    now = dt.datetime.now(dt.UTC)
    ca_ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    return (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(ca_cert.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.ExtendedKeyUsage([CLAIM_SIGNING_EKU, ExtendedKeyUsageOID.EMAIL_PROTECTION]),
            critical=False,
        )
        .add_extension(
            x509.CertificatePolicies([x509.PolicyInformation(CLAIM_SIGNING_POLICY, None)]),
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )


def load_dev_root(directory: Path) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    """The dev root CA key and certificate, to issue more signing certificates."""
    key = serialization.load_pem_private_key((directory / "root.key").read_bytes(), None)
    return key, x509.load_pem_x509_certificate((directory / "root.pem").read_bytes())


def make_ca(
    common_name: str, days: int = 3650
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    """A self-signed ES256 CA (pathlen 0) that issues end-entity certificates only."""
    now = dt.datetime.now(dt.UTC)
    key = ec.generate_private_key(ec.SECP256R1())
    name = _name(common_name)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def init_dev_chain(directory: Path, *, overwrite: bool = False) -> ChainPaths:
    """Create root CA + signing certificate in `directory`; refuse to clobber an existing key."""
    paths = chain_paths(directory)
    if paths.key.exists() and not overwrite:
        raise FileExistsError(f"{paths.key} already exists; pass overwrite=True to replace it")
    directory.mkdir(parents=True, exist_ok=True)
    root_key, root = make_ca("reelguard dev root CA")

    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf = issue_signing_certificate(root_key, root, leaf_key.public_key())

    pem = serialization.Encoding.PEM
    paths.root_cert.write_bytes(root.public_bytes(pem))
    paths.chain.write_bytes(leaf.public_bytes(pem) + root.public_bytes(pem))
    write_private_key(paths.key, leaf_key)
    # The root key stays beside it (dev only) so more signers — an HSM's — can be issued.
    write_private_key(directory / "root.key", root_key)
    return paths


def write_private_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    data = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    # Create with 0600 from the start so the key is never readable by others, even briefly.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.chmod(path, 0o600)


def signing_request(key, subject: x509.Name) -> x509.CertificateSigningRequest:
    """A CSR for a real CA: the subject, and the extensions of the claim-signing profile
    asked for (the CA decides what it signs)."""
    return (
        x509.CertificateSigningRequestBuilder()
        .subject_name(subject)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([CLAIM_SIGNING_EKU, ExtendedKeyUsageOID.EMAIL_PROTECTION]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
