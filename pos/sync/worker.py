"""The background worker that syncs beside the sales, and its watchdog.

It runs what `schedule.Schedule` says is due (docs/SYNC.md, "How often a stall talks to the
province"): coalesced pushes of the journal, a poll of the bank, head and catalogue every
`POLL_INTERVAL` (jittered), and a look at the bank's notifications while a QR code waits. It
looks at the journal every `TICK` seconds, backs off after failures (pos/sync/backoff.py, full
jitter, honouring Retry-After), and restarts a sync that shows no progress for
`watchdog_seconds` (its sockets cut, a fresh thread and client taking over).
"""
from __future__ import annotations

import logging
import math
import random
import sqlite3
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from pos import db
from pos.stall import DATABASE_NAME
from sync.protocol import utc_timestamp

from .backoff import CAP as BACKOFF_CAP
from .backoff import Backoff
from .client import SyncClient
from .errors import SyncCancelled, SyncError, SyncRetryable
from .schedule import POLL_INTERVAL, QR_WATCH_FOR, TICK, URGENT_KINDS, Schedule, Seen
from .state import SyncResult, read_state

logger = logging.getLogger(__name__)

PULL_INTERVAL = POLL_INTERVAL   # the old name
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
    """Syncs in a daemon thread as `schedule` says: pushes coalesced, polls jittered, the bank
    watched while a QR code waits; backs off with full jitter after failures (honouring
    Retry-After); `wake()` for "Sync now" (a full sync at once). A watchdog thread restarts a
    sync that shows no progress for `watchdog_seconds` (its sockets are cut and a fresh thread
    and client take over).

    `clock` (seconds, any origin) drives the schedule and the back-off; `wall_clock` (seconds
    since the epoch) dates the QR codes that are still worth watching. A test may leave the
    thread unstarted and call `step()` on a fake clock instead."""

    def __init__(self, target: str | Path,
                 client_factory: Callable[[], SyncClient] | None = None, *,
                 pull_interval: float = POLL_INTERVAL, poll_seconds: float = TICK,
                 watchdog_seconds: float = WATCHDOG_SECONDS,
                 attention_retry: float = ATTENTION_RETRY,
                 clock: Callable[[], float] = time.monotonic,
                 rand: Callable[[], float] = random.random, backoff_cap: float = BACKOFF_CAP,
                 schedule: Schedule | None = None,
                 wall_clock: Callable[[], float] = time.time):
        target = Path(target)
        self.db_path = target / DATABASE_NAME if target.is_dir() else target
        self.client_factory = client_factory or (lambda: SyncClient(self.db_path))
        self.poll_seconds = poll_seconds
        self.watchdog_seconds = watchdog_seconds
        self.attention_retry = attention_retry
        self.clock = clock
        self.wall_clock = wall_clock
        self.schedule = schedule or Schedule(poll_interval=pull_interval, rand=rand,
                                             start=clock())
        self.pull_interval = self.schedule.poll_interval
        self.backoff = Backoff(cap=backoff_cap, rand=rand)
        self.restarts = 0
        self.syncs = 0
        self.rounds: dict[str, int] = {"poll": 0, "push": 0, "bank": 0, "manual": 0}
        self.last_result: SyncResult | None = None
        self.last_exception: BaseException | None = None
        self.next_attempt_at = -math.inf   # on `clock`: not before (back-off, Retry-After)
        self._attention_retry_at = -math.inf
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
            self._wake.wait(self.next_wait())
            self._wake.clear()
        if self._conn is not None and generation == self._generation:
            self._conn.close()
            self._conn = None

    def next_wait(self) -> float:
        """How long the loop sleeps now: until the next tick (a look at the journal), or less
        when something falls due before it (a test on a fake clock advances it by this)."""
        now = self.clock()
        due = max(self.schedule.next_deadline(now), self.next_attempt_at)
        return min(self.poll_seconds, max(due - now, 0.01))

    def step(self) -> str | None:
        """One look and whatever round is due, in the caller's thread (tests, on a fake
        clock); returns the kind of round run, if any."""
        return self._round(self._generation)

    def _round(self, generation: int) -> str | None:
        now = self.clock()
        with self._state_lock:
            manual, self._manual = self._manual, False
        if manual:
            self._sync(generation, "manual", True)
            return "manual"
        seen = self._look(now)
        if seen is None:
            return None
        self.schedule.observe(now, seen)
        if now < self.next_attempt_at:
            return None
        kind = self.schedule.due(now)
        if kind is not None:
            self._sync(generation, kind, now >= self._attention_retry_at)
        return kind

    def _look(self, now: float) -> Seen | None:
        """What the schedule needs to know of the stall's database (a few local SELECTs);
        None when the stall is not paired (nothing to do)."""
        conn = self._connection()
        state = read_state(conn)
        if not state.paired:
            return None
        after = max(state.acked_seq, self.schedule.seen_head or 0)
        urgent = state.pending > 0 and conn.execute(
            f"SELECT 1 FROM journal WHERE seq > ? AND kind IN"
            f" ({','.join('?' * len(URGENT_KINDS))}) LIMIT 1",
            (after, *sorted(URGENT_KINDS))).fetchone() is not None
        since = utc_timestamp(datetime.fromtimestamp(self.wall_clock() - QR_WATCH_FOR,
                                                     timezone.utc))
        qr_waiting = conn.execute(
            "SELECT 1 FROM qr_pending WHERE state = 'pending' AND created_at >= ? LIMIT 1",
            (since,)).fetchone() is not None
        blocked = state.needs_attention is not None and now < self._attention_retry_at
        return Seen(state.head_seq, state.pending, urgent=urgent, qr_waiting=qr_waiting,
                    blocked=blocked)

    def _sync(self, generation: int, kind: str, retry_refused: bool) -> None:
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
        started = self.clock()
        push_due = self.schedule.push_due(started)
        outcome: SyncResult | BaseException
        try:
            if kind == "push":
                outcome = client.push_once()
            elif kind == "bank":
                outcome = client.check_bank()
            elif kind == "poll":
                outcome = client.sync_once(retry_refused=retry_refused, push_journal=push_due,
                                           check_head=not self.schedule.pushed_since_poll)
            else:
                outcome = client.sync_once(retry_refused=True)
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
        self.rounds[kind] += 1
        if isinstance(outcome, SyncResult):
            self.last_result, self.last_exception = outcome, None
            if outcome.status == "busy":           # another process syncs: look again soon
                self.next_attempt_at = now + self.poll_seconds
                return
            self.backoff.reset()
            self.next_attempt_at = now
            pushed = outcome.batches > 0 or kind == "push" or (kind == "manual")
            self.schedule.done("poll" if kind == "manual" else kind, started, pushed=pushed,
                               pending=outcome.pending)
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
