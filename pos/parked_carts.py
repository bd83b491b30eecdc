"""Carts set aside ("Giữ đơn") so that the next customer is served while one fetches more goods.

A parked cart is working state of the stall, like a pending QR code: it is kept in SQLite (so it
survives a restart, not in the browser) and is not a journal entry; nothing is sold until it is
taken back and paid. Its lines are checked as a sale's are (`sales.resolve_lines`), so what comes
back can be sold; a helper's haggled prices are judged when the sale is recorded, not here.
Taking a cart back removes it in the same transaction, so two screens cannot both sell it.
"""
from __future__ import annotations

import json
import sqlite3
import uuid
from typing import Any

from flask_babel import lazy_gettext as _l

from . import haggling, limits, sales
from .db import write_transaction
from .text import clean_text
from sync.errors import Conflict, InvalidInput, NotFound
from sync.money import quantity_text
from sync.protocol import utc_timestamp

_KEYS = {"label", "lines", "discount"}


def _label(conn: sqlite3.Connection, raw: Any) -> str:
    """The vendor's short label, or the first free "#n" among the carts waiting."""
    if raw is not None and not (isinstance(raw, str) and not raw.strip()):
        return clean_text(raw, field="label", label=_l("Label"), max_length=limits.PARK_LABEL_CHARS)
    taken = {row[0] for row in conn.execute("SELECT label FROM parked_carts")}
    return next(f"#{n}" for n in range(1, limits.MAX_PARKED + 2) if f"#{n}" not in taken)


def _stored_line(line: dict[str, Any]) -> dict[str, Any]:
    """A checked line as the API takes it back (and as the sell screen shows it)."""
    stored = {"product_id": line["product_id"], "name": line["name"], "unit": line["unit"],
              "quantity": quantity_text(line["quantity_milli"]),
              "unit_price": line["unit_price"], "amount": line["amount"]}
    if line.get("list_price") is not None:
        stored["list_price"] = line["list_price"]
    return stored


def park(conn: sqlite3.Connection, request: Any, created_by: str) -> dict[str, Any]:
    """Set a cart aside: `{"label"?, "lines", "discount"?}` checked like a sale's."""
    if not isinstance(request, dict):
        raise InvalidInput(_l("The cart must be a JSON object."))
    unknown = sorted(set(request) - _KEYS)
    if unknown:
        raise InvalidInput(_l("Unknown field: %(name)s", name=unknown[0]), field=unknown[0])
    lines = sales.resolve_lines(conn, request.get("lines"))
    subtotal = sum(line["amount"] for line in lines)
    if subtotal <= 0:
        raise InvalidInput(_l("A sale must have a total above zero."), field="lines")
    discount = haggling.clean_discount(request.get("discount"), subtotal)
    cart = {"lines": [_stored_line(line) for line in lines], "discount": discount}
    cart_id = str(uuid.uuid4())
    with write_transaction(conn):
        count = conn.execute("SELECT COUNT(*) FROM parked_carts").fetchone()[0]
        if count >= limits.MAX_PARKED:
            raise Conflict(_l("%(n)d carts already wait. Serve one of them first.",
                              n=limits.MAX_PARKED), code="too_many_parked")
        label = _label(conn, request.get("label"))
        conn.execute("INSERT INTO parked_carts (id, label, cart, total, created_at, created_by)"
                     " VALUES (?, ?, ?, ?, ?, ?)",
                     (cart_id, label, json.dumps(cart, ensure_ascii=False),
                      subtotal - (discount["amount"] if discount else 0), utc_timestamp(),
                      created_by))
    return _answer(conn.execute("SELECT * FROM parked_carts WHERE id = ?", (cart_id,)).fetchone())


def _answer(row: sqlite3.Row) -> dict[str, Any]:
    cart = json.loads(row["cart"])
    return {"id": row["id"], "label": row["label"], "total": row["total"],
            "created_at": row["created_at"], "lines": cart["lines"], "discount": cart["discount"]}


def list_parked(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    """The carts waiting, oldest first (the customer who waited longest is served first)."""
    return [_answer(row) for row in conn.execute(
        "SELECT * FROM parked_carts ORDER BY created_at, rowid")]


def take(conn: sqlite3.Connection, cart_id: str) -> dict[str, Any]:
    """Take a cart back to sell (or drop) it: it leaves the list in the same transaction."""
    with write_transaction(conn):
        row = conn.execute("SELECT * FROM parked_carts WHERE id = ?", (cart_id,)).fetchone()
        if row is None:
            raise NotFound(_l("This cart is no longer waiting (it was taken back already)."),
                           code="unknown_parked_cart")
        conn.execute("DELETE FROM parked_carts WHERE id = ?", (cart_id,))
    return _answer(row)
