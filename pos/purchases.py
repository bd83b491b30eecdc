"""Buying from growers (issue 19) and the stock it makes.

A purchase is a `purchase` journal entry: the grower, the lines bought (each a product of the
stall) and how she was paid, in cash out of the drawer or by transfer. Cash paid to growers
counts as cash out in X/Z (pos/daybook.py). A count ("Kiểm kho") is a `stock_count` entry: what
the vendor counted or weighed becomes the stock, the difference a stock move. pos/projections.py
writes `purchases`, `suppliers`, `stock`, `stock_moves` and `stock_counts` from them in the same
transaction, so the stock is as durable and recoverable as the sales.

Decisions:

- **The grower is personal data.** Her name, ID number (Số căn cước), address and phone travel
  sealed with the vendor's key (pos/personal_data.py); the `suppliers` table on the stall holds
  them in clear for the purchase list (02/TNDN). The province stores ciphertext only.
- **A line of a new product creates the product**, by a `product` entry (pos/catalog.py
  write_product) in the purchase's own transaction, just before the `purchase` entry. Stock needs
  a product: a free line would be goods the stall holds but cannot count, sell from stock or
  show in a margin report. A new line whose folded name and unit match a product already in the
  list is that product. The new product has no selling price yet: it is created hidden from the
  sell screen (price 0, not on sale) unless the line gives its selling `price`; the vendor sets
  it in Hàng hóa.
- **Tracking**: a product is tracked from its first purchase or count. Sales before that took
  nothing from stock, so a void of such a sale puts nothing back; refunds of a tracked product
  put the goods back whenever the sale was. An untracked product has no stock figure at all
  (`on_hand` null), never a negative one.
- **Selling never waits for stock.** A sale of more than the tracked stock is recorded as any
  other; the figure goes below zero and `GET /api/stock` marks the product `short` (the screen
  shows it and asks for a count). Market stalls weigh by hand and buy at dawn before anything
  is entered: blocking the queue on a stale figure would cost more than a wrong number.
- **Cash limit**: a listed purchase counts as a cost only if a day's purchases from one grower
  of 5,000,000 đ or more are not paid in cash (Decree 320/2025 Art. 9, docs/research/
  purchase_list.md): the answer carries a warning when the grower's cash for the day reaches it.
"""
from __future__ import annotations

import re
import sqlite3
from typing import Any

from flask_babel import lazy_gettext as _l

from . import catalog, journal, limits, personal_data, projections
from .business_days import current_business_day
from .db import write_transaction
from .sales import require_payments_add_up
from .text import clean_text, fold
from sync.errors import InvalidInput, NotFound
from sync.money import format_number, line_amount, parse_amount, parse_quantity, quantity_text
from sync.numbers import MAX_AMOUNT
from sync.protocol import utc_timestamp

PAYMENT_METHODS = ("cash", "qr")
CASH_LIMIT = 5_000_000          # đồng a day from one grower, at or above it: pay by transfer
_SUPPLIER_KEYS = {"name", "id_number", "address", "phone"}
_LINE_KEYS = {"product_id", "name", "unit", "quantity", "unit_price", "price"}
_PHONE = re.compile(r"^\+?[0-9]{8,15}$")
_ID_NUMBER = re.compile(r"^[0-9]{12}$")
_ZERO = re.compile(r"^0+(\.0{1,3})?$")


def _object(raw: Any, field: str, message: Any, allowed: set[str]) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise InvalidInput(message, field=field)
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise InvalidInput(_l("Unknown field: %(name)s", name=unknown[0]),
                           field=f"{field}.{unknown[0]}" if field else unknown[0])
    return raw


def _list(raw: Any, field: str, empty: Any, most: int) -> list[Any]:
    if not isinstance(raw, list) or not raw:
        raise InvalidInput(empty, field=field)
    if len(raw) > most:
        raise InvalidInput(_l("Too many lines (at most %(most)s).", most=most), field=field)
    return raw


