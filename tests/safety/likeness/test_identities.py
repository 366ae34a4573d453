"""Identities, consent and driving performances through a real gRPC server."""

from __future__ import annotations

import time
from fractions import Fraction

import av
import grpc
import numpy as np
import pytest
from PIL import Image, ImageFilter

from media.mp4 import write_mp4
from reelguard.v1 import reelguard_pb2 as pb
from signing.verify import Verifier
from tests.support import (
    Running,
    encode,
    make_config,
    output_bytes,
    performance,
    png_header_only,
    terminal,
)


@pytest.fixture(scope="module")
def svc(tmp_path_factory):
    """A service of its own: these tests enrol, remove and grant."""
    r = Running(make_config(tmp_path_factory.mktemp("ids")))
    yield r
    r.close()


@pytest.fixture(scope="module")
def collins(svc, astronaut):
    images = [encode(astronaut), encode(astronaut[:, ::-1], "JPEG", quality=90)]
    return svc.identities.Enroll(
        pb.EnrollRequest(
            name="Eileen Collins",
            aliases=["Commander Collins"],
            external_id="Q233493",
            images=[pb.Media(data=d) for d in images],
        )
    )


def invalid(call) -> str:
    with pytest.raises(grpc.RpcError) as err:
        call()
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT, err.value.details()
    return err.value.details()


def generate(svc, prompt="a walk in the park", image=None, driving=None, tenant="tenant-a"):
    request = pb.GenerateRequest(
        prompt=prompt, tenant=tenant, output=pb.OutputSpec(width=128, height=128, num_frames=12)
    )
    if image is not None:
        request.image.CopyFrom(pb.Media(data=image))
    if driving is not None:
        request.driving_video.CopyFrom(pb.Media(data=driving))
    return list(svc.generation.Generate(request, timeout=120))


# ---- identities ----------------------------------------------------------------------------


def test_enrol_several_references_and_show_them(svc, collins):
    assert collins.reference_count == 2
    shown = svc.identities.Show(pb.IdentityRef(id=collins.id))
    assert shown.external_id == "Q233493" and shown.aliases == ["Commander Collins"]
    assert len({r.vector_id for r in shown.references}) == 2
    assert len(svc.service.enroller.index) >= 2


@pytest.mark.parametrize(
    "make, words",
    [
        (lambda a, h, c: encode(c), "no face found"),
        (
            lambda a, h, c: encode(
                np.concatenate([a, np.asarray(Image.fromarray(h).resize((512, 512)))], axis=1)
            ),
            "2 faces found",
        ),
        (
            lambda a, h, c: encode(np.asarray(Image.fromarray(a).resize((154, 154)))),
            "under the 40 px minimum",
        ),
        (
            lambda a, h, c: encode(
                np.asarray(Image.fromarray(a).filter(ImageFilter.GaussianBlur(3)))
            ),
            "too blurry",
        ),
        (lambda a, h, c: encode(a), "already a reference of identity"),
        (lambda a, h, c: b"GIF89a not really", "not a recognised image"),
        (lambda a, h, c: b"", "empty"),
        (lambda a, h, c: png_header_only(20000, 20000), "decompression bomb"),
        (lambda a, h, c: png_header_only(7000, 7000), "over the 40 MP limit"),
    ],
    ids=[
        "no-face",
        "two-faces",
        "tiny-face",
        "blurry",
        "duplicate",
        "non-image",
        "empty",
        "bomb",
        "huge",
    ],
)
def test_unusable_references_are_rejected_and_change_nothing(
    svc, collins, astronaut, hopper, coffee, make, words
):
    before = (len(svc.service.store.identities()), len(svc.service.enroller.index))
    good = pb.Media(data=encode(hopper, "JPEG"))  # a usable image beside the bad one
    details = invalid(
        lambda: svc.identities.Enroll(
            pb.EnrollRequest(
                name="Someone", images=[good, pb.Media(data=make(astronaut, hopper, coffee))]
            )
        )
    )
    assert words in details
    assert (len(svc.service.store.identities()), len(svc.service.enroller.index)) == before


def test_remove_takes_the_person_out_of_the_gallery(svc, hopper):
    hop = svc.identities.Enroll(
        pb.EnrollRequest(name="Grace Hopper", images=[pb.Media(data=encode(hopper))])
    )
    kind, _ = terminal(generate(svc, image=encode(hopper, "JPEG", quality=80)))
    assert kind == "blocked"
    size = len(svc.service.enroller.index)
    removed = svc.identities.Remove(pb.IdentityRef(id=hop.id))
    assert removed.name == "Grace Hopper"
    assert len(svc.service.enroller.index) == size - 1
    kind, _ = terminal(generate(svc, image=encode(hopper, "JPEG", quality=80)))
    assert kind == "completed"
    with pytest.raises(grpc.RpcError) as err:
        svc.identities.Show(pb.IdentityRef(id=hop.id))
    assert err.value.code() == grpc.StatusCode.NOT_FOUND


