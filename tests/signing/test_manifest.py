"""Signing every supported format with c2pa-python, checked by the real verifier."""

from __future__ import annotations

import pytest

from signing.keys import init_dev_chain
from signing.manifest import C2paManifestSigner, Ingredient, ManifestSpec
from signing.signer import CallbackSigner, KeyFileSigner
from signing.verify import Verifier
from tests.support import encode, video


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    return init_dev_chain(tmp_path_factory.mktemp("keys"))


@pytest.fixture(scope="module")
def signer(chain):
    return C2paManifestSigner(
        KeyFileSigner(chain.key, chain.chain), trust_anchors_pem=chain.root_cert.read_text()
    )


@pytest.fixture(scope="module")
def verifier(chain):
    return Verifier(chain.root_cert.read_text())


def spec(title: str, ingredients=()) -> ManifestSpec:
    return ManifestSpec(
        title, "reelguard/test", "1", "test/model", {"action": "allow"}, list(ingredients)
    )


@pytest.mark.parametrize(
    "mime, make",
    [
        ("image/jpeg", lambda a: encode(a, "JPEG")),
        ("image/png", lambda a: encode(a, "PNG")),
        ("image/webp", lambda a: encode(a, "WEBP")),
        ("video/mp4", lambda a: video("mp4")),
        ("video/quicktime", lambda a: video("mov")),
    ],
)
def test_every_format_signs_and_verifies_trusted(signer, verifier, coffee, mime, make):
    signed = signer.sign_bytes(spec("out"), make(coffee), mime)
    report = verifier.verify_bytes(signed)
    assert report.status == "trusted", report.to_json()
    assert report.actions == ["c2pa.created"] and report.moderation == {"action": "allow"}
    assert report.manifest["claim_generator"].startswith("reelguard 0.1.0")
    labels = [a["label"] for a in report.manifest["assertions"]]
    assert "c2pa.actions.v2" in labels and "org.reelguard.moderation" in labels


def test_a_signed_ingredient_keeps_its_manifest_inside_ours(signer, verifier, coffee, astronaut):
    first = signer.sign_bytes(spec("first.jpg"), encode(coffee, "JPEG"), "image/jpeg")
    second = signer.sign_bytes(
        spec("second.png", [Ingredient("first.jpg", "image/jpeg", first)]),
        encode(astronaut),
        "image/png",
    )
    report = verifier.verify_bytes(second)
    assert report.status == "trusted"
    (ing,) = report.manifest["ingredients"]
    assert ing["relationship"] == "inputTo" and ing["failures_at_ingest"] == []
    assert ing["manifest"]["title"] == "first.jpg"
    assert ing["manifest"]["signer"] == "reelguard dev signer"
    assert report.ingredients[0]["has_manifest"] is True


def test_callback_signer_gets_the_whole_sig_structure(chain, verifier, coffee):
    key_signer = KeyFileSigner(chain.key, chain.chain)
    seen = []

    def sign(data: bytes) -> bytes:
        seen.append(data)
        return key_signer.sign(data)

    signer = C2paManifestSigner(CallbackSigner(sign, chain.chain.read_text()))
    signed = signer.sign_bytes(spec("cb.jpg"), encode(coffee, "JPEG"), "image/jpeg")
    assert verifier.verify_bytes(signed).status == "trusted"
    # A COSE Sig_structure is a CBOR array starting with the text "Signature1".
    assert seen and seen[0][:12] == b"\x84jSignature1"
    assert len(seen[0]) > 64  # not a bare digest


def test_thumbnails_are_configurable(chain, coffee):
    image = encode(coffee, "JPEG")
    with_thumb = C2paManifestSigner(KeyFileSigner(chain.key, chain.chain), thumbnails=True)
    without = C2paManifestSigner(KeyFileSigner(chain.key, chain.chain), thumbnails=False)
    big = with_thumb.sign_bytes(spec("t.jpg"), image, "image/jpeg")
    small = without.sign_bytes(spec("t.jpg"), image, "image/jpeg")
    assert len(big) > len(small) + 5000


def test_rfc3161_timestamp_from_a_local_tsa_with_its_own_trust_list(chain, coffee):
    from tests.tsa import LocalTsa

    with LocalTsa() as tsa:
        signer = C2paManifestSigner(KeyFileSigner(chain.key, chain.chain), tsa_url=tsa.url)
        signed = signer.sign_bytes(spec("ts.jpg"), encode(coffee, "JPEG"), "image/jpeg")
        assert tsa.requests == 1
        tsa_root = tsa.root_pem
    signer_root = chain.root_cert.read_text()

    without_tsa_list = Verifier(signer_root).verify_bytes(signed)
    assert without_tsa_list.status == "trusted"
    assert without_tsa_list.timestamp["time"][:10] == without_tsa_list.signed_at[:10]
    assert without_tsa_list.timestamp["trusted"] is False
    assert "timeStamp.validated" in {s["code"] for s in without_tsa_list.statuses}

    both = Verifier(signer_root, tsa_anchors_pem=tsa_root).verify_bytes(signed)
    assert both.status == "trusted" and both.timestamp["trusted"] is True

    # The TSA list never vouches for claim signers.
    only_tsa = Verifier(tsa_root).verify_bytes(signed)
    assert only_tsa.status == "valid_untrusted" and "signer is not trusted" in only_tsa.summary


def test_the_manifest_is_what_a_conformance_validator_expects(signer, coffee):
    """Read back as crJSON (c2pa-rs's own reader): the actions assertion is a created
    assertion (claim v2), says it lists every action, namespaces its parameters; the claim
    generator names the spec version; training and mining are not allowed."""
    import io
    import json

    import c2pa

    signed = signer.sign(spec("out.jpg"), encode(coffee, "JPEG"), "image/jpeg").data
    with c2pa.Reader("image/jpeg", io.BytesIO(signed)) as reader:
        (manifest,) = json.loads(reader.crjson())["manifests"]
    claim = manifest["claim.v2"]
    created = [ref["url"].rsplit("/", 1)[-1] for ref in claim["created_assertions"]]
    gathered = [ref["url"].rsplit("/", 1)[-1] for ref in claim["gathered_assertions"]]
    assert "c2pa.actions.v2" in created and "c2pa.actions.v2" not in gathered
    assert claim["claim_generator_info"]["specVersion"] == "2.4"
    actions = manifest["assertions"]["c2pa.actions.v2"]
    assert actions["allActionsIncluded"] is True
    (created_action,) = actions["actions"]
    assert created_action["digitalSourceType"].endswith("/trainedAlgorithmicMedia")
    assert all("." in key for key in created_action["parameters"])  # namespaced
    entries = manifest["assertions"]["cawg.training-mining"]["entries"]
    assert {use["use"] for use in entries.values()} == {"notAllowed"}
    assert set(entries) == {
        "cawg.ai_generative_training",
        "cawg.ai_training",
        "cawg.ai_inference",
        "cawg.data_mining",
    }
