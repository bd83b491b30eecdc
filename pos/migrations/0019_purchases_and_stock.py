"""Stall schema migration 0019: buying from growers (purchases, suppliers) and the stock it makes.

Shipped: never edit it; a change to the schema is a new migration (pos/migrations/__init__.py).
"""
from __future__ import annotations

import sqlite_utils


def migrate(db: sqlite_utils.Database) -> None:
    # The growers the stall buys from, in clear on the stall only (the `purchase` entries carry
    # them sealed, pos/personal_data.py): the purchase list (02/TNDN) reads them. One row per
    # grower: the same folded name and ID number is the same grower.
    db.execute("""
        CREATE TABLE suppliers (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            search_key TEXT NOT NULL,
            id_number TEXT,
            address TEXT,
            phone TEXT,
            first_seq INTEGER NOT NULL REFERENCES journal(seq),
            last_seq INTEGER NOT NULL REFERENCES journal(seq)
        ) STRICT""")
    # Every key that points at the journal has its index, or SQLite's foreign key check would
    # scan the table on each journal write (tests/test_no_scans.py).
    db.execute("CREATE INDEX suppliers_first ON suppliers(first_seq)")
    db.execute("CREATE INDEX suppliers_last ON suppliers(last_seq)")
    db.execute("CREATE UNIQUE INDEX suppliers_key ON suppliers(search_key, IFNULL(id_number, ''))")
    # The projection of `purchase` entries.
    db.execute("""
        CREATE TABLE purchases (
            seq INTEGER PRIMARY KEY REFERENCES journal(seq),
            id TEXT NOT NULL UNIQUE,
            number INTEGER NOT NULL UNIQUE CHECK (number >= 1),
            at TEXT NOT NULL,
            business_day TEXT NOT NULL,
            supplier_id INTEGER NOT NULL REFERENCES suppliers(id),
            total INTEGER NOT NULL CHECK (total > 0),
            cash INTEGER NOT NULL CHECK (cash >= 0),
            qr INTEGER NOT NULL CHECK (qr >= 0),
            bought_by TEXT NOT NULL
        ) STRICT""")
    db.execute("CREATE INDEX purchases_day ON purchases(business_day)")
    db.execute("CREATE INDEX purchases_supplier ON purchases(supplier_id, business_day)")
    db.execute("""
        CREATE TABLE purchase_lines (
            purchase_seq INTEGER NOT NULL REFERENCES purchases(seq),
            line_no INTEGER NOT NULL,
            product_id INTEGER REFERENCES products(id),
            name TEXT NOT NULL,
            unit TEXT NOT NULL,
            quantity_milli INTEGER NOT NULL CHECK (quantity_milli > 0),
            unit_price INTEGER NOT NULL CHECK (unit_price > 0),
            amount INTEGER NOT NULL CHECK (amount > 0),
            PRIMARY KEY (purchase_seq, line_no)
        ) STRICT, WITHOUT ROWID""")
    db.execute("CREATE INDEX purchase_lines_product ON purchase_lines(product_id)")
    db.execute("""
        CREATE TABLE purchase_payments (
            purchase_seq INTEGER NOT NULL REFERENCES purchases(seq),
            line_no INTEGER NOT NULL,
            method TEXT NOT NULL CHECK (method IN ('cash', 'qr')),
            amount INTEGER NOT NULL CHECK (amount > 0),
            PRIMARY KEY (purchase_seq, line_no)
        ) STRICT, WITHOUT ROWID""")
    # A product's stock, once it is tracked (its first purchase or count); an untracked product
    # has no row and shows no number. on_hand_milli may fall below zero: a sale is never
    # blocked (pos/purchases.py). `low_milli`: at or below it the product is shown as low.
    db.execute("""
        CREATE TABLE stock (
            product_id INTEGER PRIMARY KEY REFERENCES products(id),
            tracked INTEGER NOT NULL DEFAULT 1 CHECK (tracked IN (0, 1)),
            on_hand_milli INTEGER NOT NULL DEFAULT 0,
            low_milli INTEGER CHECK (low_milli >= 0),
            since_seq INTEGER NOT NULL REFERENCES journal(seq)
        ) STRICT""")
    db.execute("CREATE INDEX stock_since ON stock(since_seq)")
    # Every change of a tracked product's stock, in journal order: a purchase (+), a sale (−),
    # a void (+, what its sale took), a refund (+), a count (the difference).
    db.execute("""
        CREATE TABLE stock_moves (
            seq INTEGER NOT NULL REFERENCES journal(seq),
            product_id INTEGER NOT NULL REFERENCES products(id),
            kind TEXT NOT NULL CHECK (kind IN ('purchase', 'sale', 'void', 'refund', 'count')),
            quantity_milli INTEGER NOT NULL,
            business_day TEXT NOT NULL,
            PRIMARY KEY (seq, product_id)
        ) STRICT, WITHOUT ROWID""")
    db.execute("CREATE INDEX stock_moves_product ON stock_moves(product_id, seq)")
    # The projection of `stock_count` entries: one row per product counted.
    db.execute("""
        CREATE TABLE stock_counts (
            seq INTEGER NOT NULL REFERENCES journal(seq),
            product_id INTEGER NOT NULL REFERENCES products(id),
            counted_milli INTEGER NOT NULL CHECK (counted_milli >= 0),
            before_milli INTEGER,
            reason TEXT NOT NULL,
            business_day TEXT NOT NULL,
            at TEXT NOT NULL,
            PRIMARY KEY (seq, product_id)
        ) STRICT, WITHOUT ROWID""")
    db.execute("CREATE INDEX stock_counts_product ON stock_counts(product_id, seq)")
