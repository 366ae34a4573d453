"""The store's rows about media: signed manifests by fingerprint, hash-bank entries, the
kept results of idempotent requests, and the media bytes every front door must reach.

A mixin of `SqlStore` (it uses the store's engine, transactions and change feed), kept
in its own file so each file stays readable.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from indexes.hamming import rows
from indexes.hashbank import Bank, BankEntry
from indexes.manifests import ManifestRecord, StoredFingerprint
from safety.store.database import serialize
from safety.store.records import IdempotencyRecord
from safety.store.schema import (
    bank_entries,
    hash_banks,
    idempotency,
    manifest_repository,
    media,
    media_chunks,
)

# Bank entries read per round trip when the matcher is built (see `bank_hashes`).
BANK_READ_CHUNK = 100_000
BANK_READ_IDS = 10_000  # entry ids named in one statement (SQLite binds at most 32,766)
# A BankEntry's columns, in its fields' order.
_ENTRY = sa.select(
    bank_entries.c.id,
    bank_entries.c.bank,
    bank_entries.c.hash,
    bank_entries.c.media_id,
    bank_entries.c.note,
)
_ENTRY_BY_ID = _ENTRY.where(bank_entries.c.id == sa.bindparam("id"))

MEDIA_CHUNK = 1 << 20  # bytes per row: neither side holds a whole video in memory
repo = manifest_repository


def insert_for(conn: Connection, table: sa.Table):
    """The dialect's INSERT, which knows ON CONFLICT."""
    return (postgresql if conn.dialect.name == "postgresql" else sqlite).insert(table)


def upsert(conn: Connection, table: sa.Table, row: dict, keys: list[str]) -> None:
    stmt = insert_for(conn, table).values(**row)
    changed = {k: v for k, v in row.items() if k not in keys}
    conn.execute(stmt.on_conflict_do_update(index_elements=keys, set_=changed))


