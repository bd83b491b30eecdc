"""ESC/POS printers: the page as a raster image (so that Vietnamese needs no printer code page),
sent to a network printer on a raw TCP port or to a USB printer's character device."""
from __future__ import annotations

import errno
import fcntl
import logging
import os
import select
import socket
import stat
import struct
import time
from pathlib import Path

from PIL import Image

from .backends import Rendered
from .messages import (
    NO_ANSWER, NOT_A_PRINTER, NOT_CONNECTED, PAPER_OUT, PrinterError, command_failed,
)

logger = logging.getLogger(__name__)

def fit_raster(image: Image.Image, dots: int) -> Image.Image:
    """The page as a 1-bit image exactly `dots` wide: a wider one is scaled down, a narrower one
    centred, so that a receipt always fills the paper the way it was drawn."""
    if image.width > dots:
        height = max(1, round(image.height * dots / image.width))
        image = image.convert("L").resize((dots, height), Image.Resampling.LANCZOS)
    if image.mode != "1":
        image = image.convert("1")
    if image.width < dots:
        canvas = Image.new("1", (dots, image.height), 1)
        canvas.paste(image, ((dots - image.width) // 2, 0))
        image = canvas
    return image


ESC_INIT = b"\x1b@"
ESC_FEED = b"\x1bd\x04"         # print and feed 4 lines, so that the cut clears the last line
GS_PARTIAL_CUT = b"\x1dVB\x00"  # GS V 66 0: feed to the cutter and cut, leaving a hinge
DLE_EOT_PAPER = b"\x10\x04\x04"  # real-time status: roll paper sensor
RASTER_BAND_ROWS = 255
_INVERT = bytes(255 - b for b in range(256))


def escpos_raster(image: Image.Image) -> bytes:
    """The page as ESC/POS: initialise, the image in `GS v 0` bands of at most 255 rows (black
    dots are 1 bits; the width is padded to whole bytes), feed, and a partial cut."""
    image = image if image.mode == "1" else image.convert("1")
    width_bytes = (image.width + 7) // 8
    if image.width % 8:
        padded = Image.new("1", (width_bytes * 8, image.height), 1)
        padded.paste(image, (0, 0))
        image = padded
    # PIL packs a mode "1" row MSB first with 1 = white; ESC/POS wants 1 = black.
    data = image.tobytes().translate(_INVERT)
    out = bytearray(ESC_INIT)
    for top in range(0, image.height, RASTER_BAND_ROWS):
        rows = min(RASTER_BAND_ROWS, image.height - top)
        out += b"\x1dv0\x00" + struct.pack("<HH", width_bytes, rows)
        out += data[top * width_bytes:(top + rows) * width_bytes]
    out += ESC_FEED + GS_PARTIAL_CUT
    return bytes(out)


class EscposNetworkBackend:
    """A network ESC/POS printer on a raw TCP port (usually 9100)."""

    def __init__(self, host: str, port: int = 9100, *, dots: int = 384, timeout: float = 10.0,
                 status_timeout: float = 0.5):
        self.host, self.port, self.dots = host, port, dots
        self.timeout, self.status_timeout = timeout, status_timeout

    def send(self, page: Rendered) -> None:
        data = escpos_raster(fit_raster(page.raster, self.dots))
        try:
            sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
        except (socket.timeout, TimeoutError):
            raise PrinterError(NO_ANSWER) from None
        except OSError:  # refused, unreachable, unknown host
            raise PrinterError(NOT_CONNECTED) from None
        with sock:
            try:
                self._check_paper(sock)
                sock.settimeout(self.timeout)
                sock.sendall(data)  # the timeout bounds the whole call (Python >= 3.5)
                self._finish(sock)
            except (socket.timeout, TimeoutError):
                raise PrinterError(NO_ANSWER) from None
            except OSError:  # reset, broken pipe
                raise PrinterError(NOT_CONNECTED) from None

    def _check_paper(self, sock: socket.socket) -> None:
        """Ask the paper sensor (DLE EOT 4). Many cheap printers never answer: then carry on."""
        sock.settimeout(self.timeout)
        sock.sendall(DLE_EOT_PAPER)
        sock.settimeout(self.status_timeout)
        try:
            answer = sock.recv(1)
        except (socket.timeout, TimeoutError):
            return
        if not answer:
            raise PrinterError(NOT_CONNECTED)
        if answer[0] & 0x60 == 0x60:  # bits 5 and 6: roll paper end
            raise PrinterError(PAPER_OUT)

    def _finish(self, sock: socket.socket) -> None:
        """Close politely: closing with unread bytes (a late status answer) would reset the
        connection and could drop the end of the receipt."""
        sock.shutdown(socket.SHUT_WR)
        deadline = time.monotonic() + min(self.timeout, 1.0)
        try:
            while (remaining := deadline - time.monotonic()) > 0:
                sock.settimeout(remaining)
                if not sock.recv(256):
                    break
        except OSError:
            pass


LPGETSTATUS = 0x060B
LP_POUTPA = 0x20


class EscposDeviceBackend:
    """An ESC/POS printer on USB, which Linux's usblp exposes as a character device such as
    /dev/usb/lp0; any other kind of file is refused, never written to.

    The device is opened non-blocking and every wait is bounded, so that a printer with its lid
    open or no paper cannot hang the worker."""

    def __init__(self, path: str | Path, *, dots: int = 384, timeout: float = 10.0):
        self.path, self.dots, self.timeout = str(path), dots, timeout

    def send(self, page: Rendered) -> None:
        data = memoryview(escpos_raster(fit_raster(page.raster, self.dots)))
        deadline = time.monotonic() + self.timeout
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_NONBLOCK | os.O_APPEND | os.O_NOCTTY
                         | os.O_CLOEXEC)
        except OSError as exc:
            raise self._error(exc) from None
        try:
            # Checked again on what was opened, not on the name: the path may have been swapped
            # for a file (or a link to one) since it was saved. Nothing is written to it then.
            if not stat.S_ISCHR(os.fstat(fd).st_mode):
                logger.warning("refusing to print to %s: not a character device", self.path)
                raise PrinterError(NOT_A_PRINTER)
            if self._paper_out(fd):
                raise PrinterError(PAPER_OUT)
            while data:
                try:
                    written = os.write(fd, data)
                    data = data[written:]
                except BlockingIOError:
                    self._wait_writable(fd, deadline)
                except OSError as exc:
                    raise self._error(exc) from None
            # usblp: with O_NONBLOCK the last block may still be in flight, and close() would
            # cancel it; waiting for "writable" waits for it to complete.
            self._wait_writable(fd, deadline)
        finally:
            os.close(fd)

    def _wait_writable(self, fd: int, deadline: float) -> None:
        remaining = deadline - time.monotonic()
        if remaining > 0:
            _readable, writable, _ = select.select([], [fd], [], remaining)
            if writable:
                return
        raise PrinterError(PAPER_OUT if self._paper_out(fd) else NO_ANSWER)

    @staticmethod
    def _paper_out(fd: int) -> bool:
        """The usblp status byte's paper-out bit; False where there is no such ioctl (a file)."""
        try:
            raw = fcntl.ioctl(fd, LPGETSTATUS, b"\0\0\0\0")
        except OSError:
            return False
        return bool(struct.unpack("i", raw)[0] & LP_POUTPA)

    def _error(self, exc: OSError) -> PrinterError:
        if exc.errno in (errno.ENOENT, errno.ENXIO, errno.ENODEV, errno.EPIPE, errno.ENOTDIR):
            return PrinterError(NOT_CONNECTED)
        if exc.errno == errno.ENOSPC:
            return PrinterError(PAPER_OUT)
        if exc.errno in (errno.EBUSY, errno.EIO, errno.EAGAIN):
            return PrinterError(NO_ANSWER)
        if exc.errno in (errno.EACCES, errno.EPERM):
            return command_failed(f"no permission to write to {self.path}"
                                   " (add the user to the 'lp' group)")
        return command_failed(f"{self.path}: {exc.strerror or exc}")
