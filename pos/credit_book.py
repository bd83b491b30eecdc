"""The credit book (sổ nợ): regular buyers who take goods now and pay at the end of the week.

A customer is a `customer` journal entry (created or changed); a credit sale is a sale with a
payment `{"method": "credit", "customer_id"}`; a repayment ("Trả nợ") is a `credit_payment`
entry, in cash into the drawer or by a VietQR transfer (pos/qrpay.py); voiding or refunding a
credit sale lowers the debt (pos/projections.py writes `credit_moves` and each balance). So the
book is as durable, verifiable and recoverable as the sales.

Names, phones and notes are personal data: the entries carry them sealed with the vendor's key
(pos/personal_data.py), so the province stores ciphertext; the `customers` table on the stall
holds them in clear for search. Balances are checked inside the write transaction, so two
repayments sent at once cannot both pass.
"""
from __future__ import annotations

import re
import sqlite3
from typing import Any

from flask_babel import lazy_gettext as _l

from . import journal, limits, personal_data, projections
from .business_days import current_business_day
from .db import write_transaction
from .text import clean_text, fold
from sync.errors import Conflict, Forbidden, InvalidInput, NotFound
from sync.money import format_number, parse_amount
from sync.numbers import NumberRefused, whole_number
from sync.protocol import Entry, utc_timestamp

_CUSTOMER_KEYS = {"name", "phone", "note", "credit_limit", "active"}
_PHONE = re.compile(r"^\+?[0-9]{8,15}$")
REPAYMENT_METHODS = ("cash",)   # by transfer: a QR code first (pos/qrpay.py create_repayment)


def customer_id_of(raw: Any, field: str = "customer_id") -> int:
    """A customer number from a request, or InvalidInput."""
    value = raw
    if isinstance(value, str):
        try:
            value = whole_number(value)
        except NumberRefused:
            value = None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value < 2**53:
        raise InvalidInput(_l("Say which customer: her number in the credit book."), field=field,
                           code="bad_customer")
    return value


def _phone(raw: Any) -> str | None:
    text = clean_text(raw, field="phone", label=_l("Phone"), max_length=20, required=False)
    if not text:
        return None
    digits = re.sub(r"[ .\-()]", "", text)
    if not _PHONE.match(digits):
        raise InvalidInput(_l("A phone number has 8 to 15 digits, such as 0912 345 678."),
                           field="phone", code="bad_phone")
    return digits


def _limit(raw: Any) -> int | None:
    if raw is None or raw == "":
        return None
    return parse_amount(raw, field="credit_limit")


def clean_customer(raw: Any, current: dict[str, Any] | None = None) -> dict[str, Any]:
    """A customer's fields from a request: the whole of a new one, or the changes of `current`."""
    if not isinstance(raw, dict):
        raise InvalidInput(_l("The customer must be a JSON object."))
    unknown = sorted(set(raw) - _CUSTOMER_KEYS)
    if unknown:
        raise InvalidInput(_l("Unknown field: %(name)s", name=unknown[0]), field=unknown[0])
    out = dict(current or {"phone": None, "note": None, "credit_limit": None, "active": True})
    if current is None or "name" in raw:
        out["name"] = clean_text(raw.get("name"), field="name", label=_l("Customer's name"),
                                 max_length=limits.BUYER_NAME_CHARS)
    if "phone" in raw:
        out["phone"] = _phone(raw["phone"])
    if "note" in raw:
        out["note"] = clean_text(raw["note"], field="note", label=_l("Note"),
                                 max_length=limits.REASON_CHARS, required=False) or None
    if "credit_limit" in raw:
        out["credit_limit"] = _limit(raw["credit_limit"])
    if "active" in raw:
        if not isinstance(raw["active"], bool):
            raise InvalidInput(_l("active is true or false."), field="active")
        out["active"] = raw["active"]
    return out


def _write_customer(conn: sqlite3.Connection, device_id: str, customer_id: int,
                    fields: dict[str, Any]) -> Entry:
    """The `customer` entry: personal data sealed, the rest as is (inside the caller's write
    transaction)."""
    sealed = {key: personal_data.seal(conn, fields[key]) if fields.get(key) else None
              for key in ("name", "phone", "note")}
    entry = journal.append(conn, device_id, "customer", {
        "customer_id": customer_id, **sealed, "credit_limit": fields["credit_limit"],
        "active": bool(fields["active"])})
    projections.project(conn, entry)
    return entry


