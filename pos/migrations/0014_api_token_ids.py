"""Stall schema migration 0014: api token ids.

Shipped: never edit it; a change to the schema is a new migration (pos/migrations/__init__.py).
"""
from __future__ import annotations

import sqlite_utils


def migrate(db: sqlite_utils.Database) -> None:
    # A token needs a short, stable id to be listed and revoked by (never the token, never its
    # hash); a rowid would not do: VACUUM may renumber the rowids of a table keyed by text.
    db.execute("""
        CREATE TABLE api_tokens_new (
            id INTEGER PRIMARY KEY,
            token_hash TEXT NOT NULL UNIQUE CHECK (length(token_hash) = 64),
            label TEXT NOT NULL,
            created_at TEXT NOT NULL,
            revoked_at TEXT
        ) STRICT""")
    db.execute("INSERT INTO api_tokens_new (token_hash, label, created_at, revoked_at)"
               " SELECT token_hash, label, created_at, revoked_at FROM api_tokens"
               " ORDER BY created_at, token_hash")
    db.execute("DROP TABLE api_tokens")
    db.execute("ALTER TABLE api_tokens_new RENAME TO api_tokens")
