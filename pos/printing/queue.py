"""The print queue: the `print_jobs` table, a job per page to print. Queuing is a tiny transaction
of its own after the sale's commit; the vendor releases, retries or cancels jobs from the screen."""
from __future__ import annotations

import logging
import sqlite3
import time
from dataclasses import dataclass
from typing import Any, Iterable

from flask_babel import lazy_gettext as _l

from .. import db, settings
from sync.errors import Conflict, InvalidInput, NotFound
from .config import KEY_AUTO_PRINT, KINDS, PrinterConfig, switched_on
from .wakeup import wake_workers

logger = logging.getLogger(__name__)

@dataclass(frozen=True)
class Job:
    """One row of `print_jobs`."""

    id: int
    kind: str
    ref: str
    copy: bool
    state: str
    attempts: int
    last_error: str | None
    created_at: float
    next_attempt_at: float
    updated_at: float

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Job:
        return cls(id=row["id"], kind=row["kind"], ref=row["ref"], copy=bool(row["copy"]),
                   state=row["state"], attempts=row["attempts"], last_error=row["last_error"],
                   created_at=row["created_at"], next_attempt_at=row["next_attempt_at"],
                   updated_at=row["updated_at"])


def enqueue(conn: sqlite3.Connection, kind: str, ref: str = "", *, copy: bool = False) -> int:
    """Queue a page to print and return the job's id. Call it after the sale's commit: it is its
    own tiny transaction, and a local worker is woken to print at once."""
    if kind not in KINDS:
        raise InvalidInput(_l("Unknown kind of print job: %(kind)s", kind=kind), field="kind")
    now = time.time()
    with db.write_transaction(conn):
        cursor = conn.execute(
            "INSERT INTO print_jobs (kind, ref, copy, created_at, next_attempt_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?)", (kind, str(ref), int(bool(copy)), now, now, now))
    wake_workers()
    return int(cursor.lastrowid or 0)


def enqueue_receipt_if_auto(conn: sqlite3.Connection, sale_id: str) -> int | None:
    """After a committed sale: queue its receipt when auto-print is on. Never raises, because a
    printing problem must not turn a recorded sale into an error page."""
    try:
        switch = settings.read(conn, KEY_AUTO_PRINT)
        if switch is None or not switched_on(switch):
            return None   # off, as by default: one look-up, not the whole configuration
        config = PrinterConfig.load(conn)
        if not config.auto_print or config.backend == "none":
            return None
        return enqueue(conn, "receipt", sale_id)
    except Exception:
        logger.exception("could not queue the receipt of sale %s", sale_id)
        return None


def get_job(conn: sqlite3.Connection, job_id: int) -> Job | None:
    row = conn.execute("SELECT * FROM print_jobs WHERE id = ?", (job_id,)).fetchone()
    return Job.from_row(row) if row else None


def list_jobs(conn: sqlite3.Connection, limit: int = 20, *,
              states: Iterable[str] | None = None) -> list[Job]:
    """The newest jobs first (optionally only some states), for the printer screen."""
    sql, params = "SELECT * FROM print_jobs", []
    if states is not None:
        wanted = list(states)
        sql += f" WHERE state IN ({', '.join('?' * len(wanted))})" if wanted else " WHERE 0"
        params.extend(wanted)
    sql += " ORDER BY id DESC LIMIT ?"
    params.append(int(limit))
    return [Job.from_row(row) for row in conn.execute(sql, params)]


def _change(conn: sqlite3.Connection, job_id: int, allowed: tuple[str, ...], sql: str,
            params: tuple[Any, ...]) -> Job:
    with db.write_transaction(conn):
        job = get_job(conn, job_id)
        if job is None:
            raise NotFound(_l("No such print job."))
        if job.state not in allowed:
            raise Conflict(_l("This print job can no longer be changed."))
        conn.execute(sql, (*params, job_id))
    wake_workers()
    changed = get_job(conn, job_id)
    assert changed is not None
    return changed


_REQUEUE = ("UPDATE print_jobs SET state = 'queued', attempts = 0, created_at = ?,"
            " next_attempt_at = ?, updated_at = ? WHERE id = ?")


def release(conn: sqlite3.Connection, job_id: int) -> Job:
    """The vendor confirms a held (old) job: it is queued again and prints now. Its age counts
    from now, so that it is not held again at once."""
    now = time.time()
    return _change(conn, job_id, ("held",), _REQUEUE, (now, now, now))


def retry(conn: sqlite3.Connection, job_id: int) -> Job:
    """Print a failed or held job again now (a queued one waiting for its back-off: now)."""
    now = time.time()
    return _change(conn, job_id, ("failed", "held", "queued"), _REQUEUE, (now, now, now))


def cancel(conn: sqlite3.Connection, job_id: int) -> Job:
    """Drop a job that has not printed."""
    return _change(conn, job_id, ("queued", "held", "failed"),
                   "UPDATE print_jobs SET state = 'cancelled', updated_at = ? WHERE id = ?",
                   (time.time(),))