def create_customer(conn: sqlite3.Connection, device_id: str, request: Any) -> dict[str, Any]:
    """A new customer (name, phone and note optional, credit limit optional)."""
    fields = clean_customer(request)
    with write_transaction(conn):
        customer_id = conn.execute("SELECT IFNULL(MAX(id), 0) + 1 FROM customers").fetchone()[0]
        _write_customer(conn, device_id, customer_id, fields)
    return get_customer(conn, customer_id, entries=False)


def update_customer(conn: sqlite3.Connection, device_id: str, customer_id: int,
                    request: Any) -> dict[str, Any]:
    """Change a customer's name, phone, note, limit or whether she is shown in the picker."""
    with write_transaction(conn):
        row = require_customer(conn, customer_id)
        fields = clean_customer(request, {key: row[key] for key in
                                          ("name", "phone", "note", "credit_limit")}
                                | {"active": bool(row["active"])})
        _write_customer(conn, device_id, customer_id, fields)
    return get_customer(conn, customer_id, entries=False)


def require_customer(conn: sqlite3.Connection, customer_id: int,
                     field: str = "customer_id") -> sqlite3.Row:
    row = conn.execute("SELECT * FROM customers WHERE id = ?", (customer_id,)).fetchone()
    if row is None:
        raise NotFound(_l("There is no customer %(id)s in the credit book.", id=customer_id),
                       field=field, code="unknown_customer")
    return row


def _answer(row: sqlite3.Row) -> dict[str, Any]:
    return {"id": row["id"], "name": row["name"], "phone": row["phone"], "note": row["note"],
            "credit_limit": row["credit_limit"], "active": bool(row["active"]),
            "balance": row["balance"], "owing_since": row["owing_since"]}


def get_customer(conn: sqlite3.Connection, customer_id: int, *, entries: bool = True,
                 limit: int = 200) -> dict[str, Any]:
    """A customer with her balance and, newest first, her history of credit sales, repayments,
    voids and refunds."""
    answer = _answer(require_customer(conn, customer_id))
    if entries:
        answer["entries"] = [
            {"seq": row["seq"], "kind": row["kind"], "amount": row["amount"],
             "method": row["method"], "at": row["at"], "business_day": row["business_day"],
             "sale_id": row["sale_id"], "sale_number": row["sale_number"]}
            for row in conn.execute(
                "SELECT m.*, s.id AS sale_id, s.number AS sale_number FROM credit_moves m"
                " LEFT JOIN sales s ON s.seq = m.sale_seq WHERE m.customer_id = ?"
                " ORDER BY m.seq DESC LIMIT ?", (customer_id, limit))]
    return answer


def find_customers(conn: sqlite3.Connection, query: Any = None, limit: int = 30
                   ) -> list[dict[str, Any]]:
    """Customers whose name (without diacritics: `lan` finds `Lân`) or phone matches, those who
    owe first; without a query, the most recently seen."""
    text = query if isinstance(query, str) else ""
    words = fold(text[:100]).split()
    digits = re.sub(r"\D", "", text[:100])
    where, args = ["active = 1"], []
    for word in words:
        where.append("(search_key LIKE ? ESCAPE '\\' OR phone LIKE ?)")
        escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        args += [f"%{escaped}%", f"%{digits}%" if digits and word.isdigit() else "\x00"]
    rows = conn.execute(
        f"SELECT * FROM customers WHERE {' AND '.join(where)}"
        " ORDER BY balance > 0 DESC, entry_seq DESC LIMIT ?", (*args, limit))
    return [_answer(row) for row in rows]


