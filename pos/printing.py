"""Receipt printing: a queue of print jobs in SQLite, a worker thread and the printer back-ends.

A sale is committed first; printing is a separate, later step that can fail without touching the
sale. `enqueue` is a tiny insert; the `PrintWorker` thread, with its own connection, renders each
due job and sends it through CUPS (`lp`) or straight to an ESC/POS printer as a raster image, so
that Vietnamese needs no printer code page. Failures are retried with back-off; jobs that waited
longer than `stale_minutes` are held until the vendor confirms, so that a printer that comes back
after hours does not print a morning of old receipts. The printer's last known state is kept in
the settings table so that every process can show it.
"""
from __future__ import annotations

import errno
import fcntl
import ipaddress
import logging
import os
import re
import select
import signal
import socket
import sqlite3
import stat
import struct
import subprocess
import threading
import time
import weakref
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Protocol

from flask_babel import lazy_gettext as _l
from PIL import Image

from . import db, settings
from .sync import backoff
from .errors import Conflict, InvalidInput, NotFound

logger = logging.getLogger(__name__)

# --- settings -------------------------------------------------------------------------------------

BACKENDS = ("none", "cups", "escpos-net", "escpos-usb")
PAPER_DOTS = {"58": 384, "80": 576}
KINDS = ("receipt", "report", "selftest")

KEY_BACKEND = "printer_backend"
KEY_CUPS_QUEUE = "printer_cups_queue"
KEY_HOST = "printer_host"
KEY_PORT = "printer_port"
KEY_DEVICE = "printer_device"
KEY_PAPER = "printer_paper"
KEY_AUTO_PRINT = "printer_auto_print"
KEY_STALE_MINUTES = "printer_stale_minutes"
KEY_TIMEOUT = "printer_timeout"
KEY_STATUS_TIMEOUT = "printer_status_timeout"
# Written by the worker: the printer's last known state, for every process to show.
KEY_STATUS_STATE = "printer_status_state"
KEY_STATUS_MESSAGE = "printer_status_message"
KEY_STATUS_AT = "printer_status_at"
KEY_STATUS_CONFIG = "printer_status_config"

CONFIG_KEYS = {
    "backend": KEY_BACKEND, "cups_queue": KEY_CUPS_QUEUE, "host": KEY_HOST, "port": KEY_PORT,
    "device": KEY_DEVICE, "paper": KEY_PAPER, "auto_print": KEY_AUTO_PRINT,
    "stale_minutes": KEY_STALE_MINUTES, "timeout": KEY_TIMEOUT,
    "status_timeout": KEY_STATUS_TIMEOUT,
}

_QUEUE_NAME = re.compile(r"^[^\s/\\#?'\"-][^\s/\\#?'\"]{0,126}$")
_HOST_NAME = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                        r"(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$")
_TRUE = {"1", "true", "on", "yes"}
_FALSE = {"0", "false", "off", "no", ""}


def _switched_on(raw: str) -> bool:
    """Whether a stored on/off value says on (anything else, damaged values too, reads as off)."""
    return raw.strip().lower() in _TRUE


# --- messages -------------------------------------------------------------------------------------
# A fixed, small set of English messages: they are stored in the database (jobs, status) and the
# interface translates them with `message_text`.

NOT_CONNECTED = "Printer not connected"
PAPER_OUT = "Printer out of paper"
NO_ANSWER = "Printer did not answer"
COMMAND_FAILED = "Print command failed: "
READY = "Printer ready"
OFF = "Printing is off"
NOT_TRIED = "Printer not tried yet"
RENDER_FAILED = "The page to print could not be prepared"
NOT_A_PRINTER = "The device path is not a printer"

_MESSAGES: dict[str, Any] = {
    NOT_CONNECTED: _l("Printer not connected"),
    PAPER_OUT: _l("Printer out of paper"),
    NO_ANSWER: _l("Printer did not answer"),
    READY: _l("Printer ready"),
    OFF: _l("Printing is off"),
    NOT_TRIED: _l("Printer not tried yet"),
    RENDER_FAILED: _l("The page to print could not be prepared"),
    NOT_A_PRINTER: _l("The device path is not a printer"),
}


