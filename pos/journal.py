"""The stall's journal: append an entry to the hash chain, read entries back, verify the chain."""
from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any, Iterator

from sync.protocol import (GENESIS_HASH, Entry, canonical_form, canonical_json, check_link,
                           entry_hash_canonical, new_entry_id, utc_timestamp)
from sync.payloads import validate_payload


def append(conn: sqlite3.Connection, device_id: str, kind: str, payload: dict[str, Any],
           *, at: str | None = None) -> Entry:
    """Append one entry; the caller holds the write transaction that also writes the projections.

    The chain head is found by a search of the primary key for its largest value (no scan), so
    appending stays flat as the journal grows. The payload must match its kind's schema
    (sync/payloads, docs/SYNC.md "Payloads"): PayloadError otherwise, before anything is written.
    """
    if not conn.in_transaction:
        raise RuntimeError("journal.append must run inside a write transaction")
    stored_payload, payload_json = canonical_form(payload)
    validate_payload(kind, stored_payload)
    head = conn.execute("SELECT seq, hash FROM journal WHERE seq = (SELECT MAX(seq) FROM journal)"
                        ).fetchone()
    seq = head["seq"] + 1 if head else 1
    prev_hash = head["hash"] if head else GENESIS_HASH
    entry_id = new_entry_id()
    at = at or utc_timestamp()
    digest = entry_hash_canonical(prev_hash, device_id, seq, entry_id, kind, at, payload_json)
    conn.execute(
        "INSERT INTO journal (seq, id, device_id, kind, at, payload, prev_hash, hash)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (seq, entry_id, device_id, kind, at, payload_json.decode("utf-8"), prev_hash, digest))
    return Entry(device_id, seq, entry_id, kind, at, stored_payload, prev_hash, digest)


def _row_to_entry(row: sqlite3.Row) -> Entry:
    return Entry(row["device_id"], row["seq"], row["id"], row["kind"], row["at"],
                 json.loads(row["payload"]), row["prev_hash"], row["hash"])


def entries(conn: sqlite3.Connection, since_seq: int = 0,
            limit: int | None = None) -> Iterator[Entry]:
    """Entries with seq > since_seq, in order."""
    sql = "SELECT * FROM journal WHERE seq > ? ORDER BY seq"
    params: tuple[Any, ...] = (since_seq,)
    if limit is not None:
        sql += " LIMIT ?"
        params += (limit,)
    for row in conn.execute(sql, params):
        yield _row_to_entry(row)


def get(conn: sqlite3.Connection, seq: int) -> Entry | None:
    """One entry by its sequence number."""
    row = conn.execute("SELECT * FROM journal WHERE seq = ?", (seq,)).fetchone()
    return _row_to_entry(row) if row else None


@dataclass(frozen=True)
class VerifyResult:
    """What `verify` found: the number of sound entries, and the first broken one if any."""

    checked: int
    broken_seq: int | None = None
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.broken_seq is None


def verify(conn: sqlite3.Connection, device_id: str | None = None) -> VerifyResult:
    """Walk the whole chain and report the first entry whose hash, link or sequence is wrong."""
    previous: Entry | None = None
    checked = 0
    for row in conn.execute("SELECT * FROM journal ORDER BY seq"):
        try:
            entry = _row_to_entry(row)
        except (ValueError, TypeError) as exc:
            return VerifyResult(checked, row["seq"], f"unreadable payload: {exc}")
        if canonical_json(entry.payload).decode("utf-8") != row["payload"]:
            problem: str | None = "payload is not stored canonically"
        elif device_id is not None and entry.device_id != device_id:
            problem = "entry belongs to another device"
        else:
            problem = check_link(entry, previous)
        if problem:
            return VerifyResult(checked, entry.seq, problem)
        previous = entry
        checked += 1
    return VerifyResult(checked)
