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
                    KEY_TOKEN, SyncResult, SyncState)

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
                  lock_wait: float = 0.5, retry_refused: bool = True, push_journal: bool = True,
                  check_head: bool = True) -> SyncResult:
        """Push every entry the server lacks, then pull the catalogue. Raises SyncRetryable
        (unknown outcome: try again later), SyncRefused (pair again); returns the result
        otherwise. With `retry_refused` False, a stall that needs attention does not push.

        The worker's poll (pos/sync/schedule.py) passes `push_journal` False when no push is due
        yet (the entries wait for theirs), and `check_head` False when a push answered since
        the last poll (its answer said how far the server holds the journal)."""
        return self._locked(lock_wait, lambda: self._sync_locked(
            progress, retry_refused, push_journal, check_head))

    def push_once(self, *, lock_wait: float = 0.5) -> SyncResult:
        """The worker's push round: the journal after the server's cursor, and nothing else
        (no bank notifications, no catalogue). Errors as `sync_once`."""
        return self._locked(lock_wait, self._push_locked)

    def check_bank(self, *, lock_wait: float = 0.5) -> SyncResult:
        """The worker's look at the bank's notifications while a QR code waits for the buyer's
        transfer (one GET); a payment they confirm becomes entries that the next push sends."""
        return self._locked(lock_wait, self._bank_locked)

    def _locked(self, lock_wait: float, run: Callable[[], SyncResult]) -> SyncResult:
        if not self.lock.acquire(lock_wait):
            return SyncResult("busy")
        try:
            return run()
        except SyncCancelled:
            raise
        except SyncError as exc:
            self._record_error(exc)
            raise
        finally:
            self.lock.release()

    def _begin(self) -> tuple[SyncState, SyncResult | None]:
        """The state, and the stall's server and token on the HTTP client; a result already
        when the stall is not paired."""
        state = self.state()
        if not state.paired:
            return state, SyncResult("not_paired", acked_seq=state.acked_seq,
                                     head_seq=state.head_seq)
        self.http.base_url = state.server_url
        self.http.token = settings.read(self.conn, KEY_TOKEN) or ""
        return state, None

    def _sync_locked(self, progress: Callable[[int, int], None] | None,
                     retry_refused: bool, push_journal: bool = True,
                     check_head: bool = True) -> SyncResult:
        state, early = self._begin()
        if early is not None:
            return early
        result = SyncResult("ok", acked_seq=state.acked_seq, head_seq=state.head_seq)
        bundles.register_signing_key(self, state)
        # Bank notifications first: a payment they confirm becomes an entry that goes up now.
        result.bank = bank.pull_bank(self, state)
        if result.bank:
            result.head_seq = self.state().head_seq
        if state.needs_attention is not None and not retry_refused:
            result.status, result.needs_attention = "needs_attention", state.needs_attention
        elif push_journal or result.bank:
            push.push(self, state, result, progress, ask_head=check_head)
        elif check_head and state.pending == 0:
            push.push(self, state, result, progress)
        result.catalogue = catalogue.pull_catalogue(self)
        einvoice_status.after_sync(self.conn, self.http)   # which e-invoices the tax office holds
        self._done()
        return result

    def _push_locked(self) -> SyncResult:
        state, early = self._begin()
        if early is not None:
            return early
        result = SyncResult("ok", acked_seq=state.acked_seq, head_seq=state.head_seq)
        if state.pending:
            push.push(self, state, result, None, ask_head=False)
            self._done()
        return result

    def _bank_locked(self) -> SyncResult:
        state, early = self._begin()
        if early is not None:
            return early
        result = SyncResult("ok", acked_seq=state.acked_seq, head_seq=state.head_seq)
        result.bank = bank.pull_bank(self, state)
        result.head_seq = self.state().head_seq if result.bank else state.head_seq
        return result

    def _done(self) -> None:
        """A sync or a push went through: the time, and no error to show."""
        with self.writing() as conn:
            settings.write(conn, KEY_LAST_AT, utc_timestamp(self.now()))
            for key in (KEY_LAST_ERROR, KEY_LAST_ERROR_CODE, KEY_LAST_ERROR_AT):
                conn.execute("DELETE FROM settings WHERE key = ?", (key,))

    def _record_error(self, exc: SyncError) -> None:
        try:
            with self.writing() as conn:
                settings.write(conn, KEY_LAST_ERROR, exc.message[:500])
                settings.write(conn, KEY_LAST_ERROR_CODE, exc.code)
                settings.write(conn, KEY_LAST_ERROR_AT, utc_timestamp(self.now()))
        except (SyncCancelled, sqlite3.Error):
            logger.exception("could not record the sync error")
