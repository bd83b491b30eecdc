"""`SyncClient`: one stall database, one sync at a time. It holds what the parts share (the
database connection, the HTTP client, the sync lock, the device clock) and runs them in order:
bundle key, bank notifications, journal push, catalogue pull, then the tax status hook.

Rules kept throughout:
- no database transaction is ever open while waiting on the network (reads are single SELECTs,
  writes short transactions after the answer);
- once aborted (watchdog or stop), a client writes nothing more (`writing` refuses).
"""
from __future__ import annotations

import logging
import sqlite3
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterator

import requests

from pos import db, settings
from pos.tax import status as tax_status
from sync.protocol import CLIENT_BATCH_BYTES, CLIENT_BATCH_ENTRIES, utc_timestamp

from . import bank, bundles, catalogue, pairing, push
from .errors import PairingError, SyncCancelled, SyncError
from .http import DEFAULT_TIMEOUT, ServerHttp
from .lockfile import SyncLock, lock_path
from .state import (KEY_LAST_AT, KEY_LAST_ERROR, KEY_LAST_ERROR_AT, KEY_LAST_ERROR_CODE,
                    KEY_OFFSET, KEY_TOKEN, SyncResult, SyncState, read_state)

logger = logging.getLogger(__name__)


class SyncClient:
    """Pair with the provincial server, push the journal, pull the catalogue: one stall database.

    `clock` gives the device's time (seconds since the epoch): tests move it. `session` replaces
    the HTTP session (then `abort()` can only close it, not cut its sockets)."""

    def __init__(self, db_path: str | Path, *, session: requests.Session | None = None,
                 clock: Callable[[], float] = time.time,
                 timeout: tuple[float, float] = DEFAULT_TIMEOUT,
                 batch_entries: int = CLIENT_BATCH_ENTRIES,
                 batch_bytes: int = CLIENT_BATCH_BYTES):
        self.db_path = Path(db_path)
        self.clock = clock
        self.timeout = timeout
        self.batch_entries = min(batch_entries, CLIENT_BATCH_ENTRIES)
        self.batch_bytes = min(batch_bytes, CLIENT_BATCH_BYTES)
        self.http = ServerHttp(session=session, timeout=timeout, clock=clock)
        self.lock = SyncLock(lock_path(self.db_path))
        self._conn: sqlite3.Connection | None = None

    # life cycle

    @property
    def heartbeat(self) -> Callable[[], None]:
        """Called on every answer (the worker's watchdog)."""
        return self.http.heartbeat

    @heartbeat.setter
    def heartbeat(self, beat: Callable[[], None]) -> None:
        self.http.heartbeat = beat

    @property
    def session(self) -> requests.Session:
        return self.http.session

    def close(self) -> None:
        """Close the database connection and the HTTP session."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        self.http.close()

    def abort(self) -> None:
        """Stop this client from another thread: cut its sockets, write nothing more, and give
        up the sync lock so that a fresh sync can start."""
        self.http.abort()
        self.lock.release()

    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            self._conn = db.connect(self.db_path)
        return self._conn

    def state(self) -> SyncState:
        """The stall's sync state now."""
        return read_state(self.conn)

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), timezone.utc)

    @contextmanager
    def writing(self) -> Iterator[sqlite3.Connection]:
        """A short write transaction, refused once this client has been aborted."""
        self.http.check_cancelled()
        with db.write_transaction(self.conn) as conn:
            offset = self.http.take_offset()
            if offset is not None:   # the clock of every answer, with the next write
                settings.write(conn, KEY_OFFSET, str(offset))
            yield conn

    # pairing

    def pair(self, server_url: str, code: str) -> dict[str, Any]:
        """Exchange a one-time code for this stall's token; adopt the server's device id if the
        journal is still empty. Returns the server's answer without the token."""
        server_url = pairing.normalise_server_url(server_url)
        code = pairing.normalise_code(code)
        if not self.lock.acquire(10.0):
            raise PairingError("A sync is running; try again in a moment", code="busy")
        try:
            return pairing.pair(self, server_url, code)
        finally:
            self.lock.release()

    # one sync

    def sync_once(self, *, progress: Callable[[int, int], None] | None = None,
                  lock_wait: float = 0.5, retry_refused: bool = True) -> SyncResult:
        """Push every entry the server lacks, then pull the catalogue. Raises SyncRetryable
        (unknown outcome: try again later), SyncRefused (pair again); returns the result
        otherwise. With `retry_refused` False, a stall that needs attention does not push."""
        if not self.lock.acquire(lock_wait):
            return SyncResult("busy")
        try:
            return self._sync_locked(progress, retry_refused)
        except SyncCancelled:
            raise
        except SyncError as exc:
            self._record_error(exc)
            raise
        finally:
            self.lock.release()

    def _sync_locked(self, progress: Callable[[int, int], None] | None,
                     retry_refused: bool) -> SyncResult:
        state = self.state()
        if not state.paired:
            return SyncResult("not_paired", acked_seq=state.acked_seq, head_seq=state.head_seq)
        self.http.base_url = state.server_url
        self.http.token = settings.read(self.conn, KEY_TOKEN) or ""
        result = SyncResult("ok", acked_seq=state.acked_seq, head_seq=state.head_seq)
        bundles.register_signing_key(self, state)
        # Bank notifications first: a payment they confirm becomes an entry that goes up now.
        result.bank = bank.pull_bank(self, state)
        if result.bank:
            result.head_seq = self.state().head_seq
        if state.needs_attention is None or retry_refused:
            push.push(self, state, result, progress)
        else:
            result.status, result.needs_attention = "needs_attention", state.needs_attention
        result.catalogue = catalogue.pull_catalogue(self)
        tax_status.after_sync(self.conn, self.http)   # which e-invoices the tax office holds
        with self.writing() as conn:
            settings.write(conn, KEY_LAST_AT, utc_timestamp(self.now()))
            for key in (KEY_LAST_ERROR, KEY_LAST_ERROR_CODE, KEY_LAST_ERROR_AT):
                conn.execute("DELETE FROM settings WHERE key = ?", (key,))
        return result

    def _record_error(self, exc: SyncError) -> None:
        try:
            with self.writing() as conn:
                settings.write(conn, KEY_LAST_ERROR, exc.message[:500])
                settings.write(conn, KEY_LAST_ERROR_CODE, exc.code)
                settings.write(conn, KEY_LAST_ERROR_AT, utc_timestamp(self.now()))
        except (SyncCancelled, sqlite3.Error):
            logger.exception("could not record the sync error")
