"""The year's revenue and the two thresholds a household must watch (docs/TAX.md).

From 2026, up to 500 million đồng a year pays no VAT or PIT; over 1 billion, MTT e-invoices are
mandatory, to register within 30 days of crossing it. The amounts and the warning level come from
the dated rate table, so they follow the law's next change without a code change. Revenue is the
calendar year's sales net of voids (the maintained `day_totals`), plus invoice adjustments.
"""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sync.localtime import VIETNAM
from . import rates
from .settings import TaxSettings

MTT_REGISTRATION_DAYS = 30


@dataclass(frozen=True)
class Warning:
    """One warning for the home screen: `level` is "info" (approaching) or "alert" (crossed)."""

    code: str
    level: str
    values: dict[str, Any] = field(default_factory=dict)


def correction_deltas(conn: sqlite3.Connection, first_day: str, last_day: str) -> int:
    """What invoice adjustments and replacements add to revenue between two days, ignoring
    those of voided sales (the void already took the sale out)."""
    row = conn.execute(
        "SELECT IFNULL(SUM(json_extract(j.payload, '$.delta')), 0) FROM tax_invoices t"
        " JOIN journal j ON j.seq = t.seq LEFT JOIN sales s ON s.id = t.sale_id"
        " WHERE t.kind != 'original' AND t.business_day BETWEEN ? AND ?"
        " AND s.voided_seq IS NULL", (first_day, last_day)).fetchone()
    return row[0]


def daily_revenue(conn: sqlite3.Connection, year: int) -> list[tuple[str, int]]:
    """(day, revenue net of voids) for each day of the year with sales, in order."""
    return [(r[0], r[1]) for r in conn.execute(
        "SELECT business_day, revenue FROM day_totals WHERE business_day BETWEEN ? AND ?"
        " ORDER BY business_day", (f"{year}-01-01", f"{year}-12-31"))]


def year_revenue(conn: sqlite3.Connection, year: int) -> int:
    """The calendar year's revenue so far."""
    sales_total = sum(amount for _, amount in daily_revenue(conn, year))
    return sales_total + correction_deltas(conn, f"{year}-01-01", f"{year}-12-31")


def _crossed_on(conn: sqlite3.Connection, year: int, threshold: int) -> str | None:
    running = 0
    for day, amount in daily_revenue(conn, year):
        running += amount
        if running > threshold:
            return day
    return None


def warnings(conn: sqlite3.Connection, ts: TaxSettings, today: str) -> list[Warning]:
    """The threshold warnings for the year of `today` (an ISO day)."""
    year = int(today[:4])
    revenue = year_revenue(conn, year)
    period = rates.period(today)
    warn_ratio = period["warn_at_percent"]
    found: list[Warning] = []
    exempt, mtt_from = period["exempt_up_to"], period["mtt_from"]
    if revenue > mtt_from:
        if not ts.mtt:
            crossed = _crossed_on(conn, year, mtt_from) or today
            deadline = date.fromisoformat(crossed) + timedelta(days=MTT_REGISTRATION_DAYS)
            found.append(Warning("mtt_required", "alert", {"threshold": mtt_from,
                                                           "deadline": deadline.isoformat()}))
    elif revenue * 100 >= mtt_from * warn_ratio and not ts.mtt:
        found.append(Warning("mtt_near", "info", {"threshold": mtt_from}))
    if revenue > exempt:
        found.append(Warning("tax_due", "alert" if revenue <= mtt_from else "info",
                             {"threshold": exempt}))
    elif revenue * 100 >= exempt * warn_ratio:
        found.append(Warning("tax_near", "info", {"threshold": exempt}))
    return found


def deadline_passed(ts: TaxSettings, now: datetime | None = None) -> bool:
    """Whether Vietnam's clock is past today's sending deadline (a setting, 22:00 by default)."""
    now = (now or datetime.now(VIETNAM)).astimezone(VIETNAM)
    return now.strftime("%H:%M") >= ts.send_deadline


def near_deadline(ts: TaxSettings, now: datetime | None = None, hours: int = 2) -> bool:
    """Whether the sending deadline is less than `hours` away (or past)."""
    now = (now or datetime.now(VIETNAM)).astimezone(VIETNAM)
    hh, mm = (int(x) for x in ts.send_deadline.split(":"))
    deadline = now.replace(hour=hh, minute=mm, second=0, microsecond=0)
    return now >= deadline - timedelta(hours=hours)
