"""Stall schema migration 0003: access.

Shipped: never edit it; a change to the schema is a new migration (pos/migrations/__init__.py).
"""
from __future__ import annotations

import sqlite_utils


def migrate(db: sqlite_utils.Database) -> None:
    db.execute("""
        CREATE TABLE pins (
            role TEXT PRIMARY KEY CHECK (role IN ('owner', 'helper')),
            pin_hash TEXT NOT NULL
        ) STRICT""")
    db.execute("""
        CREATE TABLE pin_guard (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            failures INTEGER NOT NULL DEFAULT 0,
            locked_until REAL NOT NULL DEFAULT 0
        ) STRICT""")
    db.execute("INSERT INTO pin_guard (id) VALUES (1)")
    db.execute("""
        CREATE TABLE api_tokens (
            token_hash TEXT PRIMARY KEY,
            label TEXT NOT NULL,
            created_at TEXT NOT NULL,
            revoked_at TEXT
        ) STRICT""")
