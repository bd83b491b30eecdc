"""Refunds: part of a sale given back (some lines, or part of a weighed quantity), in cash or
by transfer, with a reason. A `refund` journal entry that references the sale; the sale stays.

What a line gives back is its share of what the buyer paid: the line's amount less its share of
the sale's discount (sync.money.net_line_amounts), in proportion to the quantity, so that
refunding every line in full gives back exactly the sale's total. No line can give back more
than was sold, earlier refunds included (409 `over_refund`); a voided sale cannot be refunded,
nor a refunded one voided. In MTT e-invoice mode the refund issues the adjustment invoice of
the sale's invoice in the same transaction (pos/tax/invoices.py).
"""
from __future__ import annotations

import sqlite3
from typing import Any

from flask_babel import lazy_gettext as _l

from sync.errors import Conflict, InvalidInput, NotFound
from sync.money import format_number, net_line_amounts, parse_amount, parse_quantity, quantity_text
from sync.numbers import NumberRefused, whole_number
from sync.protocol import utc_timestamp
from . import journal, limits, projections
from .business_days import current_business_day
from .sales import require_payments_add_up
from .db import write_transaction
from .tax import invoices as tax_invoices
from .text import clean_text

METHODS = ("cash", "qr", "credit")


def _line_numbers(raw_lines: Any, line_count: int) -> list[tuple[int, Any]]:
    if not isinstance(raw_lines, list) or not raw_lines:
        raise InvalidInput(_l("Say which lines are given back."), field="lines",
                           code="empty_refund")
    if len(raw_lines) > line_count:
        raise InvalidInput(_l("Each line of the sale can be given back once per refund."),
                           field="lines")
    chosen: list[tuple[int, Any]] = []
    for index, raw in enumerate(raw_lines):
        field = f"lines[{index}]"
        if not isinstance(raw, dict) or set(raw) - {"line", "quantity"} or "line" not in raw:
            raise InvalidInput(_l("A refund line is {\"line\": N, \"quantity\": Q}."), field=field)
        number = raw["line"]
        if isinstance(number, str):
            try:
                number = whole_number(number)
            except NumberRefused:
                number = None
        if isinstance(number, bool) or not isinstance(number, int) or not 1 <= number <= line_count:
            raise InvalidInput(_l("There is no line %(n)s in this sale.", n=str(raw["line"])[:12]),
                               field=f"{field}.line", code="unknown_line")
        if any(number == seen for seen, _ in chosen):
            raise InvalidInput(_l("Each line of the sale can be given back once per refund."),
                               field=f"{field}.line")
        chosen.append((number, raw.get("quantity")))
    return chosen


def _payments(raw: Any, total: int) -> list[dict[str, Any]]:
    """How the money goes back; a single payment may leave out its amount (the whole refund),
    since what a part of a weighed line gives back is computed here."""
    if not isinstance(raw, list) or not 1 <= len(raw) <= len(METHODS):
        raise InvalidInput(_l("Say how the money goes back: cash or transfer."), field="payments")
    payments = []
    for index, item in enumerate(raw):
        field = f"payments[{index}]"
        if not isinstance(item, dict) or set(item) - {"method", "amount"}:
            raise InvalidInput(_l("Each payment must be an object."), field=field)
        if item.get("method") not in METHODS:
            raise InvalidInput(_l("Unknown payment method. Use cash, qr or credit."),
                               field=f"{field}.method", code="unknown_payment_method")
        if "amount" not in item and len(raw) == 1:   # one way back: all of it, as computed here
            payments.append({"method": item["method"], "amount": total})
            continue
        payments.append({"method": item["method"],
                         "amount": parse_amount(item.get("amount"), field=f"{field}.amount",
                                                allow_zero=False)})
    require_payments_add_up(payments, total)
    return payments


def _credit_back(conn: sqlite3.Connection, sale_seq: int, payments: list[dict[str, Any]]) -> None:
    """A refund to credit lowers the debt of the customer the sale was put on, never by more
    than was put on credit (earlier refunds counted)."""
    for payment in payments:
        if payment["method"] != "credit":
            continue
        row = conn.execute("SELECT customer_id, amount FROM payments WHERE sale_seq = ?"
                           " AND method = 'credit'", (sale_seq,)).fetchone()
        if row is None:
            raise InvalidInput(_l("This sale was not on credit: give the money back in cash or"
                                  " by transfer."), field="payments", code="not_on_credit")
        given = conn.execute("SELECT IFNULL(SUM(credit), 0) FROM refunds WHERE sale_seq = ?",
                             (sale_seq,)).fetchone()[0]
        if payment["amount"] > row["amount"] - given:
            raise Conflict(_l("Only %(left)s ₫ of this sale is still on credit.",
                              left=format_number(row['amount'] - given)),
                           field="payments", code="over_refund")
        payment["customer_id"] = row["customer_id"]


