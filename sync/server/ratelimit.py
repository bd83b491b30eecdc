"""Rate limits: pairing attempts and receipt checks per client address, typed check codes per
device tag.

Pairing codes and short check codes are short enough to be guessed by brute force; counting
attempts makes that hopeless. The server counts in its database (`DatabaseRateLimiter`), so that
every process behind the balancer sees the same count: N processes counting in their own memory
would let N times the limit through. `RateLimiter` is the in-memory sliding window the server
used while it ran as one process, kept for programs that are one process.

The database limiter keeps one row per scope and key: when its window began and how many hits it
has seen (`rate_limits`, Alembic 0015). One hit is one statement, an atomic upsert:

    INSERT INTO rate_limits (scope, key, window_start, hits) VALUES (:scope, :key, :now, 1)
    ON CONFLICT (scope, key) DO UPDATE SET
        window_start = CASE WHEN window_start <= :now - :window THEN :now ELSE window_start END,
        hits = CASE WHEN window_start <= :now - :window THEN 1
                    WHEN hits > :limit THEN hits ELSE hits + 1 END
    RETURNING window_start, hits

PostgreSQL locks the row for the upsert and SQLite takes its write lock, so hits from any number
of processes are counted one after the other: the (limit + 1)-th hit of a window is refused
whichever process takes it. A window begins at a key's first hit after the last window ended
(a fixed window anchored on that hit, not a sliding one: right at a window's end a key may get
up to twice the limit in a short time, but never more than the limit per window on average).
Refused hits count too (up to limit + 1), so hammering does not help. Windows that ended are
deleted now and then by the process that notices them.
"""
from __future__ import annotations

import hashlib
import math
import threading
import time
from collections import deque
from typing import Any, Callable

from sqlalchemy import Engine, case, delete

from .db import rate_limits, write_transaction

MAX_KEY = 64   # the column's width; a longer key is kept as its SHA-256


class RateLimiter:
    """At most `limit` hits per `window` seconds per key, in this process's memory."""

    def __init__(self, limit: int, window: float, clock: Callable[[], float] = time.monotonic):
        self.limit = limit
        self.window = window
        self._clock = clock
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str) -> int | None:
        """Count one hit; None if allowed, else the whole seconds to wait (for Retry-After)."""
        now = self._clock()
        with self._lock:
            if len(self._hits) > 10_000:
                self._forget_idle(now)
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                return max(1, math.ceil(hits[0] + self.window - now))
            hits.append(now)
            return None

    def _forget_idle(self, now: float) -> None:
        for key in [k for k, hits in self._hits.items() if not hits or
                    hits[-1] <= now - self.window]:
            del self._hits[key]


Setting = int | float | Callable[[], Any]


class DatabaseRateLimiter:
    """At most `limit` hits per `window` seconds per key of `scope`, counted in the database
    and so across every process of the server (the module docstring says how).

    `limit` and `window` may be numbers or callables read at each hit (the app's config, so a
    setting changed after start applies); assigning a number to either overrides it.
    """

    def __init__(self, engine: Engine, scope: str, limit: Setting, window: Setting,
                 clock: Callable[[], float] = time.time):
        if len(scope) > 16:
            raise ValueError("a rate limit's scope has at most 16 characters")
        self.engine = engine
        self.scope = scope
        self._limit = limit
        self._window = window
        self._clock = clock
        self._next_sweep = 0.0

    @property
    def limit(self) -> int:
        return int(self._limit() if callable(self._limit) else self._limit)

    @limit.setter
    def limit(self, value: int) -> None:
        self._limit = value

    @property
    def window(self) -> float:
        return float(self._window() if callable(self._window) else self._window)

    @window.setter
    def window(self, value: float) -> None:
        self._window = value

    def hit(self, key: str) -> int | None:
        """Count one hit; None if allowed, else the whole seconds to wait (for Retry-After)."""
        limit, window_ms = self.limit, max(1, round(self.window * 1000))
        now_s = self._clock()
        now = int(now_s * 1000)
        t = rate_limits
        ended = t.c.window_start <= now - window_ms
        with write_transaction(self.engine) as conn:
            upsert = _insert(conn)(t).values(scope=self.scope, key=_key(key), window_start=now,
                                             hits=1)
            upsert = upsert.on_conflict_do_update(
                index_elements=[t.c.scope, t.c.key],
                set_={"window_start": case((ended, now), else_=t.c.window_start),
                      "hits": case((ended, 1), (t.c.hits > limit, t.c.hits),
                                   else_=t.c.hits + 1)})
            started, hits = conn.execute(upsert.returning(t.c.window_start, t.c.hits)).one()
            if now_s >= self._next_sweep:
                self._next_sweep = now_s + window_ms / 1000
                conn.execute(delete(t).where(t.c.scope == self.scope,
                                             t.c.window_start <= now - window_ms))
        if hits <= limit:
            return None
        return max(1, math.ceil((started + window_ms - now) / 1000))


def _insert(conn: Any) -> Any:
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


def _key(key: str) -> str:
    return key if len(key) <= MAX_KEY else hashlib.sha256(key.encode()).hexdigest()
