"""The reviewer web UI in a real browser (Debian's Chromium driven by Playwright)."""

from __future__ import annotations

import hashlib

import pytest

from reelguard.v1 import reelguard_pb2 as pb
from reelguard.v1 import reelguard_pb2_grpc as rpc
from signing.verify import Verifier
from tests.review_support import distinct_scenes, held, serving_web
from tests.safety.service.browser import login, needs_chromium, shows
from tests.support import (
    REVIEW_LIKENESS,
    banks_in_record,
    encode,
    make_config,
    output_bytes,
    terminal,
)

pytestmark = needs_chromium
SCRIPT_PROMPT = "a portrait <script>window.pwned = 1</script> & friends"


@pytest.fixture(scope="module")
def svc(tmp_path_factory, astronaut, enrol_collins):
    config = make_config(tmp_path_factory.mktemp("web"), policy=REVIEW_LIKENESS)
    with serving_web(config) as r:
        enrol_collins(r.identities)
        r.studio = r.client("generator-client", "studio-a")[1]
        r.reviewer_token = r.client("reviewer")[0]
        r.studio_token = r.client("generator-client", "studio-a")[0]
        r.scene = distinct_scenes(astronaut)
        yield r


def hold(svc, pixels, prompt="a portrait, slowly zooming"):
    return held(svc.studio, encode(pixels), prompt=prompt)


def get_result(svc, ticket):
    return list(rpc.GenerationStub(svc.studio).GetResult(pb.TicketRef(ticket=ticket), timeout=60))


def test_a_reviewer_reveals_and_approves_and_the_client_gets_signed_output(svc, page):
    ticket = hold(svc, svc.scene(), SCRIPT_PROMPT)
    login(page, svc, svc.reviewer_token)
    row = page.locator(f"tr:has(a:text('{ticket}'))")
    # User text renders as text: the script is shown, never run.
    assert SCRIPT_PROMPT in row.locator("td.prompt").inner_text()
    assert page.evaluate("window.pwned") is None
    row.locator("a").click()
    output = ".subject[data-subject=output_frame] .media"
    shows(page, output, shielded=True)
    shows(page, ".why img.reference", shielded=True)
    page.keyboard.press("v")  # the reveal shortcut: the reason's faces first
    shows(page, ".why img.reference", shielded=False)
    shows(page, output, shielded=True)  # one thing at a time, never everything
    page.click(".subject[data-subject=output_frame] .player > .reveal")
    shows(page, output, shielded=False)
    shows(page, ".why img.reference", shielded=True)
    page.click(".subject[data-subject=output_frame] .player > .reveal")  # and hidden again
    shows(page, output, shielded=True)
    # The detected face beside the enrolled reference, both loaded, at the top.
    sizes = page.eval_on_selector_all(".why img", "imgs => imgs.map(i => i.naturalWidth)")
    assert len(sizes) >= 2 and all(w > 0 for w in sizes)
    assert "Eileen Collins" in page.locator(".why").inner_text()
    assert page.locator("table.evidence").text_content().count("public_figure") >= 1
    with page.expect_navigation():  # the claimed page loaded, its shortcuts with it
        page.keyboard.press("c")  # claim
    page.wait_for_selector("text=Claimed by")
    page.keyboard.press("a")  # approve: the first approve reason, the confirm focused
    page.select_option("#reason", "false_positive")
    page.click("#submit-decision")
    page.wait_for_selector(f"text=Ticket {ticket}: approved")
    assert svc.service.review.get(ticket).status == "approved"

    events = get_result(svc, ticket)
    kind, completed = terminal(events)
    assert kind == "completed"
    signed = output_bytes(events)
    assert hashlib.sha256(signed).hexdigest() == completed.sha256
    report = Verifier((svc.config.keys_dir / "root.pem").read_text()).verify_bytes(
        signed, "video/mp4"
    )
    assert report.status == "trusted"
    assert report.moderation["human_review"]["decision"] == "approve"


def test_a_rejection_in_the_ui_banks_the_content_and_blocks_it_next_time(svc, page):
    pixels = svc.scene()
    ticket = hold(svc, pixels)
    banked = {b.name: b.entries for b in svc.banks.List(pb.ListBanksRequest()).banks}
    login(page, svc, svc.reviewer_token)
    page.goto(f"{svc.base}/items/{ticket}")
    page.click("#claim button")
    page.check("#decision-reject")
    page.select_option("#reason", "likeness_no_consent")
    page.fill("textarea[name=notes]", "no release on file")
    page.check("input[name=then]")  # stay on the item afterwards
    page.click("#submit-decision")
    assert page.locator("#status").inner_text() == "rejected"
    after = {b.name: b.entries for b in svc.banks.List(pb.ListBanksRequest()).banks}
    assert after["review-rejected"] > banked.get("review-rejected", 0)
    kind, blocked = terminal(get_result(svc, ticket))
    assert kind == "blocked"
    request = pb.GenerateRequest(prompt="again", image=pb.Media(data=encode(pixels)))
    kind, again = terminal(list(rpc.GenerationStub(svc.studio).Generate(request, timeout=120)))
    assert kind == "blocked" and banks_in_record(svc, again.verdict.decision_id) == {
        "review-rejected"
    }


def test_bulk_selection_with_the_keyboard(svc, page):
    tickets = {hold(svc, svc.scene()) for _ in range(2)}
    login(page, svc, svc.reviewer_token)
    for ticket in tickets:
        page.check(f"input[value='{ticket}']")
    page.select_option("select[name=decision]", "reject")
    page.select_option("#bulk select[name=reason_code]", "likeness_no_consent")
    asked = []
    page.once("dialog", lambda d: (asked.append(d.message), d.accept()))  # bulk confirms
    page.click("#bulk button[type=submit]")
    page.wait_for_url(f"{svc.base}/")
    assert asked == ["Apply 'reject' to 2 item(s)?"]
    for ticket in tickets:
        assert svc.service.review.get(ticket).status == "rejected"


def test_login_csrf_and_headers(svc, page):
    page.goto(svc.base + "/")
    assert page.url.endswith("/login")  # no session: to the login page
    login(page, svc, svc.studio_token)
    assert "does not review" in page.locator(".error").inner_text()
    login(page, svc, "rg_wrong")
    assert "unknown token" in page.locator(".error").inner_text()
    ticket = hold(svc, svc.scene())
    login(page, svc, svc.reviewer_token)
    response = page.goto(f"{svc.base}/items/{ticket}")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert response.headers["cache-control"] == "no-store"
    # A forged cross-site POST carries the session cookie but not the form's token.
    forged = page.request.post(
        f"{svc.base}/items/{ticket}/decide",
        form={"decision": "approve", "reason_code": "false_positive"},
    )
    assert forged.status == 403 and "CSRF" in forged.text()
    assert svc.service.review.get(ticket).status == "pending"
    media = page.request.get(f"{svc.base}/items/{ticket}/media/0")
    assert media.status == 200 and media.headers["content-type"] == "video/mp4"
    page.click("text=Log out")
    assert page.url.endswith("/login")
    assert page.request.get(f"{svc.base}/items/{ticket}/media/0").url.endswith("/login")
