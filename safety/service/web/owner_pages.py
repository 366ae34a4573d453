"""The depicted person's own door: every request that matched them (with the face it
was found on, never the whole output), their consent grants, and takedown notices."""

from __future__ import annotations

import io

from flask import Flask, flash, g, redirect, render_template, request, send_file, url_for

from safety.errors import InvalidInput
from safety.likeness.consent import SCOPES

TAKEDOWN_UPLOAD = 256 << 20  # a signed output filed with a notice


def add_owner_pages(app: Flask, service) -> None:
    owners = service.owners

    @app.get("/owner")
    def owner_page():
        ids = owners.identities(g.user)
        people = {i: service.store.identity(i) for i in ids}
        return render_template(
            "owner.html",
            people=people,
            matches=owners.matches(g.user),
            grants=owners.grants(g.user),
            notices=owners.notices(g.user),
            scopes=SCOPES,
        )

    @app.get("/owner/evidence/<int:match_id>.jpg")
    def owner_evidence(match_id):
        return send_file(io.BytesIO(owners.evidence(g.user, match_id)), "image/jpeg")

    @app.post("/owner/grant")
    def owner_grant():
        form = request.form
        try:
            days = float(form.get("days") or 0)
        except ValueError:
            raise InvalidInput("the grant runs for a number of days") from None
        grant = owners.grant(
            g.user,
            form.get("identity_id", ""),
            form.get("tenant", ""),
            form.getlist("scopes"),
            days,
        )
        flash(f"Consent granted to {grant.tenant} for {', '.join(grant.scopes)} ({grant.id}).")
        return redirect(url_for("owner_page"))

    @app.post("/owner/revoke")
    def owner_revoke():
        grant = owners.revoke(g.user, request.form.get("grant_id", ""))
        flash(f"Consent {grant.id} for {grant.tenant} revoked: it stops the next request.")
        return redirect(url_for("owner_page"))

    @app.post("/owner/takedown")
    def owner_takedown():
        upload = request.files.get("file")
        data = upload.read() if upload and upload.filename else b""
        notice = owners.takedown(
            g.user,
            manifest_id=request.form.get("manifest_id", ""),
            data=data,
            reason=request.form.get("reason", ""),
        )
        flash(
            f"Takedown {notice.id} filed against {notice.tenant}'s output: "
            f"{len(notice.fingerprints['pdq'])} fingerprints banked."
        )
        return redirect(url_for("owner_page"))
