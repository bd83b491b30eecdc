"""Rebuild a dead stall from the copy of its journal that the provincial server holds.

The administrator re-issues a pairing code for the stall; on a fresh SD card `market-pos recover
--server URL --code CODE` pairs (the empty stall takes the stall's device id, and the server says
how many entries it holds), downloads the journal page by page (`GET /api/v1/journal`), checks
every entry's hash and link exactly as `market-pos verify` does, and writes each page in one
transaction: the entries as they were (same ids, times and hashes) and their projections (sales,
lines, payments, day counters, products, cash moves, day closes, bank checks). The next sale then
continues the same chain. An interrupted recover is continued by running it again without a code.

Entries the stall made after its last sync are lost with the card: that is what daily backups
(`pos/backup.py`) are for; a backup restored first and then recovered on top is continued here
as long as it is a prefix of the server's chain.
"""
from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from pos import db, journal, projections, settings
from sync.protocol import Entry, ProtocolError, check_link, entry_from_dict, loads_without_floats

from .client import SyncClient
from .errors import PairingError, SyncError
from .http import ServerHttp, error_of
from .state import KEY_ACKED, KEY_ATTENTION, KEY_HEAD_HASH, KEY_TOKEN, read_state

logger = logging.getLogger(__name__)
PAGE = 500


class RecoverError(Exception):
    """A recover that cannot go on; the message says why, for a person."""


@dataclass(frozen=True)
class RecoverResult:
    """What a recover did."""

    device_id: str
    entries: int        # entries written by this run
    head_seq: int       # the stall's head afterwards (= the server's acked_seq)
    sales: int


def recover(db_path: Path, server_url: str | None = None, code: str | None = None, *,
            page: int = PAGE, timeout: float = 30.0,
            progress: Callable[[int, int], None] | None = None) -> RecoverResult:
    """Pair with `code` (an empty stall) or continue with the stored token; download and replay
    every entry the server holds after the stall's head."""
    from pos.backup import is_served
    if is_served(Path(db_path)):
        raise RecoverError("The stall is being served: stop `market-pos serve` first (the"
                           " recover may change its device id).")
    conn = db.connect(db_path)
    try:
        head = _head(conn)
        if code is not None:
            if head is not None:
                raise RecoverError(
                    f"This stall already holds {head.seq} entries: recover rebuilds an empty"
                    " stall. To continue an interrupted recover, run it again without --code.")
            if not server_url:
                raise RecoverError("Give the server's address with --server.")
            client = SyncClient(db_path, timeout=(5, timeout))
            try:
                client.pair(server_url, code)
            except PairingError as exc:
                raise RecoverError(f"Pairing failed: {exc.message} ({exc.code})") from exc
            finally:
                client.close()
        state = read_state(conn)
        if not state.paired:
            raise RecoverError("This stall is not paired: run recover with --server and the"
                               " pairing code the province issued again.")
        token = settings.read(conn, KEY_TOKEN) or ""
        return _download(conn, state.server_url or "", token, state.device_id, page, timeout,
                         progress)
    finally:
        conn.close()


def _head(conn: sqlite3.Connection) -> Entry | None:
    row = conn.execute("SELECT seq FROM journal ORDER BY seq DESC LIMIT 1").fetchone()
    return journal.get(conn, row["seq"]) if row else None


def _download(conn: sqlite3.Connection, server_url: str, token: str, device_id: str, page: int,
              timeout: float, progress: Callable[[int, int], None] | None) -> RecoverResult:
    # Entries are checked as the server stored them: a float anywhere makes the page unreadable.
    http = ServerHttp(server_url, token, timeout=timeout, parse=loads_without_floats)
    previous = _head(conn)
    written = 0
    server_head: dict[str, Any] = {}
    try:
        while True:
            after = previous.seq if previous else 0
            data = _get_page(http, after, page)
            server_head = data
            entries = [_entry(item, device_id) for item in data["entries"]]
            with db.write_transaction(conn):
                for entry in entries:
                    problem = check_link(entry, previous)
                    if problem:
                        raise RecoverError(f"The server's entry {entry.seq} is not sound"
                                           f" ({problem}); nothing of this page was written.")
                    _insert(conn, entry)
                    project(conn, entry)
                    previous = entry
            written += len(entries)
            if progress:
                progress(previous.seq if previous else 0, int(data["acked_seq"]))
            if data.get("next_after_seq") is None or not entries:
                break
    finally:
        http.close()
    head_seq = previous.seq if previous else 0
    if head_seq < int(server_head.get("acked_seq", 0)) or \
            (previous and previous.hash != server_head.get("head_hash")):
        raise RecoverError("The server's journal changed during the recover; run it again.")
    with db.write_transaction(conn):  # the server holds all of it: nothing is pending
        settings.write(conn, KEY_ACKED, str(head_seq))
        if previous:
            settings.write(conn, KEY_HEAD_HASH, previous.hash)
        conn.execute("DELETE FROM settings WHERE key = ?", (KEY_ATTENTION,))
    result = journal.verify(conn, device_id)
    if not result.ok:  # a second, independent walk over what was written
        raise RecoverError(f"The rebuilt journal is broken at seq {result.broken_seq}:"
                           f" {result.reason}")
    sales_count = conn.execute("SELECT COUNT(*) FROM sales").fetchone()[0]
    logger.info("recovered %d entries of device %s (head %d)", written, device_id, head_seq)
    return RecoverResult(device_id, written, head_seq, sales_count)


def _get_page(http: ServerHttp, after: int, page: int) -> dict[str, Any]:
    try:
        answer = http.get("/api/v1/journal", params={"after_seq": after, "limit": page})
    except SyncError as exc:
        raise RecoverError(f"The server did not answer ({exc.code}); what was downloaded so far"
                           " is kept: run recover again.") from exc
    data = answer.data
    if answer.status != 200 or not isinstance(data, dict):
        message = error_of(answer).get("message") or f"HTTP {answer.status}"
        raise RecoverError(f"The server refused the download: {message}")
    if not isinstance(data.get("entries"), list) or not isinstance(data.get("acked_seq"), int):
        raise RecoverError("The server's answer is not a journal page.")
    return data


def _entry(item: Any, device_id: str) -> Entry:
    try:
        entry = entry_from_dict(item, payload_types_checked=True)
    except ProtocolError as exc:
        raise RecoverError(f"The server sent a malformed entry: {exc}") from exc
    if entry.device_id != device_id:
        raise RecoverError(f"The server sent entry {entry.seq} of another device.")
    return entry


def _insert(conn: sqlite3.Connection, entry: Entry) -> None:
    """The entry exactly as the stall first wrote it (the triggers check seq and link again)."""
    conn.execute("INSERT INTO journal (seq, id, device_id, kind, at, payload, prev_hash, hash)"
                 " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                 (entry.seq, entry.id, entry.device_id, entry.kind, entry.at,
                  entry.canonical_payload().decode("utf-8"), entry.prev_hash, entry.hash))


def project(conn: sqlite3.Connection, entry: Entry) -> None:
    """Write the stall's tables for one replayed entry (inside the caller's transaction)."""
    try:
        projections.project(conn, entry)
    except projections.UnknownKind:
        raise RecoverError(f"Entry {entry.seq} is of kind {entry.kind!r}, which this version"
                           " cannot rebuild; update market-pos and run recover again.") from None
    except (KeyError, TypeError, sqlite3.IntegrityError) as exc:
        raise RecoverError(f"Entry {entry.seq} ({entry.kind}) cannot be projected: {exc!r}"
                           ) from exc
