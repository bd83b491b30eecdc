"""Printing through CUPS: the page's PDF handed to `lp -d QUEUE`, which then owns the job."""
from __future__ import annotations

import os
import signal
import subprocess

from .backends import Rendered
from .messages import command_failed

class CupsBackend:
    """Hand the PDF to CUPS with `lp -d QUEUE` (CUPS then owns the job)."""

    def __init__(self, queue: str, *, timeout: float = 10.0):
        self.queue = queue
        self.timeout = timeout

    def send(self, page: Rendered) -> None:
        try:
            # A session of its own, so that a hung `lp` is killed with all its children.
            process = subprocess.Popen(["lp", "-d", self.queue], stdin=subprocess.PIPE,
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
