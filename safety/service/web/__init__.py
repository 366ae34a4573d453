"""The reviewer web UI: server-rendered pages beside the gRPC port, no build step.

Reviewers log in with their client token; the session cookie (signed, HttpOnly,
SameSite=Strict, Secure under TLS) holds only a server-side session id (sessions.py:
logout ends it everywhere, it expires after web_session_s), and the client behind it is
re-checked on every request so a revoked token logs them out at once. Every form
carries a per-session CSRF token; templates escape everything (Jinja autoescape); media
is shown blurred and greyscale until the reviewer reveals it, and is never cached.
"""

from __future__ import annotations

import errno
import hmac
import io
import logging
import os
import secrets
import threading
import time

from cheroot import wsgi
from cheroot.ssl.builtin import BuiltinSSLAdapter
from flask import Flask, abort, g, redirect, render_template, request, send_file, session, url_for

from media.decode import decode_image
from media.sampling import frame_shown_at
from safety.auth import ADMIN, REVIEWER, SENIOR_REVIEWER, Principal
from safety.errors import Busy, Forbidden, InvalidInput, NotFound, Unauthenticated
from safety.likeness.face_images import face_crop_jpeg
from safety.review.queue import APPROVED, ESCALATED, OPEN, REJECTED
from safety.service.web.sessions import WebSessions
from safety.store.records import ReviewItem
from safety.store.shared_media import MediaGone, SharedMedia

log = logging.getLogger(__name__)

