"""How this stall prints: the `printer_*` rows of the settings table, read into a `PrinterConfig`,
validated field by field, and turned into the back-end that sends to the configured printer."""
from __future__ import annotations

import ipaddress
import logging
import os
import re
import sqlite3
import stat
from dataclasses import dataclass, replace
from typing import Any, Mapping

from flask_babel import lazy_gettext as _l

from .. import db, settings
from ..paper import DOTS_PER_MM, ROLL_PRINTABLE_MM, ROLLS
from sync.errors import InvalidInput
from .backends import Backend
from .cups import CupsBackend
from .escpos import EscposDeviceBackend, EscposNetworkBackend
from .wakeup import wake_workers

logger = logging.getLogger(__name__)

BACKENDS = ("none", "cups", "escpos-net", "escpos-usb")
PAPERS = ("58", "80")
KINDS = ("receipt", "report", "selftest")

KEY_BACKEND = "printer_backend"
KEY_CUPS_QUEUE = "printer_cups_queue"
KEY_HOST = "printer_host"
KEY_PORT = "printer_port"
KEY_DEVICE = "printer_device"
KEY_PAPER = "printer_paper"
KEY_PRINTABLE_58 = "printer_printable_58"
KEY_PRINTABLE_80 = "printer_printable_80"
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
    "device": KEY_DEVICE, "paper": KEY_PAPER, "printable_58": KEY_PRINTABLE_58,
    "printable_80": KEY_PRINTABLE_80, "auto_print": KEY_AUTO_PRINT,
    "stale_minutes": KEY_STALE_MINUTES, "timeout": KEY_TIMEOUT,
    "status_timeout": KEY_STATUS_TIMEOUT,
}

_QUEUE_NAME = re.compile(r"^[^\s/\\#?'\"-][^\s/\\#?'\"]{0,126}$")
_HOST_NAME = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                        r"(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$")
_TRUE = {"1", "true", "on", "yes"}
_FALSE = {"0", "false", "off", "no", ""}


def switched_on(raw: str) -> bool:
    """Whether a stored on/off value says on (anything else, damaged values too, reads as off)."""
    return raw.strip().lower() in _TRUE


@dataclass(frozen=True)
class PrinterConfig:
    """How this stall prints; kept as `printer_*` rows of the settings table."""

    backend: str = "none"
    cups_queue: str = ""
    host: str = ""
    port: int = 9100
    device: str = "/dev/usb/lp0"
    paper: str = "58"
    # How wide the printer prints on each roll (mm): the PDF's page width and the raster's,
    # see pos/paper.py ROLLS for where 48 and 72 come from.
    printable_58: int = int(ROLLS["58"])
    printable_80: int = int(ROLLS["80"])
    auto_print: bool = False
    stale_minutes: int = 30
    timeout: float = 10.0          # seconds for connecting, sending, and for `lp` to finish
    status_timeout: float = 0.5    # seconds to wait for an ESC/POS paper-sensor answer

    def printable_for(self, paper: str) -> int | None:
        """The printable width (mm) set for a roll ("58", "80"); None for a sheet."""
        return {"58": self.printable_58, "80": self.printable_80}.get(paper)

    @property
    def printable_mm(self) -> int:
        """How wide the printer prints on the paper it has (mm)."""
        return self.printable_58 if self.paper == "58" else self.printable_80

    @property
    def dots(self) -> int:
        """The raster's width in dots at 203 dpi: the printable width, so 384 for 48 mm (58 mm
        paper) and 576 for 72 mm (80 mm paper) unless the stall set another width."""
        return int(self.printable_mm * DOTS_PER_MM)

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
        wake_workers()
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
        if paper not in PAPERS:
            raise InvalidInput(_l("The paper width must be 58 or 80 mm."), field=field)
        return paper
    if field in ("printable_58", "printable_80"):
        roll = field.removeprefix("printable_")
        if raw in ("", None):
            return int(ROLLS[roll])
        low, high = ROLL_PRINTABLE_MM[roll]
        width = _number(raw, integer=True)
        if width is None or not low <= width <= high:
            raise InvalidInput(_l("The printable width on %(paper)s mm paper must be a whole"
                                  " number of mm from %(low)s to %(high)s.", paper=roll,
                                  low=low, high=high), field=field)
        return int(width)
    if field == "auto_print":
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and raw.strip().lower() in _TRUE | _FALSE:
            return switched_on(raw)
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
