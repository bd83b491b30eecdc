"""`SyncSession`: what the parts of one sync share, one stall database at a time: the database
connection, the HTTP client, the sync lock, the device clock and the push batch caps. The parts
(`pairing`, `push`, `bank`, `catalogue`, `bundles`) take a session; `client.SyncClient` is a
session that runs them in order. This module imports none of them, so the graph stays one-way.

Rules kept throughout:
- no database transaction is ever open while waiting on the network (reads are single SELECTs,
  writes short transactions after the answer);
- once aborted (watchdog or stop), a session writes nothing more (`writing` refuses).
"""
from __future__ import annotations

import sqlite3
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterator

import requests

from pos import db, settings
from sync.protocol import CLIENT_BATCH_BYTES, CLIENT_BATCH_ENTRIES

from .http import DEFAULT_TIMEOUT, ServerHttp
from .lockfile import SyncLock, lock_path
from .state import KEY_OFFSET, SyncState, read_state


class SyncSession:
    """The shared resources of syncing one stall database.

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
        """Stop this session from another thread: cut its sockets, write nothing more, and give
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
        """A short write transaction, refused once this session has been aborted."""
        self.http.check_cancelled()
        with db.write_transaction(self.conn) as conn:
            offset = self.http.take_offset()
            if offset is not None:   # the clock of every answer, with the next write
                settings.write(conn, KEY_OFFSET, str(offset))
            yield conn
