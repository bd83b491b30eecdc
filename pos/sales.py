"""Recording sales and voids: validate, then write the journal entry and projections atomically."""
from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping
from typing import Any

from flask_babel import lazy_gettext as _l

from . import credit_book, haggling, journal, limits, projections
from .business_days import current_business_day, day_is_closed
from .qr_references import reference_and_account
from .db import write_transaction
from sync.errors import Conflict, InvalidInput, NotFound
from sync.money import format_number, line_amount, parse_amount, parse_quantity, quantity_text
from .tax import invoices as tax_invoices
from .text import clean_text
from sync.numbers import MAX_AMOUNT
from sync.protocol import Entry, utc_timestamp
from sync.qrref import find_reference

PAYMENT_METHODS = ("cash", "qr", "credit")
_LINE_KEYS = {"product_id", "quantity", "name", "unit_price", "unit"}
_PAYMENT_KEYS = {"method", "amount", "tendered", "reference", "customer_id"}


def _require_list(value: Any, field: str, label: Any, max_items: int) -> list[Any]:
    if not isinstance(value, list):
        raise InvalidInput(_l("%(label)s must be a list.", label=label), field=field)
    if len(value) > max_items:
        raise InvalidInput(_l("Too many %(label)s (at most %(n)d).", label=label, n=max_items),
                           field=field)
    return value


def _require_object(raw: Any, field: str, not_object: Any, allowed: set[str]) -> None:
    if not isinstance(raw, dict):
        raise InvalidInput(not_object, field=field)
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise InvalidInput(_l("Unknown field: %(name)s", name=unknown[0]), field=field)


def _catalogue_rows(conn: sqlite3.Connection, raw_lines: list[Any]) -> dict[int, sqlite3.Row]:
    """The active products the lines name, in one query (the lines are checked one by one after)."""
    ids = {raw["product_id"] for raw in raw_lines if isinstance(raw, dict)
           and type(raw.get("product_id")) is int and -2**63 <= raw["product_id"] < 2**63}
    if not ids:
        return {}
    return {row["id"]: row for row in conn.execute(
        f"SELECT id, name, unit, price FROM products WHERE id IN ({', '.join('?' * len(ids))})"
        " AND active = 1", sorted(ids))}


def resolve_lines(conn: sqlite3.Connection, raw_lines: Any) -> list[dict[str, Any]]:
    """A sale's lines checked against the catalogue (names, units, list and sold prices,
    amounts), or InvalidInput; a parked cart's lines are checked the same way."""
    raw_lines = _require_list(raw_lines, "lines", _l("Lines"), limits.MAX_LINES)
    if not raw_lines:
        raise InvalidInput(_l("A sale needs at least one item."), field="lines", code="empty_sale")
    catalogue = _catalogue_rows(conn, raw_lines)
    lines = []
    for index, raw in enumerate(raw_lines):
        field = f"lines[{index}]"
        list_price = None
        _require_object(raw, field, _l("Each line must be an object."), _LINE_KEYS)
        quantity_milli = parse_quantity(raw.get("quantity"), field=f"{field}.quantity")
        if raw.get("product_id") is not None:
            product_id = raw["product_id"]
            if isinstance(product_id, bool) or not isinstance(product_id, int):
                raise InvalidInput(_l("product_id must be a whole number."), field=field)
            if {"name", "unit"} & set(raw):
                raise InvalidInput(_l("A catalogue line takes its name and unit from the"
                                      " catalogue."), field=field)
            row = catalogue.get(product_id)
            if row is None:
                raise InvalidInput(_l("Unknown or inactive product: %(id)s", id=product_id),
                                   field=f"{field}.product_id", code="unknown_product")
            name, unit, unit_price = row["name"], row["unit"], row["price"]
            if raw.get("unit_price") is not None:   # haggled: sold at another price than listed
                unit_price = parse_amount(raw["unit_price"], field=f"{field}.unit_price")
                if unit_price != row["price"]:
                    list_price = row["price"]
        else:
            product_id = None
            name = clean_text(raw.get("name"), field=f"{field}.name", label=_l("Item name"),
                              max_length=limits.NAME_CHARS)
            unit = clean_text(raw.get("unit", "cái"), field=f"{field}.unit", label=_l("Unit"),
                              max_length=limits.UNIT_CHARS)
            if raw.get("unit_price") is None:
                raise InvalidInput(_l("An item without a product needs a unit price."),
                                   field=f"{field}.unit_price")
            unit_price = parse_amount(raw.get("unit_price"), field=f"{field}.unit_price")
        line = {"line_no": index + 1, "product_id": product_id, "name": name, "unit": unit,
                "quantity_milli": quantity_milli, "unit_price": unit_price,
                "amount": line_amount(quantity_milli, unit_price)}
        if list_price is not None:
            line["list_price"] = list_price
        lines.append(line)
    return lines


