import stat

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID

from signing.keys import init_dev_chain, load_dev_root
from signing.profile import CLAIM_SIGNING_EKU, check_leaf


def test_dev_chain_has_a_proper_end_entity_certificate(tmp_path):
    paths = init_dev_chain(tmp_path / "k")
    leaf, root = x509.load_pem_x509_certificates(paths.chain.read_bytes())
    assert leaf.issuer == root.subject
    assert isinstance(leaf.public_key(), ec.EllipticCurvePublicKey)
    assert leaf.public_key().curve.name == "secp256r1"
    ext = leaf.extensions
    assert ext.get_extension_for_class(x509.BasicConstraints).value.ca is False
    ku = ext.get_extension_for_class(x509.KeyUsage)
    assert ku.critical and ku.value.digital_signature and not ku.value.key_cert_sign
    eku = ext.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [CLAIM_SIGNING_EKU, ExtendedKeyUsageOID.EMAIL_PROTECTION]
    aki = ext.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    root_ski = root.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert aki.key_identifier == root_ski.digest
    ext.get_extension_for_class(x509.SubjectKeyIdentifier)
    assert root.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is True
    assert stat.S_IMODE(paths.key.stat().st_mode) == 0o600
    # Every point of the C2PA claim-signing leaf profile a dev chain can meet.
    assert [p.name for p in check_leaf(leaf) if not p.ok] == []


def test_keys_check_names_the_profile_points_a_chain_misses(tmp_path):
    """A leaf issued the old way (emailProtection only, 825 days, no C, no policy)."""
    import datetime as dt

    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import NameOID

    from tests.support import cli

    paths = init_dev_chain(tmp_path / "k")
    root_key, root = load_dev_root(tmp_path / "k")
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    old = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "old signer")]))
        .issuer_name(root.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=825))
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), False)
        .sign(root_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    chain = tmp_path / "old.pem"
    chain.write_bytes(old.public_bytes(pem) + root.public_bytes(pem))
    r = cli("keys", "check", str(chain), "--trust-anchors", str(paths.root_cert))
    assert r.returncode != 0
    missed = [line for line in r.stdout.splitlines() if line.startswith("MISS")]
    assert any("c2pa-kp-claimSigning" in m for m in missed)
    assert any("validity" in m for m in missed) and any("C, O and CN" in m for m in missed)
    assert "chains to a configured trust anchor" in r.stdout and "MISS chains" not in r.stdout
    good = cli("keys", "check", str(paths.chain), "--trust-anchors", str(paths.root_cert))
    assert good.returncode == 0 and "13 of 13" in good.stdout


def test_keys_csr_asks_for_the_claim_signing_profile(tmp_path):
    from tests.support import cli

    paths = init_dev_chain(tmp_path / "k")
    out = tmp_path / "req.pem"
    r = cli(
        "keys",
        "csr",
        "--key",
        str(paths.key),
        "--cn",
        "Acme",
        "--org",
        "Acme",
        "--country",
        "DE",
        "--out",
        str(out),
    )
    assert r.returncode == 0, r.stderr
    csr = x509.load_pem_x509_csr(out.read_bytes())
    assert csr.is_signature_valid
    assert csr.subject.rfc4514_string() == "CN=Acme,O=Acme,C=DE"
    eku = csr.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert CLAIM_SIGNING_EKU in list(eku)


def test_refuses_to_overwrite_an_existing_key(tmp_path):
    init_dev_chain(tmp_path)
    with pytest.raises(FileExistsError):
        init_dev_chain(tmp_path)
