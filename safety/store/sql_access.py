"""The store's rows about who may call: clients and their token hashes, reviewers' web
sessions, and the random keys the front doors share. A mixin of `SqlStore` (it uses the
store's engine and transactions), kept in its own file so each file stays readable.
"""

from __future__ import annotations

import secrets
import time
import uuid

import sqlalchemy as sa

from safety.store.records import ClientRecord, DuplicateCredential
from safety.store.schema import clients, shared_secrets, web_sessions
from safety.store.sql_media import insert_for


class AccessTables:
    """Clients, web sessions and shared secrets (see safety/store/interface.py)."""

    # ---- clients -----------------------------------------------------------------------

    _CLIENT = (
        clients.c.id,
        clients.c.name,
        clients.c.tenant,
        clients.c.role,
        clients.c.cert_subject,
        clients.c.created_at,
        clients.c.revoked_at,
    )

    def add_client(self, name, tenant, role, token_sha256, cert_subject):
        record = ClientRecord(uuid.uuid4().hex[:12], name, tenant, role, cert_subject, time.time())
        try:
            with self._write() as conn:
                conn.execute(
                    clients.insert().values(
                        id=record.id,
                        name=name,
                        tenant=tenant,
                        role=role,
                        token_sha256=token_sha256,
                        cert_subject=cert_subject,
                        created_at=record.created_at,
                    )
                )
        except sa.exc.IntegrityError:  # the unique token hash or certificate subject
            raise DuplicateCredential("a client holds this token or subject already") from None
        return record

    def _clients(self, *where, order=clients.c.created_at) -> list[ClientRecord]:
        return [
            ClientRecord(*r)
            for r in self._rows(sa.select(*self._CLIENT).where(*where).order_by(order))
        ]

    def client(self, client_id):
        found = self._clients(clients.c.id == client_id)
        return found[0] if found else None

    def client_by_token(self, token_sha256):
        found = self._clients(clients.c.token_sha256 == token_sha256)
        return found[0] if found else None

    def client_by_subject(self, cert_subject):
        found = self._clients(
            clients.c.cert_subject == cert_subject,
            clients.c.cert_subject != "",
            clients.c.revoked_at.is_(None),
        )
        return found[0] if found else None

    def clients(self):
        return self._clients()

    def revoke_client(self, client_id):
        with self._write() as conn:
            conn.execute(
                clients.update()
                .where(clients.c.id == client_id, clients.c.revoked_at.is_(None))
                .values(revoked_at=time.time())
            )
        return self.client(client_id)

    # ---- web sessions ------------------------------------------------------------------

    def add_web_session(self, id_sha256: str, client_id: str, expires_at: float) -> None:
        with self._write() as conn:
            conn.execute(web_sessions.delete().where(web_sessions.c.expires_at <= time.time()))
            conn.execute(
                web_sessions.insert().values(
                    id_sha256=id_sha256, client_id=client_id, expires_at=expires_at
                )
            )

    def web_session(self, id_sha256: str, now: float) -> str | None:
        rows = self._rows(
            sa.select(web_sessions.c.client_id).where(
                web_sessions.c.id_sha256 == id_sha256, web_sessions.c.expires_at > now
            )
        )
        return rows[0][0] if rows else None

    def end_web_session(self, id_sha256: str) -> None:
        with self._write() as conn:
            conn.execute(web_sessions.delete().where(web_sessions.c.id_sha256 == id_sha256))

    def shared_secret(self, name: str) -> bytes:
        with self._write() as conn:
            conn.execute(
                insert_for(conn, shared_secrets)
                .values(name=name, value=secrets.token_bytes(32))
                .on_conflict_do_nothing(index_elements=["name"])
            )
            return bytes(
                conn.execute(
                    sa.select(shared_secrets.c.value).where(shared_secrets.c.name == name)
                ).scalar_one()
            )
