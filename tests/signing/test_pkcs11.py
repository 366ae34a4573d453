"""The KMS/HSM path against a real PKCS#11 token: SoftHSM, key generated inside it."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from signing.keys import init_dev_chain, issue_signing_certificate, load_dev_root
from signing.manifest import C2paManifestSigner, ManifestSpec
from signing.signer import SigningKeyError
from signing.verify import Verifier
from tests.support import encode

MODULE = "/usr/lib/softhsm/libsofthsm2.so"
pytest.importorskip("pkcs11", reason="python-pkcs11 not installed (the test extra has it)")
if not (Path(MODULE).exists() and shutil.which("softhsm2-util")):
    pytest.skip(
        f"SoftHSM not installed ({MODULE}); .ci/run installs Debian's softhsm2",
        allow_module_level=True,
    )


@pytest.fixture(scope="module")
def token(tmp_path_factory):
    """A fresh SoftHSM token in a temp dir; its config is pointed to by SOFTHSM2_CONF."""
    home = tmp_path_factory.mktemp("softhsm")
    (home / "tokens").mkdir()
    conf = home / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {home / 'tokens'}\nobjectstore.backend = file\n")
    old = os.environ.get("SOFTHSM2_CONF")
    os.environ["SOFTHSM2_CONF"] = str(conf)
    subprocess.run(
        [
            "softhsm2-util",
            "--init-token",
            "--free",
            "--label",
            "reelguard",
            "--pin",
            "4321",
            "--so-pin",
            "87654321",
        ],
        check=True,
        capture_output=True,
    )
    yield "reelguard"
    if old is None:
        os.environ.pop("SOFTHSM2_CONF", None)
    else:
        os.environ["SOFTHSM2_CONF"] = old


def test_sign_with_a_key_that_never_leaves_the_token(token, tmp_path, coffee, monkeypatch):
    from signing.pkcs11 import Pkcs11Signer, chain_pem, generate_token_key

    paths = init_dev_chain(tmp_path / "ca")
    root_key, root = load_dev_root(tmp_path / "ca")
    public = generate_token_key(MODULE, token, "c2pa-signer", "4321")
    cert = issue_signing_certificate(root_key, root, public, common_name="reelguard hsm signer")

    monkeypatch.setenv("HSM_PIN", "4321")
    hsm = Pkcs11Signer(MODULE, token, "c2pa-signer", "HSM_PIN", chain_pem(cert, root))
    calls = []
    inner = hsm.sign
    hsm.sign = lambda data: calls.append(len(data)) or inner(data)
    signed = C2paManifestSigner(hsm).sign_bytes(
        ManifestSpec("hsm.jpg", "reelguard/test", "1", "m", {"action": "allow"}),
        encode(coffee, "JPEG"),
        "image/jpeg",
    )
    report = Verifier(paths.root_cert.read_text()).verify_bytes(signed)
    assert report.status == "trusted", report.to_json()
    assert report.signer == "reelguard hsm signer"
    assert calls and calls[0] > 64  # the whole Sig_structure went to the callback
    hsm.close()

    import pkcs11

    lib = pkcs11.lib(MODULE)
    with lib.get_token(token_label=token).open(user_pin="4321") as session:
        key = session.get_key(object_class=pkcs11.ObjectClass.PRIVATE_KEY, label="c2pa-signer")
        assert key[pkcs11.Attribute.EXTRACTABLE] is False
        assert key[pkcs11.Attribute.SENSITIVE] is True


def test_a_wrong_pin_is_a_clear_error_without_the_pin(token, monkeypatch):
    from signing.pkcs11 import Pkcs11Signer

    monkeypatch.setenv("HSM_PIN", "0000")
    with pytest.raises(SigningKeyError) as err:
        Pkcs11Signer(MODULE, token, "c2pa-signer", "HSM_PIN", "")
    assert "PinIncorrect" in str(err.value) and "0000" not in str(err.value)
    monkeypatch.delenv("HSM_PIN")
    with pytest.raises(SigningKeyError, match="HSM_PIN"):
        Pkcs11Signer(MODULE, token, "c2pa-signer", "HSM_PIN", "")


def test_keys_csr_for_the_token_key_is_signed_inside_the_token(token, tmp_path, monkeypatch):
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    from signing.pkcs11 import generate_token_key
    from signing.profile import CLAIM_SIGNING_EKU
    from tests.support import cli

    public = generate_token_key(MODULE, token, "csr-key", "4321")
    config = tmp_path / "reelguard.toml"
    config.write_text(
        f'signing_pkcs11_module = "{MODULE}"\nsigning_pkcs11_token = "{token}"\n'
        'signing_pkcs11_key = "csr-key"\nsigning_pkcs11_pin_env = "CSR_PIN"\n'
    )
    args = ["--config", str(config), "keys", "csr", "--cn", "Acme", "--org", "Acme"]
    args += ["--country", "DE", "--out", str(tmp_path / "req.pem")]
    env = {"SOFTHSM2_CONF": os.environ["SOFTHSM2_CONF"], "CSR_PIN": "4321"}
    r = cli(*args, env=env)
    assert r.returncode == 0, r.stderr
    csr = x509.load_pem_x509_csr((tmp_path / "req.pem").read_bytes())
    assert csr.is_signature_valid  # by the token's key: it certifies the token's public key
    raw = (Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    assert csr.public_key().public_bytes(*raw) == public.public_bytes(*raw)
    assert csr.subject.rfc4514_string() == "CN=Acme,O=Acme,C=DE"
    eku = csr.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert CLAIM_SIGNING_EKU in list(eku)

    wrong = cli(*args, env={**env, "CSR_PIN": "0000"})
    assert wrong.returncode != 0 and "PinIncorrect" in wrong.stderr
    assert "0000" not in wrong.stderr + wrong.stdout


def test_the_watermark_key_is_derived_in_the_token_and_kept_nowhere(token, tmp_path):
    import pkcs11

    from safety.service.config import Config
    from safety.service.signers import watermark_key
    from tests.support import cli

    config = tmp_path / "reelguard.toml"
    config.write_text(
        f'data_dir = "{tmp_path / "data"}"\nsigning_pkcs11_module = "{MODULE}"\n'
        f'signing_pkcs11_token = "{token}"\nsigning_pkcs11_pin_env = "WM_PIN"\n'
        'watermark_key_pkcs11 = "wm-secret"\n'
    )
    env = {"SOFTHSM2_CONF": os.environ["SOFTHSM2_CONF"], "WM_PIN": "4321"}
    r = cli("--config", config, "keys", "watermark-secret", "--label", "wm-secret", env=env)
    assert r.returncode == 0, r.stderr
    os.environ["WM_PIN"] = "4321"
    try:
        cfg = Config.load(config)
        key = watermark_key(cfg)
        assert len(key) == 32 and watermark_key(cfg) == key  # every front door: the same key
        assert not (tmp_path / "data" / "watermark.key").exists()
        cfg.watermark_key_pkcs11 = "no-such-secret"
        with pytest.raises(SigningKeyError, match="no-such-secret"):
            watermark_key(cfg)
    finally:
        del os.environ["WM_PIN"]
    with pkcs11.lib(MODULE).get_token(token_label=token).open(user_pin="4321") as session:
        secret = session.get_key(object_class=pkcs11.ObjectClass.SECRET_KEY, label="wm-secret")
        assert secret[pkcs11.Attribute.EXTRACTABLE] is False