def message_text(message: str | None) -> Any:
    """The vendor's language for one of the stored printer messages (others pass unchanged)."""
    if not message:
        return ""
    if message in _MESSAGES:
        return _MESSAGES[message]
    if message.startswith(COMMAND_FAILED):
        return _l("Print command failed: %(detail)s", detail=message[len(COMMAND_FAILED):])
    return message


class PrinterError(Exception):
    """A printer that cannot print now; `message` is one of the fixed English messages above."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _command_failed(detail: str) -> PrinterError:
    detail = " ".join(detail.split())[:200] or "unknown error"
    return PrinterError(COMMAND_FAILED + detail)


# --- configuration --------------------------------------------------------------------------------

@dataclass(frozen=True)
class PrinterConfig:
    """How this stall prints; kept as `printer_*` rows of the settings table."""

    backend: str = "none"
    cups_queue: str = ""
    host: str = ""
    port: int = 9100
    device: str = "/dev/usb/lp0"
    paper: str = "58"
    auto_print: bool = False
    stale_minutes: int = 30
    timeout: float = 10.0          # seconds for connecting, sending, and for `lp` to finish
    status_timeout: float = 0.5    # seconds to wait for an ESC/POS paper-sensor answer

    @property
    def dots(self) -> int:
        """The printer's width in dots: 384 on 58 mm paper, 576 on 80 mm."""
        return PAPER_DOTS[self.paper]

    @property
    def target(self) -> str:
        """Which printer this configuration talks to; a status recorded for another is stale."""
        if self.backend == "cups":
            return f"cups:{self.cups_queue}"
        if self.backend == "escpos-net":
            return f"escpos-net:{self.host}:{self.port}"
        if self.backend == "escpos-usb":
            return f"escpos-usb:{self.device}"
        return "none"

    @classmethod
    def load(cls, conn: sqlite3.Connection) -> PrinterConfig:
        """The stored configuration; a damaged value falls back to its default (never raises),
        because the worker must keep running whatever is in the table."""
        found = settings.read_all(conn)
        stored = {field: found.get(key) for field, key in CONFIG_KEYS.items()}
        config = cls()
        for field, raw in stored.items():
            if raw is None:
                continue
            try:
                config = replace(config, **{field: _parse_field(field, raw)})
            except InvalidInput:
                logger.warning("ignoring bad printer setting %s=%r", CONFIG_KEYS[field], raw)
        return config

    @classmethod
    def validate(cls, values: Mapping[str, Any], *, base: PrinterConfig | None = None
                 ) -> PrinterConfig:
        """`base` changed by `values` (field names as keys), or a clear refusal."""
        unknown = sorted(set(values) - set(CONFIG_KEYS))
        if unknown:
            raise InvalidInput(_l("Unknown printer setting: %(name)s", name=unknown[0]),
                               field=unknown[0])
        config = base or cls()
        for field, raw in values.items():
            config = replace(config, **{field: _parse_field(field, raw)})
        if config.backend == "cups" and not config.cups_queue:
            raise InvalidInput(_l("Enter the name of the CUPS printer queue."), field="cups_queue")
        if config.backend == "escpos-net" and not config.host:
            raise InvalidInput(_l("Enter the printer's IP address or host name."), field="host")
        if config.backend == "escpos-usb" and not config.device:
            raise InvalidInput(_l("Enter the printer's device path, such as /dev/usb/lp0."),
                               field="device")
        if config.backend == "escpos-usb" and (base is None or base.target != config.target):
            check_printer_device(config.device)
        return config

    @classmethod
    def save(cls, conn: sqlite3.Connection, values: Mapping[str, Any]) -> PrinterConfig:
        """Validate a change of some fields and store the whole configuration in one transaction."""
        config = cls.validate(values, base=cls.load(conn))
        with db.write_transaction(conn):
            for field, key in CONFIG_KEYS.items():
                settings.write(conn, key, _format_field(getattr(config, field)))
        _wake_workers()
        return config

    def make_backend(self) -> Backend | None:
        """The back-end that sends to this printer, or None when printing is off."""
        if self.backend == "cups":
            return CupsBackend(self.cups_queue, timeout=self.timeout)
        if self.backend == "escpos-net":
            return EscposNetworkBackend(self.host, self.port, dots=self.dots, timeout=self.timeout,
                                        status_timeout=self.status_timeout)
        if self.backend == "escpos-usb":
            return EscposDeviceBackend(self.device, dots=self.dots, timeout=self.timeout)
        return None