def _check_payments(raw_payments: Any, total: int) -> list[dict[str, Any]]:
    raw_payments = _require_list(raw_payments, "payments", _l("Payments"), limits.MAX_PAYMENTS)
    if not raw_payments:
        raise InvalidInput(_l("Say how the buyer pays."), field="payments")
    payments = []
    for index, raw in enumerate(raw_payments):
        field = f"payments[{index}]"
        _require_object(raw, field, _l("Each payment must be an object."), _PAYMENT_KEYS)
        method = raw.get("method")
        if method not in PAYMENT_METHODS:
            raise InvalidInput(_l("Unknown payment method. Use cash, qr or credit."),
                               field=f"{field}.method", code="unknown_payment_method")
        amount = parse_amount(raw.get("amount"), field=f"{field}.amount", allow_zero=False)
        if method == "credit":   # on the customer's account in the credit book
            if raw.get("customer_id") is None:
                raise InvalidInput(_l("A sale on credit needs the customer who owes it."),
                                   field=f"{field}.customer_id", code="credit_needs_customer")
            if raw.get("tendered") is not None or raw.get("reference") is not None:
                raise InvalidInput(_l("A credit payment has only an amount and a customer."),
                                   field=field)
            if any(p["method"] == "credit" for p in payments):
                raise InvalidInput(_l("A sale goes on one customer's credit only."), field=field)
            payments.append({"method": method, "amount": amount, "customer_id":
                             credit_book.customer_id_of(raw["customer_id"],
                                                        f"{field}.customer_id")})
            continue
        if raw.get("customer_id") is not None:
            raise InvalidInput(_l("Only a credit payment names a customer."),
                               field=f"{field}.customer_id")
        payment: dict[str, Any] = {"method": method, "amount": amount}
        if method == "cash":
            tendered = raw.get("tendered")
            tendered = amount if tendered is None else parse_amount(tendered,
                                                                    field=f"{field}.tendered")
            if tendered < amount:
                raise InvalidInput(_l("The cash given is less than the amount due."),
                                   field=f"{field}.tendered", code="tendered_too_low")
            payment.update(tendered=tendered, change=tendered - amount)
        elif raw.get("tendered") is not None:
            raise InvalidInput(_l("Only cash payments have an amount tendered."),
                               field=f"{field}.tendered")
        if raw.get("reference") is not None:
            if method != "qr":
                raise InvalidInput(_l("Only QR payments have a payment reference."),
                                   field=f"{field}.reference")
            reference = raw["reference"]
            if not isinstance(reference, str) or find_reference(reference) != reference:
                raise InvalidInput(_l("A payment reference looks like SAP12 0457."),
                                   field=f"{field}.reference", code="bad_reference")
            payment["reference"] = reference
        payments.append(payment)
    require_payments_add_up(payments, total)
    return payments