def clean_supplier(raw: Any) -> dict[str, str | None]:
    """The grower from a request: a name; the ID number (12 digits), address and phone if
    given."""
    raw = _object(raw, "supplier", _l("Say who sold the goods: the grower's name."),
                  _SUPPLIER_KEYS)
    out: dict[str, str | None] = {
        "name": clean_text(raw.get("name"), field="supplier.name", label=_l("Grower's name"),
                           max_length=limits.BUYER_NAME_CHARS)}
    id_number = clean_text(raw.get("id_number"), field="supplier.id_number",
                           label=_l("ID number"), max_length=20, required=False)
    id_number = id_number.replace(" ", "")
    if id_number and not _ID_NUMBER.match(id_number):
        raise InvalidInput(_l("An ID number (Số căn cước) has 12 digits."),
                           field="supplier.id_number", code="bad_id_number")
    out["id_number"] = id_number or None
    out["address"] = clean_text(raw.get("address"), field="supplier.address",
                                label=_l("Address"), max_length=limits.BUYER_ADDRESS_CHARS,
                                required=False) or None
    phone = clean_text(raw.get("phone"), field="supplier.phone", label=_l("Phone"),
                       max_length=20, required=False)
    digits = re.sub(r"[ .\-()]", "", phone)
    if digits and not _PHONE.match(digits):
        raise InvalidInput(_l("A phone number has 8 to 15 digits, such as 0912 345 678."),
                           field="supplier.phone", code="bad_phone")
    out["phone"] = digits or None
    return out


def _product_id(raw: Any, field: str) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int) or not 1 <= raw < 2**53:
        raise InvalidInput(_l("product_id must be a whole number."), field=field)
    return raw


def _require_product(conn: sqlite3.Connection, product_id: int, field: str) -> sqlite3.Row:
    row = conn.execute("SELECT id, name, unit FROM products WHERE id = ?",
                       (product_id,)).fetchone()
    if row is None:
        raise NotFound(_l("No product with number %(id)s.", id=product_id), field=field,
                       code="unknown_product")
    return row


def _clean_lines(raw_lines: Any) -> list[dict[str, Any]]:
    """A purchase's lines checked on their own (products are looked up under the write lock)."""
    raw_lines = _list(raw_lines, "lines", _l("A purchase needs at least one line."),
                      limits.MAX_LINES)
    lines = []
    for index, raw in enumerate(raw_lines):
        field = f"lines[{index}]"
        _object(raw, field, _l("Each line must be an object."), _LINE_KEYS)
        quantity = parse_quantity(raw.get("quantity"), field=f"{field}.quantity")
        if raw.get("unit_price") in (None, ""):
            raise InvalidInput(_l("Say the price paid per unit."), field=f"{field}.unit_price")
        unit_price = parse_amount(raw["unit_price"], field=f"{field}.unit_price",
                                  allow_zero=False)
        line: dict[str, Any] = {"quantity_milli": quantity, "unit_price": unit_price,
                                "amount": line_amount(quantity, unit_price)}
        if line["amount"] <= 0:
            raise InvalidInput(_l("The line's amount must be more than zero."),
                               field=f"{field}.quantity")
        if raw.get("product_id") is not None:
            if {"name", "unit", "price"} & set(raw):
                raise InvalidInput(_l("A line of a product in the list takes its name and unit"
                                      " from the list."), field=field)
            line["product_id"] = _product_id(raw["product_id"], f"{field}.product_id")
        else:
            line["product_id"] = None
            line["name"] = clean_text(raw.get("name"), field=f"{field}.name",
                                      label=_l("Item name"), max_length=limits.NAME_CHARS)
            line["unit"] = clean_text(raw.get("unit"), field=f"{field}.unit", label=_l("Unit"),
                                      max_length=limits.UNIT_CHARS)
            price = raw.get("price")
            line["price"] = None if price in (None, "") else parse_amount(
                price, field=f"{field}.price")
        lines.append(line)
    return lines


def _clean_payments(raw: Any, total: int) -> list[dict[str, Any]]:
    raw = _list(raw, "payments", _l("Say how the grower is paid."), limits.MAX_PAYMENTS)
    payments = []
    for index, item in enumerate(raw):
        field = f"payments[{index}]"
        _object(item, field, _l("Each payment must be an object."), {"method", "amount"})
        if item.get("method") not in PAYMENT_METHODS:
            raise InvalidInput(_l("A grower is paid in cash or by transfer (qr)."),
                               field=f"{field}.method", code="unknown_payment_method")
        # A single payment without an amount pays the whole purchase (the buying page's).
        amount = total if len(raw) == 1 and "amount" not in item else parse_amount(
            item.get("amount"), field=f"{field}.amount", allow_zero=False)
        payments.append({"method": item["method"], "amount": amount})
    require_payments_add_up(payments, total)
    return payments


