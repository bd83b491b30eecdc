"""Stall schema migration 0011: lines and payments without rowid.

Shipped: never edit it; a change to the schema is a new migration (pos/migrations/__init__.py).
"""
from __future__ import annotations

import sqlite3

import sqlite_utils

from ..db import write_transaction


# It runs its own transaction (a table rebuild with foreign keys off, which SQLite
# cannot do inside one), so the runner must not open one around it.
TRANSACTIONAL = False


def migrate(db: sqlite_utils.Database) -> None:
    # A sale's lines and payments are always read by (sale_id, line_no), their primary key. As
    # rowid tables they stored that key twice (the row, and the key's own index: about a quarter
    # of a sale's bytes on disk, BENCHMARKS.md); WITHOUT ROWID tables are the key's index. SQLite
    # cannot change that in place, so both are rebuilt the documented way, in one transaction.
    conn = db.conn
    if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'sale_lines' AND sql LIKE"
                    " '%WITHOUT ROWID%'").fetchone():
        return  # rebuilt already; only the record of it was missing
    conn.execute("PRAGMA foreign_keys = OFF")
    try:
        with write_transaction(conn):
            conn.execute("""
                CREATE TABLE sale_lines_new (
                    sale_id TEXT NOT NULL REFERENCES sales(id),
                    line_no INTEGER NOT NULL,
                    product_id INTEGER REFERENCES products(id),
                    name TEXT NOT NULL,
                    unit TEXT NOT NULL,
                    quantity_milli INTEGER NOT NULL CHECK (quantity_milli > 0),
                    unit_price INTEGER NOT NULL CHECK (unit_price >= 0),
                    amount INTEGER NOT NULL CHECK (amount >= 0),
                    PRIMARY KEY (sale_id, line_no)
                ) STRICT, WITHOUT ROWID""")
            conn.execute("INSERT INTO sale_lines_new SELECT sale_id, line_no, product_id, name,"
                         " unit, quantity_milli, unit_price, amount FROM sale_lines")
            conn.execute("""
                CREATE TABLE payments_new (
                    sale_id TEXT NOT NULL REFERENCES sales(id),
                    line_no INTEGER NOT NULL,
                    method TEXT NOT NULL CHECK (method IN ('cash', 'qr')),
                    amount INTEGER NOT NULL CHECK (amount >= 0),
                    tendered INTEGER CHECK (tendered >= amount),
                    change INTEGER CHECK (change >= 0),
                    reference TEXT,
                    bank_bin TEXT,
                    account TEXT,
                    state TEXT,
                    bank_txn TEXT,
                    PRIMARY KEY (sale_id, line_no)
                ) STRICT, WITHOUT ROWID""")
            conn.execute("INSERT INTO payments_new SELECT sale_id, line_no, method, amount,"
                         " tendered, change, reference, bank_bin, account, state, bank_txn"
                         " FROM payments")
            conn.execute("DROP TABLE sale_lines")
            conn.execute("DROP TABLE payments")
            conn.execute("ALTER TABLE sale_lines_new RENAME TO sale_lines")
            conn.execute("ALTER TABLE payments_new RENAME TO payments")
            conn.execute("CREATE INDEX payments_reference ON payments(reference)"
                         " WHERE reference IS NOT NULL")
            problems = conn.execute("PRAGMA foreign_key_check").fetchall()
            if problems:
                raise sqlite3.IntegrityError(f"foreign keys broken by the rebuild: {problems[:3]}")
    finally:
        conn.execute("PRAGMA foreign_keys = ON")
