"""A local RFC 3161 timestamp authority for tests: `openssl ts -reply` behind HTTP.

It has its own root CA and a TSA certificate (extendedKeyUsage timeStamping, critical),
listens on 127.0.0.1 only, and stops with its context manager.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


def _cert(subject, issuer, public_key, signing_key, *, ca: bool, eku=None):
    """A certificate with the profile C2PA validators check: key usage, SKI/AKI."""
    now = dt.datetime.now(dt.UTC)
    usage = dict.fromkeys(
        [
            "digital_signature",
            "content_commitment",
            "key_encipherment",
            "data_encipherment",
            "key_agreement",
            "key_cert_sign",
            "crl_sign",
            "encipher_only",
            "decipher_only",
        ],
        False,
    )
    usage["key_cert_sign" if ca else "digital_signature"] = True
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(x509.KeyUsage(**usage), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(signing_key.public_key()),
            critical=False,
        )
    )
    if eku:
        builder = builder.add_extension(x509.ExtendedKeyUsage(eku), critical=True)
    return builder.sign(signing_key, hashes.SHA256())


class LocalTsa:
    def __init__(self) -> None:
        self._dir = Path(tempfile.mkdtemp(prefix="tsa-"))
        root_key = ec.generate_private_key(ec.SECP256R1())
        root_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test TSA root")])
        self.root = _cert(root_name, root_name, root_key.public_key(), root_key, ca=True)
        tsa_key = ec.generate_private_key(ec.SECP256R1())
        tsa = _cert(
            x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test TSA")]),
            root_name,
            tsa_key.public_key(),
            root_key,
            ca=False,
            eku=[ExtendedKeyUsageOID.TIME_STAMPING],
        )
        pem = serialization.Encoding.PEM
        self.root_pem = self.root.public_bytes(pem).decode()
        (self._dir / "tsa.crt").write_bytes(tsa.public_bytes(pem))
        (self._dir / "chain.pem").write_bytes(tsa.public_bytes(pem) + self.root.public_bytes(pem))
        (self._dir / "tsa.key").write_bytes(
            tsa_key.private_bytes(
                pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        (self._dir / "serial").write_text("01\n")
        (self._dir / "tsa.cnf").write_text(
            "[ tsa ]\ndefault_tsa = tsa1\n[ tsa1 ]\n"
            f"dir = {self._dir}\nserial = $dir/serial\ncrypto_device = builtin\n"
            "signer_cert = $dir/tsa.crt\ncerts = $dir/chain.pem\nsigner_key = $dir/tsa.key\n"
            "signer_digest = sha256\ndefault_policy = 1.2.3.4.1\ndigests = sha256, sha384, sha512\n"
            "accuracy = secs:1\nordering = yes\ntsa_name = yes\ness_cert_id_chain = no\n"
            "ess_cert_id_alg = sha256\n"
        )
        self.requests = 0
        tsa_self = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                query = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                reply = tsa_self._reply(query)
                tsa_self.requests += 1
                self.send_response(200 if reply else 500)
                self.send_header("Content-Type", "application/timestamp-reply")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args):  # keep test output quiet
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/tsr"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def _reply(self, query: bytes) -> bytes:
        with tempfile.TemporaryDirectory(dir=self._dir) as tmp:
            q, r = Path(tmp) / "q.tsq", Path(tmp) / "r.tsr"
            q.write_bytes(query)
            done = subprocess.run(
                [
                    "openssl",
                    "ts",
                    "-reply",
                    "-config",
                    str(self._dir / "tsa.cnf"),
                    "-queryfile",
                    str(q),
                    "-out",
                    str(r),
                ],
                capture_output=True,
            )
            return r.read_bytes() if done.returncode == 0 and r.exists() else b""

    def __enter__(self) -> LocalTsa:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