def check_printer_device(path: str) -> None:
    """Refuse a USB printer path that is not a character device: anything else (the stall's
    database, a backup, a folder, a pipe) would be written into, not printed on."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        raise InvalidInput(_l("There is no printer at %(path)s. Plug the printer in, switch it"
                              " on, and check the path (usually /dev/usb/lp0).", path=path),
                           field="device") from None
    if not stat.S_ISCHR(mode):
        raise InvalidInput(_l("%(path)s is not a USB printer but a file, a folder or a pipe."
                              " Enter the printer's device, usually /dev/usb/lp0.", path=path),
                           field="device")


def _format_field(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def _number(raw: Any, *, integer: bool) -> float | int | None:
    """A number typed in a form or sent as JSON; None when it is not one."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, (int, float)):
        value: float | int = raw
    elif isinstance(raw, str):
        try:
            value = float(raw.strip().replace(",", "."))
        except ValueError:
            return None
    else:
        return None
    if value != value or value in (float("inf"), float("-inf")):
        return None
    if integer:
        return int(value) if float(value).is_integer() else None
    return float(value)


def _text(raw: Any, field: str, label: Any) -> str:
    if raw is None:
        return ""
    if not isinstance(raw, str):
        raise InvalidInput(_l("%(label)s must be text.", label=label), field=field)
    text = raw.strip()
    if not text.isprintable():
        raise InvalidInput(_l("%(label)s contains invisible or control characters.", label=label),
                           field=field)
    return text


def _parse_field(field: str, raw: Any) -> Any:
    """One configuration field from a stored string, a form value or a JSON value."""
    if field == "backend":
        if raw not in BACKENDS:
            raise InvalidInput(_l("Choose how the printer is connected: none, CUPS, network or"
                                  " USB."), field=field)
        return raw
    if field == "cups_queue":
        queue = _text(raw, field, _l("Printer queue"))
        if queue and not _QUEUE_NAME.match(queue):
            raise InvalidInput(_l("A CUPS queue name has no spaces, slashes, quotes or '#', and"
                                  " does not start with '-'."), field=field)
        return queue
    if field == "host":
        host = _text(raw, field, _l("Printer address"))
        if host:
            try:
                ipaddress.ip_address(host)
            except ValueError:
                if not _HOST_NAME.match(host):
                    raise InvalidInput(_l("The printer address must be an IP address such as"
                                          " 192.168.1.50, or a host name."), field=field)
        return host
    if field == "port":
        if raw in ("", None):
            return 9100
        port = _number(raw, integer=True)
        if port is None or not 1 <= port <= 65535:
            raise InvalidInput(_l("The port must be a number from 1 to 65535."), field=field)
        return int(port)
    if field == "device":
        device = _text(raw, field, _l("Device path"))
        if device and (not device.startswith("/") or len(device) > 255):
            raise InvalidInput(_l("Enter the printer's device path, such as /dev/usb/lp0."),
                               field=field)
        return device
    if field == "paper":
        paper = str(raw).strip().removesuffix("mm").strip() if isinstance(raw, (str, int)) else ""
        if paper not in PAPER_DOTS:
            raise InvalidInput(_l("The paper width must be 58 or 80 mm."), field=field)
        return paper
    if field == "auto_print":
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and raw.strip().lower() in _TRUE | _FALSE:
            return _switched_on(raw)
        if raw is None:
            return False
        raise InvalidInput(_l("Automatic printing must be on or off."), field=field)
    if field == "stale_minutes":
        minutes = _number(raw, integer=True)
        if minutes is None or not 1 <= minutes <= 1440:
            raise InvalidInput(_l("Receipts wait for confirmation after 1 to 1440 minutes."),
                               field=field)
        return int(minutes)
    if field == "timeout":
        seconds = _number(raw, integer=False)
        if seconds is None or not 0.5 <= seconds <= 120:
            raise InvalidInput(_l("The printer timeout must be 0.5 to 120 seconds."), field=field)
        return float(seconds)
    if field == "status_timeout":
        seconds = _number(raw, integer=False)
        if seconds is None or not 0.05 <= seconds <= 5:
            raise InvalidInput(_l("The paper check wait must be 0.05 to 5 seconds."), field=field)
        return float(seconds)
    raise InvalidInput(_l("Unknown printer setting: %(name)s", name=field), field=field)


