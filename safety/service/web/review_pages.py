"""The reviewer's pages: the queues at a glance, "start reviewing", an item with its
evidence first, decisions (one keystroke and a confirmation; the next item loads
after), wellness settings, and the oversight page for senior reviewers."""

from __future__ import annotations

import io

from flask import Flask, abort, flash, g, redirect, render_template, request, send_file, url_for

from media.sampling import frame_shown_at
from safety.auth import ADMIN, SENIOR_REVIEWER
from safety.errors import Busy, Forbidden, InvalidInput, NotFound
from safety.likeness.face_images import face_crop_jpeg, jpeg
from safety.review import serving, wellness
from safety.review.states import APPROVED, OPEN, REJECTED, STATUSES
from safety.service.web import item_view
from safety.store.shared_media import MediaGone

SENIORS = (SENIOR_REVIEWER, ADMIN)
REASON_CODES = {
    "approve": ["false_positive", "consent_on_file", "newsworthy", "not_violating"],
    "reject": ["likeness_no_consent", "sexual", "violence", "hate", "other_policy"],
    "escalate": ["needs_senior", "legal_question", "unclear_policy"],
}


def _number(text: str | None) -> int:
    try:
        return max(0, int(text or 0))
    except ValueError:
        raise InvalidInput(f"not a whole number: {text!r}") from None


def add_review_pages(app: Flask, service) -> None:
    queue = service.review

    def visible(ticket: str):
        return queue.get_for(ticket, g.user)

    def shown(ticket: str):
        item = visible(ticket)
        if item_view.never_shown(item):
            abort(403, "this item is flagged sexual_minors: it is never shown")
        return item

    @app.get("/")
    def queue_page():
        status = request.args.get("status", "open")
        statuses = OPEN if status == "open" else (status,) if status in STATUSES else OPEN
        tenant = request.args.get("tenant", "")
        items = queue.list(
            statuses,
            tenant if g.user.is_platform else g.user.tenant,
            request.args.get("category", ""),
            _number(request.args.get("min_priority")),
            200,
            60 * _number(request.args.get("older_than_min")),
        )
        return render_template(
            "queue.html",
            items=items,
            counts=serving.summary(queue, g.user),
            status=status,
            statuses=("open", *STATUSES),
            tenant=tenant,
            category=request.args.get("category", ""),
            reason_codes=REASON_CODES,
        )

    @app.route("/next", methods=["GET", "POST"])
    def next_item():
        """Start reviewing: the next item this reviewer may decide, claimed for them."""
        source = request.form if request.method == "POST" else request.args
        item = serving.next_item(
            queue, g.user, source.get("category", ""), source.get("tenant", "")
        )
        if item is None:
            flash("Nothing left to review in that queue.")
            return redirect(url_for("queue_page"))
        return redirect(url_for("item_page", ticket=item.ticket))

    @app.get("/items/<ticket>")
    def item_page(ticket):
        item = visible(ticket)
        hidden = item_view.never_shown(item)
        return render_template(
            "item.html",
            item=item,
            reasons=item_view.reasons(item),
            subjects=[] if hidden else item_view.subjects(item),
            findings=item.verdict.get("findings", []),
            never_shown=hidden,
            reason_codes=REASON_CODES,
            may_decide=serving.may_decide(queue, item, g.user),
            may_grant=g.user.is_platform and g.user.role in SENIORS,
            may_add_golden=g.user.role in SENIORS and item.status in (APPROVED, REJECTED),
        )

    @app.get("/items/<ticket>/media/<int:index>")
    def item_media(ticket, index):
        item = shown(ticket)
        try:
            key, mime = item_view.medium(item, index)
            return send_file(queue.media.path(key), mimetype=mime, conditional=True)
        except LookupError:
            abort(404)
        except (MediaGone, ValueError):
            abort(410, "the media was deleted after the retention period")

    @app.get("/items/<ticket>/frame/<int:index>.jpg")
    def item_frame(ticket, index):
        """One frame of a video subject, as shown at `t` seconds: what a reviewer reveals
        instead of the whole video."""
        item = shown(ticket)
        try:
            key, mime = item_view.medium(item, index)
            time_s = float(request.args.get("t", "0"))
            pixels = frame_shown_at(queue.media.path(key), time_s) if "video" in mime else None
        except (LookupError, ValueError, MediaGone):
            abort(404)
        if pixels is None:
            abort(404)
        return send_file(io.BytesIO(jpeg(pixels)), "image/jpeg")

    @app.get("/items/<ticket>/face/<int:index>.jpg")
    def item_face(ticket, index):
        """The detected face of finding `index`, cropped from the content it was found in."""
        item = shown(ticket)
        findings = item.verdict.get("findings", [])
        if not 0 <= index < len(findings) or not findings[index].get("box"):
            abort(404)
        f = findings[index]
        pixels = item_view.subject_pixels(
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
        item = queue.claim_and_decide(
            ticket,
            g.user,
            form.get("decision", ""),
            form.get("reason_code", ""),
            form.get("notes", ""),
            allowlist_content=form.get("allowlist_content") == "on",
            grant_consent=form.get("grant_consent") == "on",
        )
        flash(f"Ticket {ticket}: {item.status}.")
        if form.get("then") == "stay":
            return redirect(url_for("item_page", ticket=ticket))
        return redirect(url_for("next_item", category=form.get("queue_category", "")))

    @app.post("/items/<ticket>/golden")
    def add_golden(ticket):
        item = queue.add_golden(ticket, g.user)
        flash(f"Ticket {ticket} is in the golden set as {item.ticket}.")
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

    @app.route("/settings", methods=["GET", "POST"])
    def settings_page():
        if request.method == "POST":
            wellness.save(service.store, g.user.client_id, request.form)
            flash("Settings saved.")
            return redirect(url_for("settings_page"))
        return render_template("settings.html")

    @app.get("/oversight")
    def oversight_page():
        if g.user.role not in SENIORS:
            abort(403, "the oversight page is for senior reviewers")
        tenant = None if g.user.is_platform else g.user.tenant
        return render_template(
            "oversight.html",
            figures=serving.oversight(service.store.audit, tenant),
        )
