"""What the bank says about QR payments: one rule for server notifications and statement rows.

A bank transaction (id, amount, description, time) arrives either from the provincial server
(the vendor's bank notified it; pos/sync/bank.py pulls it) or from a bank statement CSV the vendor
imports (pos/statement.py). `apply` finds the payment reference in the description and decides:

- a pending code with that reference and exactly that amount: the sale is recorded now, and the
  payment is bank-confirmed (the buyer paid; the vendor need not tap anything);
- a recorded QR payment with that reference and amount: bank-confirmed;
- a different amount (the under-payment trick: 200 đ sent for 200,000 đ), a second transfer for
  a payment the bank already confirmed, or a reference the stall does not know: a mismatch.

Each decision is one `payment_check` journal entry, so it reaches the provincial server like a
sale, and its projection (`bank_checks`) remembers the bank's transaction id: the same transaction
applied twice changes nothing.
"""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

from . import journal, projections, qrpay
from .db import write_transaction
from .business_days import current_business_day
from sync.protocol import utc_timestamp
from sync.qrref import find_reference

SOURCES = ("server", "statement")
REASONS = ("underpaid", "overpaid", "paid_twice", "unknown_reference")
MAX_DESCRIPTION = 160


@dataclass(frozen=True)
class BankTransaction:
    """One incoming transfer as the bank reported it."""

    txn_id: str
    amount: int
    description: str
    paid_at: str | None = None   # ISO UTC, when the bank says it happened


@dataclass(frozen=True)
class CheckResult:
    """What `apply` did: state is bank_confirmed, mismatch, duplicate (seen before) or
    not_ours (no reference in the description: another transfer into the same account)."""

    state: str
    reason: str | None = None
    reference: str | None = None
    sale_id: str | None = None
    recorded_sale: bool = False
    seq: int | None = None


def _entry(conn: sqlite3.Connection, device_id: str, txn: BankTransaction, source: str,
           state: str, *, reference: str | None, sale_id: str | None, reason: str | None,
           expected: int | None) -> int:
    at = utc_timestamp()
    day = current_business_day(conn, at)
    payload: dict[str, Any] = {"bank_txn": txn.txn_id, "bank_amount": txn.amount,
                               "description": txn.description[:MAX_DESCRIPTION],
                               "state": state, "source": source, "business_day": day}
    sale_seq = None
    if sale_id is not None:
        sale_seq = conn.execute("SELECT seq FROM sales WHERE id = ?", (sale_id,)).fetchone()[0]
    for key, value in (("reference", reference), ("sale_id", sale_id), ("sale_seq", sale_seq),
                       ("reason", reason), ("expected", expected), ("paid_at", txn.paid_at)):
        if value is not None:
            payload[key] = value
    entry = journal.append(conn, device_id, "payment_check", payload, at=at)
    projections.project(conn, entry)
    return entry.seq


def _amount_reason(paid: int, expected: int) -> str | None:
    if paid == expected:
        return None
    return "underpaid" if paid < expected else "overpaid"


def apply(conn: sqlite3.Connection, device_id: str, txn: BankTransaction, source: str, *,
          ours_only: bool = False) -> CheckResult:
    """Match one bank transaction and record the outcome, in one transaction.

    `ours_only` (statement rows) ignores transfers without a reference instead of flagging them:
    a statement lists every transfer into the account, not only the stall's QR payments.
    """
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}")
    reference = find_reference(txn.description)
    with write_transaction(conn):
        if conn.execute("SELECT 1 FROM bank_checks WHERE bank_txn = ?",
                        (txn.txn_id,)).fetchone():
            return CheckResult("duplicate", reference=reference)
        if reference is None and ours_only:
            return CheckResult("not_ours")
        if reference is not None:
            pending = conn.execute(
                "SELECT * FROM qr_pending WHERE reference = ? AND state = 'pending'"
                " ORDER BY created_at DESC LIMIT 1", (reference,)).fetchone()
            if pending is not None:
                reason = _amount_reason(txn.amount, pending["amount"])
                if reason is None:
                    sale_id = qrpay.record_pending(conn, device_id, pending, "bank")
                    seq = _entry(conn, device_id, txn, source, "bank_confirmed",
                                 reference=reference, sale_id=sale_id, reason=None,
                                 expected=pending["amount"])
                    return CheckResult("bank_confirmed", None, reference, sale_id, True, seq)
                seq = _entry(conn, device_id, txn, source, "mismatch", reference=reference,
                             sale_id=None, reason=reason, expected=pending["amount"])
                return CheckResult("mismatch", reason, reference, None, False, seq)
            payment = conn.execute(
                "SELECT s.id AS sale_id, p.amount, p.state FROM payments p JOIN sales s ON"
                " s.seq = p.sale_seq WHERE p.reference = ? AND p.method = 'qr'"
                " ORDER BY s.seq DESC LIMIT 1", (reference,)).fetchone()
            if payment is not None:
                if payment["state"] == "bank_confirmed":
                    reason = "paid_twice"
                else:
                    reason = _amount_reason(txn.amount, payment["amount"])
                state = "mismatch" if reason else "bank_confirmed"
                # A second transfer must not turn a confirmed payment into a mismatch: it is
                # recorded against the reference only.
                sale_id = None if reason == "paid_twice" else payment["sale_id"]
                seq = _entry(conn, device_id, txn, source, state, reference=reference,
                             sale_id=sale_id, reason=reason, expected=payment["amount"])
                return CheckResult(state, reason, reference, payment["sale_id"], False, seq)
        seq = _entry(conn, device_id, txn, source, "mismatch", reference=reference, sale_id=None,
                     reason="unknown_reference", expected=None)
        return CheckResult("mismatch", "unknown_reference", reference, None, False, seq)


def mismatches_on(conn: sqlite3.Connection, day: str) -> int:
    """How many of the day's bank checks are mismatches (the sell screen's red bar)."""
    return conn.execute("SELECT COUNT(*) FROM bank_checks WHERE business_day = ? AND"
                        " state = 'mismatch'", (day,)).fetchone()[0]


def open_mismatches(conn: sqlite3.Connection, limit: int = 20) -> list[dict[str, Any]]:
    """Recent mismatches, newest first, for the sell screen's warning."""
    return [dict(row) for row in conn.execute(
        "SELECT * FROM bank_checks WHERE state = 'mismatch' ORDER BY seq DESC LIMIT ?",
        (limit,))]
