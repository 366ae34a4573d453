"""The consent registry: which tenant may depict which enrolled person, how, until when.

A likeness match is allowed only when the caller's tenant holds an active grant for
that identity covering the request's scope. Grants are read on every request, so a
revocation or an expiry takes effect at once.
"""

from __future__ import annotations

import time

from safety.errors import InvalidInput, NotFound
from safety.store.interface import GrantStore, IdentityStore
from safety.store.records import Grant
from safety.verdict import LIKENESS_CATEGORIES, Finding

SCOPES = ("image", "video", "performance")


class ConsentRegistry:
    def __init__(self, grants: GrantStore, identities: IdentityStore) -> None:
        self.store = grants
        self.identities = identities  # a grant names someone enrolled

    def grant(
        self,
        tenant: str,
        identity_id: str,
        scopes: list[str],
        grantor: str,
        expires_at: float | None,
        basis: str = "",
    ) -> Grant:
        tenant, grantor = tenant.strip(), grantor.strip()
        if not tenant:
            raise InvalidInput("a grant needs the tenant it authorizes")
        if not grantor:
            raise InvalidInput("a grant needs a grantor (who gave the consent)")
        scopes = sorted(set(scopes))
        bad = [s for s in scopes if s not in SCOPES]
        if not scopes or bad:
            raise InvalidInput(f"scopes must be some of {', '.join(SCOPES)}; got {scopes}")
        if expires_at is not None and expires_at <= time.time():
            raise InvalidInput("the expiry is in the past")
        if self.identities.identity(identity_id) is None:
            raise NotFound(f"no enrolled identity {identity_id!r}")
        return self.store.add_grant(tenant, identity_id, scopes, grantor, expires_at, basis)

    def revoke(self, grant_id: str, revoked_by: str) -> Grant:
        grant = self.store.revoke_grant(grant_id, revoked_by.strip() or "unspecified")
        if grant is None:
            raise NotFound(f"no consent grant {grant_id!r}")
        return grant

    def basis(self, tenant: str, identity_id: str, scope: str) -> Grant | None:
        """The active grant that authorizes this tenant to depict this identity, if any."""
        now = time.time()
        for grant in self.store.grants(tenant=tenant, identity_id=identity_id):
            if scope in grant.scopes and grant.active(now):
                return grant
        return None

    def annotate(self, findings: list[Finding], tenant: str, scope: str) -> None:
        """Attach the consent basis to every likeness finding the tenant is authorized for;
        every other one says which grant would authorize it."""
        for finding in findings:
            if finding.category in LIKENESS_CATEGORIES and finding.identity_id:
                grant = self.basis(tenant, finding.identity_id, scope)
                if grant is not None:
                    finding.consent = {
                        "grant_id": grant.id,
                        "scope": scope,
                        "expires_at": grant.expires_at,
                        "grantor": grant.grantor,
                    }
                else:  # what would lift the block, named for whoever reads it
                    finding.detail += (
                        f"; no consent grant lets tenant {tenant!r} depict "
                        f"{finding.identity_name or finding.identity_id} in {scope!r} media: a "
                        "platform admin can record one (reelguard consent grant --tenant "
                        f"{tenant} --identity {finding.identity_id} --scope {scope} "
                        "--grantor WHO)"
                    )
