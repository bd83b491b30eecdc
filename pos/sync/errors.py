"""What can go wrong in a sync, as exceptions with a stable `code` (for the screen) and a
`message` (for people)."""
from __future__ import annotations


class SyncError(Exception):
    """A sync that did not complete; `code` is stable (for the screen), `message` for people."""

    def __init__(self, message: str, *, code: str = "error"):
        super().__init__(message)
        self.message = message
        self.code = code


class SyncRetryable(SyncError):
    """Unknown outcome (no answer, timeout, 5xx, 429, unreadable answer): send the same again later,
    not before `retry_after` seconds when the server said so."""

    def __init__(self, message: str, *, code: str = "network", retry_after: float | None = None):
        super().__init__(message, code=code)
        self.retry_after = retry_after


class SyncRefused(SyncError):
    """The server refuses the stall itself (revoked token, unknown device): pair again."""


class PairingError(SyncError):
    """Pairing did not succeed (wrong, used or expired code; too many attempts; bad address)."""

    def __init__(self, message: str, *, code: str = "pairing_failed",
                 retry_after: float | None = None):
        super().__init__(message, code=code)
        self.retry_after = retry_after


class SyncCancelled(SyncError):
    """This sync was aborted (watchdog or stop) and must not write anything more."""