# --- the job queue --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Job:
    """One row of `print_jobs`."""

    id: int
    kind: str
    ref: str
    copy: bool
    state: str
    attempts: int
    last_error: str | None
    created_at: float
    next_attempt_at: float
    updated_at: float

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Job:
        return cls(id=row["id"], kind=row["kind"], ref=row["ref"], copy=bool(row["copy"]),
                   state=row["state"], attempts=row["attempts"], last_error=row["last_error"],
                   created_at=row["created_at"], next_attempt_at=row["next_attempt_at"],
                   updated_at=row["updated_at"])


def enqueue(conn: sqlite3.Connection, kind: str, ref: str = "", *, copy: bool = False) -> int:
    """Queue a page to print and return the job's id. Call it after the sale's commit: it is its
    own tiny transaction, and a local worker is woken to print at once."""
    if kind not in KINDS:
        raise InvalidInput(_l("Unknown kind of print job: %(kind)s", kind=kind), field="kind")
    now = time.time()
    with db.write_transaction(conn):
        cursor = conn.execute(
            "INSERT INTO print_jobs (kind, ref, copy, created_at, next_attempt_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?)", (kind, str(ref), int(bool(copy)), now, now, now))
    _wake_workers()
    return int(cursor.lastrowid or 0)


def enqueue_receipt_if_auto(conn: sqlite3.Connection, sale_id: str) -> int | None:
    """After a committed sale: queue its receipt when auto-print is on. Never raises, because a
    printing problem must not turn a recorded sale into an error page."""
    try:
        switch = settings.read(conn, KEY_AUTO_PRINT)
        if switch is None or not _switched_on(switch):
            return None   # off, as by default: one look-up, not the whole configuration
        config = PrinterConfig.load(conn)
        if not config.auto_print or config.backend == "none":
            return None
        return enqueue(conn, "receipt", sale_id)
    except Exception:
        logger.exception("could not queue the receipt of sale %s", sale_id)
        return None


def get_job(conn: sqlite3.Connection, job_id: int) -> Job | None:
    row = conn.execute("SELECT * FROM print_jobs WHERE id = ?", (job_id,)).fetchone()
    return Job.from_row(row) if row else None


def list_jobs(conn: sqlite3.Connection, limit: int = 20, *,
              states: Iterable[str] | None = None) -> list[Job]:
    """The newest jobs first (optionally only some states), for the printer screen."""
    sql, params = "SELECT * FROM print_jobs", []
    if states is not None:
        wanted = list(states)
        sql += f" WHERE state IN ({', '.join('?' * len(wanted))})" if wanted else " WHERE 0"
        params.extend(wanted)
    sql += " ORDER BY id DESC LIMIT ?"
    params.append(int(limit))
    return [Job.from_row(row) for row in conn.execute(sql, params)]


