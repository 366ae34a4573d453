"""A signature only for a recorded decision: the signer asks the store first.

The store here is the in-memory one (conformance-tested against SQLite and PostgreSQL);
the signer and the verifier are the real ones."""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
import pytest

from safety.store.memory import MemoryStore
from safety.store.records import SigningAuthorization
from signing.authorization import AuthorizedSigner, NotAuthorized, spec_digest
from signing.keys import init_dev_chain
from signing.manifest import C2paManifestSigner, Ingredient, ManifestSpec
from signing.signer import KeyFileSigner
from signing.source_types import TRAINED_ALGORITHMIC_MEDIA
from signing.verify import Verifier
from tests.support import encode


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    return init_dev_chain(tmp_path_factory.mktemp("keys"))


@pytest.fixture
def store():
    return MemoryStore()


@pytest.fixture
def signer(chain, store):
    return AuthorizedSigner(C2paManifestSigner(KeyFileSigner(chain.key, chain.chain)), store)


INPUT = encode(np.full((16, 16, 3), 90, np.uint8))


def allowed(decision_id: str = "d1", action: str = "allow") -> ManifestSpec:
    return ManifestSpec(
        title="out.png",
        generator_name="reelguard/test",
        generator_version="1",
        model_id="m",
        moderation={"decision_id": decision_id, "action": action},
        ingredients=[Ingredient("input.png", "image/png", INPUT, "character")],
    )


def authorize(store, spec: ManifestSpec, data: bytes) -> None:
    import hashlib

    content = hashlib.sha256(data).hexdigest()
    store.authorize_signing(
        SigningAuthorization("d1", "t", content, spec_digest(spec), time.time())
    )


def test_what_a_decision_authorizes_is_signed_once(signer, store, chain, coffee):
    data, spec = encode(coffee), allowed()
    authorize(store, spec, data)
    signed = signer.sign_bytes(spec, data, "image/png")
    report = Verifier(chain.root_cert.read_text()).verify_bytes(signed, "image/png")
    assert report.status == "trusted" and report.moderation["decision_id"] == "d1"
    with pytest.raises(NotAuthorized, match="no recorded decision"):
        signer.sign_bytes(spec, data, "image/png")  # used up


def test_nothing_else_is_signed_under_a_decision(signer, store, coffee, astronaut):
    """A caller that reaches the signer (a compromised media worker holding the Ray
    cluster token) with its own bytes, or with another manifest for the allowed bytes."""
    data, spec = encode(coffee), allowed()
    authorize(store, spec, data)
    forged = [
        (allowed("never-recorded"), data),  # a decision nobody recorded
        (spec, encode(astronaut)),  # other bytes under the allowed decision
        (
            replace(
                spec,
                digital_source_type="http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture",
            ),
            data,
        ),
        (replace(spec, moderation={**spec.moderation, "scores": []}), data),  # another verdict
        (replace(spec, ingredients=[]), data),  # ingredients dropped
    ]
    for bad_spec, bad_data in forged:
        with pytest.raises(NotAuthorized):
            signer.sign(bad_spec, bad_data, "image/png")
    assert spec.digital_source_type == TRAINED_ALGORITHMIC_MEDIA
    signer.sign(spec, data, "image/png")  # what was recorded is still signed


def test_a_block_is_never_signed_even_when_recorded(signer, store, coffee):
    data, spec = encode(coffee), allowed(action="block")
    authorize(store, spec, data)
    with pytest.raises(NotAuthorized, match="'block'"):
        signer.sign(spec, data, "image/png")


def test_a_file_is_checked_by_its_bytes(signer, store, coffee, tmp_path):
    source = tmp_path / "out.png"
    source.write_bytes(encode(coffee))
    spec = allowed()
    with pytest.raises(NotAuthorized):
        signer.sign_file(spec, source, tmp_path / "signed.png", "image/png")
    authorize(store, spec, source.read_bytes())
    signed = signer.sign_file(spec, source, tmp_path / "signed.png", "image/png")
    assert len(signed.sha256) == 64
