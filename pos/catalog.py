"""The stall's product catalogue. Every change is a journal entry; `products` is its projection."""
from __future__ import annotations

import logging
import re
import sqlite3
import unicodedata
from typing import Any

from flask_babel import lazy_gettext as _l

from . import journal, limits, projections
from .db import write_transaction
from sync.errors import InvalidInput, NotFound
from sync.money import parse_amount, parse_quantity, quantity_text
from .text import clean_text, fold
from sync.numbers import MAX_AMOUNT, whole_number_or_none

SUGGESTED_UNITS = ("kg", "lạng", "g", "bó", "gói", "cái", "hộp", "chai", "túi", "quả", "con", "lít")
WEIGHED_UNITS = frozenset({"kg", "lạng", "g", "lít"})
BARCODE = re.compile(r"^[0-9A-Za-z\-]{4,32}$")
_ZERO = re.compile(r"^0+(\.0{1,3})?$")
_URL = re.compile(r"^https?://[^\s<>\"']{3,300}$")
PRODUCT_FIELDS = ("name", "unit", "price", "category", "barcode", "ocop_stars", "trace_url",
                  "active")
MAX_PRICE = MAX_AMOUNT
logger = logging.getLogger(__name__)


def validate_product(data: dict[str, Any], existing: dict[str, Any] | None = None) -> dict[str, Any]:
    """Check a product's fields (merging onto `existing` for an update) and return clean values."""
    unknown = sorted(set(data) - set(PRODUCT_FIELDS) - {"id", "low_stock"})
    if unknown:
        raise InvalidInput(_l("Unknown field: %(name)s", name=unknown[0]), field=unknown[0])
    merged = dict(existing or {})
    merged.update(data)
    clean: dict[str, Any] = {
        "name": clean_text(merged.get("name"), field="name", label=_l("Name"),
                           max_length=limits.NAME_CHARS),
        "unit": clean_text(merged.get("unit"), field="unit", label=_l("Unit"),
                           max_length=limits.UNIT_CHARS),
        "category": clean_text(merged.get("category"), field="category", label=_l("Category"),
                               max_length=limits.CATEGORY_CHARS, required=False),
    }
    if merged.get("price") in (None, ""):
        raise InvalidInput(_l("Price is required."), field="price")
    clean["price"] = parse_amount(merged.get("price"), field="price")
    barcode = clean_text(merged.get("barcode"), field="barcode", label=_l("Barcode"),
                         max_length=limits.BARCODE_CHARS, required=False)
    if barcode and not BARCODE.match(barcode):
        raise InvalidInput(_l("A barcode has 4 to 32 letters or digits."), field="barcode")
    clean["barcode"] = barcode or None
    stars = merged.get("ocop_stars")
    if stars in (None, "", 0, "0"):
        clean["ocop_stars"] = None
    else:
        if isinstance(stars, str):
            stars = whole_number_or_none(stars.strip())
        if isinstance(stars, bool) or stars not in (3, 4, 5):
            raise InvalidInput(_l("OCOP rating is 3, 4 or 5 stars."), field="ocop_stars")
        clean["ocop_stars"] = stars
    url = clean_text(merged.get("trace_url"), field="trace_url", label=_l("Traceability link"),
                     max_length=limits.TRACE_URL_CHARS, required=False)
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
    clean["low_stock"] = _low_stock(merged.get("low_stock"))
    return clean


def _low_stock(raw: Any) -> str | None:
    """The low-stock threshold as the entry keeps it ("2.5"), zero included; None for none."""
    if raw in (None, ""):
        return None
    text = raw.strip().replace(",", ".") if isinstance(raw, str) else raw
    if isinstance(text, str) and _ZERO.match(text):
        return "0"
    return quantity_text(parse_quantity(text, field="low_stock"))


# A product with its low-stock threshold (kept in `stock`, pos/projections.py).
_SELECT = "SELECT p.*, s.low_milli FROM products p LEFT JOIN stock s ON s.product_id = p.id"