def _change(conn: sqlite3.Connection, job_id: int, allowed: tuple[str, ...], sql: str,
            params: tuple[Any, ...]) -> Job:
    with db.write_transaction(conn):
        job = get_job(conn, job_id)
        if job is None:
            raise NotFound(_l("No such print job."))
        if job.state not in allowed:
            raise Conflict(_l("This print job can no longer be changed."))
        conn.execute(sql, (*params, job_id))
    _wake_workers()
    changed = get_job(conn, job_id)
    assert changed is not None
    return changed


_REQUEUE = ("UPDATE print_jobs SET state = 'queued', attempts = 0, created_at = ?,"
            " next_attempt_at = ?, updated_at = ? WHERE id = ?")


def release(conn: sqlite3.Connection, job_id: int) -> Job:
    """The vendor confirms a held (old) job: it is queued again and prints now. Its age counts
    from now, so that it is not held again at once."""
    now = time.time()
    return _change(conn, job_id, ("held",), _REQUEUE, (now, now, now))


def retry(conn: sqlite3.Connection, job_id: int) -> Job:
    """Print a failed or held job again now (a queued one waiting for its back-off: now)."""
    now = time.time()
    return _change(conn, job_id, ("failed", "held", "queued"), _REQUEUE, (now, now, now))


def cancel(conn: sqlite3.Connection, job_id: int) -> Job:
    """Drop a job that has not printed."""
    return _change(conn, job_id, ("queued", "held", "failed"),
                   "UPDATE print_jobs SET state = 'cancelled', updated_at = ? WHERE id = ?",
                   (time.time(),))


def printer_status(conn: sqlite3.Connection) -> dict[str, Any]:
    """What the screen shows: state 'ok' | 'error' | 'off' | 'unknown', a message (English; see
    `message_text`), the time of the last attempt, and how many jobs wait, are held or failed."""
    config = PrinterConfig.load(conn)
    counts = {state: 0 for state in ("queued", "held", "failed")}
    for row in conn.execute("SELECT state, COUNT(*) AS n FROM print_jobs"
                            " WHERE state IN ('queued', 'held', 'failed') GROUP BY state"):
        counts[row["state"]] = row["n"]
    at_text = settings.read(conn, KEY_STATUS_AT)
    try:
        at = float(at_text) if at_text else None
    except ValueError:
        at = None
    if config.backend == "none":
        state, message, at = "off", OFF, None
    elif settings.read(conn, KEY_STATUS_CONFIG) != config.target:
        state, message, at = "unknown", NOT_TRIED, None
    else:
        state = settings.read(conn, KEY_STATUS_STATE) or "unknown"
        message = settings.read(conn, KEY_STATUS_MESSAGE) or NOT_TRIED
        if state not in ("ok", "error"):
            state, message = "unknown", NOT_TRIED
    return {"state": state, "message": message, "at": at, "backend": config.backend,
            "auto_print": config.auto_print, **counts}


def _record_status(conn: sqlite3.Connection, config: PrinterConfig, state: str, message: str,
                   at: float | None) -> None:
    """Store the printer's state (inside the caller's transaction) for every process to show."""
    settings.write(conn, KEY_STATUS_STATE, state)
    settings.write(conn, KEY_STATUS_MESSAGE, message)
    settings.write(conn, KEY_STATUS_AT, "" if at is None else repr(at))
    settings.write(conn, KEY_STATUS_CONFIG, config.target)


# --- rendering and back-ends ----------------------------------------------------------------------

@dataclass
class Rendered:
    """One page to print: a PDF for CUPS, and a 1-bit raster for ESC/POS printers."""

    pdf: bytes
    raster: Image.Image


Renderer = Callable[[sqlite3.Connection, Job], Rendered]


