"""The printer's messages: a fixed, small set of English texts stored in the database (jobs,
status), which the interface translates with `message_text`; `PrinterError` carries one."""
from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

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


def command_failed(detail: str) -> PrinterError:
    detail = " ".join(detail.split())[:200] or "unknown error"
    return PrinterError(COMMAND_FAILED + detail)