def _row_to_product(row: sqlite3.Row) -> dict[str, Any]:
    product = {key: row[key] for key in ("id", *PRODUCT_FIELDS)}
    product["active"] = bool(product["active"])
    product["server_ref"] = row["server_ref"]
    product["binding"] = bool(row["binding"])
    product["weighed"] = product["unit"] in WEIGHED_UNITS
    low = row["low_milli"]
    product["low_stock"] = None if low is None else quantity_text(low) if low else "0"
    return product


def list_products(conn: sqlite3.Connection, *, active_only: bool = False) -> list[dict[str, Any]]:
    """Products by category then name."""
    sql = _SELECT
    if active_only:
        sql += " WHERE p.active = 1"
    rows = conn.execute(sql + " ORDER BY p.category, p.search_key").fetchall()
    return [_row_to_product(row) for row in rows]


def products_with_barcode(conn: sqlite3.Connection, code: Any) -> list[dict[str, Any]]:
    """The products whose barcode is exactly `code` (a scanner's digits, or letters and dashes);
    InvalidInput if it cannot be a barcode, so that a typo is told apart from an unknown code."""
    text = code.strip() if isinstance(code, str) else ""
    if not BARCODE.match(text):
        raise InvalidInput(_l("A barcode has 4 to 32 letters or digits."), field="barcode",
                           code="bad_barcode")
    rows = conn.execute(_SELECT + " WHERE p.barcode = ? ORDER BY p.id", (text,)).fetchall()
    return [_row_to_product(row) for row in rows]


def get_product(conn: sqlite3.Connection, product_id: int) -> dict[str, Any]:
    """One product, or NotFound."""
    row = conn.execute(_SELECT + " WHERE p.id = ?", (product_id,)).fetchone()
    if row is None:
        raise NotFound(_l("No product with number %(id)s.", id=product_id), code="unknown_product")
    return _row_to_product(row)


def save_product(conn: sqlite3.Connection, device_id: str, data: dict[str, Any],
                 product_id: int | None = None) -> dict[str, Any]:
    """Create a product (product_id None) or change one, as a journal entry and its projection."""
    existing = get_product(conn, product_id) if product_id is not None else None
    clean = validate_product(data, existing)
    if existing and existing["binding"] and clean["price"] != existing["price"]:
        raise InvalidInput(_l("The market board sets this price; it cannot be changed here."),
                           field="price", code="binding_price")
    with write_transaction(conn):
        if clean["barcode"]:
            clash = conn.execute("SELECT id FROM products WHERE barcode = ? AND id IS NOT ?",
                                 (clean["barcode"], product_id)).fetchone()
            if clash:
                raise InvalidInput(_l("Another product already has this barcode."), field="barcode")
        product_id = write_product(conn, device_id, clean, product_id)
    return get_product(conn, product_id)


def write_product(conn: sqlite3.Connection, device_id: str, clean: dict[str, Any],
                  product_id: int | None = None) -> int:
    """The `product` entry of checked fields (validate_product) and its projection, inside the
    caller's write transaction (a purchase creates the product it buys, pos/purchases.py)."""
    if product_id is None:
        product_id = conn.execute("SELECT IFNULL(MAX(id), 0) + 1 FROM products").fetchone()[0]
    entry = journal.append(conn, device_id, "product", {"product_id": product_id, **clean})
    projections.project(conn, entry)
    return product_id


# --- the reference catalogue pulled from the provincial server (docs/SYNC.md "Pull") ------------

