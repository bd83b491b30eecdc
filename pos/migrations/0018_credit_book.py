"""Stall schema migration 0018: the credit book (sổ nợ).

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
    conn = db.conn
    if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'customers'").fetchone():
        return  # done already; only the record of it was missing
    require_room_to_rewrite(conn)
    conn.execute("PRAGMA foreign_keys = OFF")
    try:
        with write_transaction(conn):
            _credit_book(conn)
            problems = conn.execute("PRAGMA foreign_key_check").fetchall()
            if problems:
                raise sqlite3.IntegrityError(f"foreign keys broken by the rebuild: {problems[:3]}")
    finally:
        conn.execute("PRAGMA foreign_keys = ON")


def _credit_book(conn: sqlite3.Connection) -> None:
    # The projection of `customer` entries: the names in clear, on the stall only (the entries
    # carry them sealed, pos/personal_data.py). `balance` is what she owes now; `owing_since`
    # when it last rose from zero (the list of debtors, oldest first).
    conn.execute("""
        CREATE TABLE customers (
            id INTEGER PRIMARY KEY,
            entry_seq INTEGER NOT NULL REFERENCES journal(seq),
            name TEXT NOT NULL,
            search_key TEXT NOT NULL,
            phone TEXT,
            note TEXT,
            credit_limit INTEGER CHECK (credit_limit >= 0),
            active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
            balance INTEGER NOT NULL DEFAULT 0,
            owing_since TEXT,
            created_at TEXT NOT NULL
        ) STRICT""")
    # Every key that points at the journal has its index, or SQLite's foreign key check would
    # scan the table on each journal write (tests/test_no_scans.py).
    conn.execute("CREATE INDEX customers_entry ON customers(entry_seq)")
    conn.execute("CREATE INDEX customers_search ON customers(search_key)")
    conn.execute("CREATE INDEX customers_phone ON customers(phone) WHERE phone IS NOT NULL")
    conn.execute("CREATE INDEX customers_owing ON customers(owing_since) WHERE balance > 0")
    # Every change of a balance, in journal order: a credit sale (+), a repayment (−), a void
    # or a refund of a credit sale (−). A customer's history and the day's figures read it.
    conn.execute("""
        CREATE TABLE credit_moves (
            seq INTEGER NOT NULL REFERENCES journal(seq),
            customer_id INTEGER NOT NULL REFERENCES customers(id),
            kind TEXT NOT NULL CHECK (kind IN ('sale', 'repayment', 'void', 'refund')),
            amount INTEGER NOT NULL CHECK (amount != 0),
            method TEXT CHECK (method IN ('cash', 'qr')),
            sale_seq INTEGER REFERENCES sales(seq),
            business_day TEXT NOT NULL,
            at TEXT NOT NULL,
            PRIMARY KEY (seq, customer_id)
        ) STRICT, WITHOUT ROWID""")
    conn.execute("CREATE INDEX credit_moves_customer ON credit_moves(customer_id, seq)")
    conn.execute("CREATE INDEX credit_moves_day ON credit_moves(business_day)")
    # A sale's payment may now be `credit`, naming the customer: SQLite cannot widen a CHECK in
    # place, so the payments table is rebuilt the documented way (as 0011 and 0012 did).
    conn.execute("""
        CREATE TABLE payments_new (
            sale_seq INTEGER NOT NULL REFERENCES sales(seq),
            line_no INTEGER NOT NULL,
            method TEXT NOT NULL CHECK (method IN ('cash', 'qr', 'credit')),
            amount INTEGER NOT NULL CHECK (amount >= 0),
            tendered INTEGER CHECK (tendered >= amount),
            change INTEGER CHECK (change >= 0),
            reference TEXT,
            bank_bin TEXT,
            account TEXT,
            state TEXT,
            bank_txn TEXT,
            customer_id INTEGER REFERENCES customers(id),
            PRIMARY KEY (sale_seq, line_no),
            CHECK ((method = 'credit') = (customer_id IS NOT NULL))
        ) STRICT, WITHOUT ROWID""")
    conn.execute("INSERT INTO payments_new SELECT sale_seq, line_no, method, amount, tendered,"
                 " change, reference, bank_bin, account, state, bank_txn, NULL FROM payments")
    conn.execute("DROP TABLE payments")
    conn.execute("ALTER TABLE payments_new RENAME TO payments")
    conn.execute("CREATE INDEX payments_reference ON payments(reference)"
                 " WHERE reference IS NOT NULL")
    # The day's counters: credit sales are revenue but not cash (nor a transfer); a refund of a
    # credit sale gives back credit.
    conn.execute("ALTER TABLE day_totals ADD COLUMN credit INTEGER NOT NULL DEFAULT 0")
    conn.execute("ALTER TABLE refunds ADD COLUMN credit INTEGER NOT NULL DEFAULT 0"
                 " CHECK (credit >= 0)")
    # A QR code may also be for a repayment ("Trả nợ" by transfer): whose, and the entry that
    # recorded it once the money came.
    conn.execute("ALTER TABLE qr_pending ADD COLUMN customer_id INTEGER REFERENCES customers(id)")
    conn.execute("ALTER TABLE qr_pending ADD COLUMN credit_seq INTEGER REFERENCES journal(seq)")
    conn.execute("CREATE INDEX qr_pending_credit ON qr_pending(credit_seq)"
                 " WHERE credit_seq IS NOT NULL")
