"""Hash banks of known-bad media, through the real server: PDQ for images, frames for video."""

from __future__ import annotations

import grpc
import numpy as np
import pytest
import skimage.data
from PIL import Image

from reelguard.v1 import reelguard_pb2 as pb
from tests.support import Running, encode, make_config, terminal


@pytest.fixture(scope="module")
def svc(tmp_path_factory):
    r = Running(make_config(tmp_path_factory.mktemp("banks")))
    yield r
    r.close()


def check(svc, data: bytes):
    return svc.moderation.Check(pb.CheckRequest(media=pb.Media(data=data)))


def bank_reason(verdict):
    hits = [r for r in verdict.reasons if r.category == "hash_match"]
    assert hits, verdict
    return hits[0]


def test_banked_image_and_its_altered_copies_are_blocked_with_bank_and_distance(svc, hopper):
    svc.banks.Create(pb.CreateBankRequest(name="known-bad", description="test bank"))
    added = svc.banks.Add(
        pb.AddToBankRequest(bank="known-bad", media=pb.Media(data=encode(hopper, "JPEG")))
    )
    assert len(added.pdq_hex) == 1 and len(added.entry_ids) == 1

    exact = bank_reason(check(svc, encode(hopper, "PNG")))
    assert exact.bank == "known-bad" and exact.distance <= 4

    smaller = np.asarray(Image.fromarray(hopper).resize((256, 300)))
    altered = bank_reason(check(svc, encode(smaller, "JPEG", quality=50)))
    assert altered.distance <= 31 and "matches bank 'known-bad'" in altered.detail

    # Turned or mirrored, it is the same picture to a viewer: matched too.
    for turned in (hopper[:, ::-1], np.rot90(hopper), hopper[::-1, ::-1]):
        assert bank_reason(check(svc, encode(np.ascontiguousarray(turned)))).distance <= 31

    # Unrelated content: evidence shows the nearest distance, and it is allowed.
    verdict = check(svc, encode(skimage.data.rocket(), "PNG"))
    nearest = [f for f in verdict.findings if f.category == "hash_match"][0]
    assert nearest.distance > 31 and nearest.action == pb.ALLOW


def test_banked_content_is_blocked_in_pre_and_post_check(svc, coffee):
    svc.banks.Create(pb.CreateBankRequest(name="pre-post", max_distance=40))
    svc.banks.Add(pb.AddToBankRequest(bank="pre-post", media=pb.Media(data=encode(coffee))))
    kind, blocked = terminal(svc.generate("a cup", encode(coffee, "JPEG")))
    assert kind == "blocked" and blocked.verdict.stage == pb.PRE_CHECK
    assert bank_reason(blocked.verdict).subject == "input_image"


def test_video_frames_are_banked_and_matched(svc, chelsea_video):
    added = svc.banks.Add(pb.AddToBankRequest(bank="known-bad", media=pb.Media(data=chelsea_video)))
    assert len(added.pdq_hex) >= 2
    reason = bank_reason(check(svc, chelsea_video))
    assert reason.subject == "media_video" and reason.frame_time_s >= 0


def test_raw_hashes_removal_and_bad_requests(svc, coffee):
    from indexes.pdq import pdq, to_hex

    digest = to_hex(pdq(np.asarray(coffee)[:, ::-1])[0])
    svc.banks.Create(pb.CreateBankRequest(name="imported"))
    entry = svc.banks.Add(pb.AddToBankRequest(bank="imported", pdq_hex=[digest])).entry_ids[0]
    assert bank_reason(check(svc, encode(np.asarray(coffee)[:, ::-1]))).bank in (
        "imported",
        "pre-post",
    )
    svc.banks.Remove(pb.RemoveFromBankRequest(entry_id=entry))
    names = {b.name: b.entries for b in svc.banks.List(pb.ListBanksRequest()).banks}
    assert names["imported"] == 0
    for bad, code in [
        (pb.AddToBankRequest(bank="imported", pdq_hex=["xyz"]), grpc.StatusCode.INVALID_ARGUMENT),
        (pb.AddToBankRequest(bank="nope", pdq_hex=[digest]), grpc.StatusCode.NOT_FOUND),
        (pb.AddToBankRequest(bank="imported"), grpc.StatusCode.INVALID_ARGUMENT),
    ]:
        with pytest.raises(grpc.RpcError) as err:
            svc.banks.Add(bad)
        assert err.value.code() == code
    with pytest.raises(grpc.RpcError) as err:
        svc.banks.Create(pb.CreateBankRequest(name="imported"))
    assert "already exists" in err.value.details()


