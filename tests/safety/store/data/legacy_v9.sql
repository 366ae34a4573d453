CREATE TABLE identities (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        aliases TEXT NOT NULL,          -- JSON list
        created_at REAL NOT NULL
    );
    CREATE TABLE identity_references (
        vector_id INTEGER PRIMARY KEY,  -- the id in the FAISS index
        identity_id TEXT NOT NULL REFERENCES identities(id),
        image_sha256 TEXT NOT NULL,
        created_at REAL NOT NULL
    );
    CREATE TABLE decisions (
        id TEXT PRIMARY KEY,
        request_id TEXT NOT NULL,
        tenant TEXT NOT NULL,
        stage TEXT NOT NULL,
        action TEXT NOT NULL,
        policy_version TEXT NOT NULL,
        evidence TEXT NOT NULL,         -- JSON: the whole verdict
        output_sha256 TEXT NOT NULL,
        created_at REAL NOT NULL
    );
    CREATE INDEX decisions_tenant ON decisions(tenant, created_at);
ALTER TABLE identities ADD COLUMN external_id TEXT NOT NULL DEFAULT '';
    ALTER TABLE identity_references ADD COLUMN embedding BLOB;  -- float32 little-endian
    CREATE UNIQUE INDEX identity_references_sha ON identity_references(image_sha256);
    CREATE TABLE grants (
        id TEXT PRIMARY KEY,
        tenant TEXT NOT NULL,
        identity_id TEXT NOT NULL,
        scopes TEXT NOT NULL,           -- JSON list: image / video / performance
        grantor TEXT NOT NULL,
        created_at REAL NOT NULL,
        expires_at REAL,
        revoked_at REAL,
        revoked_by TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX grants_lookup ON grants(tenant, identity_id);
CREATE TABLE manifest_repository (
        manifest_id TEXT PRIMARY KEY,   -- the decision the manifest was signed for
        alg TEXT NOT NULL,              -- soft-binding algorithm: com.meta.pdq / com.meta.vpdq
        hashes TEXT NOT NULL,           -- JSON list of PDQ hex digests
        manifest BLOB NOT NULL,         -- the signed manifest store (application/c2pa)
        mime_type TEXT NOT NULL,
        created_at REAL NOT NULL
    );
    CREATE INDEX manifest_repository_alg ON manifest_repository(alg);
CREATE TABLE hash_banks (
        name TEXT PRIMARY KEY,
        max_distance INTEGER NOT NULL,
        description TEXT NOT NULL,
        created_at REAL NOT NULL
    );
    CREATE TABLE bank_entries (
        id INTEGER PRIMARY KEY,
        bank TEXT NOT NULL REFERENCES hash_banks(name),
        hash TEXT NOT NULL,             -- PDQ hex
        media_id TEXT NOT NULL,         -- groups a video's frame hashes
        note TEXT NOT NULL,
        added_at REAL NOT NULL,
        UNIQUE (bank, hash)
    );
CREATE TABLE idempotency (
        tenant TEXT NOT NULL,
        key TEXT NOT NULL,
        request_sha256 TEXT NOT NULL,   -- the request it was first used for
        request_id TEXT NOT NULL,
        terminal BLOB,                  -- the final GenerateEvent, once there is one
        output_path TEXT NOT NULL DEFAULT '',
        created_at REAL NOT NULL,
        PRIMARY KEY (tenant, key)
    );
CREATE TABLE clients (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        tenant TEXT NOT NULL,           -- "*": every tenant (platform admins, auditors)
        role TEXT NOT NULL,
        token_sha256 TEXT UNIQUE,       -- the bearer token is shown once, never stored
        cert_subject TEXT NOT NULL DEFAULT '',  -- mTLS: the client certificate's CN
        created_at REAL NOT NULL,
        revoked_at REAL
    );
    CREATE INDEX decisions_request ON decisions(request_id);
    CREATE TABLE heartbeat (id INTEGER PRIMARY KEY CHECK (id = 1), at REAL NOT NULL);
    ALTER TABLE identity_references ADD COLUMN face_jpeg BLOB;  -- for reviewers' eyes;
ALTER TABLE grants ADD COLUMN basis TEXT NOT NULL DEFAULT '';
ALTER TABLE hash_banks ADD COLUMN csam INTEGER NOT NULL DEFAULT 0;  -- known-CSAM list
    ALTER TABLE decisions ADD COLUMN specialist INTEGER NOT NULL DEFAULT 0;
-- An idempotency claim's owner (front door and run) and how long it holds the key:
    -- a claim whose owner died is taken over once its lease runs out.
    ALTER TABLE idempotency ADD COLUMN owner TEXT NOT NULL DEFAULT '';
    ALTER TABLE idempotency ADD COLUMN lease_until REAL NOT NULL DEFAULT 0;
PRAGMA user_version=9;
