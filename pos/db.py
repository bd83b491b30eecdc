"""The stall's SQLite database: connections with the durability pragmas, the pool the web app
takes them from, and `get_db` for the request's connection (migrations: pos/migrations/).

Every write that must be all-or-nothing goes through `write_transaction`, which takes the write lock
up front (BEGIN IMMEDIATE) so that concurrent sales queue on the busy timeout instead of failing.
"""
from __future__ import annotations

import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from flask import current_app, g


BUSY_TIMEOUT_MS = 10_000


def connect(path: str | Path) -> sqlite3.Connection:
    """Open the database with WAL, synchronous=FULL, foreign keys and a busy timeout."""
    conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None,
                           check_same_thread=False)
    conn.row_factory = sqlite3.Row
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


class ConnectionPool:
    """Open connections to one database, handed out most recently used first.

    Opening a connection per request re-reads the schema and makes SQLite sync the directory at
    its first commit (a second fsync per sale). Keeping one per server thread avoided that, but
    waitress wakes its threads in turn, so each request met a connection whose page cache the
    other threads' writes had made stale: SQLite keeps a connection's cache only while no other
    connection writes. Handed out last-in first-out, the connection of the previous request serves
    the next, with its cache warm; more are opened only while requests overlap.
    """

    def __init__(self, path: str | Path):
        self.path = path
        self.idle: list[sqlite3.Connection] = []   # most recently returned last
        self._lock = threading.Lock()

    def take(self) -> sqlite3.Connection:
        """A connection for this request alone, until `give_back`."""
        with self._lock:
            if self.idle:
                return self.idle.pop()
        return connect(self.path)

    def give_back(self, conn: sqlite3.Connection) -> None:
        """Return a connection with no transaction left open (rolled back here if one is); one
        that cannot roll back is closed instead of handed out again."""
        try:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
        except sqlite3.Error:
            conn.close()
            raise
        with self._lock:
            self.idle.append(conn)


@contextmanager
def write_transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """Run a block as one IMMEDIATE transaction: all of it is committed, or none of it."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    else:
        conn.execute("COMMIT")


def get_db() -> sqlite3.Connection:
    """The request's connection to the stall's database, from the app's pool (`ConnectionPool`:
    kept open, the last one used first) and back to it when the request ends (`close_db`)."""
    if "db" not in g:
        g.db = current_app.extensions["market_pos_connections"].take()
    return g.db


def close_db(_exc: BaseException | None) -> None:
    """Give the request's connection back; a request never leaves a transaction open for the
    next one (give_back rolls it back)."""
    conn = g.pop("db", None)
    if conn is not None:
        current_app.extensions["market_pos_connections"].give_back(conn)
