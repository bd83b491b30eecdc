"""The stall database's schema as text, after each migration: what `tests/data/stall_schema.sql`
holds (generated from the inline migrations of pos/db.py before they moved to pos/migrations/)
and what `tests/test_db.py` compares it with.

    python -m tests.harness.stall_schema > tests/data/stall_schema.sql   # only to re-baseline
"""
from __future__ import annotations

import sqlite3
import sys
import tempfile
from pathlib import Path

from pos import migrations


def _dump(path: Path) -> str:
    conn = sqlite3.connect(path)
    try:
        out = [f"-- PRAGMA user_version = {conn.execute('PRAGMA user_version').fetchone()[0]}"]
        applied = conn.execute("SELECT migration_set, name FROM _sqlite_migrations ORDER BY rowid"
                               ).fetchall()
        out.append("-- applied: " + ", ".join(f"{s}/{n}" for s, n in applied))
        # In rowid order: the order the objects were created in, not only what they are.
        for kind, name, table, sql in conn.execute(
                "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY rowid"):
            out.append(f"-- {kind} {name} ON {table}")
            out.append(f"{sql};" if sql is not None else "-- (no sql: an automatic index)")
        return "\n".join(out) + "\n"
    finally:
        conn.close()


def schema_text() -> str:
    """The schema after each migration in turn (a database migrated up to it, from empty)."""
    names = migrations.migration_names()
    parts = []
    with tempfile.TemporaryDirectory() as folder:
        for i, stop_before in enumerate([*names[1:], None]):
            path = Path(folder) / f"{i}.sqlite3"
            migrations.migrate(path, stop_before=stop_before)
            parts.append(f"-- ===== after {names[i]} =====\n{_dump(path)}")
    return "\n".join(parts)


if __name__ == "__main__":
    sys.stdout.write(schema_text())
