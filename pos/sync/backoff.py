"""The stall's one back-off: after the n-th failure in a row, up to first·2ⁿ⁻¹ seconds, at most
`cap`. The sync worker draws a delay in [0, that] (full jitter, never less than the server's
Retry-After: `Backoff`); the print worker waits that much and a little more (`spread`).

Full jitter (Marc Brooker, "Exponential Backoff And Jitter", AWS Architecture Blog, 2015): of
the schemes compared there, drawing the whole wait uniformly in [0, ceiling] did the least
total work and spread the clients best, which is what a province whose stalls all lost the
server at the same moment needs when it comes back. A server's Retry-After is a floor, and
the wait is drawn in [Retry-After, Retry-After · (1 + RETRY_AFTER_SPREAD)]: stalls told the
same number at the same moment must not all come back in the same second."""
from __future__ import annotations

import random
from typing import Callable

FIRST = 1.0
CAP = 300.0
RETRY_AFTER_SPREAD = 0.5


def ceiling(failures: int, first: float = FIRST, cap: float = CAP) -> float:
    """The longest wait after `failures` failures in a row (0 before any)."""
    return min(cap, first * 2 ** max(failures - 1, 0)) if failures > 0 else 0.0


def spread(failures: int, first: float = FIRST, cap: float = CAP, jitter: float = 0.1,
           rand: Callable[[], float] = random.random) -> float:
    """`ceiling` and up to `jitter` of it more, so that retries of many jobs do not line up."""
    return ceiling(failures, first, cap) * (1.0 + jitter * rand())


class Backoff:
    """Exponential back-off with full jitter: after the n-th failure in a row wait a random time
    in [0, ceiling(n)], but never less than the server's Retry-After."""

    def __init__(self, first: float = FIRST, cap: float = CAP,
                 rand: Callable[[], float] = random.random):
        self.first, self.cap, self.rand = first, cap, rand
        self.failures = 0

    def ceiling(self, failures: int | None = None) -> float:
        return ceiling(self.failures if failures is None else failures, self.first, self.cap)

    def failure(self, retry_after: float | None = None) -> float:
        """Count one more failure; the delay before the next attempt: full jitter, and never
        less than the server's Retry-After (spread above it)."""
        self.failures += 1
        delay = self.rand() * self.ceiling()
        if retry_after:
            delay = max(delay, retry_after * (1.0 + RETRY_AFTER_SPREAD * self.rand()))
        return delay

    def reset(self) -> None:
        self.failures = 0