class Backend(Protocol):
    def send(self, page: Rendered) -> None:
        """Print the page or raise PrinterError."""


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
            raise _command_failed("lp not found (is CUPS installed?)") from None
        except OSError as exc:
            raise _command_failed(f"lp: {exc.strerror or exc}") from None
        try:
            _stdout, stderr = process.communicate(page.pdf, timeout=self.timeout)
        except subprocess.TimeoutExpired:
            _kill_group(process)
            _stdout, stderr = process.communicate()
            detail = stderr.decode("utf-8", "replace").strip()
            raise _command_failed(f"lp did not finish in {self.timeout:g} s"
                                  + (f" ({detail})" if detail else "")) from None
        if process.returncode != 0:
            detail = stderr.decode("utf-8", "replace").strip()
            raise _command_failed(detail or f"lp exited with status {process.returncode}")


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        process.kill()


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
            return _command_failed(f"no permission to write to {self.path}"
                                   " (add the user to the 'lp' group)")
        return _command_failed(f"{self.path}: {exc.strerror or exc}")


# --- the worker -----------------------------------------------------------------------------------

MAX_BACKOFF_SECONDS = 60
MAX_RENDER_ATTEMPTS = 5

_workers: "weakref.WeakSet[PrintWorker]" = weakref.WeakSet()
_workers_lock = threading.Lock()


def _wake_workers() -> None:
    """Wake the workers running in this process: a new or released job prints at once."""
    with _workers_lock:
        workers = list(_workers)
    for worker in workers:
        worker.wake()


def backoff_seconds(attempts: int) -> float:
    """2, 4, 8 … seconds after each failure, at most a minute, with a little jitter so that
    retries do not line up (the stall's one back-off, pos/sync/backoff.py)."""
    return backoff.spread(attempts, first=2.0, cap=MAX_BACKOFF_SECONDS, jitter=0.1)