def require_payments_add_up(payments: list[dict[str, Any]], total: int) -> None:
    """InvalidInput (payments_mismatch) unless the payments make exactly `total` (a sale's, or
    a refund's, pos/refunds.py)."""
    paid = sum(p["amount"] for p in payments)
    if paid != total:
        raise InvalidInput(_l("Payments (%(paid)s ₫) must add up to the total (%(total)s ₫).",
                              paid=format_number(paid), total=format_number(total)),
                           field="payments", code="payments_mismatch")


def prepare_sale(conn: sqlite3.Connection, request: Any, *, owner: bool = True
                 ) -> dict[str, Any]:
    """Check a sale request against the catalogue without writing anything: its lines, discount,
    total and payments, or InvalidInput. A QR code is shown only for a sale that would be
    accepted. `owner` is False for a helper without the owner's PIN: her price cuts and discounts
    must stay within the owner's limit (pos/haggling.py), else Forbidden."""
    if not isinstance(request, dict):
        raise InvalidInput(_l("The sale must be a JSON object."))
    unknown = sorted(set(request) - {"lines", "payments", "buyer", "discount"})
    if unknown:
        raise InvalidInput(_l("Unknown field: %(name)s", name=unknown[0]), field=unknown[0])
    lines = resolve_lines(conn, request.get("lines"))
    subtotal = sum(line["amount"] for line in lines)
    if subtotal <= 0:
        raise InvalidInput(_l("A sale must have a total above zero."), field="lines")
    if subtotal > MAX_AMOUNT:  # the payload contract's bound, which the server projects within
        raise InvalidInput(_l("The amount is too large."), field="lines", code="total_too_large")
    discount = haggling.clean_discount(request.get("discount"), subtotal)
    total = subtotal - (discount["amount"] if discount else 0)
    payments = _check_payments(request.get("payments"), total)
    haggling.check_authority(conn, lines, discount, owner)
    credit_book.check_credit(conn, payments, owner)
    return {"lines": lines, "discount": discount, "total": total, "payments": payments}


def record_sale(conn: sqlite3.Connection, device_id: str, request: Any, sold_by: str,
                qr: dict[str, Any] | None = None, *, owner: bool | None = None
                ) -> dict[str, Any]:
    """Record one sale: all its lines and payments, in one transaction, or nothing. The answer is
    the committed entry itself (`_sale_from_entry`), so the sale is not read back. `owner`
    defaults to whether the seller is anyone but a helper (see `prepare_sale`)."""
    with write_transaction(conn):
        entry = write_sale(conn, device_id, request, sold_by, qr,
                           owner=sold_by != "helper" if owner is None else owner)
    return _sale_from_entry(entry)


def write_sale(conn: sqlite3.Connection, device_id: str, request: Any, sold_by: str,
               qr: dict[str, Any] | None = None, *, owner: bool = True) -> Entry:
    """Write a sale inside the caller's write transaction; returns its journal entry.

    `qr` gives the QR payment's reference, bank and account and who confirmed it (a pending
    code's, see pos/qrpay.py); without it a QR payment gets the next reference and the default
    account, so that every QR payment can be matched against the bank's notifications.
    """
    at = utc_timestamp()  # taken under the write lock, so time order follows seq order
    day = current_business_day(conn, at)
    checked = prepare_sale(conn, request, owner=owner)
    lines, total, payments = checked["lines"], checked["total"], checked["payments"]
    for payment in payments:
        if payment["method"] == "qr":
            payment.update(_qr_details(conn, payment, qr))
    number = conn.execute("SELECT IFNULL(MAX(number), 0) + 1 FROM sales").fetchone()[0]
    payload = {"number": number, "business_day": day, "total": total, "sold_by": sold_by,
               "lines": [{k: v for k, v in line.items() if k != "line_no"} for line in lines],
               "payments": payments}
    if checked["discount"]:
        payload["discount"] = checked["discount"]
    payload.update(tax_invoices.fields_for_sale(conn, day, lines, total, request.get("buyer"),
                                                at=at))
    entry = journal.append(conn, device_id, "sale", payload, at=at)
    projections.project(conn, entry)
    return entry


