"""Stall schema migration 0005: cash and day close.

Shipped: never edit it; a change to the schema is a new migration (pos/migrations/__init__.py).
"""
from __future__ import annotations

import sqlite_utils


def migrate(db: sqlite_utils.Database) -> None:
    # Opening float, cash put in and taken out: projections of "cash_move" entries.
    db.execute("""
        CREATE TABLE cash_moves (
            seq INTEGER PRIMARY KEY REFERENCES journal(seq),
            business_day TEXT NOT NULL,
            type TEXT NOT NULL CHECK (type IN ('float', 'in', 'out')),
            amount INTEGER NOT NULL CHECK (amount > 0),
            reason TEXT NOT NULL,
            at TEXT NOT NULL
        ) STRICT""")
    db.execute("CREATE INDEX cash_moves_day ON cash_moves(business_day)")
    # Z reports: projections of "day_close" entries; one per business day, numbered.
    db.execute("""
        CREATE TABLE day_closes (
            business_day TEXT PRIMARY KEY,
            z_number INTEGER NOT NULL UNIQUE CHECK (z_number >= 1),
            seq INTEGER NOT NULL UNIQUE REFERENCES journal(seq),
            at TEXT NOT NULL,
            expected_cash INTEGER NOT NULL,
            counted_cash INTEGER NOT NULL CHECK (counted_cash >= 0),
            report TEXT NOT NULL
        ) STRICT""")