def refund_sale(conn: sqlite3.Connection, device_id: str, sale_id: str, request: Any,
                refunded_by: str) -> dict[str, Any]:
    """Give back part of a sale: one `refund` entry (and in MTT mode its adjustment invoice)."""
    if not isinstance(request, dict):
        raise InvalidInput(_l("The refund must be a JSON object."))
    unknown = sorted(set(request) - {"lines", "payments", "reason"})
    if unknown:
        raise InvalidInput(_l("Unknown field: %(name)s", name=unknown[0]), field=unknown[0])
    reason = clean_text(request.get("reason"), field="reason", label=_l("Reason"),
                        max_length=limits.REASON_CHARS)
    with write_transaction(conn):
        sale = conn.execute("SELECT * FROM sales WHERE id = ?", (sale_id,)).fetchone()
        if sale is None:
            raise NotFound(_l("No sale with this id."), code="unknown_sale")
        if sale["voided_seq"] is not None:
            raise Conflict(_l("This sale was voided: there is nothing to give back."),
                           code="sale_voided")
        sale_payload = journal.get(conn, sale["seq"]).payload
        sold = sale_payload["lines"]
        net = net_line_amounts(sale_payload)
        before = {row["line_no"]: (row["quantity"], row["amount"]) for row in conn.execute(
            "SELECT l.line_no, SUM(l.quantity_milli) AS quantity, SUM(l.amount) AS amount"
            " FROM refund_lines l JOIN refunds r ON r.seq = l.refund_seq"
            " WHERE r.sale_seq = ? GROUP BY l.line_no", (sale["seq"],))}
        lines = []
        for number, raw_quantity in _line_numbers(request.get("lines"), len(sold)):
            line, field = sold[number - 1], f"lines[{len(lines)}].quantity"
            given_q, given_amount = before.get(number, (0, 0))
            left = line["quantity_milli"] - given_q
            quantity = left if raw_quantity is None else parse_quantity(raw_quantity, field=field)
            if left <= 0 or quantity > left:
                raise Conflict(_l("Only %(left)s %(unit)s of %(name)s is left to give back.",
                                  left=quantity_text(max(left, 0)), unit=line["unit"],
                                  name=line["name"]), field=field, code="over_refund")
            if quantity == left:   # the rest: exactly what is left of its amount
                amount = net[number - 1] - given_amount
            else:
                amount = min((net[number - 1] * quantity + line["quantity_milli"] // 2)
                             // line["quantity_milli"], net[number - 1] - given_amount)
            lines.append({"line": number, "product_id": line.get("product_id"),
                          "name": line["name"], "unit": line["unit"], "quantity_milli": quantity,
                          "unit_price": line["unit_price"], "amount": amount})
        total = sum(line["amount"] for line in lines)
        if total <= 0:
            raise Conflict(_l("Nothing is left to give back for these lines."),
                           field="lines", code="over_refund")
        payments = _payments(request.get("payments"), total)
        _credit_back(conn, sale["seq"], payments)
        at = utc_timestamp()
        payload = {"sale_id": sale_id, "sale_seq": sale["seq"], "sale_number": sale["number"],
                   "business_day": current_business_day(conn, at), "total": total,
                   "lines": lines, "payments": payments, "reason": reason,
                   "refunded_by": refunded_by}
        entry = journal.append(conn, device_id, "refund", payload, at=at)
        projections.project(conn, entry)
        invoice = tax_invoices.invoice_for_sale(conn, sale_id)
        adjustment = None
        if invoice is not None:
            adjustment = tax_invoices.write_correction(
                conn, device_id, invoice["code"], tax_invoices.check_correction({
                    "type": "adjustment", "reason": reason,
                    "lines": [{"name": f"Trả lại {line['name']}"[:limits.NAME_CHARS],
                               "amount": -line["amount"], "unit": line["unit"],
                               "quantity": quantity_text(line["quantity_milli"]),
                               "unit_price": line["unit_price"]}
                              for line in lines if line["amount"]]}),   # 0 ₫ changes nothing
                refunded_by)
    return refund_answer(entry, adjustment)


def refund_answer(entry: Any, adjustment_code: str | None = None) -> dict[str, Any]:
    """The API's shape of a refund entry (DESIGN.md: id, seq, sale_id, total, lines, payments,
    hash), with its adjustment invoice's code in MTT mode."""
    p = entry.payload
    answer = {"id": entry.id, "seq": entry.seq, "sale_id": p["sale_id"],
              "business_day": p["business_day"], "at": entry.at, "total": p["total"],
              "reason": p["reason"],
              "lines": [{**line, "quantity": quantity_text(line["quantity_milli"])}
                        for line in p["lines"]],
              "payments": p["payments"], "hash": entry.hash}
    if adjustment_code:
        answer["invoice_code"] = adjustment_code
    return answer


def left_to_give(sale: dict[str, Any], given: list[dict[str, Any]]) -> list[int]:
    """What each line of `sale` can still give back (thousandths), after the refunds `given`."""
    back: dict[int, int] = {}
    for refund in given:
        for line in refund["lines"]:
            back[line["line"]] = back.get(line["line"], 0) + line["quantity_milli"]
    return [max(line["quantity_milli"] - back.get(number, 0), 0)
            for number, line in enumerate(sale["lines"], start=1)]


def refunds_of(conn: sqlite3.Connection, sale_seq: int) -> list[dict[str, Any]]:
    """A sale's refunds, oldest first."""
    return [refund_answer(journal.get(conn, row[0])) for row in conn.execute(
        "SELECT seq FROM refunds WHERE sale_seq = ? ORDER BY seq", (sale_seq,))]
