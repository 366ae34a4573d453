"""The reviewer web UI: server-rendered pages beside the gRPC port, no build step.

Reviewers (review_pages.py) and the people whose likeness is protected (owner_pages.py)
log in with their client token, each to their own pages; the session cookie (signed, HttpOnly,
SameSite=Strict, Secure under TLS) holds only a server-side session id (sessions.py:
logout ends it everywhere, it expires after web_session_s), and the client behind it is
re-checked on every request so a revoked token logs them out at once. Every form
carries a per-session CSRF token; templates escape everything (Jinja autoescape); media
is shown blurred and greyscale until the reviewer reveals it, and is never cached.
"""

from __future__ import annotations

import errno
import hmac
import logging
import os
import secrets
import threading
import time

from cheroot import wsgi
from cheroot.ssl.builtin import BuiltinSSLAdapter
from flask import Flask, abort, g, redirect, render_template, request, session, url_for

from safety.auth import ADMIN, LIKENESS_OWNER, REVIEWER, SENIOR_REVIEWER, Principal
from safety.errors import (
    Busy,
    FailedPrecondition,
    Forbidden,
    InvalidInput,
    NotFound,
    Unauthenticated,
)
from safety.review import wellness
from safety.service.web.owner_pages import TAKEDOWN_UPLOAD, add_owner_pages
from safety.service.web.review_pages import add_review_pages
from safety.service.web.sessions import WebSessions

log = logging.getLogger(__name__)

REVIEW_ROLES = (REVIEWER, SENIOR_REVIEWER, ADMIN)
WEB_ROLES = (*REVIEW_ROLES, LIKENESS_OWNER)  # who may log in
OPEN_ENDPOINTS = ("login", "static")


def create_app(service) -> Flask:
    app = Flask(__name__)
    app.config.update(
        # Shared by every front door on the database: a cookie any of them set works on all.
        SECRET_KEY=service.store.shared_secret("web-cookie"),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_SECURE=bool(service.config.tls_cert),
        MAX_CONTENT_LENGTH=1 << 20,  # forms only; media is never uploaded here
    )
    sessions = WebSessions(service.store, lambda: service.config.web_session_s)
    app.jinja_env.filters["when"] = lambda t: time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(t))

    @app.before_request
    def _authenticate():
        g.user = None
        client_id = sessions.client_of(session.get("sid", ""))
        if session.get("sid") and client_id is None:
            session.clear()  # logged out, expired, or from before a restart
        if client_id:
            record = service.store.client(client_id)
            if record is None or record.revoked_at is not None or record.role not in WEB_ROLES:
                sessions.end(session["sid"])
                session.clear()
            else:
                g.user = Principal(record.id, record.name, record.tenant, record.role)
        if request.endpoint == "owner_takedown" and g.user and g.user.role == LIKENESS_OWNER:
            # A signed output is filed with this form: larger, for a logged-in owner only
            # (read before the CSRF check parses the form).
            request.max_content_length = TAKEDOWN_UPLOAD
        if "csrf" not in session:
            session["csrf"] = secrets.token_urlsafe(32)
        if request.method == "POST":
            sent = request.form.get("csrf", "")
            if not hmac.compare_digest(sent, session["csrf"]):
                abort(403, "the form's CSRF token is missing or stale; reload the page")
        if g.user is None and request.endpoint not in OPEN_ENDPOINTS:
            return redirect(url_for("login"))
        if g.user is not None and request.endpoint not in (*OPEN_ENDPOINTS, "logout"):
            owner_page = (request.endpoint or "").startswith("owner")
            if owner_page != (g.user.role == LIKENESS_OWNER):
                if request.method == "GET" and request.endpoint == "queue_page":
                    return redirect(url_for("owner_page"))
                abort(403, "this page is not for your role")
        return None

    @app.after_request
    def _headers(response):
        response.headers["Content-Security-Policy"] = (
            "default-src 'self'; img-src 'self'; media-src 'self'; style-src 'self'; "
            "script-src 'self'; frame-ancestors 'none'; form-action 'self'"
        )
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Cache-Control"] = "no-store"
        return response

    @app.errorhandler(Busy)
    @app.errorhandler(InvalidInput)
    @app.errorhandler(Forbidden)
    @app.errorhandler(FailedPrecondition)
    def _domain_error(e):
        status = (
            403
            if isinstance(e, Forbidden)
            else 409
            if isinstance(e, Busy | FailedPrecondition)
            else 400
        )
        return render_template("error.html", message=str(e)), status

    @app.errorhandler(NotFound)
    def _not_found(e):
        return render_template("error.html", message=str(e)), 404

    @app.context_processor
    def _globals():
        user = g.get("user")
        reviewing = user is not None and user.role in REVIEW_ROLES
        return {
            "user": user,
            "csrf": session.get("csrf", ""),
            "now": time.time(),
            "since": session.get("since", time.time()),
            "settings": wellness.settings_of(service.store, user.client_id) if reviewing else {},
        }

    @app.route("/login", methods=["GET", "POST"])
    def login():
        error = ""
        if request.method == "POST":
            token = request.form.get("token", "").strip()
            try:
                who = service.auth.authenticate([("authorization", f"Bearer {token}")])
            except Unauthenticated as e:
                error = str(e)
            else:
                if who.role in WEB_ROLES:
                    session.clear()
                    session["sid"] = sessions.start(who.client_id)
                    session["csrf"] = secrets.token_urlsafe(32)  # a new session, a new token
                    session["since"] = time.time()  # the break reminder counts from here
                    home = "owner_page" if who.role == LIKENESS_OWNER else "queue_page"
                    return redirect(url_for(home))
                error = f"role {who.role!r} does not review; use a reviewer's token"
        return render_template("login.html", error=error), 401 if error else 200

    @app.post("/logout")
    def logout():
        sessions.end(session.get("sid", ""))  # a copy of the cookie stops working too
        session.clear()
        return redirect(url_for("login"))

    add_review_pages(app, service)
    add_owner_pages(app, service)
    return app


class WebServer:
    """The web UI on its own port, on Cheroot (a production WSGI server; Werkzeug's is for
    development), HTTPS when the service has a TLS certificate."""

    def __init__(self, service, address: str) -> None:
        host, port = address.rsplit(":", 1)
        config = service.config
        config.require_safe_transport(address, "the review UI")
        self._server = wsgi.Server((host, int(port)), create_app(service), numthreads=8)
        if config.tls_cert:
            self._server.ssl_adapter = BuiltinSSLAdapter(str(config.tls_cert), str(config.tls_key))
        try:
            self._server.prepare()  # binds now: a taken port is an error here, not later
        except OSError as e:  # Cheroot words a taken port its own way: say it plainly
            code = e.errno or errno.EADDRINUSE
            raise OSError(code, os.strerror(code)) from None
        self.port = self._server.bind_addr[1]
        self.scheme = "https" if config.tls_cert else "http"
        self._thread = threading.Thread(target=self._server.serve, name="web", daemon=True)

    def start(self) -> WebServer:
        self._thread.start()
        log.info("review UI listening on port %d (%s)", self.port, self.scheme)
        return self

    def stop(self) -> None:
        self._server.stop()
        self._thread.join(timeout=10)
