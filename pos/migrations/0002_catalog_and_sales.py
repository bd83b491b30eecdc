"""Stall schema migration 0002: catalog and sales.

Shipped: never edit it; a change to the schema is a new migration (pos/migrations/__init__.py).
"""
from __future__ import annotations

import sqlite_utils


def migrate(db: sqlite_utils.Database) -> None:
    db.execute("""
        CREATE TABLE products (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 120),
            search_key TEXT NOT NULL,
            unit TEXT NOT NULL CHECK (length(unit) BETWEEN 1 AND 16),
            price INTEGER NOT NULL CHECK (price BETWEEN 0 AND 1000000000000),
            category TEXT NOT NULL DEFAULT '',
            barcode TEXT,
            ocop_stars INTEGER CHECK (ocop_stars BETWEEN 3 AND 5),
            trace_url TEXT,
            active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
            journal_seq INTEGER NOT NULL REFERENCES journal(seq)
        ) STRICT""")
    db.execute("CREATE UNIQUE INDEX products_barcode ON products(barcode) WHERE barcode IS NOT NULL")
    db.execute("""
        CREATE TABLE sales (
            id TEXT PRIMARY KEY,
            seq INTEGER NOT NULL UNIQUE REFERENCES journal(seq),
            number INTEGER NOT NULL UNIQUE CHECK (number >= 1),
            at TEXT NOT NULL,
            business_day TEXT NOT NULL,
            total INTEGER NOT NULL CHECK (total >= 0),
            sold_by TEXT NOT NULL,
            voided_seq INTEGER REFERENCES journal(seq),
            void_reason TEXT
        ) STRICT""")
    db.execute("CREATE INDEX sales_business_day ON sales(business_day, number)")
    db.execute("""
        CREATE TABLE sale_lines (
            sale_id TEXT NOT NULL REFERENCES sales(id),
            line_no INTEGER NOT NULL,
            product_id INTEGER REFERENCES products(id),
            name TEXT NOT NULL,
            unit TEXT NOT NULL,
            quantity_milli INTEGER NOT NULL CHECK (quantity_milli > 0),
            unit_price INTEGER NOT NULL CHECK (unit_price >= 0),
            amount INTEGER NOT NULL CHECK (amount >= 0),
            PRIMARY KEY (sale_id, line_no)
        ) STRICT""")
    db.execute("""
        CREATE TABLE payments (
            sale_id TEXT NOT NULL REFERENCES sales(id),
            line_no INTEGER NOT NULL,
            method TEXT NOT NULL CHECK (method IN ('cash', 'qr')),
            amount INTEGER NOT NULL CHECK (amount >= 0),
            tendered INTEGER CHECK (tendered >= amount),
            change INTEGER CHECK (change >= 0),
            PRIMARY KEY (sale_id, line_no)
        ) STRICT""")
