"""Stall settings: who and where the stall is, kept as key/value rows in the stall database."""
from __future__ import annotations

import re
import sqlite3
from typing import Any

from flask_babel import lazy_gettext as _l

from sync.errors import InvalidInput
from .text import clean_text

# field -> (label, max length, required)
STALL_FIELDS: dict[str, tuple[Any, int, bool]] = {
    "vendor_name": (_l("Vendor name"), 80, True),
    "stall_name": (_l("Stall name"), 80, False),
    "stall_number": (_l("Stall number"), 20, False),
    "market": (_l("Market"), 80, False),
    "commune": (_l("Commune/ward"), 80, False),
    "province": (_l("Province"), 80, False),
    "phone": (_l("Phone"), 15, False),
    "tax_code": (_l("Tax code"), 14, False),
}
_PHONE = re.compile(r"^\+?[0-9 ]{8,15}$")
_TAX_CODE = re.compile(r"^\d{10}(-\d{3})?$|^\d{12}$")


def read_all(conn: sqlite3.Connection) -> dict[str, str]:
    """Every setting as a dict (missing stall fields read as empty strings)."""
    values = {key: "" for key in STALL_FIELDS}
    values.update({row["key"]: row["value"] for row in conn.execute("SELECT key, value FROM settings")})
    return values


def read(conn: sqlite3.Connection, key: str, default: str | None = None) -> str | None:
    """One setting."""
    row = conn.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
    return row["value"] if row else default


def write(conn: sqlite3.Connection, key: str, value: str) -> None:
    """Store one setting (inside the caller's transaction, if any)."""
    conn.execute("INSERT INTO settings (key, value) VALUES (?, ?)"
                 " ON CONFLICT (key) DO UPDATE SET value = excluded.value", (key, value))


def validate_stall(changes: dict[str, Any], *, partial: bool = True) -> dict[str, str]:
    """Check stall fields; unknown keys and bad values are refused before anything is written."""
    unknown = sorted(set(changes) - set(STALL_FIELDS))
    if unknown:
        raise InvalidInput(_l("Unknown setting: %(name)s", name=unknown[0]), field=unknown[0])
    clean: dict[str, str] = {}
    for key, (label, max_length, required) in STALL_FIELDS.items():
        if key not in changes and partial:
            continue
        clean[key] = clean_text(changes.get(key), field=key, label=label, max_length=max_length,
                                required=required)
    if clean.get("phone") and not _PHONE.match(clean["phone"]):
        raise InvalidInput(_l("Phone must be 8 to 15 digits."), field="phone")
    if clean.get("tax_code") and not _TAX_CODE.match(clean["tax_code"]):
        raise InvalidInput(_l("A tax code has 10 digits (or 10-3 for a branch, or 12 for a"
                              " citizen ID)."), field="tax_code")
    return clean


def stall_settings(conn: sqlite3.Connection) -> dict[str, str]:
    """Only the stall's public fields (what the API and receipts show)."""
    values = read_all(conn)
    return {key: values[key] for key in STALL_FIELDS}
