"""Haggling at the till: a line sold below (or above) its list price, a discount on the whole
sale, and how far a helper may go without the owner.

The owner may change any price. A helper may lower a price, or give a discount, by at most the
owner's limit (`helper_price_limit`, a percentage, 10 by default); beyond it the sale needs the
owner's PIN, as a void does. The entry keeps both prices (`list_price` beside `unit_price`) and
the discount with its reason, so the day's reports can show what was given away.
"""
from __future__ import annotations

import sqlite3
from typing import Any

from flask_babel import lazy_gettext as _l

from sync.errors import Forbidden, InvalidInput
from sync.money import parse_amount
from sync.numbers import NumberRefused, whole_number
from . import limits, settings
from .text import clean_text

LIMIT_KEY = "helper_price_limit"
DEFAULT_LIMIT = 10


def helper_limit(conn: sqlite3.Connection) -> int:
    """The most a helper may take off a price or a sale, in percent."""
    stored = settings.read(conn, LIMIT_KEY)
    return int(stored) if stored is not None else DEFAULT_LIMIT


def clean_limit(value: Any) -> int:
    """A limit from a form or the API: a whole percentage from 0 to 100."""
    try:
        number = whole_number(value) if isinstance(value, str) else value
    except NumberRefused:
        number = None
    if isinstance(number, bool) or not isinstance(number, int) or not 0 <= number <= 100:
        raise InvalidInput(_l("The helper's limit is a whole percentage from 0 to 100."),
                           field=LIMIT_KEY, code="bad_limit")
    return number


def clean_discount(raw: Any, subtotal: int) -> dict[str, Any] | None:
    """`{"amount", "reason"}` of a sale's discount, or None; InvalidInput if it is not one."""
    if raw is None:
        return None
    if not isinstance(raw, dict) or set(raw) - {"amount", "reason"}:
        raise InvalidInput(_l("A discount has an amount and a reason."), field="discount",
                           code="bad_discount")
    amount = parse_amount(raw.get("amount"), field="discount.amount", allow_zero=False)
    if amount >= subtotal:
        raise InvalidInput(_l("The discount must be less than the sale's total."),
                           field="discount.amount", code="discount_too_large")
    reason = clean_text(raw.get("reason"), field="discount.reason", label=_l("Reason"),
                        max_length=limits.REASON_CHARS)
    return {"amount": amount, "reason": reason}


def _beyond(cut: int, whole: int, percent: int) -> bool:
    return cut > 0 and cut * 100 > whole * percent


def check_authority(conn: sqlite3.Connection, lines: list[dict[str, Any]],
                    discount: dict[str, Any] | None, owner: bool) -> None:
    """Forbidden (owner_required) when a helper lowers a price or discounts past her limit."""
    if owner:
        return
    percent = helper_limit(conn)
    for index, line in enumerate(lines):
        listed = line.get("list_price")
        if listed is not None and _beyond(listed - line["unit_price"], listed, percent):
            raise Forbidden(_l("A price more than %(n)d%% below the list needs the owner's PIN.",
                               n=percent), field=f"lines[{index}].unit_price",
                            code="owner_required")
    if discount and _beyond(discount["amount"], sum(line["amount"] for line in lines), percent):
        raise Forbidden(_l("A discount of more than %(n)d%% needs the owner's PIN.", n=percent),
                        field="discount.amount", code="owner_required")
