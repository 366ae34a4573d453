"""The one database: SQLite under the data dir by default, PostgreSQL by URL
(`database_url`), shared by every front door.

Numbered migrations are recorded in `schema_version` and applied at start by one front
door at a time (an advisory lock on PostgreSQL, the write lock on SQLite). Steps 1-3 are
the review database's as it was before it folded into this one, so an existing review
PostgreSQL database becomes the whole service's by step 4.
"""

from __future__ import annotations

import contextlib
import logging
import time
import zlib
from collections.abc import Callable, Iterator

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from safety.store.audit_chain import GENESIS
from safety.store.schema import (
    CLIENT_SUBJECT_INDEX,
    allowlist,
    audit_head,
    audit_log,
    bank_entries,
    changes,
    clients,
    decisions,
    grants,
    hash_banks,
    heartbeat,
    idempotency,
    identities,
    identity_references,
    likeness_matches,
    likeness_owners,
    manifest_repository,
    media,
    media_chunks,
    metadata,
    review_items,
    reviewer_settings,
    schema_version,
    shared_secrets,
    signing_authorizations,
    takedown_notices,
    web_sessions,
)

log = logging.getLogger(__name__)

WRITE = "reelguard_write"  # execution option: this transaction will write (see open_engine)


@contextlib.contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A transaction that will write; on SQLite it holds the write lock from the start."""
    with engine.connect() as conn:
        conn.execution_options(**{WRITE: True})
        with conn.begin():
            yield conn


def serialize(conn: Connection, name: str) -> None:
    """Order this transaction after every other one that serializes on `name` (held to
    commit): on PostgreSQL a transaction advisory lock, so rows numbered under it commit
    in number order and a follower's cursor never skips one; SQLite writers are serial."""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.select(sa.func.pg_advisory_xact_lock(zlib.crc32(name.encode()))))


def _v1(conn: Connection) -> None:
    metadata.create_all(conn, tables=[review_items, audit_log, audit_head, allowlist])
    conn.execute(audit_head.insert().values(id=1, seq=0, hash=GENESIS))


def _v2(conn: Connection) -> None:
    """Approvals are released in a recorded step (approved → releasing → released)."""
    # _v1 creates the tables as defined now (column included); older databases lack it.
    if "release_json" not in {c["name"] for c in sa.inspect(conn).get_columns("review_items")}:
        conn.execute(sa.text("ALTER TABLE review_items ADD COLUMN release_json TEXT"))


def _v3(conn: Connection) -> None:
    """Clearances are scoped: subject, score band and expiry. Older rows had none: they
    are retired rather than kept as wide as they were (an approval again clears anew),
    and identity clearances go (consent grants alone say who may be depicted)."""
    have = {c["name"] for c in sa.inspect(conn).get_columns("allowlist")}
    for name, ddl in (
        ("subject", "VARCHAR(100) NOT NULL DEFAULT ''"),
        ("max_score", "FLOAT NOT NULL DEFAULT 1.0"),
        ("expires_at", "FLOAT"),
    ):
        if name not in have:
            conn.execute(sa.text(f"ALTER TABLE allowlist ADD COLUMN {name} {ddl}"))
    conn.execute(allowlist.delete().where(allowlist.c.subject == ""))


def _v4(conn: Connection) -> None:
    """Everything else the service keeps joins the review database: one database."""
    metadata.create_all(
        conn,
        tables=[
            identities,
            identity_references,
            grants,
            decisions,
            manifest_repository,
            hash_banks,
            bank_entries,
            idempotency,
            clients,
            heartbeat,
            media,
            media_chunks,
            changes,
            web_sessions,
            shared_secrets,
        ],
    )


