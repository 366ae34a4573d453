"""The depicted person's own door, in a real browser: an owner sees a blocked attempt on
their likeness with the face it was found on (never the output), grants a tenant
consent (the next request is allowed), files a takedown of the signed output, and a
re-submission of that output through Sign is refused."""

from __future__ import annotations

import pytest

from reelguard.v1 import reelguard_pb2 as pb
from reelguard.v1 import reelguard_pb2_grpc as rpc
from safety.auth import ADMIN, ALL_TENANTS, LIKENESS_OWNER, Principal
from tests.review_support import generate_events, serving_web
from tests.safety.service.browser import login, needs_chromium, screenshot
from tests.support import banks_in_record, encode, make_config, output_bytes, terminal

pytestmark = needs_chromium


@pytest.fixture(scope="module")
def svc(tmp_path_factory, enrol_collins):
    with serving_web(make_config(tmp_path_factory.mktemp("owner"))) as r:  # default policy
        r.collins = enrol_collins(r.identities).id
        r.studio = r.client("generator-client", "studio-a")[1]
        owner, r.owner_token = r.service.auth.create_client(
            "Eileen Collins", "owners", LIKENESS_OWNER
        )
        admin = Principal("platform-admin", "admin", ALL_TENANTS, ADMIN)
        r.service.owners.bind(admin, owner.id, [r.collins])
        yield r


def generate(svc, image: bytes):
    return generate_events(svc.studio, image)


def sign(svc, data: bytes) -> pb.SignResponse:
    stub = rpc.ProvenanceStub(svc.studio)
    return stub.Sign(pb.SignRequest(media=pb.Media(data=data, filename="again.mp4")))


def test_an_owner_sees_the_attempt_grants_consent_and_takes_the_output_down(
    svc, page, astronaut, tmp_path
):
    image = encode(astronaut)
    kind, _ = terminal(generate(svc, image))
    assert kind == "blocked"  # nobody may depict her without her consent

    login(page, svc, svc.owner_token)
    assert page.url.endswith("/owner")
    row = page.locator("tr.match.block").first
    assert "blocked" in row.inner_text() and "studio-a" in row.inner_text()
    face = row.locator("img.evidence-face")
    assert page.evaluate("img => img.naturalWidth", face.element_handle()) > 0
    assert page.locator("video").count() == 0  # the face found, never the request's media
    # The owner pages are hers alone: the review queue is not.
    assert page.request.get(f"{svc.base}/items/anything").status == 403

    page.fill("#grant input[name=tenant]", "studio-a")
    page.check("#grant input[value=video]")
    page.click("#grant button[type=submit]")
    page.wait_for_selector("text=Consent granted to studio-a")
    events = generate(svc, image)
    kind, done = terminal(events)
    assert kind == "completed"  # the next request is allowed, under her grant
    signed = output_bytes(events)
    # Before the takedown, the output could be signed again as anyone's new upload.
    assert sign(svc, signed).verdict.action == pb.ALLOW

    upload = tmp_path / "found-online.mp4"
    upload.write_bytes(signed)
    page.set_input_files("#takedown input[name=file]", str(upload))
    page.fill("#takedown input[name=reason]", "made while I consented; I withdraw it")
    page.click("#takedown button[type=submit]")
    page.wait_for_selector("text=fingerprints banked")
    notice = svc.service.store.takedowns(tenant="studio-a")[0]
    assert notice.manifest_id == done.verdict.decision_id and notice.status == "removed"
    assert notice.fingerprints["pdq"] and notice.fingerprints["watermark"]
    assert "studio-a" in page.locator("table.notices").inner_text()
    screenshot(page, "likeness-owner.png")

    again = sign(svc, signed)
    assert again.verdict.action == pb.BLOCK and not again.signed.data
    assert "likeness-takedown" in banks_in_record(svc, again.verdict.decision_id)
    # The tenant that made it finds the notice in its queue; the record counts it.
    studio = Principal("studio-admin", "studio admin", "studio-a", ADMIN)
    assert [n.id for n in svc.service.owners.notices(studio)] == [notice.id]
    assert svc.service.owners.acknowledge(studio, notice.id).status == "acknowledged"
    assert svc.service.owners.repeat_offences("studio-a") == 1


def test_only_a_logged_in_owner_may_send_a_large_takedown_upload(svc, page):
    """The takedown form takes a whole signed output; anyone else's POST keeps the 1 MB
    form limit, refused before its body is read into a form."""
    big = {"name": "x.mp4", "mimeType": "video/mp4", "buffer": b"\0" * (2 << 20)}
    response = page.request.post(f"{svc.base}/owner/takedown", multipart={"file": big})
    assert response.status == 413