class MediaTables:
    """Manifest repository, hash banks, idempotency keys and media (see interface.py)."""

    # ---- manifest repository (soft binding) -------------------------------------------

    def add_manifest_record(self, record: ManifestRecord) -> None:
        with self._write() as conn:
            serialize(conn, "reelguard-manifests")  # seq in commit order: caches follow it
            # Replace: a release resumed after a crash re-signs under the same manifest id.
            conn.execute(repo.delete().where(repo.c.manifest_id == record.manifest_id))
            conn.execute(
                repo.insert().values(
                    manifest_id=record.manifest_id,
                    alg=record.alg,
                    hashes=json.dumps(record.hashes),
                    manifest=record.manifest,
                    mime_type=record.mime_type,
                    created_at=time.time(),
                )
            )

    def manifest_fingerprints(self, after_seq: int) -> list[StoredFingerprint]:
        rows = self._rows(
            sa.select(repo.c.seq, repo.c.manifest_id, repo.c.alg, repo.c.hashes)
            .where(repo.c.seq > after_seq)
            .order_by(repo.c.seq)
        )
        return [StoredFingerprint(r[0], r[1], r[2], json.loads(r[3])) for r in rows]

    def manifest_record(self, manifest_id: str) -> ManifestRecord | None:
        return self._manifest_record(repo.c.manifest_id == manifest_id)

    def manifest_record_by_prefix(self, prefix: str) -> ManifestRecord | None:
        if not prefix or not all(c in "0123456789abcdef" for c in prefix):
            return None
        # Two rows for a prefix is ambiguous (astronomically unlikely): no record.
        return self._manifest_record(
            repo.c.manifest_id >= prefix, repo.c.manifest_id < prefix + "g"
        )

    def _manifest_record(self, *where) -> ManifestRecord | None:
        rows = self._rows(
            sa.select(
                repo.c.manifest_id, repo.c.alg, repo.c.hashes, repo.c.manifest, repo.c.mime_type
            )
            .where(*where)
            .order_by(repo.c.manifest_id)
            .limit(2)
        )
        if len(rows) != 1:
            return None
        r = rows[0]
        return ManifestRecord(r[0], r[1], json.loads(r[2]), bytes(r[3]), r[4])

    # ---- hash banks ----------------------------------------------------------------------

    def add_bank(self, bank: Bank) -> None:
        with self._write() as conn:
            conn.execute(
                hash_banks.insert().values(
                    name=bank.name,
                    max_distance=bank.max_distance,
                    description=bank.description,
                    created_at=time.time(),
                    csam=bank.csam,
                )
            )
            self._changed(conn, "banks", {"bank": bank.name})

    def banks(self) -> list[Bank]:
        c = hash_banks.c
        rows = self._rows(sa.select(c.name, c.max_distance, c.description, c.csam).order_by(c.name))
        return [Bank(name, distance, text, bool(csam)) for name, distance, text, csam in rows]

    def add_bank_entries(self, bank, hashes, media_id, note):
        ids = []
        with self._write() as conn:
            for digest in hashes:
                found = conn.execute(
                    insert_for(conn, bank_entries)
                    .values(
                        bank=bank, hash=digest, media_id=media_id, note=note, added_at=time.time()
                    )
                    .on_conflict_do_nothing(index_elements=["bank", "hash"])
                    .returning(bank_entries.c.id)
                ).scalar_one_or_none()
                if found is not None:
                    ids.append(int(found))
            if ids:
                self._changed(conn, "banks", {"bank": bank, "entries": ids})
        return ids

    def remove_bank_entry(self, entry_id: int) -> bool:
        with self._write() as conn:
            gone = conn.execute(bank_entries.delete().where(bank_entries.c.id == entry_id)).rowcount
            if gone:
                self._changed(conn, "banks", {"entry": entry_id})
        return gone > 0

    def bank_entries(self, media_id=None) -> list[BankEntry]:
        c = bank_entries.c
        query = _ENTRY.order_by(c.id)
        if media_id is not None:
            query = query.where(c.media_id == media_id)
        return [BankEntry(*r) for r in self._rows(query)]

    def bank_entry(self, entry_id):
        with self.engine.connect() as conn:  # one statement, built once: a match's lookup
            row = conn.execute(_ENTRY_BY_ID, {"id": int(entry_id)}).first()
        return BankEntry(*row) if row else None

    def bank_counts(self):
        c = bank_entries.c
        return dict(self._rows(sa.select(c.bank, sa.func.count()).group_by(c.bank)))

    def bank_hashes(self, bank=None, ids=None):
        c = bank_entries.c
        parts: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}
        query = sa.select(c.bank, c.id, c.hash).order_by(c.bank, c.id)
        if bank is not None:
            query = query.where(c.bank == bank)
        queries = [query]
        if ids is not None:  # ascending, so each bank's parts stay oldest first
            wanted = sorted({int(i) for i in ids})
            queries = [query.where(c.id.in_(wanted[at : at + BANK_READ_IDS]))
                       for at in range(0, len(wanted), BANK_READ_IDS)]  # fmt: skip
        with self.engine.connect() as conn:
            for one in queries:
                # A chunk at a time: no Python object per entry outlives its chunk.
                result = conn.execution_options(yield_per=BANK_READ_CHUNK).execute(one)
                for chunk in result.partitions():
                    for name, group in itertools.groupby(chunk, key=lambda r: r[0]):
                        got = list(group)
                        found = np.fromiter((r[1] for r in got), np.int64, len(got))
                        parts.setdefault(name, []).append((found, rows([r[2] for r in got])))
        return {
            bank: (np.concatenate([i for i, _ in got]), np.concatenate([h for _, h in got]))
            for bank, got in parts.items()
        }

    # ---- idempotency keys ----------------------------------------------------------------

    def claim_idempotency(self, tenant, key, request_sha256, request_id, owner, lease_s):
        now = time.time()
        this = (idempotency.c.tenant == tenant, idempotency.c.key == key)
        with self._write() as conn:
            claimed = conn.execute(
                insert_for(conn, idempotency)
                .values(
                    tenant=tenant,
                    key=key,
                    request_sha256=request_sha256,
                    request_id=request_id,
                    created_at=now,
                    owner=owner,
                    lease_until=now + lease_s,
                )
                .on_conflict_do_nothing(index_elements=["tenant", "key"])
                .returning(idempotency.c.owner)
            ).scalar_one_or_none()
            if claimed is not None:
                return None
            row = conn.execute(sa.select(idempotency).where(*this).with_for_update()).one()
            expired = row.terminal is None and row.lease_until < now
            if not (expired and row.request_sha256 == request_sha256):
                terminal = None if row.terminal is None else bytes(row.terminal)
                return IdempotencyRecord(
                    row.request_sha256, row.request_id, terminal, row.output_path
                )
            conn.execute(  # its owner died mid-request: this retry takes the key over
                idempotency.update()
                .where(*this)
                .values(request_id=request_id, owner=owner, lease_until=now + lease_s)
            )
        return None

    def finish_idempotency(self, tenant, key, terminal, output_path, owner):
        with self._write() as conn:
            conn.execute(
                idempotency.update()
                .where(
                    idempotency.c.tenant == tenant,
                    idempotency.c.key == key,
                    idempotency.c.owner == owner,
                )
                .values(terminal=terminal, output_path=output_path)
            )

    def release_idempotency(self, tenant, key, owner):
        with self._write() as conn:
            conn.execute(
                idempotency.delete().where(
                    idempotency.c.tenant == tenant,
                    idempotency.c.key == key,
                    idempotency.c.owner == owner,
                    idempotency.c.terminal.is_(None),
                )
            )

    def expire_idempotency(self, before):
        where = (idempotency.c.terminal.is_not(None), idempotency.c.created_at < before)
        with self._write() as conn:
            kept = conn.execute(sa.select(idempotency.c.output_path).where(*where)).scalars()
            paths = [p for p in kept if p]
            conn.execute(idempotency.delete().where(*where))
        return paths

    def release_claims_of(self, owner_prefix, except_owner):
        with self._write() as conn:
            return conn.execute(
                idempotency.delete().where(
                    idempotency.c.terminal.is_(None),
                    idempotency.c.owner != except_owner,
                    sa.func.substr(idempotency.c.owner, 1, len(owner_prefix)) == owner_prefix,
                )
            ).rowcount

    # ---- media ---------------------------------------------------------------------------

    def put_media(self, key: str, path: Path) -> str:
        """Keep a file's bytes under `key` (replacing what was there); its SHA-256."""
        digest, size = hashlib.sha256(), 0
        with self._write() as conn, open(path, "rb") as f:
            conn.execute(media_chunks.delete().where(media_chunks.c.key == key))
            conn.execute(media.delete().where(media.c.key == key))
            part = 0
            while chunk := f.read(MEDIA_CHUNK):
                conn.execute(media_chunks.insert().values(key=key, part=part, data=chunk))
                digest.update(chunk)
                size, part = size + len(chunk), part + 1
            conn.execute(
                media.insert().values(
                    key=key, size=size, sha256=digest.hexdigest(), created_at=time.time()
                )
            )
        return digest.hexdigest()

    def media_size(self, key: str) -> int | None:
        rows = self._rows(sa.select(media.c.size).where(media.c.key == key))
        return int(rows[0][0]) if rows else None

    def read_media(self, key: str) -> Iterator[bytes]:
        """The bytes under `key`, a chunk at a time (a query each)."""
        part = 0
        while True:
            rows = self._rows(
                sa.select(media_chunks.c.data).where(
                    media_chunks.c.key == key, media_chunks.c.part == part
                )
            )
            if not rows:
                return
            yield bytes(rows[0][0])
            part += 1

    def delete_media(self, key: str) -> bool:
        with self._write() as conn:
            conn.execute(media_chunks.delete().where(media_chunks.c.key == key))
            return conn.execute(media.delete().where(media.c.key == key)).rowcount > 0
