"""The reviewer console in a real browser: a held driving-video request shows each
subject as a player whose flagged-frame markers seek, the face crop beside the enrolled
reference; wellness settings persist per reviewer across logins; the next item loads
after a decision; double review routes a disagreement to a senior."""

from __future__ import annotations

import pytest

from safety.verdict import Action, Finding, Stage, Verdict
from tests.review_support import distinct_scenes, held, serving_web
from tests.safety.service.browser import login, needs_chromium, screenshot, shows
from tests.support import REVIEW_LIKENESS, encode, make_config, performance

pytestmark = needs_chromium


@pytest.fixture(scope="module")
def svc(tmp_path_factory, astronaut, enrol_collins):
    config = make_config(tmp_path_factory.mktemp("console"), policy=REVIEW_LIKENESS)
    with serving_web(config) as r:
        enrol_collins(r.identities)
        r.studio = r.client("generator-client", "studio-a")[1]
        r.reviewer, r.second, r.senior = (
            r.client(role)[0] for role in ("reviewer", "reviewer", "senior-reviewer")
        )
        r.scene = distinct_scenes(astronaut)
        yield r


def generate(svc, image: bytes, driving: bytes | None = None) -> str:
    return held(svc.studio, image, prompt="a portrait", driving=driving)


def test_a_held_driving_video_shows_its_flagged_frames_and_the_face_beside_the_reference(
    svc, page, hopper, astronaut
):
    ticket = generate(svc, encode(hopper), driving=performance(astronaut))
    login(page, svc, svc.reviewer)
    page.goto(f"{svc.base}/items/{ticket}")
    # Evidence first: the match, its score and the consent state, at the top.
    why = page.locator(".why").inner_text()
    assert "driving video" in why and "Eileen Collins" in why and "no grant lets studio-a" in why
    crops = page.eval_on_selector_all(".why img", "imgs => imgs.map(i => i.naturalWidth)")
    assert len(crops) >= 2 and all(w > 0 for w in crops)  # the crop answered 404 before
    # The driving video itself, as a player with its flagged frames on a timeline.
    section = page.locator(".subject[data-subject=driving_video]")
    video = section.locator("video")
    markers = section.locator(".marker")
    assert markers.count() >= 2
    section.locator(".marker.placed").first.wait_for()  # positioned once the video loaded
    target = markers.nth(markers.count() - 1)
    at = float(target.get_attribute("data-time"))
    target.click()
    page.wait_for_function(
        "([v, t]) => Math.abs(v.currentTime - t) < 0.05", arg=[video.element_handle(), at]
    )
    shown = section.locator(".marker-findings:not([hidden])")
    assert shown.count() == 1 and f"at {target.get_attribute('data-time')} s" in shown.inner_text()
    assert "Eileen Collins" in shown.inner_text()
    # Reveal that one frame, not the whole video.
    shown.locator(".frame-reveal").click()
    shows(page, ".marker-findings:not([hidden]) img.frame", shielded=False)
    shows(page, ".subject[data-subject=driving_video] video", shielded=True)
    frame = shown.locator("img.frame").element_handle()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=frame)
    # The reviewer's controls, and only those: no consent grant for a plain reviewer.
    assert page.locator("input[name=grant_consent]").count() == 0
    section.locator(".player > .reveal").click()  # revealed for the picture in docs/
    screenshot(page, "review-item.png")


def test_wellness_settings_persist_across_logins(svc, page, browser):
    login(page, svc, svc.second)
    page.goto(f"{svc.base}/settings")
    page.uncheck("#settings input[name=blur]")
    page.fill("#settings input[name=break_after_min]", "30")
    page.click("#settings button[type=submit]")
    page.click("text=Log out")
    fresh = browser.new_context().new_page()
    login(fresh, svc, svc.second)
    fresh.goto(f"{svc.base}/settings")
    assert not fresh.is_checked("#settings input[name=blur]")
    assert fresh.is_checked("#settings input[name=greyscale]")
    assert fresh.input_value("#settings input[name=break_after_min]") == "30"
    ticket = generate(svc, encode(svc.scene()))
    fresh.goto(f"{svc.base}/items/{ticket}")
    shows(fresh, ".subject[data-subject=output_frame] .media", shielded=True, look=r"^grayscale")
    # Another reviewer's settings are their own.
    login(page, svc, svc.reviewer)
    page.goto(f"{svc.base}/items/{ticket}")
    shows(page, ".subject[data-subject=output_frame] .media", shielded=True)
    fresh.context.close()


