"""The review database: held items, the hash-chained audit log, the allowlist.

SQLite (WAL, synchronous=FULL) by default, PostgreSQL by URL — one schema through
SQLAlchemy Core, numbered migrations recorded in `schema_version`. Writes that must
be durable together (a decision and its audit entry) share one transaction.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

log = logging.getLogger(__name__)

metadata = sa.MetaData()

review_items = sa.Table(
    "review_items",
    metadata,
    sa.Column("ticket", sa.String(32), primary_key=True),
    sa.Column("request_id", sa.String(64), nullable=False),
    sa.Column("tenant", sa.String(200), nullable=False, index=True),
    sa.Column("decision_id", sa.String(64), nullable=False),  # the automatic decision
    sa.Column("prompt", sa.Text, nullable=False),
    sa.Column("category", sa.String(100), nullable=False, index=True),  # the leading reason
    sa.Column("priority", sa.Integer, nullable=False),  # higher first
    # pending -> (claimed) -> approved | rejected | escalated; appealed reopens a decision
    sa.Column("status", sa.String(20), nullable=False, index=True),
    sa.Column("claimed_by", sa.String(64)),
    sa.Column("claim_expires", sa.Float),
    sa.Column("verdict_json", sa.Text, nullable=False),
    sa.Column("held_path", sa.Text, nullable=False),  # the unsigned output, never served raw
    sa.Column("mime_type", sa.String(100), nullable=False),
    sa.Column("spec_json", sa.Text, nullable=False),  # what to sign it with on approval
    sa.Column("content_sha256", sa.String(64), nullable=False),  # of the reviewed input
    sa.Column("decision", sa.String(20)),
    sa.Column("reason_code", sa.String(100)),
    sa.Column("notes", sa.Text),
    sa.Column("decided_by", sa.String(64)),
    sa.Column("decided_at", sa.Float),
    sa.Column("previous_decider", sa.String(64)),  # an appeal goes to someone else
    sa.Column("appeal_reason", sa.Text),
    sa.Column("signed_path", sa.Text),
    sa.Column("signed_sha256", sa.String(64)),
    sa.Column("release_json", sa.Text),  # an approval being released: the review, its decision id
    sa.Column("created_at", sa.Float, nullable=False, index=True),
)

audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("at_us", sa.BigInteger, nullable=False),  # unix microseconds
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("kind", sa.String(50), nullable=False),
    sa.Column("tenant", sa.String(200), nullable=False),
    sa.Column("subject", sa.String(200), nullable=False),
    sa.Column("body", sa.Text, nullable=False),  # canonical JSON, hashed as stored
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
)

# One row: the chain's head. Appenders lock it, so two writers never fork the chain,
# and a truncated tail is detectable (the head remembers the last entry).
audit_head = sa.Table(
    "audit_head",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
)

allowlist = sa.Table(
    "allowlist",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("kind", sa.String(20), nullable=False),  # "content" or "identity"
    sa.Column("content_sha256", sa.String(64), nullable=False, default=""),
    sa.Column("category", sa.String(100), nullable=False, default=""),  # content: cleared
    sa.Column("tenant", sa.String(200), nullable=False, default=""),
    sa.Column("identity_id", sa.String(64), nullable=False, default=""),
    sa.Column("ticket", sa.String(32), nullable=False),
    sa.Column("created_by", sa.String(64), nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("subject", sa.String(100), nullable=False, default=""),
    sa.Column("max_score", sa.Float, nullable=False, default=1.0),
    sa.Column("expires_at", sa.Float, nullable=True),
)

schema_version = sa.Table(
    "schema_version", metadata, sa.Column("version", sa.Integer, nullable=False)
)

GENESIS = "0" * 64
WRITE = "reelguard_write"  # execution option: this transaction will write (see open_engine)


@contextlib.contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A transaction that will write; on SQLite it holds the write lock from the start."""
    with engine.connect() as conn:
        conn.execution_options(**{WRITE: True})
        with conn.begin():
            yield conn


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


# Append only; a deployed schema is changed by a new step, never by editing an old one.
MIGRATIONS: list[Callable[[Connection], None]] = [_v1, _v2, _v3]


def open_engine(url: str, migrate_schema: bool = True) -> Engine:
    """An engine for `url`, migrated to the current schema (read-only tools pass False)."""
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @sa.event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection, _record):
            dbapi_connection.isolation_level = None  # transactions begin below, not in the driver
            cur = dbapi_connection.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")  # an acknowledged write survives a crash
            cur.close()

        @sa.event.listens_for(engine, "begin")
        def _begin(conn):
            # A writer takes the write lock up front (waiting for it up to the timeout):
            # a deferred transaction that reads the chain head and then writes could
            # otherwise fail with "database is locked" when another process appended.
            write = conn.get_execution_options().get(WRITE, False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    else:
        engine = sa.create_engine(url, pool_pre_ping=True)
    if migrate_schema:
        migrate(engine)
    return engine


def migrate(engine: Engine) -> None:
    with engine.begin() as conn:
        schema_version.create(conn, checkfirst=True)
        current = conn.execute(sa.select(sa.func.max(schema_version.c.version))).scalar() or 0
        for number, step in enumerate(MIGRATIONS[current:], start=current + 1):
            log.info("review database: applying migration %d", number)
            step(conn)
            conn.execute(schema_version.insert().values(version=number))
