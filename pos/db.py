"""The stall's SQLite database: connections with the durability pragmas, and the runner of the
schema migrations (one file each in pos/migrations/).

Every write that must be all-or-nothing goes through `write_transaction`, which takes the write lock
up front (BEGIN IMMEDIATE) so that concurrent sales queue on the busy timeout instead of failing.
"""
from __future__ import annotations

import shutil
import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import sqlite_utils
from sqlite_utils.migrations import Migrations

BUSY_TIMEOUT_MS = 10_000
migrations = Migrations("market-pos")


class MigrationError(RuntimeError):
    """A schema migration that cannot run on this machine now; the message says what to do."""


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


def migrate(path: str | Path, *, stop_before: str | None = None) -> None:
    """Apply every pending migration (or those before `stop_before`, for tests of old versions)."""
    conn = connect(path)
    try:
        migrations.apply(sqlite_utils.Database(conn), stop_before=stop_before)
    finally:
        conn.close()


def migration_names() -> list[str]:
    """Names of all migrations, oldest first."""
    return [m.name for m in migrations._migrations]


def require_room_to_rewrite(conn: sqlite3.Connection) -> None:
    """Refuse, with a message a person can act on, a rewrite of the database's big tables when
    the disk cannot hold it: the rewrite goes through the write-ahead log and then into the file,
    so it may need about twice the database's size until the log is checkpointed. Refused, the
    migration has changed nothing and runs at the next start."""
    path = Path(conn.execute("PRAGMA database_list").fetchone()[2] or ".")
    size = conn.execute("SELECT page_count * page_size FROM pragma_page_count(),"
                        " pragma_page_size()").fetchone()[0]
    needed = 2 * size + 2**20
    free = shutil.disk_usage(path.parent).free
    if free < needed:
        raise MigrationError(
            f"Not enough free disk space to upgrade the stall's database ({path}): the upgrade"
            f" needs about {needed // 2**20} MB free and {free // 2**20} MB are. Nothing was"
            " changed. Free some space (or move old backups away), then start again. / Không"
            " đủ chỗ trống để nâng cấp dữ liệu của sạp; chưa có gì thay đổi. Hãy dọn bớt rồi"
            " mở lại.")


# The migrations, one file each in pos/migrations/, in order. Imported last: they use
# write_transaction and require_room_to_rewrite above.
from .migrations import register_all  # noqa: E402

register_all(migrations)