def _server_text(value: object, max_length: int, *, required: bool) -> str | None:
    """A server-sent text field made single-line NFC, or None when it does not fit."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        return None
    text = " ".join(unicodedata.normalize("NFC", value).split())
    if (required and not text) or len(text) > max_length \
            or any(unicodedata.category(ch) == "Cc" for ch in text):
        return None
    return text


def _server_product(item: object) -> dict[str, Any] | None:
    """One product of the server's catalogue, checked; None if it cannot be stored as it is."""
    if not isinstance(item, dict):
        return None
    ref = item.get("ref")
    if isinstance(ref, int) and not isinstance(ref, bool):
        ref = str(ref)
    name = _server_text(item.get("name"), 120, required=True)
    unit = _server_text(item.get("unit"), 16, required=True)
    category = _server_text(item.get("category"), 40, required=False)
    price = item.get("price")
    stars = item.get("ocop_stars")
    if (not isinstance(ref, str) or not 1 <= len(ref) <= 64 or name is None or unit is None
            or category is None or isinstance(price, bool) or not isinstance(price, int)
            or not 0 <= price <= MAX_PRICE or stars not in (None, 3, 4, 5)):
        return None
    return {"ref": ref, "name": name, "unit": unit, "category": category, "price": price,
            "ocop_stars": stars, "binding": item.get("binding") is True,
            "active": item.get("active", True) is not False}


def merge_server_catalogue(conn: sqlite3.Connection, items: list[Any]) -> dict[str, int]:
    """Merge the server's reference catalogue into `products`, inside the caller's transaction.

    Not journalled: the catalogue is the server's fact. Matched by `server_ref`: a new product is
    added with the reference price; afterwards its price changes only when the server marks it
    binding (a vendor's own price is never overwritten otherwise); name, unit, category and OCOP
    stars follow the server. A product the server withdraws (inactive, or no longer listed) goes
    off sale; one it brings back returns, but the vendor's own "not on sale" is kept otherwise.
    The stall's own products (no `server_ref`) are never touched."""
    if not conn.in_transaction:
        raise RuntimeError("merge_server_catalogue must run inside a write transaction")
    counts = {"added": 0, "updated": 0, "withdrawn": 0, "skipped": 0}
    seen: set[str] = set()
    for item in items:
        product = _server_product(item)
        if product is None or product["ref"] in seen:
            counts["skipped"] += 1
            logger.warning("catalogue item skipped (malformed or repeated): %.200r", item)
            continue
        seen.add(product["ref"])
        row = conn.execute("SELECT * FROM products WHERE server_ref = ?",
                           (product["ref"],)).fetchone()
        if row is None:
            product_id = conn.execute("SELECT IFNULL(MAX(id), 0) + 1 FROM products").fetchone()[0]
            conn.execute(
                "INSERT INTO products (id, name, search_key, unit, price, category, ocop_stars,"
                " active, server_ref, binding, server_price, server_active)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (product_id, product["name"], fold(product["name"]), product["unit"],
                 product["price"], product["category"], product["ocop_stars"],
                 int(product["active"]), product["ref"], int(product["binding"]),
                 product["price"], int(product["active"])))
            counts["added"] += 1
            continue
        price = product["price"] if product["binding"] else row["price"]
        active = row["active"]
        if not product["active"]:
            active = 0
        elif row["server_active"] == 0:  # withdrawn before, offered again now
            active = 1
        new = (product["name"], fold(product["name"]), product["unit"], price,
               product["category"], product["ocop_stars"], active, int(product["binding"]),
               product["price"], int(product["active"]))
        old = tuple(row[key] for key in ("name", "search_key", "unit", "price", "category",
                                         "ocop_stars", "active", "binding", "server_price",
                                         "server_active"))
        if new != old:
            conn.execute(
                "UPDATE products SET name = ?, search_key = ?, unit = ?, price = ?, category = ?,"
                " ocop_stars = ?, active = ?, binding = ?, server_price = ?, server_active = ?"
                " WHERE id = ?", (*new, row["id"]))
            counts["updated"] += 1
    placeholders = ",".join("?" * len(seen))
    counts["withdrawn"] = conn.execute(
        "UPDATE products SET active = 0, server_active = 0 WHERE server_ref IS NOT NULL"
        " AND (active = 1 OR server_active IS NOT 0)"
        + (f" AND server_ref NOT IN ({placeholders})" if seen else ""), tuple(seen)).rowcount
    return counts
