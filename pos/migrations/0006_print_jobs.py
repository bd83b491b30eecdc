"""Stall schema migration 0006: print jobs.

Shipped: never edit it; a change to the schema is a new migration (pos/migrations/__init__.py).
"""
from __future__ import annotations

import sqlite_utils


def migrate(db: sqlite_utils.Database) -> None:
    # The printer queue: local only (never synced); a job is retried until printed or cancelled.
    db.execute("""
        CREATE TABLE print_jobs (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL CHECK (kind IN ('receipt', 'report', 'selftest')),
            ref TEXT NOT NULL DEFAULT '',
            copy INTEGER NOT NULL DEFAULT 0 CHECK (copy IN (0, 1)),
            state TEXT NOT NULL DEFAULT 'queued'
                CHECK (state IN ('queued', 'held', 'done', 'failed', 'cancelled')),
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            created_at REAL NOT NULL,
            next_attempt_at REAL NOT NULL,
            updated_at REAL NOT NULL
        ) STRICT""")
    db.execute("CREATE INDEX print_jobs_due ON print_jobs(state, next_attempt_at)")
