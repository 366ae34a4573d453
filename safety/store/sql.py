"""The store: everything `Store` (safety/store/interface.py) names, in one database —
SQLite under the data dir by default (WAL, synchronous=FULL), PostgreSQL by URL, shared
by every front door.

The schema is safety/store/schema.py, its migrations safety/store/database.py.
Reference embeddings are kept here too, so each front door's FAISS index can always be
rebuilt from the store; changes its caches must follow are numbered in the change feed
(`changes_after`). The
rows about media are in `MediaTables` (sql_media.py), clients and sessions in
`AccessTables` (sql_access.py), review and allowlist rows in `ReviewTables` (review.py).
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import asdict

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from safety.store.audit import AuditLog
from safety.store.database import open_engine, serialize, write_transaction
from safety.store.people_interface import match_rows
from safety.store.records import Change, Grant, IdentityRecord, Reference
from safety.store.schema import (
    CHANGES_CHANNEL,
    changes,
    decisions,
    grants,
    heartbeat,
    identities,
    identity_references,
    signing_authorizations,
)
from safety.store.sql_access import AccessTables
from safety.store.sql_media import MediaTables, upsert
from safety.store.sql_people import PeopleTables
from safety.store.sql_review import ReviewTables
from safety.store.sql_signing import grant_signer, use_authorization

refs = identity_references


class SqlStore(AccessTables, MediaTables, ReviewTables, PeopleTables):
    def __init__(self, url: str, *, read_only: bool = False, origin: str = "") -> None:
        """`read_only` is for readers beside the service (an auditor's `reelguard verify`):
        the database refuses every write, and nothing is created or migrated. `origin`
        names this front door in the change feed (its own changes it applied already)."""
        self.engine = open_engine(url, read_only=read_only)
        self.audit = AuditLog(self.engine)
        self.origin = origin
        self.url = url
        self._listener = None  # PostgreSQL: the connection LISTENing to the change feed
        if not read_only and self.dialect == "postgresql":
            with self._write() as conn:  # the signer's narrow credential, if there is one
                grant_signer(conn)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def _write(self):
        return write_transaction(self.engine)

    def _rows(self, query) -> list:
        with self.engine.connect() as conn:
            return conn.execute(query).all()

    def close(self) -> None:
        self._stop_listening()
        self.engine.dispose()

    # ---- change feed -------------------------------------------------------------------

    def _changed(self, conn: Connection, kind: str, body: dict) -> None:
        """Number a change in the feed, inside the transaction that makes it."""
        serialize(conn, "reelguard-changes")  # numbered in commit order
        seq = conn.execute(
            changes.insert()
            .values(kind=kind, origin=self.origin, body=json.dumps(body), at=time.time())
            .returning(changes.c.seq)
        ).scalar_one()
        if self.dialect == "postgresql":
            conn.execute(sa.select(sa.func.pg_notify(CHANGES_CHANNEL, str(seq))))

    def changes_after(self, seq: int, limit: int = 1000) -> list[Change]:
        query = sa.select(changes).where(changes.c.seq > seq).order_by(changes.c.seq).limit(limit)
        return [
            Change(r.seq, r.kind, r.origin, json.loads(r.body), r.at) for r in self._rows(query)
        ]

    def last_change(self) -> int:
        return self._rows(sa.select(sa.func.coalesce(sa.func.max(changes.c.seq), 0)))[0][0]

    def wait_for_change(self, timeout_s: float) -> None:
        if self.dialect != "postgresql":
            time.sleep(timeout_s)  # SQLite has no notifications: the follower polls
            return
        try:
            if self._listener is None:
                raw = self.engine.raw_connection()
                raw.driver_connection.autocommit = True
                raw.driver_connection.execute(f"LISTEN {CHANGES_CHANNEL}")
                self._listener = raw
            for _ in self._listener.driver_connection.notifies(timeout=timeout_s, stop_after=1):
                pass
        except Exception:
            self._stop_listening()
            raise

    def _stop_listening(self) -> None:
        if self._listener is not None:
            self._listener.invalidate()  # never back into the pool in autocommit
            self._listener = None

    # ---- identities --------------------------------------------------------------------

    def add_identity(self, name, aliases, external_id, references):
        identity_id = uuid.uuid4().hex[:12]
        now = time.time()
        with self._write() as conn:
            conn.execute(
                identities.insert().values(
                    id=identity_id,
                    name=name,
                    aliases=json.dumps(aliases),
                    created_at=now,
                    external_id=external_id,
                )
            )
            vector_ids = [
                conn.execute(
                    refs.insert()
                    .values(
                        identity_id=identity_id,
                        image_sha256=digest,
                        created_at=now,
                        embedding=np.asarray(embedding, "<f4").tobytes(),
                    )
                    .returning(refs.c.vector_id)
                ).scalar_one()
                for digest, embedding in references
            ]
            self._changed(conn, "identity_added", {"id": identity_id, "vectors": vector_ids})
        record = IdentityRecord(identity_id, name, aliases, len(vector_ids), external_id, now)
        return record, vector_ids

    def _identity_select(self):
        return (
            sa.select(
                identities.c.id,
                identities.c.name,
                identities.c.aliases,
                sa.func.count(refs.c.vector_id),
                identities.c.external_id,
                identities.c.created_at,
            )
            .select_from(identities.outerjoin(refs, refs.c.identity_id == identities.c.id))
            .group_by(identities.c.id)
        )

    def identities(self):
        rows = self._rows(self._identity_select().order_by(identities.c.created_at))
        return [IdentityRecord(r[0], r[1], json.loads(r[2]), r[3], r[4], r[5]) for r in rows]

    def identity(self, identity_id):
        rows = self._rows(self._identity_select().where(identities.c.id == identity_id))
        if not rows:
            return None
        r = rows[0]
        found = self._rows(
            sa.select(refs.c.vector_id, refs.c.image_sha256, refs.c.created_at)
            .where(refs.c.identity_id == identity_id)
            .order_by(refs.c.vector_id)
        )
        references = [Reference(*row) for row in found]
        return IdentityRecord(r[0], r[1], json.loads(r[2]), r[3], r[4], r[5], references)

    def remove_identity(self, identity_id):
        with self._write() as conn:
            ids = list(
                conn.execute(
                    sa.select(refs.c.vector_id).where(refs.c.identity_id == identity_id)
                ).scalars()
            )
            conn.execute(refs.delete().where(refs.c.identity_id == identity_id))
            conn.execute(
                grants.update()
                .where(grants.c.identity_id == identity_id, grants.c.revoked_at.is_(None))
                .values(revoked_at=time.time(), revoked_by="identity removed")
            )
            if conn.execute(identities.delete().where(identities.c.id == identity_id)).rowcount:
                self._changed(conn, "identity_removed", {"id": identity_id, "vectors": ids})
        return ids

    def reference_owner(self, image_sha256):
        rows = self._rows(sa.select(refs.c.identity_id).where(refs.c.image_sha256 == image_sha256))
        return rows[0][0] if rows else None

    def identity_for_vector(self, vector_id):
        rows = self._rows(
            sa.select(identities.c.id, identities.c.name)
            .select_from(refs.join(identities, identities.c.id == refs.c.identity_id))
            .where(refs.c.vector_id == int(vector_id))
        )
        return (rows[0][0], rows[0][1]) if rows else None

    def reference_vectors(self, vector_ids: list[int] | None = None):
        query = sa.select(refs.c.vector_id, refs.c.embedding).where(refs.c.embedding.is_not(None))
        if vector_ids is not None:
            query = query.where(refs.c.vector_id.in_([int(v) for v in vector_ids]))
        rows = self._rows(query.order_by(refs.c.vector_id))
        if not rows:
            return np.zeros(0, np.int64), np.zeros((0, 0), np.float32)
        ids = np.array([r[0] for r in rows], dtype=np.int64)
        vectors = np.stack([np.frombuffer(r[1], "<f4") for r in rows]).astype(np.float32)
        return ids, vectors

    def reference_vector_ids(self):
        query = sa.select(refs.c.vector_id).where(refs.c.embedding.is_not(None))
        return np.array([r[0] for r in self._rows(query.order_by(refs.c.vector_id))], np.int64)

    def set_reference_face(self, vector_id, jpeg):
        with self._write() as conn:
            conn.execute(refs.update().where(refs.c.vector_id == vector_id).values(face_jpeg=jpeg))

    def reference_face(self, identity_id):
        rows = self._rows(
            sa.select(refs.c.face_jpeg)
            .where(refs.c.identity_id == identity_id, refs.c.face_jpeg.is_not(None))
            .order_by(refs.c.vector_id)
            .limit(1)
        )
        return bytes(rows[0][0]) if rows else None

    # ---- consent -----------------------------------------------------------------------

    @staticmethod
    def _grant(row) -> Grant:
        m = dict(row._mapping)
        m["scopes"] = json.loads(m["scopes"])
        return Grant(**m)

    def add_grant(self, tenant, identity_id, scopes, grantor, expires_at, basis=""):
        grant = Grant.new(tenant, identity_id, scopes, grantor, expires_at, basis)
        row = {**grant.__dict__, "scopes": json.dumps(grant.scopes)}
        with self._write() as conn:
            conn.execute(grants.insert().values(**row))
        return grant

    def revoke_grant(self, grant_id, revoked_by):
        with self._write() as conn:
            conn.execute(
                grants.update()
                .where(grants.c.id == grant_id, grants.c.revoked_at.is_(None))
                .values(revoked_at=time.time(), revoked_by=revoked_by)
            )
            row = conn.execute(sa.select(grants).where(grants.c.id == grant_id)).one_or_none()
        return self._grant(row) if row else None

    def grants(self, tenant="", identity_id=""):
        query = sa.select(grants).order_by(grants.c.created_at.desc())
        if tenant:
            query = query.where(grants.c.tenant == tenant)
        if identity_id:
            query = query.where(grants.c.identity_id == identity_id)
        return [self._grant(r) for r in self._rows(query)]

    # ---- decisions ---------------------------------------------------------------------

    def record_decision(
        self, decision_id, request_id, tenant, verdict, output_sha256="", entry=None
    ):
        row = dict(
            id=decision_id,
            request_id=request_id,
            tenant=tenant,
            stage=verdict.stage.name.lower(),
            action=verdict.action.name.lower(),
            policy_version=verdict.policy_version,
            evidence=json.dumps(verdict.to_dict()),
            output_sha256=output_sha256,
            created_at=time.time(),
            specialist=any(f.specialist for f in verdict.findings),
        )
        # The decision and its entry, or neither (an audited write holds the append lock).
        with self._write() if entry is None else self.audit.transaction() as conn:
            conn.execute(decisions.insert().values(**row))
            self._add_matches(conn, match_rows(decision_id, request_id, tenant, verdict))
            if entry is not None:
                self._append(conn, entry)

    def authorize_signing(self, authorization):
        with self._write() as conn:
            upsert(conn, signing_authorizations, asdict(authorization), ["decision_id"])

    def use_signing_authorization(self, decision_id, content_sha256, spec_sha256):
        with self._write() as conn:
            return use_authorization(conn, decision_id, content_sha256, spec_sha256)

    def decision(self, decision_id):
        rows = self._rows(sa.select(decisions).where(decisions.c.id == decision_id))
        if not rows:
            return None
        record = dict(rows[0]._mapping)
        record["evidence"] = json.loads(record["evidence"])
        record["specialist"] = int(record["specialist"])
        return record

    def decisions(self, tenant="", limit=100, specialist=False):
        c = decisions.c
        query = sa.select(
            c.id, c.request_id, c.tenant, c.stage, c.action, c.policy_version, c.created_at
        ).add_columns(c.specialist)
        if tenant:
            query = query.where(c.tenant == tenant)
        if specialist:
            query = query.where(c.specialist.is_(True))
        rows = self._rows(query.order_by(c.created_at.desc()).limit(limit))
        return [{**r._mapping, "specialist": int(r.specialist)} for r in rows]

    def decision_ids(self) -> list[str]:
        return [r[0] for r in self._rows(sa.select(decisions.c.id))]

    def heartbeat(self):
        with self._write() as conn:
            # One row per front door (host and data dir), not per run: restarts add none.
            door = self.origin.partition("#")[0] or "-"
            upsert(conn, heartbeat, {"id": door, "at": time.time()}, ["id"])
