"""Stall schema migration 0010: journal child indexes.

Shipped: never edit it; a change to the schema is a new migration (pos/migrations/__init__.py).
"""
from __future__ import annotations

import sqlite_utils


def migrate(db: sqlite_utils.Database) -> None:
    # Every sale inserts into `journal`, and SQLite plans a look-up of each table whose column
    # references journal(seq) for that insert (foreign keys). Two such columns had no index, so
    # the plan of the sale's INSERT read `products` and `sales` whole; with these, every step of a
    # sale is an index search (tests/test_no_scans.py). The same holds for an invoice's own
    # reference to the invoice it corrects, inserted by the journal's trigger in MTT mode. Few
    # sales are voided and few invoices corrected: those indexes hold only them.
    db.execute("CREATE INDEX products_journal_seq ON products(journal_seq)")
    db.execute("CREATE INDEX sales_voided_seq ON sales(voided_seq) WHERE voided_seq IS NOT NULL")
    db.execute("CREATE INDEX IF NOT EXISTS tax_invoices_related ON tax_invoices(related_code)"
               " WHERE related_code IS NOT NULL")
