"""The printer's last known state: recorded by the worker in the settings table (so that every
process can show it) and read back, with the queue's counts, by `printer_status`."""
from __future__ import annotations

import sqlite3
from typing import Any

from .. import settings
from .config import (
    KEY_STATUS_AT, KEY_STATUS_CONFIG, KEY_STATUS_MESSAGE, KEY_STATUS_STATE, PrinterConfig,
)
from .messages import NOT_TRIED, OFF

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


def record_status(conn: sqlite3.Connection, config: PrinterConfig, state: str, message: str,
                   at: float | None) -> None:
    """Store the printer's state (inside the caller's transaction) for every process to show."""
    settings.write(conn, KEY_STATUS_STATE, state)
    settings.write(conn, KEY_STATUS_MESSAGE, message)
    settings.write(conn, KEY_STATUS_AT, "" if at is None else repr(at))
    settings.write(conn, KEY_STATUS_CONFIG, config.target)