def test_cli_banks(svc, tmp_path):
    image = tmp_path / "bad.png"
    image.write_bytes(encode(skimage.data.camera()))
    assert svc.cli("banks", "create", "cli-bank", "--max-distance", "20").returncode == 0
    added = svc.cli("banks", "add", "cli-bank", image)
    assert added.returncode == 0 and "1 PDQ hash(es)" in added.stdout
    listing = svc.cli("banks", "list").stdout
    assert "cli-bank  1 hash(es)  match <= 20 bits" in listing
    blocked = svc.cli("check", image)
    assert blocked.returncode == 2 and "bank='cli-bank'" in blocked.stdout


@pytest.fixture(scope="module")
def chelsea_video(tmp_path_factory) -> bytes:
    import skimage.data

    from media.mp4 import write_mp4

    cat = skimage.data.chelsea()[:300, :448]
    frames = [np.roll(cat, 4 * i, axis=1) for i in range(24)]
    path = tmp_path_factory.mktemp("v") / "cat.mp4"
    write_mp4(frames, path, fps=12)
    return path.read_bytes()


def flipped(hex_hash: str, bits: range) -> str:
    """`hex_hash` with the given bit positions inverted."""
    value = int(hex_hash, 16)
    for b in bits:
        value ^= 1 << b
    return f"{value:064x}"


def test_each_bank_is_judged_by_its_own_distance(svc, astronaut):
    """A frame 12 bits from a strict bank's entry (match <= 10) and 25 from a loose
    bank's (match <= 31) matches the loose bank, whichever entry is nearer."""
    from indexes.pdq import pdq_media, to_hex

    frame_hash = to_hex(pdq_media(astronaut)[0])
    svc.banks.Create(pb.CreateBankRequest(name="strict", max_distance=10))
    svc.banks.Create(pb.CreateBankRequest(name="loose", max_distance=31))
    svc.banks.Add(pb.AddToBankRequest(bank="strict", pdq_hex=[flipped(frame_hash, range(12))]))
    svc.banks.Add(pb.AddToBankRequest(bank="loose", pdq_hex=[flipped(frame_hash, range(100, 125))]))
    verdict = check(svc, encode(astronaut))
    hit = bank_reason(verdict)
    assert verdict.action == pb.BLOCK
    assert hit.bank == "loose" and hit.distance == 25


def test_frames_of_low_pdq_quality_are_neither_banked_nor_matched(svc, coffee):
    """A black frame (PDQ quality 0) banked by hash must not block every video with a
    black frame; and banking a flat image adds nothing."""
    from indexes.pdq import pdq_media, to_hex

    black = np.zeros((256, 256, 3), np.uint8)
    bits, quality = pdq_media(black)
    assert quality < 50
    svc.banks.Create(pb.CreateBankRequest(name="fade-ins"))
    svc.banks.Add(pb.AddToBankRequest(bank="fade-ins", pdq_hex=[to_hex(bits)]))
    verdict = check(svc, encode(black))
    assert not [r for r in verdict.reasons if r.category == "hash_match"], verdict.reasons
    with pytest.raises(grpc.RpcError) as e:
        svc.banks.Add(pb.AddToBankRequest(bank="fade-ins", media=pb.Media(data=encode(black))))
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "quality" in e.value.details()


def test_a_known_csam_list_imported_from_a_file_blocks_as_sexual_minors(svc, coffee, tmp_path):
    from indexes.pdq import pdq_media, to_hex

    listed = to_hex(pdq_media(coffee)[0])
    (tmp_path / "list.csv").write_text(
        f"signal_type,signal_value,tags\npdq,{listed},csam\nvideo_md5,{'a' * 32},csam\n"
    )
    assert svc.cli("banks", "create", "ncmec-like", "--csam").returncode == 0
    r = svc.cli("banks", "import", "ncmec-like", str(tmp_path / "list.csv"))
    assert r.returncode == 0, r.stderr
    assert "1 hash(es) read, 1 new" in r.stdout
    verdict = check(svc, encode(coffee, "JPEG"))
    assert verdict.action == pb.BLOCK
    (reason,) = [x for x in verdict.reasons if x.category == "sexual_minors"]
    assert reason.bank == "ncmec-like" and "known-CSAM list" in reason.detail
    (bank,) = [b for b in svc.banks.List(pb.ListBanksRequest()).banks if b.name == "ncmec-like"]
    assert bank.csam and bank.entries == 1


