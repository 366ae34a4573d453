"""Development TLS material: a CA, a server certificate for this host, client certificates.

Production uses certificates from the operator's own PKI; this lets a fresh checkout run
TLS and mutual TLS end to end, and lets the tests do so against a CA they control.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from signing.keys import make_ca, write_private_key

PEM = serialization.Encoding.PEM


@dataclass(frozen=True)
class TlsPaths:
    ca: Path  # trust this to reach the server; also the client CA for mTLS
    server_cert: Path
    server_key: Path


def _issue(
    ca_key, ca_cert: x509.Certificate, common_name: str, usage, names: list[str] = ()
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    now = dt.datetime.now(dt.UTC)
    key = ec.generate_private_key(ec.SECP256R1())
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=397))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    )
    if names:
        sans = []
        for n in names:
            try:
                sans.append(x509.IPAddress(ipaddress.ip_address(n)))
            except ValueError:
                sans.append(x509.DNSName(n))
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return key, builder.sign(ca_key, hashes.SHA256())


def _write(directory: Path, stem: str, key, cert: x509.Certificate) -> tuple[Path, Path]:
    cert_path, key_path = directory / f"{stem}.pem", directory / f"{stem}.key"
    cert_path.write_bytes(cert.public_bytes(PEM))
    write_private_key(key_path, key)
    return cert_path, key_path


def init_dev_tls(directory: Path, hosts: list[str] = ("localhost", "127.0.0.1")) -> TlsPaths:
    """A dev CA (its key kept beside it, to issue client certificates) and a server
    certificate for `hosts`."""
    directory.mkdir(parents=True, exist_ok=True)
    ca_key, ca_cert = make_ca("reelguard dev TLS CA")
    ca_path, _ = _write(directory, "ca", ca_key, ca_cert)
    key, cert = _issue(ca_key, ca_cert, hosts[0], ExtendedKeyUsageOID.SERVER_AUTH, list(hosts))
    cert_path, key_path = _write(directory, "server", key, cert)
    return TlsPaths(ca_path, cert_path, key_path)


def issue_client_certificate(directory: Path, common_name: str) -> tuple[Path, Path]:
    """A client certificate from the dev CA in `directory`; its CN names the client."""
    ca_key = serialization.load_pem_private_key((directory / "ca.key").read_bytes(), None)
    ca_cert = x509.load_pem_x509_certificate((directory / "ca.pem").read_bytes())
    key, cert = _issue(ca_key, ca_cert, common_name, ExtendedKeyUsageOID.CLIENT_AUTH)
    stem = "client-" + "".join(c if c.isalnum() or c in "-_" else "_" for c in common_name)
    return _write(directory, stem, key, cert)
