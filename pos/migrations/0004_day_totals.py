"""Stall schema migration 0004: day totals.

Shipped: never edit it; a change to the schema is a new migration (pos/migrations/__init__.py).
"""
from __future__ import annotations

import sqlite_utils


def migrate(db: sqlite_utils.Database) -> None:
    # Maintained counters so that today's figures never need a scan of the day's sales.
    db.execute("""
        CREATE TABLE day_totals (
            business_day TEXT PRIMARY KEY,
            sales_count INTEGER NOT NULL DEFAULT 0,
            revenue INTEGER NOT NULL DEFAULT 0,
            cash INTEGER NOT NULL DEFAULT 0,
            qr INTEGER NOT NULL DEFAULT 0,
            voids_count INTEGER NOT NULL DEFAULT 0,
            voided_amount INTEGER NOT NULL DEFAULT 0
        ) STRICT""")
    # Counters are net of voids: a void moves its sale out of the sales, cash and qr figures.
    db.execute("""
        INSERT INTO day_totals
        SELECT s.business_day,
               SUM(s.voided_seq IS NULL),
               SUM(CASE WHEN s.voided_seq IS NULL THEN s.total ELSE 0 END),
               IFNULL(SUM(CASE WHEN s.voided_seq IS NULL THEN
                   (SELECT SUM(p.amount) FROM payments p WHERE p.sale_id = s.id AND p.method = 'cash')
                   END), 0),
               IFNULL(SUM(CASE WHEN s.voided_seq IS NULL THEN
                   (SELECT SUM(p.amount) FROM payments p WHERE p.sale_id = s.id AND p.method = 'qr')
                   END), 0),
               SUM(s.voided_seq IS NOT NULL),
               SUM(CASE WHEN s.voided_seq IS NOT NULL THEN s.total ELSE 0 END)
        FROM sales s GROUP BY s.business_day""")