def test_a_known_csam_entry_mirrored_or_turned_is_still_matched(svc, coffee):
    """Meta's reference hashes a query's eight dihedral variants; a listed picture sent
    mirrored, upside down or turned a quarter was 120+ bits away and passed."""
    from tests.displayed import stored_video

    for variant in (coffee[:, ::-1], coffee[::-1], np.rot90(coffee), np.rot90(coffee, -1)):
        pixels = np.ascontiguousarray(variant)
        for media in (encode(pixels, "JPEG"), stored_video([pixels] * 3)):
            verdict = check(svc, media)
            assert verdict.action == pb.BLOCK
            assert "sexual_minors" in [r.category for r in verdict.reasons], verdict.reasons


def test_a_known_csam_list_takes_hashes_never_media(svc, coffee, tmp_path):
    svc.banks.Create(pb.CreateBankRequest(name="csam-hashes-only", csam=True))
    with pytest.raises(grpc.RpcError) as err:
        svc.banks.Add(
            pb.AddToBankRequest(bank="csam-hashes-only", media=pb.Media(data=encode(coffee)))
        )
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "PDQ hashes only" in err.value.details()


def test_a_malformed_hash_list_is_refused_before_anything_is_sent(svc, tmp_path):
    svc.banks.Create(pb.CreateBankRequest(name="partner-list"))
    (tmp_path / "bad.txt").write_text("f" * 64 + "\nnot a hash\n")
    r = svc.cli("banks", "import", "partner-list", str(tmp_path / "bad.txt"))
    assert r.returncode != 0 and "line 2: not a PDQ hash" in r.stderr
    (bank,) = [b for b in svc.banks.List(pb.ListBanksRequest()).banks if b.name == "partner-list"]
    assert bank.entries == 0


def test_a_client_is_told_the_verdict_never_the_distance(svc, hopper):
    """Check used to return the exact PDQ distance to each bank's nearest entry, match or
    not: an oracle for walking a picture just past the limit. A generation client gets
    the verdict and the category; the decision record keeps the rest for auditors."""
    import json

    from reelguard.v1 import reelguard_pb2_grpc as rpc

    _, channel = svc.client("generator-client", "oracle-tenant")
    moderation, decisions = rpc.ModerationStub(channel), rpc.DecisionsStub(channel)
    for pixels in (hopper, skimage.data.rocket()):  # a match, and a near miss
        verdict = moderation.Check(pb.CheckRequest(media=pb.Media(data=encode(pixels))))
        for finding in [*verdict.reasons, *verdict.findings]:
            assert not finding.bank and finding.distance in (0, -1), finding
            assert not any(ch.isdigit() for ch in finding.detail), finding.detail
            assert finding.score == 0.0 and finding.threshold == 0.0
        assert not [
            f for f in verdict.findings if f.action == pb.ALLOW and f.category == "hash_match"
        ]
        told = json.loads(decisions.Get(pb.DecisionRef(id=verdict.decision_id)).evidence_json)
        evidence = told["reasons"] + told["findings"]
        assert all(f.get("distance", -1) == -1 and not f.get("bank") for f in evidence)
        record = svc_decision(svc, verdict.decision_id)
        assert any(f.get("distance", -1) >= 0 for f in record["findings"])  # kept for auditors
    assert verdict.action == pb.ALLOW  # the near miss
    blocked = moderation.Check(pb.CheckRequest(media=pb.Media(data=encode(hopper))))
    assert blocked.action == pb.BLOCK and blocked.reasons[0].category == "hash_match"


def svc_decision(svc, decision_id: str) -> dict:
    import json

    from reelguard.v1 import reelguard_pb2_grpc as rpc

    decision = rpc.DecisionsStub(svc.channel).Get(pb.DecisionRef(id=decision_id))
    return json.loads(decision.evidence_json)
