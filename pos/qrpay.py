"""QR transfers at the stall: a code on screen, then the vendor (or the bank) confirms the money.

"Chuyển khoản" creates a *pending* payment: the sale request is checked (exactly as it would be
recorded), a payment reference is taken (`SAP12 0457`) and a dynamic VietQR code is built for the
QR part of the amount. Nothing is journalled yet, so cancelling records nothing; the pending row
is in SQLite, so it survives a restart. "Đã nhận tiền" records the sale with that reference in
one transaction (`confirm`); a bank notification with the reference and the exact amount records
it too (pos/bankcheck.py). Fake "transfer successful" screens are why the screen asks the vendor
to look at *her* bank's message and shows the reference large.
"""
from __future__ import annotations

import json
import sqlite3
import uuid
from typing import Any

from flask_babel import lazy_gettext as _l

from . import bank_accounts, credit_book, journal, sales, vietqr
from .qr_references import next_reference
from sync.money import parse_amount
from .db import write_transaction
from sync.errors import Conflict, InvalidInput, NotFound
from sync.protocol import utc_timestamp

STATES = ("pending", "recorded", "cancelled")


def _qr_part(payments: list[dict[str, Any]]) -> int:
    qr = [p for p in payments if p["method"] == "qr"]
    if len(qr) != 1:
        raise InvalidInput(_l("A QR code is for exactly one transfer payment."),
                           field="payments", code="one_qr_payment")
    return qr[0]["amount"]


def create(conn: sqlite3.Connection, request: Any, created_by: str, *, owner: bool = True
           ) -> dict[str, Any]:
    """Show a code for this sale: check it, take a reference, store it as pending. Who may give
    its price cuts is checked here (`owner`); recording it later, by the vendor's tap or the
    bank's notification, does not ask again."""
    checked = sales.prepare_sale(conn, request, owner=owner)
    return _store(conn, _qr_part(checked["payments"]), checked["total"], request, created_by)


def create_repayment(conn: sqlite3.Connection, customer_id: int, request: Any,
                     created_by: str) -> dict[str, Any]:
    """A code for a customer's repayment by transfer ("Trả nợ"): recorded, as a
    `credit_payment`, when the vendor or the bank confirms the money (never above her debt)."""
    credit_book.check_repayment_shape(request)
    amount = parse_amount(request.get("amount"), field="amount", allow_zero=False)
    credit_book.refuse_over_payment(credit_book.require_customer(conn, customer_id), amount)
    return _store(conn, amount, amount, {"repayment": {"customer_id": customer_id,
                                                       "amount": amount}},
                  created_by, customer_id=customer_id)


def _store(conn: sqlite3.Connection, amount: int, total: int, request: Any, created_by: str,
           customer_id: int | None = None) -> dict[str, Any]:
    account = bank_accounts.default_account(conn)
    if account is None:
        raise Conflict(_l("Set up the bank account that receives transfers first"
                          " (Settings → Bank account)."), code="no_bank_account")
    if amount > vietqr.MAX_AMOUNT:
        raise InvalidInput(_l("A bank transfer must be under 500,000,000 ₫."),
                           field="payments", code="amount_too_large")
    pending_id = str(uuid.uuid4())
    with write_transaction(conn):
        reference = next_reference(conn)
        payload = vietqr.encode(account["bank_bin"], account["account"], amount, reference,
                                card=account["is_card"])
        conn.execute(
            "INSERT INTO qr_pending (id, reference, amount, total, request, bank_bin, account,"
            " holder, payload, created_at, created_by, customer_id)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (pending_id, reference, amount, total,
             json.dumps(request, default=str, ensure_ascii=False),
             account["bank_bin"], account["account"], account["holder"], payload,
             utc_timestamp(), created_by, customer_id))
    return get(conn, pending_id)


def _row(conn: sqlite3.Connection, pending_id: str) -> sqlite3.Row:
    row = conn.execute("SELECT * FROM qr_pending WHERE id = ?", (pending_id,)).fetchone()
    if row is None:
        raise NotFound(_l("No such QR payment."), code="unknown_qr_payment")
    return row