def test_reindex_rebuilds_from_the_store_while_serving(svc, collins, astronaut):
    response = svc.identities.ReloadIndex(pb.ReloadIndexRequest(rebuild=True))
    assert response.vectors == len(svc.service.store.reference_vectors()[0])
    assert response.kind == "flat"
    kind, _ = terminal(generate(svc, image=encode(astronaut)))
    assert kind == "blocked"
    assert svc.identities.ReloadIndex(pb.ReloadIndexRequest()).vectors == response.vectors


def test_a_corrupt_index_file_is_rebuilt_from_the_store_at_start(tmp_path, astronaut):
    r = Running(make_config(tmp_path))
    r.identities.Enroll(pb.EnrollRequest(name="C", images=[pb.Media(data=encode(astronaut))]))
    r.close()
    (tmp_path / "identities.faiss").write_bytes(b"garbage")
    r = Running(make_config(tmp_path))
    try:
        assert len(r.service.enroller.index) == 1
        assert terminal(generate(r, image=encode(astronaut)))[0] == "blocked"
    finally:
        r.close()


# ---- consent ---------------------------------------------------------------------------------


def grant(svc, identity_id, scopes, tenant="tenant-a", expires_at=0.0):
    return svc.consent.Grant(
        pb.GrantRequest(
            tenant=tenant,
            identity_id=identity_id,
            scopes=scopes,
            grantor="talent agency",
            expires_at=expires_at,
        )
    )


def test_consent_allows_the_tenant_it_names_and_is_recorded_and_signed(svc, collins, astronaut):
    g = grant(svc, collins.id, ["video"])
    try:
        events = generate(svc, "Commander Collins waving", encode(astronaut))
        kind, done = terminal(events)
        assert kind == "completed", done
        allowed = [f for f in done.verdict.findings if f.consent.grant_id == g.id]
        assert {f.category for f in allowed} == {"public_figure", "public_figure_name"}
        assert all(f.action == pb.ALLOW and f.score >= f.threshold for f in allowed)
        assert {f.subject for f in allowed} >= {"input_image", "prompt", "output_frame"}

        record = svc.service.store.decision(done.verdict.decision_id)
        consents = [f["consent"] for f in record["evidence"]["findings"] if "consent" in f]
        assert consents and consents[0]["grant_id"] == g.id and consents[0]["scope"] == "video"

        anchors = svc.config.keys_dir.joinpath("root.pem").read_text()
        report = Verifier(anchors).verify_bytes(output_bytes(events))
        assert report.status == "trusted"
        assert report.moderation["consent"] == [
            {
                "identity_id": collins.id,
                "grant_id": g.id,
                "scope": "video",
                "grantor": "talent agency",
            }
        ]

        other = terminal(generate(svc, image=encode(astronaut), tenant="tenant-b"))
        assert other[0] == "blocked"  # the grant is tenant-a's alone
    finally:
        svc.consent.Revoke(pb.RevokeRequest(grant_id=g.id, revoked_by="test"))


def test_revocation_blocks_at_once(svc, collins, astronaut):
    g = grant(svc, collins.id, ["video"])
    assert terminal(generate(svc, image=encode(astronaut)))[0] == "completed"
    revoked = svc.consent.Revoke(pb.RevokeRequest(grant_id=g.id, revoked_by="legal"))
    assert not revoked.active and revoked.revoked_by == "legal"
    kind, blocked = terminal(generate(svc, image=encode(astronaut)))
    assert kind == "blocked" and not blocked.verdict.reasons[0].consent.grant_id


def test_expired_grants_and_other_scopes_do_not_authorize(svc, collins, astronaut):
    g = grant(svc, collins.id, ["video"], expires_at=time.time() + 1.0)
    image_only = grant(svc, collins.id, ["image"])
    time.sleep(1.2)
    assert terminal(generate(svc, image=encode(astronaut)))[0] == "blocked"
    listed = svc.consent.List(pb.ListGrantsRequest(identity_id=collins.id)).grants
    states = {x.id: x.active for x in listed}
    assert states[g.id] is False and states[image_only.id] is True
    # The image scope does authorize a Check of a still image.
    verdict = svc.moderation.Check(
        pb.CheckRequest(tenant="tenant-a", media=pb.Media(data=encode(astronaut)))
    )
    assert verdict.action == pb.ALLOW
    svc.consent.Revoke(pb.RevokeRequest(grant_id=image_only.id))


def test_bad_grants_are_refused(svc, collins):
    assert "scopes must be" in invalid(lambda: grant(svc, collins.id, ["everything"]))
    assert "in the past" in invalid(lambda: grant(svc, collins.id, ["video"], expires_at=1.0))
    with pytest.raises(grpc.RpcError) as err:
        grant(svc, "no-such-identity", ["video"])
    assert err.value.code() == grpc.StatusCode.NOT_FOUND


