"""The business day's cash book: opening float, cash in and out, the X report and the day close (Z).

Cash moves and closes are journal entries like sales; `cash_moves` and `day_closes` are their
projections. A Z report is frozen into its entry, so reprinting it always shows what was closed.
"""
from __future__ import annotations

import json
import sqlite3
from typing import Any

from flask_babel import lazy_gettext as _l

from . import credit_book, journal, limits, projections, purchases
from .db import write_transaction
from sync.errors import Conflict, InvalidInput, NotFound
from sync.money import parse_amount
from .business_days import current_business_day
from .sales import day_totals
from .text import clean_text
from sync.protocol import utc_timestamp

CASH_MOVE_TYPES = ("float", "in", "out")
QR_STATES = ("bank_confirmed", "vendor_confirmed", "mismatched")


def record_cash_move(conn: sqlite3.Connection, device_id: str, move_type: Any, amount: Any,
                     reason: Any, made_by: str) -> dict[str, Any]:
    """Put money in the drawer (opening float, cash in) or take it out, with a reason."""
    if move_type not in CASH_MOVE_TYPES:
        raise InvalidInput(_l("Unknown kind of cash movement."), field="type")
    amount = parse_amount(amount, field="amount", allow_zero=False)
    reason = clean_text(reason, field="reason", label=_l("Reason"),
                        max_length=limits.REASON_CHARS,
                        required=move_type != "float")
    with write_transaction(conn):
        at = utc_timestamp()
        day = current_business_day(conn, at)
        entry = journal.append(conn, device_id, "cash_move", {
            "type": move_type, "amount": amount, "reason": reason, "business_day": day,
            "made_by": made_by}, at=at)
        projections.project(conn, entry)
    return {"seq": entry.seq, "business_day": day, "type": move_type, "amount": amount,
            "reason": reason, "at": at}


def cash_moves(conn: sqlite3.Connection, day: str) -> list[dict[str, Any]]:
    """The day's cash movements, oldest first."""
    return [dict(row) for row in conn.execute(
        "SELECT seq, business_day, type, amount, reason, at FROM cash_moves"
        " WHERE business_day = ? ORDER BY seq", (day,))]


def day_report(conn: sqlite3.Connection, day: str) -> dict[str, Any]:
    """The figures of a business day so far (the X report): sales, payments, voids, cash drawer,
    the credit book's day and the goods bought from growers (cash paid to them is cash out)."""
    totals = day_totals(conn, day)
    moves = {t: 0 for t in CASH_MOVE_TYPES}
    for row in conn.execute("SELECT type, SUM(amount) FROM cash_moves WHERE business_day = ?"
                            " GROUP BY type", (day,)):
        moves[row[0]] = row[1]
    cash = conn.execute(
        "SELECT COUNT(*), IFNULL(SUM(p.tendered), 0), IFNULL(SUM(p.change), 0)"
        " FROM payments p JOIN sales s ON s.seq = p.sale_seq"
        " WHERE s.business_day = ? AND s.voided_seq IS NULL AND p.method = 'cash'",
        (day,)).fetchone()
    qr_rows = conn.execute(
        "SELECT s.number, p.amount, p.reference, IFNULL(p.state, 'vendor_confirmed') AS state"
        " FROM payments p JOIN sales s ON s.seq = p.sale_seq"
        " WHERE s.business_day = ? AND s.voided_seq IS NULL AND p.method = 'qr'"
        " ORDER BY s.number", (day,)).fetchall()
    by_state = {state: {"count": 0, "amount": 0} for state in QR_STATES}
    for row in qr_rows:
        key = "mismatched" if row["state"] == "mismatch" else row["state"]
        by_state[key]["count"] += 1
        by_state[key]["amount"] += row["amount"]
    # Transfers the bank reported that match no recorded payment (the under-payment trick on a
    # code that was then cancelled, a reference the stall does not know, a second payment).
    bank_problems = [dict(row) for row in conn.execute(
        "SELECT reference, reason, bank_amount, expected, at FROM bank_checks"
        " WHERE business_day = ? AND state = 'mismatch' AND sale_id IS NULL ORDER BY seq",
        (day,))]
    refunded = conn.execute("SELECT IFNULL(SUM(cash), 0), IFNULL(SUM(qr), 0) FROM refunds"
                            " WHERE business_day = ?", (day,)).fetchone()
    # The day's counters are net of refunds; the drawer shows the cash of sales and the cash
    # given back apart, so that the paper adds up line by line.
    cash_sales = totals["cash"] + refunded[0]
    # Credit sales are revenue but not cash; what customers paid back in cash is in the drawer.
    credit = credit_book.day_figures(conn, day)
    # Goods bought from growers and paid in cash left the drawer (issue 19).
    bought = purchases.day_figures(conn, day)
    expected = moves["float"] + moves["in"] - moves["out"] + totals["cash"] \
        + credit["repaid"]["cash"] - bought["cash"]
    discounts = conn.execute(
        "SELECT COUNT(*), IFNULL(SUM(discount), 0) FROM sales WHERE business_day = ?"
        " AND voided_seq IS NULL AND discount > 0", (day,)).fetchone()
    # What each haggled line gave off its list price (the same rounding as a line's amount).
    changes = conn.execute(
        "SELECT COUNT(*), IFNULL(SUM((l.list_price * l.quantity_milli + 500) / 1000 - l.amount),"
        " 0) FROM sale_lines l JOIN sales s ON s.seq = l.sale_seq WHERE s.business_day = ?"
        " AND s.voided_seq IS NULL AND l.list_price IS NOT NULL", (day,)).fetchone()
    return {
        "business_day": day,
        "sales_count": totals["sales_count"], "revenue": totals["revenue"],
        "voids_count": totals["voids_count"], "voided_amount": totals["voided_amount"],
        "refunds": {"count": totals["refunds_count"], "amount": totals["refunded_amount"],
                    "cash": refunded[0], "qr": refunded[1]},
        "haggling": {"discounts": {"count": discounts[0], "amount": discounts[1]},
                     "price_changes": {"count": changes[0], "given": changes[1]}},
        "payments": {"cash": {"count": cash[0], "amount": cash_sales},
                     "qr": {"count": len(qr_rows), "amount": sum(r["amount"] for r in qr_rows)}},
        # Each transfer is the vendor's word until the bank's notification or statement says so.
        "qr_by_state": by_state,
        "qr_payments": [{"number": r["number"], "amount": r["amount"],
                         "reference": r["reference"], "state": r["state"]} for r in qr_rows],
        "bank_problems": bank_problems,
        "cash_drawer": {"opening_float": moves["float"], "cash_in": moves["in"],
                        "cash_out": moves["out"], "tendered": cash[1], "change": cash[2],
                        "refunded_cash": refunded[0], "cash_sales": cash_sales,
                        "repaid_cash": credit["repaid"]["cash"],
                        "purchases_cash": bought["cash"], "expected": expected},
        "credit": credit,
        "purchases": bought,
    }