def _qr_details(conn: sqlite3.Connection, payment: dict[str, Any],
                qr: dict[str, Any] | None) -> dict[str, Any]:
    """Reference, bank and account of a QR payment, and who confirmed the money arrived."""
    if qr is not None:
        details = {k: qr[k] for k in ("reference", "bank_bin", "account") if qr.get(k)}
        details["confirmed_by"] = qr.get("confirmed_by", "vendor")
        return details
    return {**reference_and_account(conn, payment.get("reference")),
            "confirmed_by": "vendor"}


def void_sale(conn: sqlite3.Connection, device_id: str, sale_id: str, reason: Any,
              voided_by: str) -> dict[str, Any]:
    """Cancel a sale with a new journal entry that references it; the original stays."""
    reason = clean_text(reason, field="reason", label=_l("Reason"),
                        max_length=limits.REASON_CHARS)
    with write_transaction(conn):
        sale = conn.execute("SELECT * FROM sales WHERE id = ?", (sale_id,)).fetchone()
        if sale is None:
            raise NotFound(_l("No sale with this id."), code="unknown_sale")
        if sale["voided_seq"] is not None:
            raise Conflict(_l("This sale is already voided."), code="already_voided")
        if day_is_closed(conn, sale["business_day"]):
            raise Conflict(_l("This day is closed (Z report); its sales can no longer be voided."),
                           code="day_closed")
        if conn.execute("SELECT 1 FROM refunds WHERE sale_seq = ?", (sale["seq"],)).fetchone():
            raise Conflict(_l("Part of this sale was given back: give back the rest instead of"
                              " voiding it."), code="has_refunds")
        entry = journal.append(conn, device_id, "void", {
            "sale_id": sale_id, "sale_seq": sale["seq"], "sale_number": sale["number"],
            "amount": sale["total"], "business_day": sale["business_day"], "reason": reason,
            "voided_by": voided_by})
        projections.project(conn, entry)
    return get_sale(conn, sale_id)


# A sale's row with its entry's hash and its MTT e-invoice code (the original invoice is written
# by a trigger from the sale's own entry, so it has the sale's seq; NULL for a plain receipt).
_SALE_ROWS = ("SELECT s.*, j.hash, t.code AS invoice_code FROM sales s"
              " JOIN journal j ON j.seq = s.seq LEFT JOIN tax_invoices t ON t.seq = s.seq")


def get_sale(conn: sqlite3.Connection, sale_id: str) -> dict[str, Any]:
    """One sale with its lines, payments, hash and void state."""
    row = conn.execute(f"{_SALE_ROWS} WHERE s.id = ?", (sale_id,)).fetchone()
    if row is None:
        raise NotFound(_l("No sale with this id."), code="unknown_sale")
    return _stored_sale(conn, row)


# A payload's payment names only the details it has; the table has a column for each.
_NO_PAYMENT_DETAILS = dict.fromkeys(("tendered", "change", "reference", "bank_bin", "account",
                                     "state"))


def _sale_from_entry(entry: Entry) -> dict[str, Any]:
    """The sale a sale entry records, as `get_sale` gives it right after it is written: the
    projections of pos/projections.py copy these same fields into the tables, a new sale is not
    voided, and a QR payment starts vendor-confirmed. Tests hold the two equal (test_api.py,
    test_qrpay.py, test_tax.py)."""
    p = entry.payload
    discount = p.get("discount") or {}
    sale = {"id": entry.id, "seq": entry.seq, "number": p["number"], "at": entry.at,
            "business_day": p["business_day"], "total": p["total"], "sold_by": p["sold_by"],
            "hash": entry.hash, "invoice_code": (p.get("invoice") or {}).get("code"),
            "discount": discount.get("amount", 0), "discount_reason": discount.get("reason")}
    lines = [{"line_no": line_no, "list_price": None, **line}
             for line_no, line in enumerate(p["lines"], start=1)]
    payments = [{**_NO_PAYMENT_DETAILS, **payment} for payment in p["payments"]]
    return _sale_dict(sale, lines, payments, None)


