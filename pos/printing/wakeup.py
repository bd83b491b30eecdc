"""The print workers running in this process, woken when a job is queued or changed or the printer
settings are saved, so that a new job prints at once instead of at the next poll."""
from __future__ import annotations

import threading
import weakref
from typing import Protocol


class Wakeable(Protocol):
    def wake(self) -> None: ...


_workers: "weakref.WeakSet[Wakeable]" = weakref.WeakSet()
_workers_lock = threading.Lock()


def register(worker: Wakeable) -> None:
    with _workers_lock:
        _workers.add(worker)


def unregister(worker: Wakeable) -> None:
    with _workers_lock:
        _workers.discard(worker)


def wake_workers() -> None:
    """Wake the workers running in this process: a new or released job prints at once."""
    with _workers_lock:
        workers = list(_workers)
    for worker in workers:
        worker.wake()