def close_day(conn: sqlite3.Connection, device_id: str, day: str, counted_cash: Any,
              closed_by: str) -> dict[str, Any]:
    """Close a business day: freeze its report with the counted cash into a numbered Z entry."""
    counted = parse_amount(counted_cash, field="counted_cash")
    with write_transaction(conn):
        at = utc_timestamp()
        current = current_business_day(conn, at)
        if day > current:
            raise InvalidInput(_l("A day cannot be closed before it has begun."),
                               field="business_day")
        if conn.execute("SELECT 1 FROM day_closes WHERE business_day = ?", (day,)).fetchone():
            raise Conflict(_l("This day is already closed."), code="day_closed")
        report = day_report(conn, day)
        z_number = conn.execute("SELECT IFNULL(MAX(z_number), 0) + 1 FROM day_closes").fetchone()[0]
        expected = report["cash_drawer"]["expected"]
        report.update(z_number=z_number, counted_cash=counted, difference=counted - expected,
                      closed_by=closed_by)
        entry = journal.append(conn, device_id, "day_close", report, at=at)
        projections.project(conn, entry)
    return z_report(conn, z_number)


def z_report(conn: sqlite3.Connection, z_number: int) -> dict[str, Any]:
    """A closed day's frozen report, with its journal position and time."""
    row = conn.execute("SELECT d.*, j.hash FROM day_closes d JOIN journal j ON j.seq = d.seq"
                       " WHERE z_number = ?", (z_number,)).fetchone()
    if row is None:
        raise NotFound(_l("No Z report with this number."), code="unknown_report")
    return {**json.loads(row["report"]), "seq": row["seq"], "at": row["at"], "hash": row["hash"]}


def z_reports(conn: sqlite3.Connection, limit: int = 60) -> list[dict[str, Any]]:
    """The latest Z reports, newest first."""
    return [z_report(conn, row[0]) for row in conn.execute(
        "SELECT z_number FROM day_closes ORDER BY z_number DESC LIMIT ?", (limit,))]


def close_for_day(conn: sqlite3.Connection, day: str) -> dict[str, Any] | None:
    """The Z report of a day, if it is closed."""
    row = conn.execute("SELECT z_number FROM day_closes WHERE business_day = ?", (day,)).fetchone()
    return z_report(conn, row[0]) if row else None
