"""The depicted person's own door: a likeness owner (or an agent acting for several
people, as a talent agency does) sees every request that matched them, grants, limits
and revokes consent per tenant themselves, and files takedown notices against signed
outputs.

A takedown banks the output's fingerprints (PDQ of its frames, so a re-submission
through Check or Sign is blocked; its C2PA manifest id and the watermark id that names
it), notifies the tenant that made it (a notice in the tenant's queue, acknowledged
there), and keeps the notice, its handling and its timestamps: the record a designated
agent keeps under the NO FAKES Act's safe harbour, with repeat offences per tenant.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from indexes.hashbank import HashBanks, media_hashes
from media.lookup import decode_for_lookup
from media.sniff import sniff_mime
from safety.auth import ADMIN, LIKENESS_OWNER, Principal
from safety.errors import FailedPrecondition, Forbidden, InvalidInput, NotFound
from safety.likeness.consent import ConsentRegistry
from safety.store.interface import Store
from safety.store.records import AuditEntry, Grant, LikenessMatch, TakedownNotice
from safety.verdict import LIKENESS_CATEGORIES

TAKEDOWN_BANK = "likeness-takedown"
WATERMARK_HEX = 16  # the manifest-id prefix the invisible watermark carries


@dataclass(frozen=True)
class Signed:
    """What the verifier says of a file: the manifest id it was signed under (its own
    manifest, or the one its watermark or fingerprint recovered), if we signed it."""

    manifest_id: str
    trusted: bool


class LikenessOwners:
    def __init__(
        self,
        store: Store,
        consent: ConsentRegistry,
        banks: HashBanks,
        identify: Callable[[bytes, str], Signed],
        max_image_pixels: int,
    ) -> None:
        self.store = store
        self.consent = consent
        self.banks = banks
        self.identify = identify  # the service's verifier, reading a filed output
        self.max_image_pixels = max_image_pixels

    # ---- who speaks for whom -----------------------------------------------------------

    def bind(self, admin: Principal, client_id: str, identity_ids: list[str]) -> list[str]:
        """A platform admin, after verifying the person (or the agency's mandate), lets a
        likeness-owner client speak for these enrolled people."""
        if admin.role != ADMIN or not admin.is_platform:
            raise Forbidden("only a platform admin binds a likeness owner to a person")
        client = self.store.client(client_id)
        if client is None:
            raise NotFound(f"no client {client_id!r}")
        if client.role != LIKENESS_OWNER or client.revoked_at is not None:
            raise InvalidInput(
                f"client {client.id} is not an active {LIKENESS_OWNER} (create one with "
                f"role {LIKENESS_OWNER})"
            )
        for identity_id in identity_ids:
            if self.store.identity(identity_id) is None:
                raise NotFound(f"no enrolled identity {identity_id!r}")
        if not identity_ids:
            raise InvalidInput("name at least one enrolled identity the owner speaks for")
        entry = AuditEntry(
            admin.client_id, "likeness_owner.bound", "*", client.id, {"identities": identity_ids}
        )
        self.store.bind_likeness_owner(client.id, identity_ids, entry)
        return self.store.owned_identities(client.id)

    def identities(self, who: Principal) -> list[str]:
        if who.role != LIKENESS_OWNER:
            raise Forbidden(f"role {who.role!r} is not a likeness owner")
        return self.store.owned_identities(who.client_id)

    def _owns(self, who: Principal, identity_id: str) -> None:
        if identity_id not in self.identities(who):
            raise NotFound(f"no identity {identity_id!r} of yours")  # another's reads as none

    # ---- what matched them ---------------------------------------------------------------

    def matches(self, who: Principal, limit: int = 100) -> list[LikenessMatch]:
        """Every request that matched the owner's people, newest first: one row per
        request, subject and person (a request's pre-check and final decision both
        record a match; the final one says what happened)."""
        seen: set[tuple[str, str, str]] = set()
        rows = []
        for m in self.store.likeness_matches(self.identities(who), limit * 3):
            key = (m.request_id, m.subject, m.identity_id)
            if key not in seen:
                seen.add(key)
                rows.append(m)
        return rows[:limit]

    def evidence(self, who: Principal, match_id: int) -> bytes:
        """The face crop a match was found on: never the whole frame or output."""
        found = self.store.match_evidence(match_id)
        if found is None or found[0] not in self.identities(who):
            raise NotFound(f"no evidence for match {match_id}")
        return found[1]

    # ---- consent, by the person themselves ---------------------------------------------

    def grants(self, who: Principal) -> list[Grant]:
        return [g for i in self.identities(who) for g in self.store.grants(identity_id=i)]

    def grant(
        self, who: Principal, identity_id: str, tenant: str, scopes: list[str], days: float
    ) -> Grant:
        self._owns(who, identity_id)
        if days <= 0:
            raise InvalidInput("a grant from its owner runs for a number of days (1 or more)")
        expires = time.time() + days * 86400
        grant = self.consent.grant(
            tenant, identity_id, scopes, f"owner {who.client_id}", expires, "the person's own"
        )
        self._audit(who, "consent.granted_by_owner", grant)
        return grant

    def revoke(self, who: Principal, grant_id: str) -> Grant:
        mine = {g.id for g in self.grants(who)}
        if grant_id not in mine:
            raise NotFound(f"no consent grant {grant_id!r} of yours")
        grant = self.consent.revoke(grant_id, f"owner {who.client_id}")
        self._audit(who, "consent.revoked_by_owner", grant)
        return grant

    def _audit(self, who: Principal, kind: str, grant: Grant) -> None:
        """The owner's consent changes in the audit chain (the grant row records who
        and when too; this entry is what an auditor verifies)."""
        body = {
            "identity_id": grant.identity_id,
            "scopes": grant.scopes,
            "expires_at": grant.expires_at,
        }
        self.store.append_audit(AuditEntry(who.client_id, kind, grant.tenant, grant.id, body))

    # ---- takedowns -----------------------------------------------------------------------

    def takedown(
        self,
        who: Principal,
        *,
        manifest_id: str = "",
        data: bytes = b"",
        mime_type: str = "",
        reason: str = "",
    ) -> TakedownNotice:
        """File a notice against a signed output (the file, or its manifest id)."""
        owned = self.identities(who)
        frames = None
        if data:
            mime_type = sniff_mime(data) or mime_type  # the content says what it is
            signed = self.identify(data, mime_type)
            if not signed.manifest_id:
                raise FailedPrecondition(
                    "this file carries no manifest this service signed, and none was "
                    "recovered from its watermark or fingerprint; file the manifest id"
                )
            if manifest_id.strip() and manifest_id.strip() != signed.manifest_id:
                # The file's frames are what get banked: they must be that output's.
                raise InvalidInput(
                    f"this file was signed under manifest {signed.manifest_id}, not "
                    f"{manifest_id.strip()}; file one or the other"
                )
            manifest_id = signed.manifest_id
            frames = decode_for_lookup(data, mime_type, max_image_pixels=self.max_image_pixels)
        manifest_id = manifest_id.strip()
        if not manifest_id:
            raise InvalidInput("name the signed output: its file or its manifest id")
        decision = self.store.decision(manifest_id)
        if decision is None:
            raise NotFound(f"no output signed under manifest {manifest_id!r}")
        matched = {
            f["identity_id"]
            for f in decision["evidence"].get("findings", [])
            if f.get("identity_id") in owned
            and f.get("category") in LIKENESS_CATEGORIES
            and f.get("score", 0.0) >= f.get("threshold", 0.0)  # not a lookalike's near miss
        }
        if not matched:
            raise Forbidden(
                f"no match of a person you speak for was recorded for manifest {manifest_id}; "
                "a notice without one goes to the platform's trust-and-safety team"
            )
        record = self.store.manifest_record(manifest_id)
        hashes = list(record.hashes) if record is not None else []
        if frames:
            hashes += media_hashes([pixels for _, pixels in frames])
        hashes = sorted(set(hashes))
        notice_id = secrets.token_hex(8)
        self.banks.ensure(
            TAKEDOWN_BANK, "outputs taken down by the people in them", filled_by="takedowns"
        )
        if hashes:
            self.banks.add(TAKEDOWN_BANK, hashes, f"takedown:{notice_id}", f"notice {notice_id}")
        now = time.time()
        notice = TakedownNotice(
            id=notice_id,
            identity_id=sorted(matched)[0],
            filed_by=who.client_id,
            tenant=decision["tenant"],
            manifest_id=manifest_id,
            output_sha256=decision.get("output_sha256", ""),
            fingerprints={
                "manifest_id": manifest_id,
                "watermark": manifest_id[:WATERMARK_HEX],
                "pdq": hashes,
                "bank": TAKEDOWN_BANK,
            },
            reason=reason.strip()[:2000],
            status="removed",
            filed_at=now,
            removed_at=now,
        )
        body = {
            "identity_id": notice.identity_id,
            "manifest_id": manifest_id,
            "hashes_banked": len(hashes),
            "repeat_offences": self.repeat_offences(notice.tenant) + 1,
        }
        self.store.add_takedown(
            notice, AuditEntry(who.client_id, "takedown.filed", notice.tenant, notice_id, body)
        )
        return notice

    def notices(self, who: Principal, limit: int = 100) -> list[TakedownNotice]:
        """An owner's notices about their people; a tenant's clients, those against it."""
        if who.role == LIKENESS_OWNER:
            return self.store.takedowns(identity_ids=self.identities(who), limit=limit)
        return self.store.takedowns(tenant="" if who.is_platform else who.tenant, limit=limit)

    def acknowledge(self, who: Principal, notice_id: str) -> TakedownNotice:
        """The tenant that made the output says it has seen the notice."""
        mine = {n.id: n for n in self.notices(who, 10_000)}
        if notice_id not in mine or who.role == LIKENESS_OWNER:
            raise NotFound(f"no takedown notice {notice_id!r} against your tenant")
        notice = mine[notice_id]
        entry = AuditEntry(who.client_id, "takedown.acknowledged", notice.tenant, notice_id, {})
        done = self.store.acknowledge_takedown(notice_id, who.client_id, time.time(), entry)
        assert done is not None
        return done

    def repeat_offences(self, tenant: str) -> int:
        """How many takedown notices were filed against this tenant's outputs."""
        return len(self.store.takedowns(tenant=tenant, limit=100_000))


def verified_by(verifier) -> Callable[[bytes, str], Signed]:
    """`identify` from the service's verifier: the manifest id of a file we signed (its
    own trusted manifest, else the one its watermark or fingerprint recovers)."""

    def identify(data: bytes, mime_type: str) -> Signed:
        report = verifier.verify_bytes(data, mime_type)
        if report.trusted and (report.moderation or {}).get("decision_id"):
            return Signed(str(report.moderation["decision_id"]), True)
        recovered = report.recovered or {}
        if not recovered.get("confirmed"):  # a candidate only: nothing is claimed
            return Signed("", False)
        return Signed(str(recovered.get("manifest_id", "")), False)

    return identify
