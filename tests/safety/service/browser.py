"""A real browser for the web UI's tests: Debian's Chromium driven by Playwright (the
`browser` and `page` fixtures live in conftest.py), and what the tests do with it."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
needs_chromium = pytest.mark.skipif(
    not Path(CHROMIUM).exists(),
    reason="Debian's chromium is not installed (apt-get install chromium)",
)
# Flags for a machine with no network and no GPU (the probe's set; see the env notes).
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def login(page, svc, token):
    page.goto(f"{svc.base}/login")
    page.fill("input[name=token]", token)
    with page.expect_navigation():  # the POST answered before the test moves on
        page.click("form.login button[type=submit]")


def shows(page, selector, shielded: bool, look: str = r"blur.*grayscale") -> None:
    """The element's computed filter, waited for (the stylesheet may load after the click
    that navigated): `look` while shielded (blurred and grey by default), none once
    revealed."""
    from playwright.sync_api import expect

    wanted = re.compile(look) if shielded else re.compile(r"^none$")
    expect(page.locator(selector)).to_have_css("filter", wanted)


def screenshot(page, name: str) -> None:
    """Save a full-page screenshot when REELGUARD_SCREENSHOTS names a folder (how the
    pictures in docs/ are made: `REELGUARD_SCREENSHOTS=docs pytest tests/.../test_web_*`)."""
    folder = os.environ.get("REELGUARD_SCREENSHOTS")
    if folder:
        page.screenshot(path=os.path.join(folder, name), full_page=True)
