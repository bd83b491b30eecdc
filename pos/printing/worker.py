"""The print worker: a daemon thread with its own connection that prints the due jobs oldest first,
retries with back-off, holds stale jobs for the vendor, and records the printer's state."""
from __future__ import annotations

import fcntl
import logging
import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Callable

from .. import db
from ..sync import backoff
from . import wakeup
from .backends import Backend, Rendered
from .config import PrinterConfig
from .messages import OFF, READY, RENDER_FAILED, PrinterError
from .queue import Job
from .status import record_status

logger = logging.getLogger(__name__)

Renderer = Callable[[sqlite3.Connection, Job], Rendered]

MAX_BACKOFF_SECONDS = 60
MAX_RENDER_ATTEMPTS = 5


def backoff_seconds(attempts: int) -> float:
    """2, 4, 8 … seconds after each failure, at most a minute, with a little jitter so that
    retries do not line up (the stall's one back-off, pos/sync/backoff.py)."""
    return backoff.spread(attempts, first=2.0, cap=MAX_BACKOFF_SECONDS, jitter=0.1)


class PrintWorker:
    """Prints queued jobs in a daemon thread, with a database connection of its own.

    It never holds a transaction while it talks to a printer, and only one worker per database
    prints at a time (a lock file next to the database), so a job is never printed twice by two
    processes."""

    def __init__(self, db_path: str | Path, renderer: Renderer, *, poll_seconds: float = 1.0):
        self.db_path = Path(db_path)
        self.renderer = renderer
        self.poll_seconds = poll_seconds
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._round_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._conn: sqlite3.Connection | None = None
        self._lock_fd: int | None = None
        self._last_status: tuple[str, str] | None = None

    # life cycle

    def start(self) -> None:
        """Start the thread (once)."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="print-worker", daemon=True)
        wakeup.register(self)
        self._thread.start()

    def stop(self, timeout: float | None = 5.0) -> None:
        """Stop the thread and wait for it; an attempt in progress ends within its timeout."""
        self._stop.set()
        self._wake.set()
        wakeup.unregister(self)
        if self._thread is not None:
            self._thread.join(timeout)
            if not self._thread.is_alive():
                self._thread = None
        if self._thread is None:
            self.close()

    def wake(self) -> None:
        """Do a round now instead of at the next poll."""
        self._wake.set()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def close(self) -> None:
        """Close the worker's connection and give up the printing lock."""
        with self._round_lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
            if self._lock_fd is not None:
                os.close(self._lock_fd)
                self._lock_fd = None

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception:  # the database busy for too long, a bug in a renderer …
                logger.exception("print worker round failed")
            self._wake.wait(self.poll_seconds)
            self._wake.clear()

    # one round

    def run_once(self, now: float | None = None) -> int:
        """One round: hold stale jobs, then print the due ones oldest first. Returns how many
        printed. `now` lets tests look into the future instead of sleeping through back-off."""
        with self._round_lock:
            conn = self._connection()
            if not self._take_printing_lock():
                logger.debug("another print worker prints from %s", self.db_path)
                return 0
            now = time.time() if now is None else now
            config = PrinterConfig.load(conn)
            self._hold_stale(conn, config, now)
            backend = config.make_backend()
            if backend is None:
                # Jobs stay queued (and become held once old) until a printer is set up.
                if self._last_status != ("off", OFF):
                    with db.write_transaction(conn):
                        record_status(conn, config, "off", OFF, None)
                    self._last_status = ("off", OFF)
                return 0
            printed = 0
            while not self._stop.is_set():
                row = conn.execute(
                    "SELECT * FROM print_jobs WHERE state = 'queued' AND next_attempt_at <= ?"
                    " ORDER BY created_at, id LIMIT 1", (now,)).fetchone()
                if row is None:
                    break
                outcome = self._attempt(conn, config, backend, Job.from_row(row), now)
                if outcome == "printed":
                    printed += 1
                elif outcome == "printer-error":
                    break
            return printed

    def _attempt(self, conn: sqlite3.Connection, config: PrinterConfig, backend: Backend,
                 job: Job, now: float) -> str:
        try:
            page = self.renderer(conn, job)
        except Exception:
            logger.exception("could not render print job %s (%s %s)", job.id, job.kind, job.ref)
            with db.write_transaction(conn):
                self._failed(conn, job, RENDER_FAILED, now,
                             give_up=job.attempts + 1 >= MAX_RENDER_ATTEMPTS)
            return "render-error"
        try:
            backend.send(page)
        except PrinterError as exc:
            logger.info("print job %s not printed: %s", job.id, exc.message)
            with db.write_transaction(conn):
                next_at = self._failed(conn, job, exc.message, now, give_up=False)
                # The printer is the problem, not the job: the other due jobs wait as long.
                conn.execute("UPDATE print_jobs SET next_attempt_at = ? WHERE state = 'queued'"
                             " AND next_attempt_at <= ? AND id != ?", (next_at, now, job.id))
                record_status(conn, config, "error", exc.message, time.time())
            self._last_status = ("error", exc.message)
            return "printer-error"
        done_at = time.time()
        with db.write_transaction(conn):
            conn.execute("UPDATE print_jobs SET state = 'done', last_error = NULL, updated_at = ?"
                         " WHERE id = ? AND state = 'queued'", (done_at, job.id))
            # The printer works again: what waits behind a back-off prints now, in order.
            conn.execute("UPDATE print_jobs SET next_attempt_at = ? WHERE state = 'queued'"
                         " AND next_attempt_at > ?", (now, now))
            record_status(conn, config, "ok", READY, done_at)
        self._last_status = ("ok", READY)
        return "printed"

    @staticmethod
    def _failed(conn: sqlite3.Connection, job: Job, message: str, now: float, *,
                give_up: bool) -> float:
        """Count a failed attempt (inside the caller's transaction); returns the next try's time."""
        attempts = job.attempts + 1
        next_at = now + backoff_seconds(attempts)
        conn.execute(
            "UPDATE print_jobs SET attempts = ?, last_error = ?, next_attempt_at = ?,"
            " updated_at = ?, state = CASE WHEN ? THEN 'failed' ELSE state END"
            " WHERE id = ? AND state = 'queued'",
            (attempts, message, next_at, time.time(), int(give_up), job.id))
        return next_at

    @staticmethod
    def _hold_stale(conn: sqlite3.Connection, config: PrinterConfig, now: float) -> None:
        """Jobs queued for longer than `stale_minutes` wait for the vendor (`release`)."""
        cutoff = now - config.stale_minutes * 60
        # Look first: most rounds have nothing to hold and need not take the write lock.
        if conn.execute("SELECT 1 FROM print_jobs WHERE state = 'queued' AND created_at < ?"
                        " LIMIT 1", (cutoff,)).fetchone() is None:
            return
        with db.write_transaction(conn):
            held = conn.execute(
                "UPDATE print_jobs SET state = 'held', updated_at = ?"
                " WHERE state = 'queued' AND created_at < ?", (now, cutoff)).rowcount
        if held:
            logger.info("%d old print job(s) held for the vendor's confirmation", held)

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            self._conn = db.connect(self.db_path)
        return self._conn

    def _take_printing_lock(self) -> bool:
        """One printing worker per database, across processes (released when the process
        ends)."""
        if self._lock_fd is not None:
            return True
        fd = os.open(f"{self.db_path}.print-lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        self._lock_fd = fd
        return True
