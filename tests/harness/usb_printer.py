"""A stand-in for a USB receipt printer: a pseudo-terminal. Its slave end (/dev/pts/N) is a
character device like /dev/usb/lp0, so the stall's device checks accept it; what is written to it
is read back from the master end, byte for byte (the terminal is switched to raw mode)."""
from __future__ import annotations

import os
import select
import threading
import tty


class PtyPrinter:
    """`path` is the device to print to; `received()` is what reached the printer so far.

    With `reading=False` nobody reads the master end, like a printer with its lid open: a long
    write fills the terminal's buffer and blocks."""

    def __init__(self, *, reading: bool = True):
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)  # no newline translation: ESC/POS bytes pass unchanged
        self.path = os.ttyname(self._slave)
        self._data = bytearray()
        self._arrived = threading.Condition()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if reading:
            self._thread = threading.Thread(target=self._drain, daemon=True)
            self._thread.start()

    def _drain(self) -> None:
        while not self._stop.is_set():
            readable, _, _ = select.select([self._master], [], [], 0.05)
            if readable:
                self._read_available()

    def _read_available(self) -> None:
        try:
            chunk = os.read(self._master, 65536)
        except OSError:  # EIO: no slave end open at this moment
            return
        with self._arrived:
            self._data += chunk
            self._arrived.notify_all()

    def received(self) -> bytes:
        """Everything written so far (what is still in the terminal's buffer included)."""
        if self._thread is None:
            while select.select([self._master], [], [], 0)[0]:
                self._read_available()
        with self._arrived:
            return bytes(self._data)

    def wait_for(self, size: int, timeout: float = 5.0) -> bytes:
        """What was received, once at least `size` bytes arrived or the timeout passed."""
        assert self._thread is not None, "wait_for needs a printer that reads"
        with self._arrived:
            self._arrived.wait_for(lambda: len(self._data) >= size, timeout)
            return bytes(self._data)

    def close(self) -> None:
        """Unplug the printer: the device path disappears."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        for fd in (self._slave, self._master):
            try:
                os.close(fd)
            except OSError:
                pass

    def __enter__(self) -> PtyPrinter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
