"""What the store keeps of the people in the loop: reviewers' viewing settings, and the
depicted person's own door — who owns which likeness, every match of it, and the
takedown notices they file (part of `Store`, interface.py)."""

from __future__ import annotations

from typing import Protocol

from safety.store.records import AuditEntry, LikenessMatch, TakedownNotice
from safety.verdict import Verdict, crop_key, likeness_match


class ReviewerSettingsStore(Protocol):
    def reviewer_settings(self, client_id: str) -> dict:
        """This reviewer's saved settings ({} when none were saved)."""
        ...

    def set_reviewer_settings(self, client_id: str, settings: dict) -> None:
        """Replace this reviewer's settings (kept across logins and front doors)."""
        ...


class LikenessOwnerStore(Protocol):
    def bind_likeness_owner(
        self, client_id: str, identity_ids: list[str], entry: AuditEntry
    ) -> None:
        """Let `client_id` speak for these enrolled people (added to any it had), with the
        audit entry in the same transaction."""
        ...

    def owned_identities(self, client_id: str) -> list[str]:
        """The identity ids this client speaks for, sorted; [] for anyone else."""
        ...

    def likeness_matches(self, identity_ids: list[str], limit: int = 100) -> list[LikenessMatch]:
        """Matches of these people (written with their decisions), newest first."""
        ...

    def match_evidence(self, match_id: int) -> tuple[str, bytes] | None:
        """(identity id, face crop JPEG) of one match, or None when none was kept."""
        ...

    def add_takedown(self, notice: TakedownNotice, entry: AuditEntry) -> None:
        """Record a notice with its audit entry, in one transaction."""
        ...

    def takedowns(
        self, *, tenant: str = "", identity_ids: list[str] | None = None, limit: int = 100
    ) -> list[TakedownNotice]:
        """Notices against a tenant's outputs, or about these people; newest first."""
        ...

    def acknowledge_takedown(
        self, notice_id: str, client_id: str, now: float, entry: AuditEntry
    ) -> TakedownNotice | None:
        """Mark a notice seen by the tenant (once; the first acknowledgement stands)."""
        ...


def match_rows(decision_id: str, request_id: str, tenant: str, verdict: Verdict) -> list[dict]:
    """The likeness_matches rows a decision adds: one per finding of an enrolled person,
    with its face crop when the check kept one. Both stores write these in the
    decision's own transaction, so the owner's list never misses a recorded decision."""
    rows = []
    for f in verdict.findings:
        if not likeness_match(f):
            continue
        rows.append(
            dict(
                decision_id=decision_id,
                request_id=request_id,
                identity_id=f.identity_id,
                tenant=tenant,
                action=verdict.action.name.lower(),
                stage=verdict.stage.name.lower(),
                subject=f.subject,
                score=round(float(f.score), 4),
                grant_id=(f.consent or {}).get("grant_id", ""),
                frame_time_s=float(f.frame_time_s),
                evidence_jpeg=verdict.face_crops.get(crop_key(f)),
            )
        )
    return rows
