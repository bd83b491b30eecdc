"""Stall schema migration 0007: catalogue from server.

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
    # Products pulled from the provincial server are the server's fact, not the stall's: they are
    # not journalled, so `journal_seq` becomes optional (required unless the row has a
    # `server_ref`). SQLite cannot relax NOT NULL in place, so the table is rebuilt (the documented
    # 12-step way: foreign keys off, copy, drop, rename, check), in one transaction of its own.
    conn = db.conn
    columns = {row[1] for row in conn.execute("PRAGMA table_info(products)")}
    if "server_ref" in columns:  # rebuilt already; only the record of it was missing
        return
    conn.execute("PRAGMA foreign_keys = OFF")
    try:
        with write_transaction(conn):
            conn.execute("""
                CREATE TABLE products_new (
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
                    journal_seq INTEGER REFERENCES journal(seq),
                    server_ref TEXT UNIQUE CHECK (length(server_ref) BETWEEN 1 AND 64),
                    binding INTEGER NOT NULL DEFAULT 0 CHECK (binding IN (0, 1)),
                    server_price INTEGER CHECK (server_price BETWEEN 0 AND 1000000000000),
                    server_active INTEGER CHECK (server_active IN (0, 1)),
                    CHECK (journal_seq IS NOT NULL OR server_ref IS NOT NULL)
                ) STRICT""")
            conn.execute("""
                INSERT INTO products_new (id, name, search_key, unit, price, category, barcode,
                                          ocop_stars, trace_url, active, journal_seq)
                SELECT id, name, search_key, unit, price, category, barcode, ocop_stars, trace_url,
                       active, journal_seq FROM products""")
            conn.execute("DROP TABLE products")
            conn.execute("ALTER TABLE products_new RENAME TO products")
            conn.execute("CREATE UNIQUE INDEX products_barcode ON products(barcode)"
                         " WHERE barcode IS NOT NULL")
            problems = conn.execute("PRAGMA foreign_key_check").fetchall()
            if problems:
                raise sqlite3.IntegrityError(f"foreign keys broken by the rebuild: {problems[:3]}")
    finally:
        conn.execute("PRAGMA foreign_keys = ON")
