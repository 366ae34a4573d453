import stat

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID

from signing.keys import init_dev_chain


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
    assert list(eku) == [ExtendedKeyUsageOID.EMAIL_PROTECTION]
    aki = ext.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    root_ski = root.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert aki.key_identifier == root_ski.digest
    ext.get_extension_for_class(x509.SubjectKeyIdentifier)
    assert root.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is True
    assert stat.S_IMODE(paths.key.stat().st_mode) == 0o600


def test_refuses_to_overwrite_an_existing_key(tmp_path):
    init_dev_chain(tmp_path)
    with pytest.raises(FileExistsError):
        init_dev_chain(tmp_path)
