"""A small in-memory sliding-window rate limit (per process), for pairing attempts.

Pairing codes are short enough to be guessed by brute force; counting attempts per client address
makes that hopeless. One process is enough for a provincial server served by waitress threads;
several processes would each keep their own count (a stricter limit would need the database).
"""
from __future__ import annotations

import math
import threading
import time
from collections import deque
from typing import Callable


class RateLimiter:
    """At most `limit` hits per `window` seconds per key."""

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