def get(conn: sqlite3.Connection, pending_id: str) -> dict[str, Any]:
    """A pending (or finished) QR payment, with what the bank said about it so far."""
    row = _row(conn, pending_id)
    bank = vietqr.load_banks().get(row["bank_bin"])
    request = json.loads(row["request"])
    checks = [dict(c) for c in conn.execute(
        "SELECT state, reason, bank_amount, expected, at FROM bank_checks WHERE reference = ?"
        " AND at >= ? ORDER BY seq", (row["reference"], row["created_at"]))]
    return {"id": row["id"], "reference": row["reference"], "amount": row["amount"],
            "total": row["total"], "state": row["state"], "sale_id": row["sale_id"],
            "bank_bin": row["bank_bin"], "bank_name": bank.short_name if bank else row["bank_bin"],
            "account": row["account"], "holder": row["holder"], "payload": row["payload"],
            "created_at": row["created_at"], "request": request,
            "parked": row["parked_at"] is not None,
            "customer_id": row["customer_id"],
            "mismatch": next((c for c in reversed(checks) if c["state"] == "mismatch"), None),
            "bank_confirmed": any(c["state"] == "bank_confirmed" for c in checks)}


def list_pending(conn: sqlite3.Connection, customer_id: int | None = None
                 ) -> list[dict[str, Any]]:
    """Codes still waiting for the money, newest first: a sale's (the sell screen's), or those
    of one customer's repayments."""
    return [get(conn, row["id"]) for row in conn.execute(
        "SELECT id FROM qr_pending WHERE state = 'pending' AND customer_id IS ?"
        " ORDER BY created_at DESC, rowid DESC", (customer_id,))]


def record_pending(conn: sqlite3.Connection, device_id: str, row: sqlite3.Row,
                   confirmed_by: str) -> str | None:
    """Record the pending payment's sale (its id), or repayment (None), inside the caller's
    write transaction. Money the bank reports is recorded even if the debt shrank meanwhile."""
    if row["customer_id"] is not None:
        entry = credit_book.write_repayment(
            conn, device_id, row["customer_id"], "qr", row["amount"], "bank"
            if confirmed_by == "bank" else row["created_by"],
            {"reference": row["reference"], "confirmed_by": confirmed_by},
            allow_over=confirmed_by == "bank")
        conn.execute("UPDATE qr_pending SET state = 'recorded', credit_seq = ? WHERE id = ?",
                     (entry.seq, row["id"]))
        return None
    sale_id = sales.write_sale(conn, device_id, json.loads(row["request"]), row["created_by"],
                               qr={"reference": row["reference"], "bank_bin": row["bank_bin"],
                                   "account": row["account"], "confirmed_by": confirmed_by}).id
    conn.execute("UPDATE qr_pending SET state = 'recorded', sale_id = ? WHERE id = ?",
                 (sale_id, row["id"]))
    return sale_id


def confirm(conn: sqlite3.Connection, device_id: str, pending_id: str) -> tuple[dict[str, Any],
                                                                                 bool]:
    """The vendor saw the money arrive: record the sale. Returns (sale, created); confirming twice
    (a double tap, a retried request) gives the same sale, never a second one."""
    with write_transaction(conn):
        row = _row(conn, pending_id)
        if row["state"] == "cancelled":
            raise Conflict(_l("This QR payment was cancelled."), code="qr_cancelled")
        if row["state"] == "recorded":
            sale_id, created = row["sale_id"], False
        else:
            sale_id, created = record_pending(conn, device_id, row, "vendor"), True
        if row["customer_id"] is not None:   # a repayment: the `credit_payment` it recorded
            seq = conn.execute("SELECT credit_seq FROM qr_pending WHERE id = ?",
                               (pending_id,)).fetchone()[0]
            return credit_book.repayment_answer(conn, journal.get(conn, seq)), created
    return sales.get_sale(conn, sale_id), created


def cancel(conn: sqlite3.Connection, pending_id: str) -> dict[str, Any]:
    """The buyer will not pay by transfer: drop the code; nothing is recorded."""
    with write_transaction(conn):
        row = _row(conn, pending_id)
        if row["state"] == "recorded":
            raise Conflict(_l("This payment is already recorded as a sale."),
                           code="qr_recorded")
        conn.execute("UPDATE qr_pending SET state = 'cancelled' WHERE id = ?", (pending_id,))
    return get(conn, pending_id)


def set_parked(conn: sqlite3.Connection, pending_id: str, parked: bool) -> dict[str, Any]:
    """Set a pending code aside, or bring it back; a code no longer pending is 409."""
    with write_transaction(conn):
        row = _row(conn, pending_id)
        if row["state"] != "pending":
            raise Conflict(_l("This QR payment is no longer waiting."), code="qr_not_pending")
        conn.execute("UPDATE qr_pending SET parked_at = ? WHERE id = ?",
                     (utc_timestamp() if parked else None, pending_id))
    return get(conn, pending_id)


def static_payload(account: dict[str, Any]) -> str:
    """The stall's reusable code (no amount): the buyer types the amount in her bank app."""
    return vietqr.encode(account["bank_bin"], account["account"], card=account["is_card"])
