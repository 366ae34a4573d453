"""The signer's one door into the database: using up a signing authorization.

The front door records the decision to sign (`signing_authorizations`); the signer (in
this process, or a Ray signer replica on nodes of its own) uses it up in one statement.
On PostgreSQL a signer may hold a credential that can do only that: the role
`reelguard_signer`, if it exists, is granted at every start the columns it reads and
`used_at` alone to write (`grant_signer`) — it can neither write an authorization nor
change what one names, nor read anything else.
"""

from __future__ import annotations

import time

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from safety.store.database import open_engine, write_transaction
from safety.store.schema import signing_authorizations

SIGNER_ROLE = "reelguard_signer"


def use_authorization(
    conn: Connection, decision_id: str, content_sha256: str, spec_sha256: str
) -> bool:
    """Mark the matching unused authorization used; True when there was one."""
    t = signing_authorizations
    used = conn.execute(
        t.update()
        .where(
            t.c.decision_id == decision_id,
            t.c.content_sha256 == content_sha256,
            t.c.spec_sha256 == spec_sha256,
            t.c.used_at.is_(None),
        )
        .values(used_at=time.time())
    ).rowcount
    return used == 1


def grant_signer(conn: Connection) -> None:
    """PostgreSQL: give the signer role (when the operator created it) what it needs."""
    if conn.dialect.name != "postgresql":
        return
    exists = conn.execute(
        sa.text("SELECT 1 FROM pg_roles WHERE rolname = :role"), {"role": SIGNER_ROLE}
    ).first()
    if exists:
        conn.execute(
            sa.text(
                "GRANT SELECT (decision_id, content_sha256, spec_sha256, used_at), "
                f"UPDATE (used_at) ON signing_authorizations TO {SIGNER_ROLE}"
            )
        )


class SignerAuthorizations:
    """What a signer opens: the one statement above; no migration, no change feed."""

    def __init__(self, url: str) -> None:
        self.engine = open_engine(url, migrate_schema=False)

    def use_signing_authorization(
        self, decision_id: str, content_sha256: str, spec_sha256: str
    ) -> bool:
        with write_transaction(self.engine) as conn:
            return use_authorization(conn, decision_id, content_sha256, spec_sha256)

    def close(self) -> None:
        self.engine.dispose()
