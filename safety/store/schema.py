"""The tables of the one database everything the service keeps lives in (SQLAlchemy
Core; the same schema on SQLite and PostgreSQL). How they came to be is the numbered
migrations in safety/store/database.py."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()
# An id that must never be reused once deleted (caches elsewhere remember removals):
# SQLite's AUTOINCREMENT on an INTEGER PRIMARY KEY, a sequence on PostgreSQL.
SerialId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

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
    sa.Column("held_path", sa.Text, nullable=False),  # the unsigned output's media key
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
    sa.Column("signed_path", sa.Text),  # the released output's media key
    sa.Column("signed_sha256", sa.String(64)),
    sa.Column("release_json", sa.Text),  # an approval being released: the review, its decision id
    sa.Column("first_review", sa.Text),  # double review: the first decision, hidden (JSON)
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

identities = sa.Table(
    "identities",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("aliases", sa.Text, nullable=False),  # JSON list
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("external_id", sa.Text, nullable=False, default=""),
)

identity_references = sa.Table(
    "identity_references",
    metadata,
    sa.Column("vector_id", SerialId, primary_key=True),  # the id in the FAISS index
    sa.Column("identity_id", sa.String(64), sa.ForeignKey("identities.id"), nullable=False),
    sa.Column("image_sha256", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("embedding", sa.LargeBinary),  # float32 little-endian
    sa.Column("face_jpeg", sa.LargeBinary),  # for reviewers' eyes
    sqlite_autoincrement=True,
)

grants = sa.Table(
    "grants",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("tenant", sa.String(200), nullable=False),
    sa.Column("identity_id", sa.String(64), nullable=False),
    sa.Column("scopes", sa.Text, nullable=False),  # JSON list: image / video / performance
    sa.Column("grantor", sa.Text, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("expires_at", sa.Float),
    sa.Column("revoked_at", sa.Float),
    sa.Column("revoked_by", sa.Text, nullable=False, default=""),
    sa.Column("basis", sa.Text, nullable=False, default=""),
    sa.Index("grants_lookup", "tenant", "identity_id"),
)

decisions = sa.Table(
    "decisions",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("request_id", sa.String(64), nullable=False, index=True),
    sa.Column("tenant", sa.String(200), nullable=False),
    sa.Column("stage", sa.String(20), nullable=False),
    sa.Column("action", sa.String(20), nullable=False),
    sa.Column("policy_version", sa.Text, nullable=False),
    sa.Column("evidence", sa.Text, nullable=False),  # JSON: the whole verdict
    sa.Column("output_sha256", sa.String(64), nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("specialist", sa.Boolean, nullable=False, default=False),
    sa.Index("decisions_tenant", "tenant", "created_at"),
)

# The decision to sign, recorded before the signer is asked; the signer uses it up.
signing_authorizations = sa.Table(
    "signing_authorizations",
    metadata,
    sa.Column("decision_id", sa.String(64), primary_key=True),
    sa.Column("tenant", sa.String(200), nullable=False),
    sa.Column("content_sha256", sa.String(64), nullable=False),
    sa.Column("spec_sha256", sa.String(64), nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("used_at", sa.Float),
)

manifest_repository = sa.Table(
    "manifest_repository",
    metadata,
    sa.Column("seq", SerialId, primary_key=True),  # what each front door's cache follows
    sa.Column("manifest_id", sa.String(64), nullable=False, unique=True),  # its decision
    sa.Column("alg", sa.String(50), nullable=False, index=True),  # com.meta.pdq / vpdq
    sa.Column("hashes", sa.Text, nullable=False),  # JSON list of PDQ hex digests
    sa.Column("manifest", sa.LargeBinary, nullable=False),  # the signed manifest store
    sa.Column("mime_type", sa.String(100), nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sqlite_autoincrement=True,
)

hash_banks = sa.Table(
    "hash_banks",
    metadata,
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Column("max_distance", sa.Integer, nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("csam", sa.Boolean, nullable=False, default=False),  # a known-CSAM list
)

bank_entries = sa.Table(
    "bank_entries",
    metadata,
    sa.Column("id", SerialId, primary_key=True),
    sa.Column("bank", sa.String(100), sa.ForeignKey("hash_banks.name"), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),  # PDQ hex
    sa.Column("media_id", sa.Text, nullable=False),  # groups a video's frame hashes
    sa.Column("note", sa.Text, nullable=False),
    sa.Column("added_at", sa.Float, nullable=False),
    sa.UniqueConstraint("bank", "hash"),
    sqlite_autoincrement=True,
)

idempotency = sa.Table(
    "idempotency",
    metadata,
    sa.Column("tenant", sa.String(200), primary_key=True),
    sa.Column("key", sa.String(200), primary_key=True),
    sa.Column("request_sha256", sa.String(64), nullable=False),  # what it was first used for
    sa.Column("request_id", sa.String(64), nullable=False),
    sa.Column("terminal", sa.LargeBinary),  # the final GenerateEvent, once there is one
    sa.Column("output_path", sa.Text, nullable=False, default=""),  # the kept output's key
    sa.Column("created_at", sa.Float, nullable=False),
    # The claim's owner (front door and run) and how long it holds the key: a claim
    # whose owner died is taken over once its lease runs out.
    sa.Column("owner", sa.String(300), nullable=False, default=""),
    sa.Column("lease_until", sa.Float, nullable=False, default=0.0),
)

clients = sa.Table(
    "clients",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("tenant", sa.String(200), nullable=False),  # "*": every tenant
    sa.Column("role", sa.String(50), nullable=False),
    sa.Column("token_sha256", sa.String(64), unique=True),  # the token itself is shown once
    sa.Column("cert_subject", sa.Text, nullable=False, default=""),  # mTLS: the cert's CN
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("revoked_at", sa.Float),
)
# A certificate subject names one client, ever (the newest match used to win: a copy of
# another client's subject took over its certificate).
CLIENT_SUBJECT_INDEX = sa.Index(
    "ux_clients_cert_subject",
    clients.c.cert_subject,
    unique=True,
    sqlite_where=clients.c.cert_subject != "",
    postgresql_where=clients.c.cert_subject != "",
)

heartbeat = sa.Table(
    "heartbeat",
    metadata,
    sa.Column("id", sa.String(300), primary_key=True),  # one row per front door
    sa.Column("at", sa.Float, nullable=False),
)

# Media every front door must be able to read (held outputs, their ingredients, released
# and kept outputs), in chunks so neither side holds a whole video in memory. A blob is
# visible once its `media` row is committed with all its chunks.
media = sa.Table(
    "media",
    metadata,
    sa.Column("key", sa.String(300), primary_key=True),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
)
media_chunks = sa.Table(
    "media_chunks",
    metadata,
    sa.Column("key", sa.String(300), primary_key=True),
    sa.Column("part", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("data", sa.LargeBinary, nullable=False),
)

# The change feed: every change a front door's caches must follow (enrolments, removals,
# bank changes), numbered in commit order; followers apply what comes after their cursor.
changes = sa.Table(
    "changes",
    metadata,
    sa.Column("seq", SerialId, primary_key=True),
    sa.Column("kind", sa.String(50), nullable=False),
    sa.Column("origin", sa.String(300), nullable=False),  # the front door that made it
    sa.Column("body", sa.Text, nullable=False),  # JSON
    sa.Column("at", sa.Float, nullable=False),
    sqlite_autoincrement=True,
)

# Reviewers' web sessions, known by the SHA-256 of the cookie's random id.
web_sessions = sa.Table(
    "web_sessions",
    metadata,
    sa.Column("id_sha256", sa.String(64), primary_key=True),
    sa.Column("client_id", sa.String(64), nullable=False),
    sa.Column("expires_at", sa.Float, nullable=False, index=True),
)

# Random keys every front door must share (the web UI's cookie-signing key), made once by
# whichever front door needs one first. Whoever reads this table could create clients
# too: it is no weaker than the rest of the database.
shared_secrets = sa.Table(
    "shared_secrets",
    metadata,
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Column("value", sa.LargeBinary, nullable=False),
)

# A reviewer's viewing settings (blur, greyscale, mute), kept across logins.
reviewer_settings = sa.Table(
    "reviewer_settings",
    metadata,
    sa.Column("client_id", sa.String(64), primary_key=True),
    sa.Column("settings", sa.Text, nullable=False),  # JSON
    sa.Column("updated_at", sa.Float, nullable=False),
)

# Which enrolled people a likeness owner (or an agent acting for several) speaks for.
likeness_owners = sa.Table(
    "likeness_owners",
    metadata,
    sa.Column("client_id", sa.String(64), primary_key=True),
    sa.Column("identity_id", sa.String(64), primary_key=True),
    sa.Column("created_at", sa.Float, nullable=False),
)

# Every match of an enrolled person, written with its decision: the owner's door.
likeness_matches = sa.Table(
    "likeness_matches",
    metadata,
    sa.Column("id", SerialId, primary_key=True),
    sa.Column("decision_id", sa.String(64), nullable=False),
    sa.Column("request_id", sa.String(64), nullable=False),
    sa.Column("identity_id", sa.String(64), nullable=False),
    sa.Column("tenant", sa.String(200), nullable=False),
    sa.Column("action", sa.String(20), nullable=False),
    sa.Column("stage", sa.String(20), nullable=False),
    sa.Column("subject", sa.String(100), nullable=False),
    sa.Column("score", sa.Float, nullable=False),
    sa.Column("grant_id", sa.String(64), nullable=False, default=""),
    sa.Column("frame_time_s", sa.Float, nullable=False, default=0.0),
    sa.Column("evidence_jpeg", sa.LargeBinary),  # the face crop, never the whole frame
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Index("likeness_matches_identity", "identity_id", "created_at"),
    sqlite_autoincrement=True,
)

takedown_notices = sa.Table(
    "takedown_notices",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("identity_id", sa.String(64), nullable=False, index=True),
    sa.Column("filed_by", sa.String(64), nullable=False),
    sa.Column("tenant", sa.String(200), nullable=False, index=True),
    sa.Column("manifest_id", sa.String(64), nullable=False),
    sa.Column("output_sha256", sa.String(64), nullable=False),
    sa.Column("fingerprints", sa.Text, nullable=False),  # JSON
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("filed_at", sa.Float, nullable=False),
    sa.Column("removed_at", sa.Float),
    sa.Column("acknowledged_at", sa.Float),
    sa.Column("acknowledged_by", sa.String(64), nullable=False, default=""),
)

schema_version = sa.Table(
    "schema_version", metadata, sa.Column("version", sa.Integer, nullable=False)
)


CHANGES_CHANNEL = "reelguard_changes"  # PostgreSQL NOTIFY channel of the change feed
