"""Journal push (docs/SYNC.md): every entry the server lacks, in batches within the entry and byte
caps. The cursor is the server's `acked_seq`, stored after every answer, even when it goes down
(a server restored from an older backup is refilled); a refused entry stops the push and is kept
as "needs attention" with the server's reason."""
from __future__ import annotations

import json
import logging
import sqlite3
from typing import TYPE_CHECKING, Any, Callable, Iterator

from pos import settings
from sync.protocol import ProtocolError, canonical_json, utc_timestamp

from .errors import SyncError, SyncRefused, SyncRetryable
from .http import error_of
from .state import (KEY_ACKED, KEY_ATTENTION, KEY_HEAD_ETAG, KEY_HEAD_HASH, KEY_SERVER,
                    SyncResult, SyncState, head_seq)

if TYPE_CHECKING:
    from .session import SyncSession

logger = logging.getLogger(__name__)


def entry_json(row: sqlite3.Row) -> bytes:
    """One stored journal row in its wire form, serialised canonically."""
    try:
        payload = json.loads(row["payload"])
    except ValueError as exc:
        raise ProtocolError(f"entry {row['seq']} has an unreadable payload: {exc}") from exc
    return canonical_json({"device_id": row["device_id"], "seq": row["seq"], "id": row["id"],
                           "kind": row["kind"], "at": row["at"], "payload": payload,
                           "prev_hash": row["prev_hash"], "hash": row["hash"]})


def journal_rows(conn: sqlite3.Connection, after: int, limit: int | None = None
                 ) -> Iterator[sqlite3.Row]:
    """The journal rows after `after` (fetched at once: the read transaction of this one SELECT
    ends before anything else happens)."""
    return iter(conn.execute(
        "SELECT seq, id, device_id, kind, at, payload, prev_hash, hash FROM journal"
        " WHERE seq > ? ORDER BY seq LIMIT ?", (after, -1 if limit is None else limit)).fetchall())


