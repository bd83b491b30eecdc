"""Counting wrong secrets with lock-outs that grow: the one rule of the stall's PIN pad and the
provincial server's log-in.

A streak of failures is kept in the database beside what it guards and is changed in the same
transaction as the secret's check, so parallel guesses cannot slip past the count. After
`max_failures` wrong answers the guard locks; each further lock-out of the same streak lasts
longer (`lock_seconds`, the last value repeating). Nothing but time or the guarded secret itself
forgives a streak: it is forgotten `forget_after` seconds after its last failure, and the caller
clears it when the secret being guessed is given (another secret's success, such as the helper's
own PIN, leaves it alone, or a helper could clear the count between guesses at the owner's PIN).
Pure logic: no Flask, no database.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Streak:
    """Failures since the guard was last forgiven; times are seconds since the epoch."""

    failures: int = 0          # wrong answers since the last lock-out
    lockouts: int = 0          # lock-outs in this streak: the next one lasts longer
    locked_until: float = 0.0
    last_failure: float = 0.0


@dataclass(frozen=True)
class Policy:
    """How many wrong answers lock the guard, for how long, and when a streak is forgotten."""

    max_failures: int
    lock_seconds: tuple[int, ...]
    forget_after: float = 24 * 3600.0

    def seconds_locked(self, streak: Streak, now: float) -> int:
        """Whole seconds until the guard opens again (0 if it is open)."""
        return max(0, math.ceil(streak.locked_until - now))

    def current(self, streak: Streak, now: float) -> Streak:
        """The streak as it stands at `now`: forgotten once it has been quiet long enough."""
        if streak.locked_until <= now and now - streak.last_failure >= self.forget_after:
            return Streak()
        return streak

    def fail(self, streak: Streak, now: float) -> Streak:
        """Count one wrong answer; the one that reaches `max_failures` locks the guard."""
        failures = streak.failures + 1
        if failures < self.max_failures:
            return replace(streak, failures=failures, last_failure=now)
        lock = self.lock_seconds[min(streak.lockouts, len(self.lock_seconds) - 1)]
        return Streak(failures=0, lockouts=streak.lockouts + 1, locked_until=now + lock,
                      last_failure=now)

    def tries_left(self, streak: Streak) -> int:
        """Wrong answers still allowed before the next lock-out."""
        return self.max_failures - streak.failures
