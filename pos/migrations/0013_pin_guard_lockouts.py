"""Stall schema migration 0013: pin guard lockouts.

Shipped: never edit it; a change to the schema is a new migration (pos/migrations/__init__.py).
"""
from __future__ import annotations

import sqlite_utils


def migrate(db: sqlite_utils.Database) -> None:
    # Lock-outs grow with each one of a streak (sync/lockout.py), and a streak is forgotten a day
    # after its last failure: the guard keeps both beside the failure count.
    db.execute("ALTER TABLE pin_guard ADD COLUMN lockouts INTEGER NOT NULL DEFAULT 0")
    db.execute("ALTER TABLE pin_guard ADD COLUMN last_failure_at REAL NOT NULL DEFAULT 0")
