"""The background worker that syncs beside the sales, and its watchdog.

It syncs soon after something is recorded and every `pull_interval` (the catalogue), backs off
after failures (pos/sync/backoff.py, honouring Retry-After), and restarts a sync that shows no
progress for `watchdog_seconds` (its sockets cut, a fresh thread and client taking over).
"""
from __future__ import annotations

import logging
import random
import sqlite3
import threading
import time
from pathlib import Path
from typing import Callable

from pos import db
from pos.stall import DATABASE_NAME

from .backoff import CAP as BACKOFF_CAP
from .backoff import Backoff
from .client import SyncClient
from .errors import SyncCancelled, SyncError, SyncRetryable
from .state import SyncResult, read_state

logger = logging.getLogger(__name__)

PULL_INTERVAL = 300.0
WATCHDOG_SECONDS = 120.0
ATTENTION_RETRY = 3600.0


_workers: dict[Path, "SyncWorker"] = {}
_workers_lock = threading.Lock()


def running_worker(db_path: str | Path) -> "SyncWorker | None":
    """The worker started in this process for that database, if any."""
    with _workers_lock:
        worker = _workers.get(Path(db_path).resolve())
    return worker if worker is not None and worker.running else None


class SyncWorker:
    """Syncs in a daemon thread: soon after something is recorded, and every `pull_interval`
    to pull the catalogue; backs off with full jitter after failures (honouring Retry-After);
    `wake()` for "Sync now". A watchdog thread restarts a sync that shows no progress for
    `watchdog_seconds` (its sockets are cut and a fresh thread and client take over)."""

    def __init__(self, target: str | Path,
                 client_factory: Callable[[], SyncClient] | None = None, *,
                 pull_interval: float = PULL_INTERVAL, poll_seconds: float = 2.0,
                 watchdog_seconds: float = WATCHDOG_SECONDS,
                 attention_retry: float = ATTENTION_RETRY,
                 clock: Callable[[], float] = time.monotonic,
                 rand: Callable[[], float] = random.random, backoff_cap: float = BACKOFF_CAP):
        target = Path(target)
        self.db_path = target / DATABASE_NAME if target.is_dir() else target
        self.client_factory = client_factory or (lambda: SyncClient(self.db_path))
        self.pull_interval = pull_interval
        self.poll_seconds = poll_seconds
        self.watchdog_seconds = watchdog_seconds
        self.attention_retry = attention_retry
        self.clock = clock
        self.backoff = Backoff(cap=backoff_cap, rand=rand)
        self.restarts = 0
        self.syncs = 0
        self.last_result: SyncResult | None = None
        self.last_exception: BaseException | None = None
        self.next_attempt_at = 0.0       # on `clock`: not before (back-off, Retry-After)
        self._pull_at = 0.0
        self._attention_retry_at = 0.0
        self._state_lock = threading.Lock()
        self._wake = threading.Event()
        self._manual = False
        self._stop = threading.Event()
        self._generation = 0
        self._thread: threading.Thread | None = None
        self._watchdog: threading.Thread | None = None
        self._client: SyncClient | None = None
        self._sync_started: float | None = None
        self._progress_at = 0.0
        self._conn: sqlite3.Connection | None = None

    # life cycle

    def start(self) -> None:
        """Start the worker and its watchdog (once)."""
        if self.running:
            return
        self._stop.clear()
        with _workers_lock:
            _workers[self.db_path.resolve()] = self
        self._start_thread()
        self._watchdog = threading.Thread(target=self._watch, name="sync-watchdog", daemon=True)
        self._watchdog.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop now: a sync in progress is aborted (its sockets cut), then the threads joined."""
        self._stop.set()
        self._wake.set()
        with _workers_lock:
            if _workers.get(self.db_path.resolve()) is self:
                del _workers[self.db_path.resolve()]
        with self._state_lock:
            client = self._client
        if client is not None:
            client.abort()
        deadline = time.monotonic() + timeout
        if self._watchdog is not None:   # first: it may still replace the worker thread
            self._watchdog.join(max(deadline - time.monotonic(), 0.0))
        if self._thread is not None:
            self._thread.join(max(deadline - time.monotonic(), 0.0))

    def wake(self) -> None:
        """Sync now ("Sync now" button), even during a back-off, refused entries included."""
        with self._state_lock:
            self._manual = True
        self._wake.set()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive() and not self._stop.is_set()

    @property
    def syncing(self) -> bool:
        return self._sync_started is not None

    def _start_thread(self, generation: int | None = None) -> None:
        if generation is None:
            with self._state_lock:
                self._generation += 1
                generation = self._generation
        thread = threading.Thread(target=self._run, args=(generation,),
                                  name=f"sync-worker-{generation}", daemon=True)
        thread.start()
        self._thread = thread

    # the loop

    def _run(self, generation: int) -> None:
        while not self._stop.is_set() and generation == self._generation:
            try:
                self._round(generation)
            except Exception:
                logger.exception("sync worker round failed")
            self._wake.wait(self.poll_seconds)
            self._wake.clear()
        if self._conn is not None and generation == self._generation:
            self._conn.close()
            self._conn = None

    def _round(self, generation: int) -> None:
        now = self.clock()
        with self._state_lock:
            manual, self._manual = self._manual, False
        if not manual:
            if now < self.next_attempt_at:
                return
            if now < self._pull_at:
                state = read_state(self._connection())
                if not (state.paired and state.pending and state.needs_attention is None):
                    return
        retry_refused = manual or now >= self._attention_retry_at
        self._sync(generation, retry_refused)

    def _sync(self, generation: int, retry_refused: bool) -> None:
        client = self.client_factory()
        client.heartbeat = self._beat
        with self._state_lock:
            # Checked under the lock that stop() and the watchdog take: either they see this
            # client (and can abort it), or this sync sees that it must not start.
            if self._stop.is_set() or generation != self._generation:
                client.close()
                return
            self._client = client
            self._sync_started = self._progress_at = self.clock()
        outcome: SyncResult | BaseException
        try:
            outcome = client.sync_once(retry_refused=retry_refused)
        except SyncCancelled:
            return
        except Exception as exc:  # SyncError, or a bug: either way, back off
            outcome = exc
        finally:
            client.close()
            with self._state_lock:
                if self._client is client:
                    self._client = None
                    self._sync_started = None
        if generation != self._generation:
            return   # the watchdog replaced this thread: its outcome is stale
        now = self.clock()
        self.syncs += 1
        if isinstance(outcome, SyncResult):
            self.last_result, self.last_exception = outcome, None
            if outcome.status == "busy":           # another process syncs: look again soon
                self.next_attempt_at = now + self.poll_seconds
                return
            self.backoff.reset()
            self.next_attempt_at = now
            self._pull_at = now + self.pull_interval
            if outcome.status == "needs_attention" and retry_refused:
                self._attention_retry_at = now + self.attention_retry
            return
        self.last_exception = outcome
        if isinstance(outcome, SyncRetryable):
            delay = self.backoff.failure(outcome.retry_after)
            logger.info("sync failed (%s): next try in %.1f s", outcome.message, delay)
        elif isinstance(outcome, SyncError):
            self.backoff.failure()
            delay = self.backoff.cap
            logger.warning("sync refused (%s): next try in %.0f s", outcome.message, delay)
        else:
            delay = self.backoff.failure()
            logger.error("sync crashed: %r", outcome)
        self.next_attempt_at = now + delay

    def _beat(self) -> None:
        self._progress_at = self.clock()

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            self._conn = db.connect(self.db_path)
        return self._conn

    # the watchdog

    def _watch(self) -> None:
        interval = max(min(self.watchdog_seconds / 4, 5.0), 0.05)
        while not self._stop.wait(interval):
            with self._state_lock:
                client = self._client
                if client is None or self._stop.is_set() or \
                        self.clock() - self._progress_at <= self.watchdog_seconds:
                    continue
                self._client, self._sync_started = None, None
                self._generation += 1           # the stuck thread's outcome is now stale
                generation = self._generation
                self.restarts += 1
            logger.warning("sync made no progress for %.1f s: restarting it",
                           self.watchdog_seconds)
            client.abort()
            self._start_thread(generation)
