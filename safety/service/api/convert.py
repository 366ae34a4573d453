"""Domain records as protobuf messages: the only place that knows both shapes."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from reelguard.v1 import reelguard_pb2 as pb
from safety.policy.coverage import CoverageRow
from safety.provenance.recheck import Recheck
from safety.review.queue import APPROVED
from safety.store.records import (
    Clearance,
    Grant,
    IdentityRecord,
    LikenessMatch,
    ReviewItem,
    TakedownNotice,
)
from safety.verdict import Action, Finding, Verdict
from signing.report import INVALID, NO_MANIFEST, TRUSTED, VALID_UNTRUSTED, VerifyReport
from signing.verify import Verifier, anchor_subjects


def finding_pb(f: Finding) -> pb.Finding:
    msg = pb.Finding(
        check=f.check,
        category=f.category,
        subject=f.subject,
        score=f.score,
        threshold=f.threshold,
        action=int(f.action),
        detail=f.detail,
        identity_id=f.identity_id,
        identity_name=f.identity_name,
        frame_time_s=f.frame_time_s,
    )
    if f.box:
        msg.box.CopyFrom(pb.BoundingBox(x=f.box[0], y=f.box[1], width=f.box[2], height=f.box[3]))
    if f.bank:
        msg.bank = f.bank
        msg.distance = f.distance
    msg.specialist, msg.pdq = f.specialist, f.pdq
    if f.track_id >= 0:
        msg.track_id = f.track_id
        msg.track_times_s.extend(f.track_times_s)
    if f.consent:
        msg.consent.CopyFrom(
            pb.ConsentBasis(
                grant_id=f.consent["grant_id"],
                scope=f.consent.get("scope", ""),
                # A grant without expiry is valid data: a stored verdict drops the None.
                expires_at=f.consent.get("expires_at") or 0.0,
                grantor=f.consent.get("grantor", ""),
            )
        )
    return msg


def grant_pb(g: Grant) -> pb.ConsentGrant:
    return pb.ConsentGrant(
        id=g.id,
        tenant=g.tenant,
        identity_id=g.identity_id,
        scopes=g.scopes,
        grantor=g.grantor,
        created_at=g.created_at,
        expires_at=g.expires_at or 0.0,
        revoked_at=g.revoked_at or 0.0,
        revoked_by=g.revoked_by,
        active=g.active(time.time()),
        basis=g.basis,
    )


def identity_pb(r: IdentityRecord, grants: list[Grant] = ()) -> pb.Identity:
    return pb.Identity(
        id=r.id,
        name=r.name,
        aliases=r.aliases,
        reference_count=r.reference_count,
        external_id=r.external_id,
        created_at=r.created_at,
        references=[
            pb.Reference(
                vector_id=ref.vector_id, image_sha256=ref.image_sha256, created_at=ref.created_at
            )
            for ref in r.references
        ],
        grants=[grant_pb(g) for g in grants],
    )


def verdict_pb(v: Verdict) -> pb.Verdict:
    return pb.Verdict(
        action=int(v.action),
        reasons=[finding_pb(f) for f in v.reasons],
        findings=[finding_pb(f) for f in v.findings],
        checks=[
            pb.CheckRun(
                name=c.name,
                model=c.model,
                model_version=c.model_version,
                ok=c.ok,
                error=c.error,
                seconds=c.seconds,
                stage=int(c.stage),
                not_run=not c.ran,
            )
            for c in v.checks
        ],
        policy_version=v.policy_version,
        decision_id=v.decision_id,
        stage=int(v.stage),
        unevaluated_categories=v.unevaluated,
        frames_checked=[
            pb.FramesChecked(subject=subject, checked=n["checked"], total=n["total"])
            for subject, n in sorted(v.frames_checked.items())
        ],
    )


_STATUS = {
    TRUSTED: pb.VerifyReport.TRUSTED,
    VALID_UNTRUSTED: pb.VerifyReport.VALID_UNTRUSTED,
    INVALID: pb.VerifyReport.INVALID,
    NO_MANIFEST: pb.VerifyReport.NO_MANIFEST,
}


def report_pb(r: VerifyReport) -> pb.VerifyReport:
    return pb.VerifyReport(
        status=_STATUS[r.status],
        summary=r.summary,
        signer=r.signer,
        issuer=r.issuer,
        actions=r.actions,
        ingredients=[i["title"] for i in r.ingredients],
        moderation_json=json.dumps(r.moderation) if r.moderation is not None else "",
        recovered_manifest=(r.recovered or {}).get("manifest", ""),
        failures=[
            pb.ValidationStatus(
                code=s["code"], explanation=s["explanation"], url=s["url"], kind=s["kind"]
            )
            for s in r.failures
        ],
        report_json=r.to_json(),
    )


CHUNK_BYTES = 1 << 20


def output_chunks(path: Path) -> Iterator[pb.OutputChunk]:
    """A file as chunks, a block at a time (never a whole video in memory)."""
    with open(path, "rb") as f:
        offset = 0
        while block := f.read(CHUNK_BYTES):
            yield pb.OutputChunk(data=block, offset=offset)
            offset += len(block)


def review_verdict_pb(item: ReviewItem, evidence: Verdict, reviewer: str = "") -> pb.Verdict:
    """The final verdict of a reviewed item: the human decision, with the evidence (the
    item's verdict, as the caller may read it). `reviewer` names who decided, for callers
    who may know (a generation client is told that a person decided, not which one)."""
    verdict = verdict_pb(evidence)
    verdict.action = pb.ALLOW if item.status == APPROVED else pb.BLOCK
    who = f" by reviewer {reviewer}" if reviewer else " in human review"
    verdict.reasons.append(
        pb.Finding(
            check="human_review",
            category=item.reason_code or "",
            subject="review",
            score=1.0,
            action=verdict.action,
            detail=f"{item.decision}{who}: {item.reason_code}",
        )
    )
    return verdict


def review_item_pb(item: ReviewItem, name_of: Callable[[str], str] = str) -> pb.ReviewItem:
    """`name_of`: a client id as people know it (the reviewers' names)."""
    return pb.ReviewItem(
        claimed_by_name=name_of(item.claimed_by) if item.claimed_by else "",
        decided_by_name=name_of(item.decided_by) if item.decided_by else "",
        ticket=item.ticket,
        request_id=item.request_id,
        tenant=item.tenant,
        prompt=item.prompt,
        category=item.category,
        priority=item.priority,
        status=item.status,
        claimed_by=item.claimed_by or "",
        claim_expires=item.claim_expires or 0.0,
        verdict=verdict_pb(Verdict.from_dict(item.verdict)),
        decision=item.decision or "",
        reason_code=item.reason_code or "",
        notes=item.notes or "",
        decided_by=item.decided_by or "",
        created_at=item.created_at,
        appeal_reason=item.appeal_reason or "",
    )


def client_names(store) -> Callable[[str], str]:
    """A client id -> "name (id)" (the id alone when the client is gone), looked up once."""
    known: dict[str, str] = {}

    def name_of(client_id: str) -> str:
        if client_id not in known:
            client = store.client(client_id)
            known[client_id] = f"{client.name} ({client_id})" if client else client_id
        return known[client_id]

    return name_of


def decision_pb(record: dict) -> pb.Decision:
    msg = pb.Decision(
        id=record["id"],
        request_id=record["request_id"],
        tenant=record["tenant"],
        stage=pb.Stage.Value(record["stage"].upper()),
        action=pb.Action.Value(record["action"].upper()),
        policy_version=record["policy_version"],
        created_at=record["created_at"],
        specialist=bool(record.get("specialist")),
    )
    if "evidence" in record:
        msg.evidence_json = json.dumps(record["evidence"])
    return msg


def client_pb(c) -> pb.Client:
    return pb.Client(
        id=c.id,
        name=c.name,
        tenant=c.tenant,
        role=c.role,
        cert_subject=c.cert_subject,
        created_at=c.created_at,
        revoked_at=c.revoked_at or 0.0,
    )


def allowlist_entry_pb(c: Clearance) -> pb.AllowlistEntry:
    return pb.AllowlistEntry(
        id=c.id,
        tenant=c.tenant,
        content_sha256=c.content_sha256,
        subject=c.subject,
        category=c.category,
        max_score=c.max_score,
        expires_at=c.expires_at or 0.0,
        ticket=c.ticket,
        created_by=c.created_by,
        created_at=c.created_at,
    )


def trust_anchors_pb(verifier: Verifier) -> pb.TrustAnchors:
    pem = verifier.trust_anchors_pem
    return pb.TrustAnchors(
        trust_anchors_pem=pem,
        tsa_anchors_pem=verifier.tsa_anchors_pem,
        subjects=anchor_subjects(pem),
        sha256=hashlib.sha256(pem.encode()).hexdigest(),
    )


def recheck_pb(r: Recheck) -> pb.RecheckReport:
    return pb.RecheckReport(
        decision_id=r.decision_id,
        recorded_action=r.recorded_action,
        rechecked_action=r.rechecked_action,
        reproduces=r.reproduces,
        frames=r.frames,
        scores=[
            pb.ScoreRecheck(
                check=s.check,
                category=s.category,
                recorded=s.recorded,
                rechecked=s.rechecked,
                reproduces=s.reproduces,
            )
            for s in r.scores
        ],
        refused=r.refused,
        replayed=r.replayed,
        held_action=r.held_action,
        held_rechecked_action=r.held_rechecked_action,
    )


def coverage_pb(row: CoverageRow) -> pb.CategoryCoverage:
    rule = row.rule
    return pb.CategoryCoverage(
        kind=row.kind,
        category=row.category,
        evaluated=row.evaluated,
        threshold=rule.threshold if rule else 0.0,
        review_threshold=(rule.review_threshold or 0.0) if rule else 0.0,
        action=int(rule.action) if rule else pb.BLOCK,
        required=bool(rule and row.kind in rule.required),
        models=[
            pb.ModelCoverage(
                check=m.check,
                model=m.model,
                model_version=m.model_version,
                calibration=m.calibration,
            )
            for m in row.models
        ],
        uncalibrated=row.uncalibrated,
    )


def match_pb(m: LikenessMatch) -> pb.LikenessMatch:
    return pb.LikenessMatch(
        id=m.id,
        request_id=m.request_id,
        decision_id=m.decision_id,
        identity_id=m.identity_id,
        tenant=m.tenant,
        action=int(Action[m.action.upper()]),
        stage=m.stage,
        subject=m.subject,
        score=m.score,
        grant_id=m.grant_id,
        frame_time_s=m.frame_time_s,
        created_at=m.created_at,
        has_evidence=m.has_evidence,
    )


def notice_pb(n: TakedownNotice, repeat_offences: int = 0) -> pb.TakedownNotice:
    return pb.TakedownNotice(
        id=n.id,
        identity_id=n.identity_id,
        filed_by=n.filed_by,
        tenant=n.tenant,
        manifest_id=n.manifest_id,
        output_sha256=n.output_sha256,
        pdq_hex=n.fingerprints.get("pdq", []),
        watermark=n.fingerprints.get("watermark", ""),
        bank=n.fingerprints.get("bank", ""),
        reason=n.reason,
        status=n.status,
        filed_at=n.filed_at,
        removed_at=n.removed_at or 0.0,
        acknowledged_at=n.acknowledged_at or 0.0,
        acknowledged_by=n.acknowledged_by,
        repeat_offences=repeat_offences,
    )