def _stored_sale(conn: sqlite3.Connection, row: sqlite3.Row) -> dict[str, Any]:
    """A sale from its projected rows (its lines, payments and void read here)."""
    lines = conn.execute("SELECT * FROM sale_lines WHERE sale_seq = ? ORDER BY line_no",
                         (row["seq"],))
    payments = conn.execute("SELECT * FROM payments WHERE sale_seq = ? ORDER BY line_no",
                            (row["seq"],))
    void = None
    if row["voided_seq"] is not None:
        void_entry = journal.get(conn, row["voided_seq"])
        void = {"seq": row["voided_seq"], "reason": row["void_reason"],
                "at": void_entry.at if void_entry else None}
    return _sale_dict(row, lines, payments, void)


def _sale_dict(sale: sqlite3.Row | Mapping[str, Any],
               lines: Iterable[sqlite3.Row | Mapping[str, Any]],
               payments: Iterable[sqlite3.Row | Mapping[str, Any]],
               void: dict[str, Any] | None) -> dict[str, Any]:
    """The one shape of a sale in answers, receipts and pages (rows or an entry's payload)."""
    payment_list = []
    for p in payments:
        payment = {"method": p["method"], "amount": p["amount"]}
        if p["method"] == "cash":
            payment.update(tendered=p["tendered"], change=p["change"])
        elif p["method"] == "credit":
            payment["customer_id"] = p["customer_id"]
        else:
            payment.update({k: p[k] for k in ("reference", "bank_bin", "account") if p[k]})
            payment["state"] = p["state"] or "vendor_confirmed"
        payment_list.append(payment)
    line_list = []
    for l in lines:
        line = {"line_no": l["line_no"], "product_id": l["product_id"], "name": l["name"],
                "unit": l["unit"], "quantity": quantity_text(l["quantity_milli"]),
                "quantity_milli": l["quantity_milli"], "unit_price": l["unit_price"],
                "amount": l["amount"]}
        if l["list_price"] is not None:   # haggled: the price it was listed at
            line["list_price"] = l["list_price"]
        line_list.append(line)
    answer = {"id": sale["id"], "seq": sale["seq"], "number": sale["number"], "at": sale["at"],
              "business_day": sale["business_day"], "total": sale["total"],
              "sold_by": sale["sold_by"], "status": "voided" if void else "completed",
              "void": void, "lines": line_list, "payments": payment_list, "hash": sale["hash"],
              "invoice_code": sale["invoice_code"]}
    if sale["discount"]:
        answer["discount"] = {"amount": sale["discount"], "reason": sale["discount_reason"]}
    return answer


def list_sales(conn: sqlite3.Connection, *, day: str | None = None, since_seq: int | None = None,
               limit: int = 500) -> list[dict[str, Any]]:
    """Sales of one business day (newest first) or after a sequence number (oldest first)."""
    if day is not None:
        rows = conn.execute(f"{_SALE_ROWS} WHERE s.business_day = ? ORDER BY s.number DESC"
                            " LIMIT ?", (day, limit)).fetchall()
    else:
        rows = conn.execute(f"{_SALE_ROWS} WHERE s.seq > ? ORDER BY s.seq LIMIT ?",
                            (since_seq or 0, limit)).fetchall()
    return [_stored_sale(conn, row) for row in rows]


def day_totals(conn: sqlite3.Connection, day: str) -> dict[str, int]:
    """Today's maintained counters (net of voids and refunds), without scanning the day's sales."""
    row = conn.execute("SELECT * FROM day_totals WHERE business_day = ?", (day,)).fetchone()
    keys = ("sales_count", "revenue", "cash", "qr", "credit", "voids_count", "voided_amount",
            "refunds_count", "refunded_amount")
    return {key: (row[key] if row else 0) for key in keys}
