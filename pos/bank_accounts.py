"""The vendor's receiving bank accounts: where QR transfers go. Several allowed, one default.

These are settings, not journal entries: each QR payment copies the bank and account it was
shown with into its sale entry, so changing or removing an account never rewrites history.
"""
from __future__ import annotations

import re
import sqlite3
from typing import Any

from flask_babel import lazy_gettext as _l

from . import vietqr
from .db import write_transaction
from sync.errors import InvalidInput, NotFound
from sync.protocol import utc_timestamp

_HOLDER_RE = re.compile(r"[A-Z0-9 ]{1,50}")


def holder_name(text: Any) -> str:
    """The account holder's name as banks show it: upper case, no diacritics ("NGUYEN THI LAN")."""
    if not isinstance(text, str):
        raise InvalidInput(_l("Write the account holder's name."), field="holder")
    # purpose_text cuts at 25 characters; holder names may be longer, so fold word by word.
    words = [vietqr.purpose_text(word).upper() for word in text.split()]
    folded = " ".join(word for word in words if word)
    if not folded:
        raise InvalidInput(_l("Write the account holder's name."), field="holder")
    if not _HOLDER_RE.fullmatch(folded):
        raise InvalidInput(_l("The account holder's name is too long (at most 50 letters)."),
                           field="holder")
    return folded


def _check(bank_bin: Any, account: Any, is_card: bool) -> tuple[str, str]:
    if not isinstance(bank_bin, str) or bank_bin not in vietqr.load_banks():
        raise InvalidInput(_l("Choose the bank from the list."), field="bank_bin",
                           code="unknown_bank")
    if not isinstance(account, str):
        raise InvalidInput(_l("Write the account number."), field="account")
    account = re.sub(r"[\s\-.]", "", account)
    try:
        vietqr.encode(bank_bin, account, card=is_card)  # the same rules the QR code follows
    except vietqr.VietQRError:
        message = (_l("A card number has 16 to 19 digits.") if is_card else
                   _l("An account number has 6 to 19 letters or digits, nothing else."))
        raise InvalidInput(message, field="account", code="bad_account") from None
    return bank_bin, account


def add_account(conn: sqlite3.Connection, bank_bin: Any, account: Any, holder: Any, *,
                is_card: bool = False, make_default: bool = False) -> dict[str, Any]:
    """Add (or re-activate) a receiving account; the first one becomes the default."""
    bank_bin, account = _check(bank_bin, account, is_card)
    holder = holder_name(holder)
    with write_transaction(conn):
        has_default = conn.execute("SELECT 1 FROM bank_accounts WHERE active = 1 AND"
                                   " is_default = 1").fetchone() is not None
        default = make_default or not has_default
        if default:
            conn.execute("UPDATE bank_accounts SET is_default = 0")
        conn.execute(
            "INSERT INTO bank_accounts (bank_bin, account, holder, is_card, is_default, active,"
            " created_at) VALUES (?, ?, ?, ?, ?, 1, ?) ON CONFLICT (bank_bin, account) DO UPDATE"
            " SET holder = excluded.holder, is_card = excluded.is_card, active = 1,"
            " is_default = excluded.is_default",
            (bank_bin, account, holder, int(is_card), int(default), utc_timestamp()))
        row_id = conn.execute("SELECT id FROM bank_accounts WHERE bank_bin = ? AND account = ?",
                              (bank_bin, account)).fetchone()[0]
    return get_account(conn, row_id)


def set_default(conn: sqlite3.Connection, account_id: int) -> None:
    """Make one active account the default shown in QR codes."""
    with write_transaction(conn):
        if conn.execute("SELECT 1 FROM bank_accounts WHERE id = ? AND active = 1",
                        (account_id,)).fetchone() is None:
            raise NotFound(_l("No such bank account."), code="unknown_account")
        conn.execute("UPDATE bank_accounts SET is_default = (id = ?)", (account_id,))


def remove_account(conn: sqlite3.Connection, account_id: int) -> None:
    """Stop using an account; another one becomes the default if this one was."""
    with write_transaction(conn):
        row = conn.execute("SELECT is_default FROM bank_accounts WHERE id = ? AND active = 1",
                           (account_id,)).fetchone()
        if row is None:
            raise NotFound(_l("No such bank account."), code="unknown_account")
        conn.execute("UPDATE bank_accounts SET active = 0, is_default = 0 WHERE id = ?",
                     (account_id,))
        if row["is_default"]:
            conn.execute("UPDATE bank_accounts SET is_default = 1 WHERE id = (SELECT MIN(id) FROM"
                         " bank_accounts WHERE active = 1)")


def _account_dict(row: sqlite3.Row) -> dict[str, Any]:
    bank = vietqr.load_banks().get(row["bank_bin"])
    return {"id": row["id"], "bank_bin": row["bank_bin"], "account": row["account"],
            "holder": row["holder"], "is_card": bool(row["is_card"]),
            "is_default": bool(row["is_default"]),
            "bank_name": bank.short_name if bank else row["bank_bin"],
            "bank_full_name": bank.name if bank else ""}


def get_account(conn: sqlite3.Connection, account_id: int) -> dict[str, Any]:
    """One account with its bank's names."""
    row = conn.execute("SELECT * FROM bank_accounts WHERE id = ?", (account_id,)).fetchone()
    if row is None:
        raise NotFound(_l("No such bank account."), code="unknown_account")
    return _account_dict(row)


def list_accounts(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    """Active accounts, the default first."""
    return [_account_dict(row) for row in conn.execute(
        "SELECT * FROM bank_accounts WHERE active = 1 ORDER BY is_default DESC, id")]


def default_account(conn: sqlite3.Connection) -> dict[str, Any] | None:
    """The account QR codes pay into, or None before the vendor has set one up."""
    row = conn.execute("SELECT * FROM bank_accounts WHERE active = 1 AND is_default = 1"
                       ).fetchone()
    return _account_dict(row) if row else None


def banks_by_name() -> list[dict[str, str]]:
    """The NAPAS bank list for the picker, sorted by the short name vendors know."""
    return sorted(({"bin": b.bin, "short_name": b.short_name, "name": b.name}
                   for b in vietqr.load_banks().values()), key=lambda b: b["short_name"].lower())