REVIEW_ROLES = (REVIEWER, SENIOR_REVIEWER, ADMIN)
STATUSES = (*OPEN, APPROVED, REJECTED)
REASON_CODES = {
    "approve": ["false_positive", "consent_on_file", "newsworthy", "not_violating"],
    "reject": ["likeness_no_consent", "sexual", "violence", "hate", "other_policy"],
    "escalate": ["needs_senior", "legal_question", "unclear_policy"],
}


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
    queue = service.review
    sessions = WebSessions(service.store, lambda: service.config.web_session_s)

    @app.before_request
    def _authenticate():
        g.user = None
        client_id = sessions.client_of(session.get("sid", ""))
        if session.get("sid") and client_id is None:
            session.clear()  # logged out, expired, or from before a restart
        if client_id:
            record = service.store.client(client_id)
            if record is None or record.revoked_at is not None or record.role not in REVIEW_ROLES:
                sessions.end(session["sid"])
                session.clear()
            else:
                g.user = Principal(record.id, record.name, record.tenant, record.role)
        if "csrf" not in session:
            session["csrf"] = secrets.token_urlsafe(32)
        if request.method == "POST":
            sent = request.form.get("csrf", "")
            if not hmac.compare_digest(sent, session["csrf"]):
                abort(403, "the form's CSRF token is missing or stale; reload the page")
        if g.user is None and request.endpoint not in ("login", "static"):
            return redirect(url_for("login"))
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
    def _domain_error(e):
        status = 403 if isinstance(e, Forbidden) else 409 if isinstance(e, Busy) else 400
        return render_template("error.html", message=str(e)), status

    @app.errorhandler(NotFound)
    def _not_found(e):
        return render_template("error.html", message=str(e)), 404

    def visible(ticket: str) -> ReviewItem:
        return queue.get_for(ticket, g.user)

    @app.context_processor
    def _globals():
        return {"user": g.get("user"), "csrf": session.get("csrf", ""), "now": time.time()}

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
                if who.role in REVIEW_ROLES:
                    session.clear()
                    session["sid"] = sessions.start(who.client_id)
                    session["csrf"] = secrets.token_urlsafe(32)  # a new session, a new token
                    return redirect(url_for("queue_page"))
                error = f"role {who.role!r} does not review; use a reviewer's token"
        return render_template("login.html", error=error), 401 if error else 200

    @app.post("/logout")
    def logout():
        sessions.end(session.get("sid", ""))  # a copy of the cookie stops working too
        session.clear()
        return redirect(url_for("login"))

    @app.get("/")
    def queue_page():
        status = request.args.get("status", "open")
        statuses = OPEN if status == "open" else (status,) if status in STATUSES else OPEN
        tenant = request.args.get("tenant", "")
        items = queue.list(
            statuses,
            tenant if g.user.tenant == "*" else g.user.tenant,
            request.args.get("category", ""),
            _number(request.args.get("min_priority")),
            200,
            60 * _number(request.args.get("older_than_min")),
        )
        return render_template(
            "queue.html",
            items=items,
            status=status,
            statuses=("open", *STATUSES),
            tenant=tenant,
            category=request.args.get("category", ""),
            reason_codes=REASON_CODES,
        )

    @app.get("/items/<ticket>")
    def item_page(ticket):
        item = visible(ticket)
        findings = item.verdict.get("findings", [])
        return render_template(
            "item.html",
            item=item,
            findings=findings,
            faces=[i for i, f in enumerate(findings) if f.get("box") and f.get("identity_id")],
            reason_codes=REASON_CODES,
            senior_only=item.status in (ESCALATED, "appealed"),
        )

    @app.get("/items/<ticket>/media")
    def item_media(ticket):
        item = visible(ticket)
        try:
            held = queue.media.path(item.held_path)
        except (MediaGone, ValueError):
            abort(410, "the media was deleted after the retention period")
        return send_file(held, mimetype=item.mime_type, conditional=True)

    @app.get("/items/<ticket>/face/<int:index>.jpg")
    def item_face(ticket, index):
        """The detected face of finding `index`, cropped from the content it was found in."""
        item = visible(ticket)
        findings = item.verdict.get("findings", [])
        if not 0 <= index < len(findings) or not findings[index].get("box"):
            abort(404)
        f = findings[index]
        pixels = _subject_pixels(
            queue.media,
            item,
            f.get("subject", ""),
            f.get("frame_time_s", 0.0),
            service.config.max_image_pixels,
        )
        if pixels is None:
            abort(404)
        return send_file(io.BytesIO(face_crop_jpeg(pixels, tuple(f["box"]))), "image/jpeg")

    @app.get("/identities/<identity_id>/face.jpg")
    def reference_face(identity_id):
        jpeg = service.store.reference_face(identity_id)
        if jpeg is None:
            abort(404)
        return send_file(io.BytesIO(jpeg), "image/jpeg")

    @app.post("/items/<ticket>/claim")
    def claim(ticket):
        visible(ticket)
        queue.claim(ticket, g.user)
        return redirect(url_for("item_page", ticket=ticket))

    @app.post("/items/<ticket>/decide")
    def decide(ticket):
        form = request.form
        queue.claim_and_decide(
            ticket,
            g.user,
            form.get("decision", ""),
            form.get("reason_code", ""),
            form.get("notes", ""),
            allowlist_content=form.get("allowlist_content") == "on",
            grant_consent=form.get("grant_consent") == "on",
        )
        return redirect(url_for("item_page", ticket=ticket))

    @app.post("/bulk")
    def bulk():
        form = request.form
        failures = []
        for ticket in form.getlist("tickets"):
            try:
                queue.claim_and_decide(
                    ticket, g.user, form.get("decision", ""), form.get("reason_code", "")
                )
            except (Busy, InvalidInput, Forbidden, NotFound) as e:
                failures.append(f"{ticket}: {e}")
        if failures:
            return render_template("error.html", message="; ".join(failures)), 409
        return redirect(url_for("queue_page"))

    return app


def _number(text: str | None) -> int:
    try:
        return max(0, int(text or 0))
    except ValueError:
        raise InvalidInput(f"not a whole number: {text!r}") from None


def _subject_pixels(
    media: SharedMedia, item: ReviewItem, subject: str, time_s: float, max_pixels: int
):
    """What the check looked at: the input image as decoded at intake, or the output's
    frame shown at `time_s` (media/ decodes both, upright as a viewer sees them)."""
    try:
        if subject == "input_image":
            for ing in item.spec.get("ingredients", []):
                if ing["mime_type"].startswith("image/") and media.exists(ing["path"]):
                    data = media.read_bytes(ing["path"])
                    return decode_image(data, max_pixels=max_pixels, label="input image").pixels
            return None
        if subject == "output_frame":
            return frame_shown_at(media.path(item.held_path), time_s)
    except (MediaGone, ValueError):
        return None  # deleted after the retention period, or unreadable
    return None


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
