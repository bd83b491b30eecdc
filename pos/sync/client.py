"""`SyncClient`: one stall database, one sync at a time. The orchestrator, on top of the package:
it is a `SyncSession` (what the parts share: the database connection, the HTTP client, the sync
lock, the device clock) and runs the parts in order: bundle key, bank notifications, journal
push, catalogue pull, then the e-invoice status refresh. The parts take the session and never
import this module.

Rules kept throughout (see `session`): no database transaction open while waiting on the
network; once aborted, a client writes nothing more.
"""
from __future__ import annotations

import logging
import sqlite3
from typing import Any, Callable

from pos import settings
from sync.protocol import utc_timestamp

from . import bank, bundles, catalogue, einvoice_status, pairing, push
from .errors import PairingError, SyncCancelled, SyncError
from .session import SyncSession
from .state import (KEY_LAST_AT, KEY_LAST_ERROR, KEY_LAST_ERROR_AT, KEY_LAST_ERROR_CODE,
                    KEY_TOKEN, SyncResult)

logger = logging.getLogger(__name__)


class SyncClient(SyncSession):
    """Pair with the provincial server, push the journal, pull the catalogue: one stall database.
    The shared resources (connection, HTTP client, lock, clock, `writing`) are `SyncSession`'s;
    this class runs the parts in order.

    `clock` gives the device's time (seconds since the epoch): tests move it. `session` replaces
    the HTTP session (then `abort()` can only close it, not cut its sockets)."""

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
        einvoice_status.after_sync(self.conn, self.http)   # which e-invoices the tax office holds
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
