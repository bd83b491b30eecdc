"""A stall's QR payment references (`SAP12 0001`: its code from the provincial server and a
running number), which the bank's transfer description carries back to the right sale.

Below both the sale and the QR payment: a sale recorded through the API takes a reference here
without a code on screen, and pos/qrpay.py takes one for each code it shows."""
from __future__ import annotations

import sqlite3
from typing import Any

from sync.qrref import UNPAIRED_CODE, format_reference, stall_id_of

from . import bank_accounts, settings

KEY_STALL_CODE = "payment_code"       # from the provincial server, e.g. "SAP12"
KEY_LAST_NUMBER = "qr_last_number"


def stall_code(conn: sqlite3.Connection) -> str:
    """This stall's code from the provincial server, or SAP0 before pairing."""
    code = settings.read(conn, KEY_STALL_CODE) or ""
    return code if stall_id_of(code) else UNPAIRED_CODE


def next_reference(conn: sqlite3.Connection) -> str:
    """Take the next payment reference; call inside a write transaction."""
    number = int(settings.read(conn, KEY_LAST_NUMBER) or "0") + 1
    settings.write(conn, KEY_LAST_NUMBER, str(number))
    return format_reference(stall_code(conn), number)


def reference_and_account(conn: sqlite3.Connection, reference: str | None) -> dict[str, Any]:
    """For a QR payment recorded through the API without a code on screen: its reference (the
    caller's, or the next one) and the default account, if the vendor has one."""
    details: dict[str, Any] = {"reference": reference or next_reference(conn)}
    account = bank_accounts.default_account(conn)
    if account:
        details.update(bank_bin=account["bank_bin"], account=account["account"])
    return details