def count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def push(client: "SyncSession", state: SyncState, result: SyncResult,
         progress: Callable[[int, int], None] | None, *, ask_head: bool = True) -> None:
    """Send the journal after the server's cursor; fills `result` (pushed, acked, attention).
    With nothing to send, ask for the server's head instead, unless `ask_head` is False."""
    http = client.http
    acked = state.acked_seq
    batch_entries = client.batch_entries
    rewinds = stalls = 0
    refused: dict[str, Any] | None = None
    if state.pending == 0 and ask_head:
        # Nothing to send: still ask how far the server holds the journal, so that a server
        # restored from an older backup is noticed (and refilled) without waiting for a sale.
        acked, refused = check_head(client, acked)
    while refused is None:
        head = head_seq(client.conn)
        result.head_seq = head
        if progress:
            progress(acked, head)
        try:
            body = batch(client, state.device_id, acked, batch_entries)
        except ProtocolError as exc:
            refused = {"seq": acked + 1, "code": "unreadable_entry", "message": str(exc)}
            break
        if body is None:
            break
        answer = http.post_json("/api/v1/journal", body,
                                headers={"X-Device-Time": utc_timestamp(client.now())})
        http.raise_for_transient(answer)
        data = answer.data if isinstance(answer.data, dict) else {}
        error = error_of(answer)
        code = str(error.get("code") or f"http_{answer.status}")
        if answer.status == 413 and batch_entries > 1:
            batch_entries = max(1, batch_entries // 2)   # the server's cap is lower: halve
            continue
        if answer.status in (401, 403) and code != "wrong_device":
            raise SyncRefused(f"The server refused this stall ({error.get('message') or code});"
                              " pair it again", code="unauthorised")
        if answer.status not in (200, 400, 403, 409, 413):
            raise SyncError(f"Unexpected answer from the server: HTTP {answer.status}",
                            code="unexpected_answer")
        problem = None
        if "acked_seq" in data:
            new_acked = acked_from(data)
            # Stored from every answer, even lower than before (the server lost entries).
            stored, problem = save_answer(client, data, new_acked, head)
            if stored < acked:
                rewinds += 1
                logger.warning("the server holds only up to seq %d: resending from there", stored)
            stalls = stalls + 1 if stored == acked else 0
            acked = stored
        elif answer.status == 200:
            raise SyncRetryable("The server's answer has no acked_seq", code="bad_answer")
        if answer.status == 200:
            result.batches += 1
            result.pushed += count(data.get("stored"))
            result.duplicates += count(data.get("duplicates"))
        elif not (answer.status == 409 and code == "sequence_gap"):
            # Refused (conflict, broken_chain, bad_hash, malformed…): the server's reason.
            refused = {"seq": count(error.get("seq")) or acked + 1, "code": code,
                       "message": str(error.get("message") or f"HTTP {answer.status}")}
        refused = refused or problem   # else: rewound above, send again from there
        if refused is None and (rewinds > 3 or stalls >= 3):
            raise SyncRetryable("The server does not move on with the journal",
                                code="no_progress")
    result.acked_seq = acked
    with client.writing() as conn:
        if refused is None:
            conn.execute("DELETE FROM settings WHERE key = ?", (KEY_ATTENTION,))
        else:
            logger.error("entry %s needs attention: %s (%s)", refused["seq"],
                         refused["code"], refused["message"])
            settings.write(conn, KEY_ATTENTION, json.dumps(refused, ensure_ascii=False))
    if refused is not None:
        result.status, result.needs_attention = "needs_attention", refused
    if progress:
        progress(acked, result.head_seq)


def check_head(client: "SyncSession", acked: int) -> tuple[int, dict[str, Any] | None]:
    """How far the server holds the journal (GET /api/v1/journal/head), stored as the cursor.

    Conditional: the ETag of the last head answer is sent back while it still describes the
    stall's cursor (it is kept with the server, the cursor and the head hash it came with, and
    any other write of the cursor makes it stale), so an unchanged head is a 304 with no body.
    A 304 to a stale tag could hide a server restored to that older head: never sent then."""
    conn = client.conn
    server = settings.read(conn, KEY_SERVER)
    current = {"server": server, "acked": acked, "hash": settings.read(conn, KEY_HEAD_HASH)}
    kept = _head_etag(settings.read(conn, KEY_HEAD_ETAG))
    etag = kept.get("etag") if kept and {k: kept.get(k) for k in current} == current else None
    answer = client.http.get("/api/v1/journal/head",
                             headers={"If-None-Match": etag} if etag else None)
    if answer.status == 304 and etag:
        with client.writing():
            pass   # the clock offset of this answer
        return acked, None
    client.http.raise_for_transient(answer)
    data = answer.data if isinstance(answer.data, dict) else {}
    if answer.status in (401, 403):
        raise SyncRefused("The server refused this stall; pair it again", code="unauthorised")
    if answer.status != 200:
        raise SyncError(f"Unexpected answer from the server: HTTP {answer.status}",
                        code="unexpected_answer")
    stored, problem = save_answer(client, data, acked_from(data), head_seq(conn))
    new_etag = answer.headers.get("ETag")
    if problem is None and stored == acked_from(data) and new_etag:
        with client.writing() as write:
            settings.write(write, KEY_HEAD_ETAG, json.dumps(
                {"etag": new_etag, "server": server, "acked": stored,
                 "hash": settings.read(write, KEY_HEAD_HASH)}))
    if stored < acked:
        logger.warning("the server holds only up to seq %d: resending from there", stored)
    return stored, problem


def _head_etag(raw: str | None) -> dict[str, Any] | None:
    try:
        value = json.loads(raw) if raw else None
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def batch(client: "SyncSession", device_id: str, acked: int, max_entries: int) -> bytes | None:
    """The next batch after `acked` as a request body, within the entry and byte caps."""
    parts: list[bytes] = []
    size = 64
    for row in journal_rows(client.conn, acked, max_entries):
        part = entry_json(row)
        if parts and size + len(part) + 1 > client.batch_bytes:
            break
        parts.append(part)
        size += len(part) + 1
    if not parts:
        return None
    # The envelope around entries already in canonical form: {"device_id":…,"entries":[…]}
    return (b'{"device_id":' + canonical_json(device_id) + b',"entries":['
            + b",".join(parts) + b"]}")


def acked_from(data: dict[str, Any]) -> int:
    acked = data.get("acked_seq")
    if isinstance(acked, bool) or not isinstance(acked, int) or acked < 0:
        raise SyncRetryable("The server's answer has no acked_seq", code="bad_answer")
    return acked


def save_answer(client: "SyncSession", data: dict[str, Any], server_acked: int,
                head: int) -> tuple[int, dict[str, Any] | None]:
    """Store the server's cursor and clock; returns the stored cursor and any problem."""
    with client.writing() as conn:
        stored, problem = store_cursor(conn, server_acked, data.get("head_hash"), head)
    client.http.heartbeat()
    return stored, problem


def store_cursor(conn: sqlite3.Connection, server_acked: int, head_hash: Any,
                 head: int) -> tuple[int, dict[str, Any] | None]:
    """Keep the server's acked_seq, even lower than before; never one beyond this stall's own
    journal (a stall restored from an old backup): that would skip its next entries."""
    problem = None
    if server_acked > head:
        problem = {"seq": head + 1, "code": "stall_behind",
                   "message": f"The server holds {server_acked} entries of this stall, the"
                              f" stall only {head}: was it restored from an old backup?"}
        stored = head
    else:
        stored = server_acked
        if isinstance(head_hash, str) and server_acked > 0:
            local = conn.execute("SELECT hash FROM journal WHERE seq = ?",
                                 (server_acked,)).fetchone()
            if local is not None and local["hash"] != head_hash:
                problem = {"seq": server_acked, "code": "diverged",
                           "message": f"The server's entry {server_acked} differs from"
                                      " this stall's"}
    settings.write(conn, KEY_ACKED, str(stored))
    conn.execute("DELETE FROM settings WHERE key = ?", (KEY_HEAD_ETAG,))   # stale now
    if isinstance(head_hash, str):
        settings.write(conn, KEY_HEAD_HASH, head_hash)
    return stored, problem
