"""One sync at a time per stall, across processes and threads: a `flock` in the data directory."""
from __future__ import annotations

import errno
import fcntl
import os
import threading
import time
from pathlib import Path

LOCK_NAME = "sync.lock"


class SyncLock:
    """An exclusive `flock` on the data directory's lock file: one sync per stall, whichever
    process or thread runs it. `release` may be called from another thread (the watchdog)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._fd: int | None = None
        self._guard = threading.Lock()

    def acquire(self, wait: float = 0.0) -> bool:
        """Take the lock, trying for up to `wait` seconds; False if another sync holds it."""
        deadline = time.monotonic() + wait
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK) \
                        or time.monotonic() >= deadline:
                    os.close(fd)
                    return False
                time.sleep(0.05)
                continue
            with self._guard:
                self._fd = fd
            return True

    def release(self) -> None:
        """Give the lock back (idempotent)."""
        with self._guard:
            fd, self._fd = self._fd, None
        if fd is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_UN)
            finally:
                os.close(fd)

    @property
    def held(self) -> bool:
        return self._fd is not None


def lock_path(db_path: str | Path) -> Path:
    """The lock file beside the stall's database, in its data directory."""
    return Path(db_path).parent / LOCK_NAME
