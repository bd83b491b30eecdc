"""Stall schema migration 0016: refunds of part of a sale.

Shipped: never edit it; a change to the schema is a new migration (pos/migrations/__init__.py).
"""
from __future__ import annotations

import sqlite_utils


def migrate(db: sqlite_utils.Database) -> None:
    # The projection of `refund` entries (pos/refunds.py): what was given back, from which
    # sale's lines, and how; the day's counters count them on the day of the refund.
    db.execute("""
        CREATE TABLE refunds (
            seq INTEGER PRIMARY KEY REFERENCES journal(seq),
            id TEXT NOT NULL UNIQUE,
            sale_seq INTEGER NOT NULL REFERENCES sales(seq),
            business_day TEXT NOT NULL,
            at TEXT NOT NULL,
            total INTEGER NOT NULL CHECK (total > 0),
            cash INTEGER NOT NULL CHECK (cash >= 0),
            qr INTEGER NOT NULL CHECK (qr >= 0),
            reason TEXT NOT NULL,
            refunded_by TEXT NOT NULL
        ) STRICT""")
    db.execute("CREATE INDEX refunds_by_sale ON refunds(sale_seq)")
    db.execute("CREATE INDEX refunds_by_day ON refunds(business_day)")
    db.execute("""
        CREATE TABLE refund_lines (
            refund_seq INTEGER NOT NULL REFERENCES refunds(seq),
            line_no INTEGER NOT NULL CHECK (line_no >= 1),
            quantity_milli INTEGER NOT NULL CHECK (quantity_milli > 0),
            amount INTEGER NOT NULL CHECK (amount >= 0),
            PRIMARY KEY (refund_seq, line_no)
        ) STRICT, WITHOUT ROWID""")
    db.execute("ALTER TABLE day_totals ADD COLUMN refunds_count INTEGER NOT NULL DEFAULT 0")
    db.execute("ALTER TABLE day_totals ADD COLUMN refunded_amount INTEGER NOT NULL DEFAULT 0")
