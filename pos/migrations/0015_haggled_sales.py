"""Stall schema migration 0015: haggled sales (a line's list price, a sale's discount).

Shipped: never edit it; a change to the schema is a new migration (pos/migrations/__init__.py).
"""
from __future__ import annotations

import sqlite_utils


def migrate(db: sqlite_utils.Database) -> None:
    # The projection of what a sale entry already says (pos/haggling.py): the price the product
    # was listed at when it sold for another (NULL when sold at the list price), and the
    # discount on the whole sale with its reason. `total` stays the amount paid.
    db.execute("ALTER TABLE sale_lines ADD COLUMN list_price INTEGER CHECK (list_price >= 0)")
    db.execute("ALTER TABLE sales ADD COLUMN discount INTEGER NOT NULL DEFAULT 0"
               " CHECK (discount >= 0)")
    db.execute("ALTER TABLE sales ADD COLUMN discount_reason TEXT")
