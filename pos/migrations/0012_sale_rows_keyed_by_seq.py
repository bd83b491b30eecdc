"""Stall schema migration 0012: sale rows keyed by seq.

Shipped: never edit it; a change to the schema is a new migration (pos/migrations/__init__.py).
"""
from __future__ import annotations

import sqlite3

import sqlite_utils

from ..db import write_transaction
from . import require_room_to_rewrite


# It runs its own transaction (a table rebuild with foreign keys off, which SQLite
# cannot do inside one), so the runner must not open one around it.
TRANSACTIONAL = False


def migrate(db: sqlite_utils.Database) -> None:
    # Bytes per sale (BENCHMARKS.md), two causes. (1) A sale's lines and payments were keyed by
    # its 36-character id: four copies per sale, and random keys leave the b-tree pages about a
    # third empty. Keyed by the sale's journal seq (a small integer that only grows), each row
    # is shorter and every insert appends. (2) The journal kept a UNIQUE index on `hash` that no
    # query reads: the chain is ordered by seq, each hash covers its seq, and the append trigger
    # checks every link. Both are rebuilt the documented way, in one transaction.
    conn = db.conn
    if conn.execute("SELECT 1 FROM pragma_table_info('sale_lines') WHERE name = 'sale_seq'"
                    ).fetchone():
        return  # rebuilt already; only the record of it was missing
    require_room_to_rewrite(conn)
    conn.execute("PRAGMA foreign_keys = OFF")
    try:
        with write_transaction(conn):
            triggers = [sql for (sql,) in conn.execute(
                "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'journal'")]
            conn.execute("""
                CREATE TABLE journal_new (
                    seq INTEGER PRIMARY KEY CHECK (seq >= 1),
                    id TEXT NOT NULL UNIQUE CHECK (length(id) = 36),
                    device_id TEXT NOT NULL,
                    kind TEXT NOT NULL,
                    at TEXT NOT NULL CHECK (length(at) = 24),
                    payload TEXT NOT NULL,
                    prev_hash TEXT NOT NULL CHECK (length(prev_hash) = 64),
                    hash TEXT NOT NULL CHECK (length(hash) = 64)
                ) STRICT""")
            conn.execute("INSERT INTO journal_new SELECT seq, id, device_id, kind, at, payload,"
                         " prev_hash, hash FROM journal ORDER BY seq")
            conn.execute("DROP TABLE journal")
            conn.execute("ALTER TABLE journal_new RENAME TO journal")
            for sql in triggers:
                conn.execute(sql)
            conn.execute("""
                CREATE TABLE sale_lines_new (
                    sale_seq INTEGER NOT NULL REFERENCES sales(seq),
                    line_no INTEGER NOT NULL,
                    product_id INTEGER REFERENCES products(id),
                    name TEXT NOT NULL,
                    unit TEXT NOT NULL,
                    quantity_milli INTEGER NOT NULL CHECK (quantity_milli > 0),
                    unit_price INTEGER NOT NULL CHECK (unit_price >= 0),
                    amount INTEGER NOT NULL CHECK (amount >= 0),
                    PRIMARY KEY (sale_seq, line_no)
                ) STRICT, WITHOUT ROWID""")
            conn.execute("INSERT INTO sale_lines_new SELECT s.seq, l.line_no, l.product_id,"
                         " l.name, l.unit, l.quantity_milli, l.unit_price, l.amount"
                         " FROM sale_lines l JOIN sales s ON s.id = l.sale_id"
                         " ORDER BY s.seq, l.line_no")
            conn.execute("""
                CREATE TABLE payments_new (
                    sale_seq INTEGER NOT NULL REFERENCES sales(seq),
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
                    PRIMARY KEY (sale_seq, line_no)
                ) STRICT, WITHOUT ROWID""")
            conn.execute("INSERT INTO payments_new SELECT s.seq, p.line_no, p.method, p.amount,"
                         " p.tendered, p.change, p.reference, p.bank_bin, p.account, p.state,"
                         " p.bank_txn FROM payments p JOIN sales s ON s.id = p.sale_id"
                         " ORDER BY s.seq, p.line_no")
            lost = conn.execute(
                "SELECT (SELECT COUNT(*) FROM sale_lines) - (SELECT COUNT(*) FROM sale_lines_new),"
                " (SELECT COUNT(*) FROM payments) - (SELECT COUNT(*) FROM payments_new)").fetchone()
            if any(lost):
                raise sqlite3.IntegrityError(f"lines or payments without their sale: {tuple(lost)}")
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
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # give the rewrite's log space back
