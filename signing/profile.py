"""The C2PA claim-signing certificate profile: what a leaf needs for validators to trust it.

The points checked (C2PA 2.x, "Certificate profile" and the conformance program's
claim-signing leaf profile) are the ones a CA is asked for; `reelguard keys check` lists
each for an operator's chain, and `keys init` follows them as far as a dev chain can.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

CLAIM_SIGNING_EKU = ObjectIdentifier("1.3.6.1.4.1.62558.2.1")  # c2pa-kp-claimSigning
CLAIM_SIGNING_POLICY = ObjectIdentifier("1.3.6.1.4.1.62558.1.1")
MAX_VALIDITY_DAYS = 366


@dataclass(frozen=True)
class Point:
    name: str
    ok: bool
    detail: str = ""


def _ext(cert: x509.Certificate, kind):
    try:
        return cert.extensions.get_extension_for_class(kind)
    except x509.ExtensionNotFound:
        return None


def check_leaf(leaf: x509.Certificate) -> list[Point]:
    """Each profile point for a claim-signing leaf certificate, met or not."""
    points = []
    ku = _ext(leaf, x509.KeyUsage)
    points.append(
        Point(
            "KeyUsage digitalSignature, critical",
            bool(ku and ku.critical and ku.value.digital_signature),
        )
    )
    bc = _ext(leaf, x509.BasicConstraints)
    points.append(
        Point("BasicConstraints cA=false, critical", bool(bc and bc.critical and not bc.value.ca))
    )
    eku = _ext(leaf, x509.ExtendedKeyUsage)
    usages = set(eku.value) if eku else set()
    points.append(
        Point("EKU c2pa-kp-claimSigning (1.3.6.1.4.1.62558.2.1)", CLAIM_SIGNING_EKU in usages)
    )
    points.append(Point("EKU emailProtection", ExtendedKeyUsageOID.EMAIL_PROTECTION in usages))
    points.append(
        Point(
            "no anyExtendedKeyUsage",
            ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE not in usages,
        )
    )
    points.append(Point("SubjectKeyIdentifier", _ext(leaf, x509.SubjectKeyIdentifier) is not None))
    points.append(
        Point("AuthorityKeyIdentifier", _ext(leaf, x509.AuthorityKeyIdentifier) is not None)
    )
    policies = _ext(leaf, x509.CertificatePolicies)
    ids = {p.policy_identifier for p in policies.value} if policies else set()
    points.append(Point("certificate policy 1.3.6.1.4.1.62558.1.1", CLAIM_SIGNING_POLICY in ids))
    days = (leaf.not_valid_after_utc - leaf.not_valid_before_utc) / dt.timedelta(days=1)
    points.append(
        Point(
            f"validity <= {MAX_VALIDITY_DAYS} days",
            days <= MAX_VALIDITY_DAYS + 1,
            f"{days:.0f} days",
        )
    )
    subject = {a.oid for a in leaf.subject}
    wanted = (("C", NameOID.COUNTRY_NAME), ("O", NameOID.ORGANIZATION_NAME))
    missing = [n for n, oid in (*wanted, ("CN", NameOID.COMMON_NAME)) if oid not in subject]
    points.append(
        Point(
            "subject has C, O and CN",
            not missing,
            "missing " + ", ".join(missing) if missing else "",
        )
    )
    points.append(
        Point("key: EC P-256/384/521, Ed25519 or RSA >= 2048", _strong(leaf.public_key()))
    )
    return points


def _strong(key) -> bool:
    if isinstance(key, ec.EllipticCurvePublicKey):
        return key.curve.name in ("secp256r1", "secp384r1", "secp521r1")
    if isinstance(key, rsa.RSAPublicKey):
        return key.key_size >= 2048
    return isinstance(key, ed25519.Ed25519PublicKey)


def chains_to(chain: list[x509.Certificate], anchors: list[x509.Certificate]) -> Point:
    """Whether the chain's last certificate is issued by (or is) one of the anchors."""
    top = chain[-1]
    for anchor in anchors:
        if anchor == top:
            return Point(
                "chains to a configured trust anchor", True, anchor.subject.rfc4514_string()
            )
        if anchor.subject == top.issuer:
            try:
                top.verify_directly_issued_by(anchor)
            except (ValueError, TypeError, InvalidSignature):
                continue
            return Point(
                "chains to a configured trust anchor", True, anchor.subject.rfc4514_string()
            )
    return Point(
        "chains to a configured trust anchor", False, f"top issuer {top.issuer.rfc4514_string()}"
    )


def links(chain: list[x509.Certificate]) -> Point:
    """Each certificate is issued by the next one."""
    for cert, issuer in zip(chain, chain[1:], strict=False):
        try:
            cert.verify_directly_issued_by(issuer)
        except (ValueError, TypeError, InvalidSignature) as e:
            return Point("each certificate issued by the next", False, str(e))
    return Point("each certificate issued by the next", True)
