"""Reviewer sessions end on the server: logging out (or the session's age) makes a copied
cookie worthless, and the UI runs on a production WSGI server."""

from __future__ import annotations

import re
import time

import pytest
import requests

from tests.review_support import serving_web
from tests.support import make_config


@pytest.fixture(scope="module")
def web(tmp_path_factory):
    with serving_web(make_config(tmp_path_factory.mktemp("web-sessions"), face_workers=0)) as r:
        r.reviewer_token = r.client("reviewer")[0]
        yield r


def logged_in(web) -> requests.Session:
    s = requests.Session()
    form = s.get(f"{web.base}/login", timeout=10).text
    csrf = re.search(r'name="csrf" value="([^"]+)"', form).group(1)
    r = s.post(
        f"{web.base}/login",
        data={"csrf": csrf, "token": web.reviewer_token},
        allow_redirects=False,
        timeout=10,
    )
    assert r.status_code == 302 and r.headers["Location"].endswith("/")
    return s


def signed_in(s: requests.Session, web) -> bool:
    r = s.get(f"{web.base}/", allow_redirects=False, timeout=10)
    return r.status_code == 200


def test_a_cookie_copied_before_logout_stops_working(web):
    s = logged_in(web)
    assert signed_in(s, web)
    stolen = requests.Session()
    stolen.cookies.update(s.cookies)
    assert signed_in(stolen, web)  # a copy works while the session lives
    page = s.get(f"{web.base}/", timeout=10).text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    s.post(f"{web.base}/logout", data={"csrf": csrf}, timeout=10)
    assert not signed_in(stolen, web)  # ended on the server, not only in one browser


def test_sessions_expire(web):
    web.service.config.web_session_s = 1.0
    try:
        s = logged_in(web)
        assert signed_in(s, web)
        time.sleep(1.5)
        assert not signed_in(s, web)
    finally:
        web.service.config.web_session_s = 8 * 3600.0


def test_the_ui_runs_on_a_production_wsgi_server(web):
    server = requests.get(f"{web.base}/login", timeout=10).headers.get("Server", "")
    assert "Werkzeug" not in server and server  # Werkzeug's server is for development
