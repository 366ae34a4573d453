import os

import pytest

from signing.keys import init_dev_chain
from signing.signer import KeyFileSigner, SigningKeyError


def test_group_readable_key_is_refused_without_leaking_it(tmp_path):
    paths = init_dev_chain(tmp_path)
    os.chmod(paths.key, 0o640)
    with pytest.raises(SigningKeyError, match="chmod 600") as err:
        KeyFileSigner(paths.key, paths.chain)
    assert "PRIVATE KEY" not in str(err.value)


def test_garbage_key_error_does_not_echo_the_file(tmp_path):
    paths = init_dev_chain(tmp_path)
    secret = "-----BEGIN PRIVATE KEY-----\nc2VjcmV0LXNlY3JldA==\n-----END PRIVATE KEY-----\n"
    paths.key.write_text(secret)
    with pytest.raises(SigningKeyError) as err:
        KeyFileSigner(paths.key, paths.chain)
    assert "c2VjcmV0" not in str(err.value) and err.value.__cause__ is None


def test_signs_with_the_chain_key(tmp_path):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    paths = init_dev_chain(tmp_path)
    signer = KeyFileSigner(paths.key, paths.chain)
    sig = signer.sign(b"sig structure")
    leaf = x509.load_pem_x509_certificates(paths.chain.read_bytes())[0]
    leaf.public_key().verify(sig, b"sig structure", ec.ECDSA(hashes.SHA256()))