# ---- driving performances -------------------------------------------------------------------


def test_a_performance_by_an_enrolled_person_is_blocked_with_track_evidence(
    svc, collins, astronaut, coffee
):
    events = generate(svc, image=encode(coffee), driving=performance(astronaut))
    kind, blocked = terminal(events)
    assert kind == "blocked"
    reason = [r for r in blocked.verdict.reasons if r.subject == "driving_video"][0]
    assert reason.identity_id == collins.id and reason.score >= reason.threshold
    assert reason.HasField("track_id") and len(reason.track_times_s) >= 4
    assert reason.frame_time_s in reason.track_times_s
    assert blocked.verdict.stage == pb.PRE_CHECK


def test_a_consented_performance_is_animated_and_carries_the_driving_ingredient(
    svc, collins, astronaut, hopper
):
    g = grant(svc, collins.id, ["performance"])
    try:
        events = generate(svc, image=encode(hopper, "JPEG"), driving=performance(astronaut))
        kind, done = terminal(events)
        assert kind == "completed", done
        anchors = svc.config.keys_dir.joinpath("root.pem").read_text()
        report = Verifier(anchors).verify_bytes(output_bytes(events))
        assert [i["title"] for i in report.ingredients] == ["input.jpeg", "driving.mp4"]
        assert report.moderation["consent"][0]["scope"] == "performance"
        # A video-only grant does not cover animating someone from their performance.
    finally:
        svc.consent.Revoke(pb.RevokeRequest(grant_id=g.id))
    video_only = grant(svc, collins.id, ["video"])
    try:
        kind, _ = terminal(generate(svc, image=encode(hopper), driving=performance(astronaut)))
        assert kind == "blocked"
    finally:
        svc.consent.Revoke(pb.RevokeRequest(grant_id=video_only.id))


def audio_only() -> bytes:
    import io

    buf = io.BytesIO()
    with av.open(buf, "w", format="mp4") as out:
        stream = out.add_stream("aac", rate=16000)
        frame = av.AudioFrame.from_ndarray(
            np.zeros((1, 1024), np.float32), format="fltp", layout="mono"
        )
        frame.sample_rate = 16000
        for packet in stream.encode(frame):
            out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return buf.getvalue()


def hours_long() -> bytes:
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "long.mp4"
        with av.open(str(path), "w") as out:
            stream = out.add_stream("libx264", rate=Fraction(1, 3600))  # one frame an hour
            stream.width = stream.height = 64
            stream.pix_fmt = "yuv420p"
            for _ in range(3):
                for p in stream.encode(
                    av.VideoFrame.from_ndarray(np.zeros((64, 64, 3), np.uint8), format="rgb24")
                ):
                    out.mux(p)
            for p in stream.encode():
                out.mux(p)
        return path.read_bytes()


def absurd_dimensions(tmp_path) -> bytes:
    write_mp4([np.zeros((16, 4112, 3), np.uint8)] * 2, tmp_path / "wide.mp4", fps=2)
    return (tmp_path / "wide.mp4").read_bytes()


@pytest.mark.parametrize(
    "make, words",
    [
        (lambda a, t: b"\x00\x00\x00\x18ftypisom" + bytes(range(256)) * 20, "cannot be opened"),
        (lambda a, t: performance(a)[:3000], "driving video"),
        (lambda a, t: audio_only(), "no video stream"),
        (lambda a, t: hours_long(), "over the 0:02:00 limit"),
        (lambda a, t: absurd_dimensions(t), "at most 4096 px a side"),
        (lambda a, t: b"", "empty"),
    ],
    ids=["corrupt", "truncated", "audio-only", "hours-long", "absurd-dimensions", "empty"],
)
def test_bad_driving_videos_get_clear_errors(svc, astronaut, tmp_path, make, words):
    details = invalid(
        lambda: generate(svc, image=encode(astronaut), driving=make(astronaut, tmp_path))
    )
    assert words in details and "driving video" in details


def test_an_index_file_with_as_many_but_other_vectors_is_rebuilt_at_start(tmp_path):
    """Another front door removed one identity and enrolled another while this one was
    down: the count still matches, the vectors do not. Loading that file would match a
    removed person and miss the new one."""
    from indexes.identity import FaissIdentityIndex
    from safety.likeness.identities import open_index
    from safety.store.sql import SqlStore

    store = SqlStore(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    removed, _ = store.add_identity("Gone", [], "", [("h1", np.ones(4))])
    old_ids, _ = store.reference_vectors()
    stale = FaissIdentityIndex.build(4, old_ids, np.ones((1, 4)))
    stale.save(tmp_path / "identities.faiss")
    store.remove_identity(removed.id)
    _, (new_id,) = store.add_identity("New", [], "", [("h2", np.arange(4.0))])
    index = open_index(tmp_path / "identities.faiss", store, 4)
    assert list(index.ids()) == [new_id] != list(old_ids)
    store.close()