def _resolve_products(conn: sqlite3.Connection, device_id: str,
                      lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each line as the payload has it: a known product's name and unit, or the product a new
    line names (one already in the list by its folded name and unit, or a new `product`)."""
    out = []
    for index, line in enumerate(lines):
        if line["product_id"] is not None:
            row = _require_product(conn, line["product_id"], f"lines[{index}].product_id")
        else:
            row = conn.execute("SELECT id, name, unit FROM products WHERE search_key = ?"
                               " AND unit = ? ORDER BY id LIMIT 1",
                               (fold(line["name"]), line["unit"])).fetchone()
            if row is None:
                clean = catalog.validate_product({
                    "name": line["name"], "unit": line["unit"], "price": line["price"] or 0,
                    "active": line["price"] is not None})
                product_id = catalog.write_product(conn, device_id, clean)
                row = _require_product(conn, product_id, f"lines[{index}]")
        out.append({"product_id": row["id"], "name": row["name"], "unit": row["unit"],
                    "quantity_milli": line["quantity_milli"],
                    "unit_price": line["unit_price"], "amount": line["amount"]})
    return out


def record_purchase(conn: sqlite3.Connection, device_id: str, request: Any,
                    bought_by: str) -> dict[str, Any]:
    """Record goods bought from a grower: `{"supplier": {...}, "lines": [...],
    "payments": [...]}`. Everything is checked before anything is written; a refusal writes
    nothing (not even a new product)."""
    request = _object(request, "", _l("The purchase must be a JSON object."),
                      {"supplier", "lines", "payments"})
    supplier = clean_supplier(request.get("supplier"))
    lines = _clean_lines(request.get("lines"))
    total = sum(line["amount"] for line in lines)
    if total > MAX_AMOUNT:
        raise InvalidInput(_l("The amount is too large."), field="lines",
                           code="total_too_large")
    payments = _clean_payments(request.get("payments"), total)
    with write_transaction(conn):
        for index, line in enumerate(lines):   # unknown products first: nothing is written
            if line["product_id"] is not None:
                _require_product(conn, line["product_id"], f"lines[{index}].product_id")
        payload_lines = _resolve_products(conn, device_id, lines)
        at = utc_timestamp()
        number = conn.execute("SELECT IFNULL(MAX(number), 0) + 1 FROM purchases").fetchone()[0]
        sealed = {f"supplier_{key}": personal_data.seal(conn, supplier[key])
                  if supplier[key] else None for key in ("name", "id_number", "address", "phone")}
        entry = journal.append(conn, device_id, "purchase", {
            "number": number, "business_day": current_business_day(conn, at), **sealed,
            "total": total, "lines": payload_lines, "payments": payments,
            "bought_by": bought_by if bought_by in ("owner", "helper") else "api"}, at=at)
        projections.project(conn, entry)
        answer = purchase_answer(conn, entry.seq)
    return answer


def purchase_with_supplier(conn: sqlite3.Connection, number: int
                           ) -> tuple[dict[str, Any], dict[str, Any]]:
    """A purchase by its number, and its grower as the stall knows her (for her slip)."""
    row = conn.execute("SELECT p.seq, s.name, s.address FROM purchases p JOIN suppliers s"
                       " ON s.id = p.supplier_id WHERE p.number = ?", (number,)).fetchone()
    if row is None:
        raise NotFound(_l("No purchase with this number."), code="unknown_purchase")
    return purchase_answer(conn, row["seq"]), {"name": row["name"], "address": row["address"]}


def purchase_answer(conn: sqlite3.Connection, seq: int) -> dict[str, Any]:
    """A recorded purchase as the API gives it, with the grower's cash warning if any."""
    row = conn.execute("SELECT p.*, j.hash FROM purchases p JOIN journal j ON j.seq = p.seq"
                       " WHERE p.seq = ?", (seq,)).fetchone()
    if row is None:
        raise NotFound(_l("No purchase with this number."), code="unknown_purchase")
    lines = [{"product_id": r["product_id"], "name": r["name"], "unit": r["unit"],
              "quantity": quantity_text(r["quantity_milli"]), "unit_price": r["unit_price"],
              "amount": r["amount"]} for r in conn.execute(
        "SELECT * FROM purchase_lines WHERE purchase_seq = ? ORDER BY line_no", (seq,))]
    payments = [{"method": r["method"], "amount": r["amount"]} for r in conn.execute(
        "SELECT method, amount FROM purchase_payments WHERE purchase_seq = ? ORDER BY line_no",
        (seq,))]
    day_cash = conn.execute("SELECT IFNULL(SUM(cash), 0) FROM purchases WHERE supplier_id = ?"
                            " AND business_day = ?",
                            (row["supplier_id"], row["business_day"])).fetchone()[0]
    warnings = []
    if row["cash"] and day_cash >= CASH_LIMIT:
        warnings.append({"code": "cash_limit", "message": str(_l(
            "This grower was paid %(amount)s ₫ in cash today: from 5.000.000 ₫ a day, pay by"
            " transfer, or the purchase cannot count as a cost.",
            amount=format_number(day_cash)))})
    return {"id": row["id"], "seq": row["seq"], "number": row["number"],
            "business_day": row["business_day"], "at": row["at"], "total": row["total"],
            "lines": lines, "payments": payments, "hash": row["hash"], "warnings": warnings}


def stock(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    """Every product on sale or tracked, with its stock: `on_hand` the exact decimal text of a
    tracked product (below zero when more was sold than recorded: `short`), null when the
    product is not tracked."""
    out = []
    for row in conn.execute(
            "SELECT p.id, p.name, p.unit, s.on_hand_milli, s.low_milli, s.tracked"
            " FROM products p LEFT JOIN stock s ON s.product_id = p.id AND s.tracked = 1"
            " WHERE p.active = 1 OR s.product_id IS NOT NULL ORDER BY p.category, p.search_key"):
        tracked = row["tracked"] == 1
        on_hand = row["on_hand_milli"] if tracked else None
        out.append({"product_id": row["id"], "name": row["name"], "unit": row["unit"],
                    "tracked": tracked,
                    "on_hand": None if on_hand is None else _signed_quantity(on_hand),
                    "short": tracked and on_hand < 0,
                    "low": tracked and row["low_milli"] is not None
                    and on_hand <= row["low_milli"]})
    return out


def _signed_quantity(milli: int) -> str:
    return ("-" if milli < 0 else "") + quantity_text(abs(milli))


def _counted(raw: Any, field: str) -> int:
    """A counted quantity: as a sale's quantity, and zero too (nothing left)."""
    try:
        return parse_quantity(raw, field=field)
    except InvalidInput:
        if not isinstance(raw, bool) and isinstance(raw, (int, str)) \
                and _ZERO.match(str(raw).strip()):
            return 0
        raise


def record_count(conn: sqlite3.Connection, device_id: str, request: Any,
                 counted_by: str) -> dict[str, Any]:
    """Record a count: `{"lines": [{"product_id", "counted": "10"}], "reason": "..."}`. Each
    counted quantity becomes the product's stock (and starts tracking it)."""
    request = _object(request, "", _l("The count must be a JSON object."), {"lines", "reason"})
    reason = clean_text(request.get("reason"), field="reason", label=_l("Reason"),
                        max_length=limits.REASON_CHARS)
    raw_lines = _list(request.get("lines"), "lines", _l("Say what was counted."),
                      limits.MAX_LINES)
    lines = []
    for index, raw in enumerate(raw_lines):
        field = f"lines[{index}]"
        _object(raw, field, _l("Each line must be an object."), {"product_id", "counted"})
        product_id = _product_id(raw.get("product_id"), f"{field}.product_id")
        if any(line["product_id"] == product_id for line in lines):
            raise InvalidInput(_l("Each product is counted once."), field=f"{field}.product_id")
        lines.append({"product_id": product_id,
                      "counted_milli": _counted(raw.get("counted"), f"{field}.counted")})
    with write_transaction(conn):
        for index, line in enumerate(lines):
            _require_product(conn, line["product_id"], f"lines[{index}].product_id")
            row = conn.execute("SELECT on_hand_milli FROM stock WHERE product_id = ?"
                               " AND tracked = 1", (line["product_id"],)).fetchone()
            line["before_milli"] = row[0] if row else None
        at = utc_timestamp()
        entry = journal.append(conn, device_id, "stock_count", {
            "business_day": current_business_day(conn, at), "reason": reason, "lines": lines,
            "counted_by": counted_by if counted_by in ("owner", "helper") else "api"}, at=at)
        projections.project(conn, entry)
    return {"seq": entry.seq, "business_day": entry.payload["business_day"], "reason": reason,
            "hash": entry.hash,
            "lines": [{"product_id": line["product_id"],
                       "counted": quantity_text(line["counted_milli"])
                       if line["counted_milli"] else "0",
                       "before": None if line["before_milli"] is None
                       else _signed_quantity(line["before_milli"]),
                       "difference": _signed_quantity(
                           line["counted_milli"] - (line["before_milli"] or 0))}
                      for line in lines]}


def day_figures(conn: sqlite3.Connection, day: str) -> dict[str, int]:
    """The day's purchases for X/Z: how many, their amount, in cash (out of the drawer) and by
    transfer."""
    row = conn.execute("SELECT COUNT(*), IFNULL(SUM(total), 0), IFNULL(SUM(cash), 0),"
                       " IFNULL(SUM(qr), 0) FROM purchases WHERE business_day = ?",
                       (day,)).fetchone()
    return {"count": row[0], "amount": row[1], "cash": row[2], "qr": row[3]}
