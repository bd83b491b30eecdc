"""Stall schema migration 0017: parked carts and parked QR codes.

Shipped: never edit it; a change to the schema is a new migration (pos/migrations/__init__.py).
"""
from __future__ import annotations

import sqlite_utils


def migrate(db: sqlite_utils.Database) -> None:
    # A cart set aside ("Giữ đơn") while the next customer is served: local working state like a
    # pending QR code, not a journal entry; it becomes a sale only when it is taken back and paid.
    db.execute("""
        CREATE TABLE parked_carts (
            id TEXT PRIMARY KEY,
            label TEXT NOT NULL CHECK (length(label) BETWEEN 1 AND 40),
            cart TEXT NOT NULL,
            total INTEGER NOT NULL CHECK (total > 0),
            created_at TEXT NOT NULL,
            created_by TEXT NOT NULL
        ) STRICT""")
    db.execute("CREATE INDEX parked_carts_created ON parked_carts(created_at)")
    # A pending QR code set aside while the buyer fetches her phone: the sell screen no longer
    # brings it back full screen, and the bank's notification still records it.
    db.execute("ALTER TABLE qr_pending ADD COLUMN parked_at TEXT")