def test_start_reviewing_and_the_next_item_loads_after_a_decision(svc, page):
    first, second = (generate(svc, encode(svc.scene())) for _ in range(2))
    login(page, svc, svc.reviewer)
    assert page.locator("#queues-category").inner_text().count("public_figure") == 1
    # The shortcuts below need the item page's script: wait for that page to load.
    with page.expect_navigation():
        page.click("#start button")
    opened = page.locator("h1").inner_text().split()[1]
    assert "Claimed by" in page.locator(".claimed").inner_text()
    page.keyboard.press("r")  # reject: one key, then confirm
    page.keyboard.press("Enter")
    page.wait_for_selector(f"text=Ticket {opened}: rejected")
    following = page.locator("h1").inner_text().split()[1]
    assert following != opened and page.url.endswith(f"/items/{following}")
    assert svc.service.review.get(following).claimed_by is not None
    assert opened in {first, second} or svc.service.review.get(opened).status == "rejected"


def test_double_review_sends_a_disagreement_to_a_senior(svc, page, browser):
    svc.service.review.double_review_share = 1.0
    try:
        ticket = generate(svc, encode(svc.scene()))
        login(page, svc, svc.reviewer)
        page.goto(f"{svc.base}/items/{ticket}")
        page.check("#decision-approve")
        page.check("input[name=then]")
        page.click("#submit-decision")
        assert page.locator("#status").inner_text() == "second_review"
        assert page.locator("#decide").count() == 0  # not their own second review
        other = browser.new_context().new_page()
        login(other, svc, svc.second)
        other.goto(f"{svc.base}/items/{ticket}")
        assert "approve" not in other.locator(".facts").text_content()  # blind
        other.check("#decision-reject")
        other.check("input[name=then]")
        other.click("#submit-decision")
        assert other.locator("#status").inner_text() == "escalated"
        assert other.locator("#decide").count() == 0  # a senior decides now
        login(other, svc, svc.senior)
        other.goto(f"{svc.base}/items/{ticket}")
        assert "first: approve" in other.locator(".facts").text_content()
        other.check("#decision-reject")  # the senior's decision is final ...
        other.check("input[name=then]")
        other.click("#submit-decision")
        assert other.locator("#status").inner_text() == "rejected"
        other.click("#golden button")  # ... and a known answer for the golden set
        gold = other.locator(".flashes").inner_text().rsplit(" ", 1)[-1].rstrip(".")
        assert svc.service.review.get(gold).status == "pending"
        other.goto(f"{svc.base}/oversight")
        table = other.locator("#oversight").inner_text()
        assert "0%" in table  # the two reviewers disagreed
        other.context.close()
    finally:
        svc.service.review.double_review_share = 0.0


def test_an_item_flagged_sexual_minors_is_never_shown(svc, page, astronaut, tmp_path):
    """Such content is blocked, never held; should one reach the queue all the same (a
    policy bug, a hand-made item), no page or route shows its media."""
    clip = tmp_path / "held.mp4"
    clip.write_bytes(performance(astronaut))
    flagged = Finding("age", "sexual_minors", "output_frame", 0.9, action=Action.BLOCK)
    verdict = Verdict(Action.REVIEW, Stage.POST_CHECK, "p", reasons=[flagged], findings=[flagged])
    ticket = svc.service.review.hold(
        request_id="r-minors",
        tenant="studio-a",
        prompt="",
        verdict=verdict,
        output=clip,
        mime_type="video/mp4",
        spec={"ingredients": []},
        content_sha256="0" * 64,
    )
    login(page, svc, svc.reviewer)
    page.goto(f"{svc.base}/items/{ticket}")
    assert page.locator("#never-shown").is_visible()
    assert page.locator("video, img.media, img.frame").count() == 0
    for route in ("media/0", "frame/0.jpg?t=0", "face/0.jpg"):
        assert page.request.get(f"{svc.base}/items/{ticket}/{route}").status == 403
