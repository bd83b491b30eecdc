"""The stall's product catalogue. Every change is a journal entry; `products` is its projection."""
from __future__ import annotations

import re
import sqlite3
from typing import Any

from flask_babel import lazy_gettext as _l

from . import journal
from .db import write_transaction
from .errors import InvalidInput, NotFound
from .money import parse_amount
from .text import clean_text, fold

SUGGESTED_UNITS = ("kg", "lạng", "g", "bó", "gói", "cái", "hộp", "chai", "túi", "quả", "con", "lít")
WEIGHED_UNITS = frozenset({"kg", "lạng", "g", "lít"})
_BARCODE = re.compile(r"^[0-9A-Za-z\-]{4,32}$")
_URL = re.compile(r"^https?://[^\s<>\"']{3,300}$")
PRODUCT_FIELDS = ("name", "unit", "price", "category", "barcode", "ocop_stars", "trace_url",
                  "active")


def validate_product(data: dict[str, Any], existing: dict[str, Any] | None = None) -> dict[str, Any]:
    """Check a product's fields (merging onto `existing` for an update) and return clean values."""
    unknown = sorted(set(data) - set(PRODUCT_FIELDS) - {"id"})
    if unknown:
        raise InvalidInput(_l("Unknown field: %(name)s", name=unknown[0]), field=unknown[0])
    merged = dict(existing or {})
    merged.update(data)
    clean: dict[str, Any] = {
        "name": clean_text(merged.get("name"), field="name", label=_l("Name"), max_length=120),
        "unit": clean_text(merged.get("unit"), field="unit", label=_l("Unit"), max_length=16),
        "category": clean_text(merged.get("category"), field="category", label=_l("Category"),
                               max_length=40, required=False),
    }
    if merged.get("price") in (None, ""):
        raise InvalidInput(_l("Price is required."), field="price")
    clean["price"] = parse_amount(merged.get("price"), field="price")
    barcode = clean_text(merged.get("barcode"), field="barcode", label=_l("Barcode"),
                         max_length=32, required=False)
    if barcode and not _BARCODE.match(barcode):
        raise InvalidInput(_l("A barcode has 4 to 32 letters or digits."), field="barcode")
    clean["barcode"] = barcode or None
    stars = merged.get("ocop_stars")
    if stars in (None, "", 0, "0"):
        clean["ocop_stars"] = None
    else:
        if isinstance(stars, str) and stars.strip().isdigit():
            stars = int(stars)
        if isinstance(stars, bool) or stars not in (3, 4, 5):
            raise InvalidInput(_l("OCOP rating is 3, 4 or 5 stars."), field="ocop_stars")
        clean["ocop_stars"] = stars
    url = clean_text(merged.get("trace_url"), field="trace_url", label=_l("Traceability link"),
                     max_length=300, required=False)
    if url and not _URL.match(url):
        raise InvalidInput(_l("The traceability link must start with http:// or https://."),
                           field="trace_url")
    clean["trace_url"] = url or None
    active = merged.get("active", True)
    if active in ("1", "on", "true", 1, True):
        clean["active"] = True
    elif active in ("0", "off", "false", 0, False, ""):
        clean["active"] = False
    else:
        raise InvalidInput(_l("Active must be true or false."), field="active")
    return clean


def _row_to_product(row: sqlite3.Row) -> dict[str, Any]:
    product = {key: row[key] for key in ("id", *PRODUCT_FIELDS)}
    product["active"] = bool(product["active"])
    product["weighed"] = product["unit"] in WEIGHED_UNITS
    return product


def list_products(conn: sqlite3.Connection, *, active_only: bool = False) -> list[dict[str, Any]]:
    """Products by category then name."""
    sql = "SELECT * FROM products"
    if active_only:
        sql += " WHERE active = 1"
    rows = conn.execute(sql + " ORDER BY category, search_key").fetchall()
    return [_row_to_product(row) for row in rows]


def get_product(conn: sqlite3.Connection, product_id: int) -> dict[str, Any]:
    """One product, or NotFound."""
    row = conn.execute("SELECT * FROM products WHERE id = ?", (product_id,)).fetchone()
    if row is None:
        raise NotFound(_l("No product with number %(id)s.", id=product_id), code="unknown_product")
    return _row_to_product(row)


def save_product(conn: sqlite3.Connection, device_id: str, data: dict[str, Any],
                 product_id: int | None = None) -> dict[str, Any]:
    """Create a product (product_id None) or change one, as a journal entry and its projection."""
    existing = get_product(conn, product_id) if product_id is not None else None
    clean = validate_product(data, existing)
    with write_transaction(conn):
        if clean["barcode"]:
            clash = conn.execute("SELECT id FROM products WHERE barcode = ? AND id IS NOT ?",
                                 (clean["barcode"], product_id)).fetchone()
            if clash:
                raise InvalidInput(_l("Another product already has this barcode."), field="barcode")
        if product_id is None:
            product_id = conn.execute("SELECT IFNULL(MAX(id), 0) + 1 FROM products").fetchone()[0]
        entry = journal.append(conn, device_id, "product", {"product_id": product_id, **clean})
        conn.execute(
            "INSERT INTO products (id, name, search_key, unit, price, category, barcode, ocop_stars,"
            " trace_url, active, journal_seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (id) DO UPDATE SET name = excluded.name, search_key = excluded.search_key,"
            " unit = excluded.unit, price = excluded.price, category = excluded.category,"
            " barcode = excluded.barcode, ocop_stars = excluded.ocop_stars,"
            " trace_url = excluded.trace_url, active = excluded.active,"
            " journal_seq = excluded.journal_seq",
            (product_id, clean["name"], fold(clean["name"]), clean["unit"], clean["price"],
             clean["category"], clean["barcode"], clean["ocop_stars"], clean["trace_url"],
             int(clean["active"]), entry.seq))
    return get_product(conn, product_id)
