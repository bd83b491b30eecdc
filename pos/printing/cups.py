"""Printing through CUPS: the page's PDF handed to `lp -d QUEUE`, which then owns the job.

A receipt's page is as long as its content (pos/paper.py render_pdf). Left to the queue's
default media (a thermal driver's 58 × 210 mm, say), CUPS would shrink a long receipt to fit or
feed blank paper after a short one; `-o media=Custom.WxHmm` asks for the page's own size, the
form CUPS documents for custom sizes ("Command-Line Printing and Options", media=Custom.WxL with
units in, cm or mm), which thermal roll drivers support.
"""
from __future__ import annotations

import os
import re
import signal
import subprocess

from .backends import Rendered
from .messages import command_failed

_NUMBER = rb"([0-9]+(?:\.[0-9]+)?)"
_MEDIA_BOX = re.compile(rb"/MediaBox\s*\[\s*0\s+0\s+" + _NUMBER + rb"\s+" + _NUMBER + rb"\s*\]")
_PT_PER_MM = 72 / 25.4


def media_option(pdf: bytes) -> list[str]:
    """`-o media=Custom.WxHmm` for the PDF's first page (to a tenth of a millimetre, rounded
    up so nothing is cut), or nothing when no page size can be read."""
    found = _MEDIA_BOX.search(pdf)
    if found is None:
        return []
    width, height = (float(v) / _PT_PER_MM for v in found.groups())
    if not (10 <= width <= 1000 and 10 <= height <= 5000):
        return []
    tenths = [-(-round(v * 100) // 10) for v in (width, height)]  # ceil to 0.1 mm, no float dust
    return ["-o", f"media=Custom.{tenths[0] / 10:g}x{tenths[1] / 10:g}mm"]


class CupsBackend:
    """Hand the PDF to CUPS with `lp -d QUEUE` (CUPS then owns the job)."""

    def __init__(self, queue: str, *, timeout: float = 10.0):
        self.queue = queue
        self.timeout = timeout

    def send(self, page: Rendered) -> None:
        try:
            # A session of its own, so that a hung `lp` is killed with all its children.
            process = subprocess.Popen(["lp", "-d", self.queue, *media_option(page.pdf)],
                                       stdin=subprocess.PIPE,
                                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                       start_new_session=True)
        except FileNotFoundError:
            raise command_failed("lp not found (is CUPS installed?)") from None
        except OSError as exc:
            raise command_failed(f"lp: {exc.strerror or exc}") from None
        try:
            _stdout, stderr = process.communicate(page.pdf, timeout=self.timeout)
        except subprocess.TimeoutExpired:
            _kill_group(process)
            _stdout, stderr = process.communicate()
            detail = stderr.decode("utf-8", "replace").strip()
            raise command_failed(f"lp did not finish in {self.timeout:g} s"
                                  + (f" ({detail})" if detail else "")) from None
        if process.returncode != 0:
            detail = stderr.decode("utf-8", "replace").strip()
            raise command_failed(detail or f"lp exited with status {process.returncode}")


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        process.kill()