def debtors(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    """Everyone who owes, the oldest debt first."""
    return [_answer(row) for row in conn.execute(
        "SELECT * FROM customers WHERE balance > 0 ORDER BY owing_since, id")]


def check_credit(conn: sqlite3.Connection, payments: list[dict[str, Any]], owner: bool) -> None:
    """A sale's credit payment names a known, shown customer; beyond her limit it needs the
    owner (Forbidden owner_required for a helper)."""
    for index, payment in enumerate(payments):
        if payment["method"] != "credit":
            continue
        field = f"payments[{index}].customer_id"
        row = require_customer(conn, payment["customer_id"], field=field)
        if not row["active"]:
            raise Conflict(_l("This customer is hidden from the credit book."), field=field,
                           code="customer_hidden")
        limit = row["credit_limit"]
        if limit is not None and row["balance"] + payment["amount"] > limit and not owner:
            raise Forbidden(_l("This puts %(name)s above her credit limit: the owner's PIN is"
                               " needed.", name=row["name"]), field=field,
                            code="owner_required")


def check_repayment_shape(request: Any) -> None:
    """A repayment request is `{"method": ..., "amount": ...}` and nothing else."""
    if not isinstance(request, dict) or set(request) - {"method", "amount"}:
        raise InvalidInput(_l("A repayment has a method and an amount."), code="bad_repayment")


def refuse_over_payment(customer: sqlite3.Row, amount: int) -> None:
    """She cannot pay back more than she owes (409 over_payment), in cash or by transfer."""
    if amount > customer["balance"]:
        raise Conflict(_l("%(name)s owes %(balance)s ₫: she cannot pay back more.",
                          name=customer["name"],
                          balance=format_number(max(customer["balance"], 0))),
                       field="amount", code="over_payment")


def repay(conn: sqlite3.Connection, device_id: str, customer_id: int, request: Any,
          received_by: str, *, qr: dict[str, Any] | None = None) -> dict[str, Any]:
    """Record a repayment: `{"method": "cash", "amount": N}` (a transfer comes through `qr`, the
    reference and who confirmed it, pos/qrpay.py). More than she owes is refused (409
    over_payment), checked under the write lock."""
    check_repayment_shape(request)
    method = request.get("method", "cash")
    if method not in (("qr",) if qr else REPAYMENT_METHODS):
        raise InvalidInput(_l("Pay back in cash here; by transfer, show the QR code first."),
                           field="method", code="unknown_payment_method")
    amount = parse_amount(request.get("amount"), field="amount", allow_zero=False)
    with write_transaction(conn):
        entry = write_repayment(conn, device_id, customer_id, method, amount, received_by, qr)
    return repayment_answer(conn, entry)


def write_repayment(conn: sqlite3.Connection, device_id: str, customer_id: int, method: str,
                    amount: int, received_by: str, qr: dict[str, Any] | None = None, *,
                    allow_over: bool = False) -> Entry:
    """The `credit_payment` entry, inside the caller's write transaction. `allow_over`: money
    the bank reports arrived is recorded even above the debt (the stall then owes her)."""
    row = require_customer(conn, customer_id)
    if not allow_over:
        refuse_over_payment(row, amount)
    at = utc_timestamp()
    payload: dict[str, Any] = {"customer_id": customer_id, "amount": amount, "method": method,
                               "balance_after": row["balance"] - amount,
                               "business_day": current_business_day(conn, at),
                               "received_by": received_by}
    if qr:
        payload.update(reference=qr["reference"], confirmed_by=qr.get("confirmed_by", "vendor"))
    entry = journal.append(conn, device_id, "credit_payment", payload, at=at)
    projections.project(conn, entry)
    return entry


def repayment_answer(conn: sqlite3.Connection, entry: Entry) -> dict[str, Any]:
    p = entry.payload
    return {"id": entry.id, "seq": entry.seq, "customer_id": p["customer_id"],
            "amount": p["amount"], "method": p["method"], "balance": p["balance_after"],
            "business_day": p["business_day"], "at": entry.at, "hash": entry.hash,
            **({"reference": p["reference"]} if p.get("reference") else {})}


def day_figures(conn: sqlite3.Connection, day: str) -> dict[str, Any]:
    """The day's credit book for X/Z: sales put on credit (revenue, not cash) and repayments."""
    sales = conn.execute(
        "SELECT COUNT(*), IFNULL(SUM(p.amount), 0) FROM payments p JOIN sales s"
        " ON s.seq = p.sale_seq WHERE s.business_day = ? AND s.voided_seq IS NULL"
        " AND p.method = 'credit'", (day,)).fetchone()
    repaid = {row[0]: (row[1], row[2]) for row in conn.execute(
        "SELECT method, COUNT(*), SUM(-amount) FROM credit_moves WHERE business_day = ?"
        " AND kind = 'repayment' GROUP BY method", (day,))}
    cash, qr = repaid.get("cash", (0, 0)), repaid.get("qr", (0, 0))
    return {"sales": {"count": sales[0], "amount": sales[1]},
            "repaid": {"count": cash[0] + qr[0], "amount": cash[1] + qr[1], "cash": cash[1],
                       "qr": qr[1]}}