class PrintWorker:
    """Prints queued jobs in a daemon thread, with a database connection of its own.

    It never holds a transaction while it talks to a printer, and only one worker per database
    prints at a time (a lock file next to the database), so a job is never printed twice by two
    processes."""

    def __init__(self, db_path: str | Path, renderer: Renderer, *, poll_seconds: float = 1.0):
        self.db_path = Path(db_path)
        self.renderer = renderer
        self.poll_seconds = poll_seconds
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._round_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._conn: sqlite3.Connection | None = None
        self._lock_fd: int | None = None
        self._last_status: tuple[str, str] | None = None

    # life cycle

    def start(self) -> None:
        """Start the thread (once)."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="print-worker", daemon=True)
        with _workers_lock:
            _workers.add(self)
        self._thread.start()

    def stop(self, timeout: float | None = 5.0) -> None:
        """Stop the thread and wait for it; an attempt in progress ends within its timeout."""
        self._stop.set()
        self._wake.set()
        with _workers_lock:
            _workers.discard(self)
        if self._thread is not None:
            self._thread.join(timeout)
            if not self._thread.is_alive():
                self._thread = None
        if self._thread is None:
            self.close()

    def wake(self) -> None:
        """Do a round now instead of at the next poll."""
        self._wake.set()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def close(self) -> None:
        """Close the worker's connection and give up the printing lock."""
        with self._round_lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
            if self._lock_fd is not None:
                os.close(self._lock_fd)
                self._lock_fd = None

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception:  # the database busy for too long, a bug in a renderer …
                logger.exception("print worker round failed")
            self._wake.wait(self.poll_seconds)
            self._wake.clear()

    # one round

    def run_once(self, now: float | None = None) -> int:
        """One round: hold stale jobs, then print the due ones oldest first. Returns how many
        printed. `now` lets tests look into the future instead of sleeping through back-off."""
        with self._round_lock:
            conn = self._connection()
            if not self._take_printing_lock():
                logger.debug("another print worker prints from %s", self.db_path)
                return 0
            now = time.time() if now is None else now
            config = PrinterConfig.load(conn)
            self._hold_stale(conn, config, now)
            backend = config.make_backend()
            if backend is None:
                # Jobs stay queued (and become held once old) until a printer is set up.
                if self._last_status != ("off", OFF):
                    with db.write_transaction(conn):
                        _record_status(conn, config, "off", OFF, None)
                    self._last_status = ("off", OFF)
                return 0
            printed = 0
            while not self._stop.is_set():
                row = conn.execute(
                    "SELECT * FROM print_jobs WHERE state = 'queued' AND next_attempt_at <= ?"
                    " ORDER BY created_at, id LIMIT 1", (now,)).fetchone()
                if row is None:
                    break
                outcome = self._attempt(conn, config, backend, Job.from_row(row), now)
                if outcome == "printed":
                    printed += 1
                elif outcome == "printer-error":
                    break
            return printed

    def _attempt(self, conn: sqlite3.Connection, config: PrinterConfig, backend: Backend,
                 job: Job, now: float) -> str:
        try:
            page = self.renderer(conn, job)
        except Exception:
            logger.exception("could not render print job %s (%s %s)", job.id, job.kind, job.ref)
            with db.write_transaction(conn):
                self._failed(conn, job, RENDER_FAILED, now,
                             give_up=job.attempts + 1 >= MAX_RENDER_ATTEMPTS)
            return "render-error"
        try:
            backend.send(page)
        except PrinterError as exc:
            logger.info("print job %s not printed: %s", job.id, exc.message)
            with db.write_transaction(conn):
                next_at = self._failed(conn, job, exc.message, now, give_up=False)
                # The printer is the problem, not the job: the other due jobs wait as long.
                conn.execute("UPDATE print_jobs SET next_attempt_at = ? WHERE state = 'queued'"
                             " AND next_attempt_at <= ? AND id != ?", (next_at, now, job.id))
                _record_status(conn, config, "error", exc.message, time.time())
            self._last_status = ("error", exc.message)
            return "printer-error"
        done_at = time.time()
        with db.write_transaction(conn):
            conn.execute("UPDATE print_jobs SET state = 'done', last_error = NULL, updated_at = ?"
                         " WHERE id = ? AND state = 'queued'", (done_at, job.id))
            # The printer works again: what waits behind a back-off prints now, in order.
            conn.execute("UPDATE print_jobs SET next_attempt_at = ? WHERE state = 'queued'"
                         " AND next_attempt_at > ?", (now, now))
            _record_status(conn, config, "ok", READY, done_at)
        self._last_status = ("ok", READY)
        return "printed"

    @staticmethod
    def _failed(conn: sqlite3.Connection, job: Job, message: str, now: float, *,
                give_up: bool) -> float:
        """Count a failed attempt (inside the caller's transaction); returns the next try's time."""
        attempts = job.attempts + 1
        next_at = now + backoff_seconds(attempts)
        conn.execute(
            "UPDATE print_jobs SET attempts = ?, last_error = ?, next_attempt_at = ?,"
            " updated_at = ?, state = CASE WHEN ? THEN 'failed' ELSE state END"
            " WHERE id = ? AND state = 'queued'",
            (attempts, message, next_at, time.time(), int(give_up), job.id))
        return next_at

    @staticmethod
    def _hold_stale(conn: sqlite3.Connection, config: PrinterConfig, now: float) -> None:
        """Jobs queued for longer than `stale_minutes` wait for the vendor (`release`)."""
        cutoff = now - config.stale_minutes * 60
        # Look first: most rounds have nothing to hold and need not take the write lock.
        if conn.execute("SELECT 1 FROM print_jobs WHERE state = 'queued' AND created_at < ?"
                        " LIMIT 1", (cutoff,)).fetchone() is None:
            return
        with db.write_transaction(conn):
            held = conn.execute(
                "UPDATE print_jobs SET state = 'held', updated_at = ?"
                " WHERE state = 'queued' AND created_at < ?", (now, cutoff)).rowcount
        if held:
            logger.info("%d old print job(s) held for the vendor's confirmation", held)

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            self._conn = db.connect(self.db_path)
        return self._conn

    def _take_printing_lock(self) -> bool:
        """One printing worker per database, across processes (released when the process
        ends)."""
        if self._lock_fd is not None:
            return True
        fd = os.open(f"{self.db_path}.print-lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        self._lock_fd = fd
        return True