def _v5(conn: Connection) -> None:
    """A certificate subject names one client. Where several were bound to one subject
    (the newest then won), the oldest keeps it and the others are revoked."""
    rows = conn.execute(
        sa.select(clients.c.id, clients.c.cert_subject)
        .where(clients.c.cert_subject != "")
        .order_by(clients.c.created_at)
    ).all()
    seen: set[str] = set()
    for client_id, subject in rows:
        if subject in seen:
            log.warning("client %s shared certificate subject %r: revoked", client_id, subject)
            revoked = sa.func.coalesce(clients.c.revoked_at, time.time())
            conn.execute(
                clients.update()
                .where(clients.c.id == client_id)
                .values(cert_subject="", revoked_at=revoked)
            )
        seen.add(subject)
    CLIENT_SUBJECT_INDEX.create(conn, checkfirst=True)


def _v6(conn: Connection) -> None:
    """The signer signs only what a recorded decision authorizes (signing/authorization.py)."""
    metadata.create_all(conn, tables=[signing_authorizations])


def _v7(conn: Connection) -> None:
    """The people in the loop: double review, reviewers' settings, and the depicted
    person's own door (who owns which likeness, every match of it, takedown notices)."""
    if "first_review" not in {c["name"] for c in sa.inspect(conn).get_columns("review_items")}:
        conn.execute(sa.text("ALTER TABLE review_items ADD COLUMN first_review TEXT"))
    metadata.create_all(
        conn, tables=[reviewer_settings, likeness_owners, likeness_matches, takedown_notices]
    )


# Append only; a deployed schema is changed by a new step, never by editing an old one.
MIGRATIONS: list[Callable[[Connection], None]] = [_v1, _v2, _v3, _v4, _v5, _v6, _v7]


def open_engine(url: str, migrate_schema: bool = True, read_only: bool = False) -> Engine:
    """An engine for `url`, migrated to the current schema. Read-only engines (an
    auditor's tools beside the service) migrate nothing, and the database refuses writes."""
    if url.startswith("sqlite"):
        if read_only:
            path = sa.engine.make_url(url).database
            url = f"sqlite:///file:{path}?mode=ro&uri=true"
        engine = sa.create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @sa.event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection, _record):
            dbapi_connection.isolation_level = None  # transactions begin below, not in the driver
            cur = dbapi_connection.cursor()
            if not read_only:
                cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")  # an acknowledged write survives a crash
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        @sa.event.listens_for(engine, "begin")
        def _begin(conn):
            # A writer takes the write lock up front (waiting for it up to the timeout):
            # a deferred transaction that reads the chain head and then writes could
            # otherwise fail with "database is locked" when another process appended.
            write = conn.get_execution_options().get(WRITE, False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    else:
        options = {"options": "-c default_transaction_read_only=on"} if read_only else {}
        engine = sa.create_engine(url, pool_pre_ping=True, connect_args=options)
    if read_only:
        require_current(engine)
    elif migrate_schema:
        migrate(engine)
    return engine


def _version(conn: Connection) -> int:
    if not sa.inspect(conn).has_table("schema_version"):
        return 0
    return conn.execute(sa.select(sa.func.max(schema_version.c.version))).scalar() or 0


def require_current(engine: Engine) -> None:
    """Refuse a database of another schema version than this reelguard's, saying why."""
    with engine.connect() as conn:
        current = _version(conn)
    if current != len(MIGRATIONS):
        remedy = (
            "start `reelguard serve` of this version once to upgrade it"
            if current < len(MIGRATIONS)
            else "it was written by a newer reelguard"
        )
        engine.dispose()
        raise RuntimeError(
            f"{engine.url.render_as_string(hide_password=True)} has schema version {current}, "
            f"this reelguard reads {len(MIGRATIONS)}: {remedy}"
        )


def migrate(engine: Engine) -> None:
    """Apply the steps this database lacks, one front door at a time."""
    with write_transaction(engine) as conn:
        serialize(conn, "reelguard-migrations")
        schema_version.create(conn, checkfirst=True)
        current = _version(conn)
        if current > len(MIGRATIONS):
            raise RuntimeError(
                f"the database has schema version {current}, this reelguard knows "
                f"{len(MIGRATIONS)}: it was written by a newer reelguard"
            )
        for number, step in enumerate(MIGRATIONS[current:], start=current + 1):
            log.info("database: applying migration %d", number)
            step(conn)
            conn.execute(schema_version.insert().values(version=number))
