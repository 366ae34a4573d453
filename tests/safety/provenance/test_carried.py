"""What rides inside a file is media too: an input's or an ingredient's C2PA thumbnails,
and Sign's ingredient files, are checked before our signature covers them (through
the real server)."""

from __future__ import annotations

import grpc
import pytest
import skimage.data

from reelguard.v1 import reelguard_pb2 as pb
from tests.displayed import with_claim_thumbnail
from tests.support import encode, terminal

BAD = skimage.data.rocket()  # standing in for known-bad media: no other test sends it


@pytest.fixture(scope="module")
def banked(running):
    running.banks.Create(pb.CreateBankRequest(name="carried"))
    running.banks.Add(pb.AddToBankRequest(bank="carried", media=pb.Media(data=encode(BAD))))
    return "carried"


@pytest.fixture(scope="module")
def carrier(tmp_path_factory, coffee) -> bytes:
    """A coffee cup whose C2PA claim thumbnail is the banked picture."""
    return with_claim_thumbnail(coffee, BAD, tmp_path_factory.mktemp("elsewhere"))


def sign(running, data: bytes, *ingredients: bytes) -> pb.SignResponse:
    return running.provenance.Sign(
        pb.SignRequest(
            media=pb.Media(data=data, filename="made-elsewhere.jpg"),
            ingredients=[
                pb.Media(data=d, filename=f"in{i}.jpg") for i, d in enumerate(ingredients)
            ],
        )
    )


def blocked_subjects(verdict: pb.Verdict) -> set[str]:
    return {r.subject for r in verdict.reasons if r.action == pb.BLOCK}


def test_an_ingredients_claim_thumbnail_is_checked_before_it_is_signed_into_ours(
    running, banked, carrier, coffee
):
    """The thumbnail was copied byte for byte into our signed output, never moderated."""
    response = sign(running, encode(coffee, "JPEG"), carrier)
    assert response.verdict.action == pb.BLOCK and not response.signed.data
    assert "ingredient_1_carried" in blocked_subjects(response.verdict)


def test_a_files_own_claim_thumbnail_is_checked(running, banked, carrier):
    verdict = running.moderation.Check(pb.CheckRequest(media=pb.Media(data=carrier)))
    assert verdict.action == pb.BLOCK and "media_carried" in blocked_subjects(verdict)
    assert sign(running, carrier).verdict.action == pb.BLOCK


def test_an_input_images_claim_thumbnail_is_checked_before_generating(running, banked, carrier):
    kind, event = terminal(running.generate("steam rising", carrier))
    assert kind == "blocked" and event.verdict.stage == pb.PRE_CHECK
    assert "input_image_carried" in blocked_subjects(event.verdict)


def test_sign_ingredients_are_checked_like_the_file(running, banked, coffee):
    response = sign(running, encode(coffee, "JPEG"), encode(BAD, "JPEG"))
    assert response.verdict.action == pb.BLOCK and "ingredient_1" in blocked_subjects(
        response.verdict
    )
    with pytest.raises(grpc.RpcError) as err:
        sign(running, encode(coffee, "JPEG"), b"just some notes, not media")
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "ingredient 1 is not an image or a video" in err.value.details()


def test_a_clean_ingredient_with_a_clean_thumbnail_still_signs(
    running, banked, coffee, tmp_path_factory
):
    clean = with_claim_thumbnail(coffee, skimage.data.chelsea(), tmp_path_factory.mktemp("ok"))
    response = sign(running, encode(skimage.data.camera(), "JPEG"), clean)
    assert response.verdict.action == pb.ALLOW and response.signed.data
