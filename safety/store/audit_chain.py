"""The audit log's hash chain, whichever backend keeps it.

Each entry's hash covers its fields and the previous entry's hash, so editing an entry
breaks its own hash, deleting one breaks the next entry's link (and the sequence),
and cutting off the tail disagrees with the head. `verify_chain` names the first
broken entry. This detects tampering by anyone without the ability to rewrite the
whole chain and its head; exporting the head hash elsewhere (regulators, a
transparency log) closes that gap.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import IO

GENESIS = "0" * 64  # the head of an empty chain


def canonical(body: dict) -> str:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def entry_hash(
    prev_hash: str,
    seq: int,
    at_us: int,
    actor: str,
    kind: str,
    tenant: str,
    subject: str,
    body: str,
) -> str:
    fields = json.dumps([seq, at_us, actor, kind, tenant, subject, body], ensure_ascii=False)
    return hashlib.sha256(f"{prev_hash}\n{fields}".encode()).hexdigest()


def chained(
    prev_seq: int, prev_hash: str, at_us: int, actor: str, kind: str, tenant: str, subject: str,
    body: dict,
) -> dict:  # fmt: skip
    """The next entry after (prev_seq, prev_hash), as a row: what a backend appends."""
    seq, text = prev_seq + 1, canonical(body)
    digest = entry_hash(prev_hash, seq, at_us, actor, kind, tenant, subject, text)
    return {
        "seq": seq,
        "at_us": at_us,
        "actor": actor,
        "kind": kind,
        "tenant": tenant,
        "subject": subject,
        "body": text,
        "prev_hash": prev_hash,
        "hash": digest,
    }


@dataclass(frozen=True)
class Verification:
    entries: int
    head_hash: str
    broken_seq: int | None = None  # the first entry that does not check out
    why: str = ""

    @property
    def ok(self) -> bool:
        return self.broken_seq is None


def verify_chain(entries: Iterable[dict], head: tuple[int, str]) -> Verification:
    """Check every entry (oldest first) against the one before it, then the head."""
    prev, expected, count = GENESIS, 1, 0
    for e in entries:
        if e["seq"] != expected:
            return Verification(count, prev, expected, f"entry {expected} is missing (deleted?)")
        if e["prev_hash"] != prev:
            return Verification(count, prev, e["seq"], "does not link to the entry before it")
        fields = (e["actor"], e["kind"], e["tenant"], e["subject"], e["body"])
        if entry_hash(prev, e["seq"], e["at_us"], *fields) != e["hash"]:
            return Verification(count, prev, e["seq"], "its content was changed")
        prev, expected, count = e["hash"], expected + 1, count + 1
    head_seq, head_hash = head
    if head_seq != count or head_hash != prev:
        return Verification(
            count, prev, count + 1, f"entries after {count} are missing (the head is at {head_seq})"
        )
    return Verification(count, prev)


def export_entries(entries: Iterable[dict], out: IO[str]) -> int:
    """JSON Lines, one entry per line with its hashes, oldest first."""
    n = 0
    for e in entries:
        e = {**e, "body": json.loads(e["body"])}
        out.write(json.dumps(e, ensure_ascii=False) + "\n")
        n += 1
    return n
