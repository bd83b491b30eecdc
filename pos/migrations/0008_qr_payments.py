"""Stall schema migration 0008: qr payments.

Shipped: never edit it; a change to the schema is a new migration (pos/migrations/__init__.py).
"""
from __future__ import annotations

import sqlite_utils


def migrate(db: sqlite_utils.Database) -> None:
    # The vendor's receiving accounts are settings (not journalled): each QR payment copies the
    # bank and account it was shown with into its sale entry.
    db.execute("""
        CREATE TABLE bank_accounts (
            id INTEGER PRIMARY KEY,
            bank_bin TEXT NOT NULL CHECK (length(bank_bin) = 6),
            account TEXT NOT NULL CHECK (length(account) BETWEEN 6 AND 19),
            holder TEXT NOT NULL CHECK (length(holder) BETWEEN 1 AND 50),
            is_card INTEGER NOT NULL DEFAULT 0 CHECK (is_card IN (0, 1)),
            is_default INTEGER NOT NULL DEFAULT 0 CHECK (is_default IN (0, 1)),
            active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
            created_at TEXT NOT NULL
        ) STRICT""")
    db.execute("CREATE UNIQUE INDEX bank_accounts_number ON bank_accounts(bank_bin, account)")
    # A code on screen that the buyer has not paid yet: local working state, like print jobs.
    # Nothing is journalled until the vendor (or the bank) confirms; cancelling records nothing.
    db.execute("""
        CREATE TABLE qr_pending (
            id TEXT PRIMARY KEY,
            reference TEXT NOT NULL,
            amount INTEGER NOT NULL CHECK (amount > 0),
            total INTEGER NOT NULL CHECK (total >= amount),
            request TEXT NOT NULL,
            bank_bin TEXT NOT NULL,
            account TEXT NOT NULL,
            holder TEXT NOT NULL,
            payload TEXT NOT NULL,
            created_at TEXT NOT NULL,
            created_by TEXT NOT NULL,
            state TEXT NOT NULL DEFAULT 'pending'
                CHECK (state IN ('pending', 'recorded', 'cancelled')),
            sale_id TEXT REFERENCES sales(id)
        ) STRICT""")
    db.execute("CREATE INDEX qr_pending_state ON qr_pending(state, created_at)")
    db.execute("CREATE INDEX qr_pending_reference ON qr_pending(reference)")
    for column in ("reference", "bank_bin", "account", "state", "bank_txn"):
        db.execute(f"ALTER TABLE payments ADD COLUMN {column} TEXT")
    db.execute("CREATE INDEX payments_reference ON payments(reference) WHERE reference IS NOT NULL")
    # Projection of `payment_check` entries: what the bank said about a QR payment.
    db.execute("""
        CREATE TABLE bank_checks (
            seq INTEGER PRIMARY KEY REFERENCES journal(seq),
            bank_txn TEXT NOT NULL UNIQUE,
            reference TEXT,
            sale_id TEXT REFERENCES sales(id),
            state TEXT NOT NULL CHECK (state IN ('bank_confirmed', 'mismatch')),
            reason TEXT,
            bank_amount INTEGER NOT NULL,
            expected INTEGER,
            source TEXT NOT NULL CHECK (source IN ('server', 'statement')),
            business_day TEXT NOT NULL,
            at TEXT NOT NULL
        ) STRICT""")
    db.execute("CREATE INDEX bank_checks_day ON bank_checks(business_day)")
