"""Which business day an entry belongs to: the calendar day in Vietnam, or, once the vendor has
closed the day with its Z report, the next one. Below sales, the day book, tax invoices and the
bank's checks, which all date their entries by it."""
from __future__ import annotations

import sqlite3
from datetime import date, timedelta

from sync.localtime import business_day


def current_business_day(conn: sqlite3.Connection, at: str) -> str:
    """The business day an entry made at `at` belongs to: its calendar day in Vietnam, or the day
    after the last closed day once the vendor has closed today (sales after a Z go to tomorrow)."""
    day = business_day(at)
    row = conn.execute("SELECT MAX(business_day) FROM day_closes").fetchone()
    last_closed = row[0] if row else None
    if last_closed and day <= last_closed:
        day = (date.fromisoformat(last_closed) + timedelta(days=1)).isoformat()
    return day


def day_is_closed(conn: sqlite3.Connection, day: str) -> bool:
    """Whether the day has its Z report."""
    return conn.execute("SELECT 1 FROM day_closes WHERE business_day = ?", (day,)).fetchone() \
        is not None
