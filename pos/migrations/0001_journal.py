"""Stall schema migration 0001: journal.

Shipped: never edit it; a change to the schema is a new migration (pos/migrations/__init__.py).
"""
from __future__ import annotations

import sqlite_utils


def migrate(db: sqlite_utils.Database) -> None:
    db.execute("""
        CREATE TABLE journal (
            seq INTEGER PRIMARY KEY CHECK (seq >= 1),
            id TEXT NOT NULL UNIQUE CHECK (length(id) = 36),
            device_id TEXT NOT NULL,
            kind TEXT NOT NULL,
            at TEXT NOT NULL CHECK (length(at) = 24),
            payload TEXT NOT NULL,
            prev_hash TEXT NOT NULL CHECK (length(prev_hash) = 64),
            hash TEXT NOT NULL UNIQUE CHECK (length(hash) = 64)
        ) STRICT""")
    db.execute("""
        CREATE TRIGGER journal_no_update BEFORE UPDATE ON journal
        BEGIN SELECT RAISE(ABORT, 'journal entries are immutable'); END""")
    db.execute("""
        CREATE TRIGGER journal_no_delete BEFORE DELETE ON journal
        BEGIN SELECT RAISE(ABORT, 'journal entries cannot be deleted'); END""")
    # A second line of defence behind journal.append: no gap and an intact link, always.
    db.execute("""
        CREATE TRIGGER journal_append_only BEFORE INSERT ON journal
        WHEN NEW.seq IS NOT (SELECT IFNULL(MAX(seq), 0) + 1 FROM journal)
          OR NEW.prev_hash IS NOT IFNULL((SELECT hash FROM journal WHERE seq = NEW.seq - 1),
                                         printf('%064d', 0))
        BEGIN SELECT RAISE(ABORT, 'journal entries must extend the chain'); END""")
    db.execute("""
        CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT""")
