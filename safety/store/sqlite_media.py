"""The SQLite store's rows about media: signed manifests by fingerprint, hash-bank
entries, and the kept results of idempotent requests.

A mixin of `SQLiteStore` (it uses the store's connection, lock and transactions), kept
in its own file so each file stays readable.
"""

from __future__ import annotations

import json
import time

from indexes.hashbank import Bank, BankEntry
from indexes.manifests import ManifestRecord, StoredFingerprint
from safety.store.records import IdempotencyRecord


class MediaTables:
    """Manifest repository, hash banks and idempotency keys (see safety/store/interface.py)."""

    # ---- manifest repository (soft binding) -------------------------------------------

    def add_manifest_record(self, record: ManifestRecord) -> None:
        with self._transaction() as db:
            db.execute(
                # Replace: a release resumed after a crash re-signs under the same manifest id.
                "INSERT OR REPLACE INTO manifest_repository VALUES (?, ?, ?, ?, ?, ?)",
                (
                    record.manifest_id,
                    record.alg,
                    json.dumps(record.hashes),
                    record.manifest,
                    record.mime_type,
                    time.time(),
                ),
            )

    def manifest_fingerprints(self, after_seq: int) -> list[StoredFingerprint]:
        rows = self._query(
            "SELECT rowid, manifest_id, alg, hashes FROM manifest_repository "
            "WHERE rowid > ? ORDER BY rowid",
            (after_seq,),
        )
        return [StoredFingerprint(r[0], r[1], r[2], json.loads(r[3])) for r in rows]

    def manifest_record(self, manifest_id: str) -> ManifestRecord | None:
        return self._manifest_record("manifest_id = ?", (manifest_id,))

    def manifest_record_by_prefix(self, prefix: str) -> ManifestRecord | None:
        if not prefix or not all(c in "0123456789abcdef" for c in prefix):
            return None
        # Two rows for a prefix is ambiguous (astronomically unlikely): no record.
        return self._manifest_record(
            "manifest_id >= ? AND manifest_id < ? ORDER BY manifest_id", (prefix, prefix + "g")
        )

    def _manifest_record(self, where: str, args: tuple) -> ManifestRecord | None:
        rows = self._query(
            "SELECT manifest_id, alg, hashes, manifest, mime_type FROM manifest_repository "
            f"WHERE {where} LIMIT 2",
            args,
        )
        if len(rows) != 1:
            return None
        r = rows[0]
        return ManifestRecord(r[0], r[1], json.loads(r[2]), bytes(r[3]), r[4])

    # ---- hash banks ----------------------------------------------------------------------

    def add_bank(self, bank: Bank) -> None:
        with self._transaction() as db:
            db.execute(
                "INSERT INTO hash_banks (name, max_distance, description, created_at, csam) "
                "VALUES (?, ?, ?, ?, ?)",
                (bank.name, bank.max_distance, bank.description, time.time(), int(bank.csam)),
            )

    def banks(self) -> list[Bank]:
        rows = self._query(
            "SELECT name, max_distance, description, csam FROM hash_banks ORDER BY name"
        )
        return [
            Bank(name, distance, description, bool(csam))
            for name, distance, description, csam in rows
        ]

    def add_bank_entries(self, bank, hashes, media_id, note):
        ids = []
        with self._transaction() as db:
            for digest in hashes:
                cur = db.execute(
                    "INSERT OR IGNORE INTO bank_entries (bank, hash, media_id, note, added_at) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (bank, digest, media_id, note, time.time()),
                )
                if cur.rowcount:
                    ids.append(int(cur.lastrowid))
        return ids

    def remove_bank_entry(self, entry_id: int) -> bool:
        with self._transaction() as db:
            return db.execute("DELETE FROM bank_entries WHERE id = ?", (entry_id,)).rowcount > 0

    def bank_entries(self) -> list[BankEntry]:
        rows = self._query("SELECT id, bank, hash, media_id, note FROM bank_entries ORDER BY id")
        return [BankEntry(*r) for r in rows]

    # ---- idempotency keys ----------------------------------------------------------------

    def claim_idempotency(self, tenant, key, request_sha256, request_id, owner, lease_s):
        now = time.time()
        with self._transaction() as db:
            row = db.execute(
                "SELECT request_sha256, request_id, terminal, output_path, lease_until "
                "FROM idempotency WHERE tenant = ? AND key = ?",
                (tenant, key),
            ).fetchone()
            if row is not None:
                expired = row[2] is None and row[4] < now
                if not (expired and row[0] == request_sha256):
                    return IdempotencyRecord(row[0], row[1], row[2], row[3])
                db.execute(  # its owner died mid-request: this retry takes the key over
                    "UPDATE idempotency SET request_id = ?, owner = ?, lease_until = ? "
                    "WHERE tenant = ? AND key = ?",
                    (request_id, owner, now + lease_s, tenant, key),
                )
                return None
            db.execute(
                "INSERT INTO idempotency (tenant, key, request_sha256, request_id, created_at, "
                "owner, lease_until) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (tenant, key, request_sha256, request_id, now, owner, now + lease_s),
            )
        return None

    def finish_idempotency(self, tenant, key, terminal, output_path, owner):
        with self._transaction() as db:
            db.execute(
                "UPDATE idempotency SET terminal = ?, output_path = ? "
                "WHERE tenant = ? AND key = ? AND owner = ?",
                (terminal, output_path, tenant, key, owner),
            )

    def release_idempotency(self, tenant, key, owner):
        with self._transaction() as db:
            db.execute(
                "DELETE FROM idempotency "
                "WHERE tenant = ? AND key = ? AND owner = ? AND terminal IS NULL",
                (tenant, key, owner),
            )

    def expire_idempotency(self, before):
        with self._transaction() as db:
            where = "terminal IS NOT NULL AND created_at < ?"
            paths = [
                r[0]
                for r in db.execute(f"SELECT output_path FROM idempotency WHERE {where}", (before,))
                if r[0]
            ]
            db.execute(f"DELETE FROM idempotency WHERE {where}", (before,))
        return paths

    def release_claims_of(self, owner_prefix, except_owner):
        with self._transaction() as db:
            cur = db.execute(
                "DELETE FROM idempotency WHERE terminal IS NULL AND owner != ? "
                "AND substr(owner, 1, ?) = ?",
                (except_owner, len(owner_prefix), owner_prefix),
            )
            return cur.rowcount
