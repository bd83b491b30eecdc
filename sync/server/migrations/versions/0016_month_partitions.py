"""The journal and its per-entry projections partitioned by month on PostgreSQL (issue 21).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-10

A province stores some 3 million sales a day; the tables that grow with every entry would hold
billions of rows within a few years. On PostgreSQL they become partitioned tables (native
declarative partitioning, `PARTITION BY RANGE (month)`), one partition per month and table,
so that a month's rows sit together, its indexes stay a month deep, and an old month can be
detached, archived to a file and dropped, or restored (sync/server/partitions.py,
`market-server partitions`). docs/SCALE.md, "PostgreSQL partitions and the read replica",
explains the whole design.

The partition key. Every partitioned table gains `month` (a DATE, the first day of the month in
UTC) of the transaction that stored the entry: the journal row and every row projected from it
are written in one transaction, so they always share a month and an archive takes them
together. The column's DEFAULT fills it (no INSERT names it: db.py marks it FetchedValue), so
no caller changes. Existing rows get the month of their journal entry's `received_at`.

The keys stay `(device_id, seq)` (and `line_no` for lines). PostgreSQL requires the partition
key in every unique constraint of a partitioned table, so the stored primary key is the
table's key plus `month`: `(device_id, seq, month)`, `(device_id, seq, line_no, month)`. Within
a month that is the old key. Across months (device_id, seq) stays unique because:

- the push (sync/server/store.py) locks the device's row and stores only
  seq = acked_seq + 1, acked_seq then growing by one: a (device, seq) is inserted once, ever,
  whatever its month; a resent entry is compared with the stored one, found through the index
  whatever its month (same hash: a duplicate, nothing written; another hash: 409 conflict);
  tests/server/test_partitions.py pushes a duplicate after moving the first copy to another
  month and finds it refused;
- entries are stored in seq order and months only grow, so each device's months are
  consecutive ranges of its seqs;
- `partitions restore` refuses an archived month any of whose keys is in the live tables.

A default partition takes rows of a month that has no partition yet (a server whose
maintenance did not run); `market-server partitions create-ahead` (run at start-up) makes the
partitions of the coming months and moves any such rows out of the default one.

Partitions live in their own schema, `market_partitions` (journal_2026_11, sales_2026_11, …,
journal_default): the application's schema keeps exactly the tables of sync/server/db.py.

Not partitioned: `product_entries` (a product's history decides the category of sale lines
years later), `credit_customers` (one row per customer), `credit_payments` (a few repayments;
its columns are the credit book's promise of what the server keeps, held by a test),
`integrity_alerts` and `einvoice_queue` (work lists whose rows change; the queue is written
with ON CONFLICT (device_id, seq), which needs a unique index without `month`).

SQLite stays unpartitioned and its tables are not rewritten: it only gains the `month` column
(ALTER TABLE … ADD COLUMN with a constant default, 1970-01-01, which SQLite does without
touching the rows), so that one schema serves both backends; nothing reads it there.

The upgrade copies each table into its partitioned successor in this revision's transaction
(a populated server is converted whole, or not at all); the downgrade copies back into plain
tables with the old keys (months archived to files are not in the database and stay in their
files). Both take time proportional to the data: plan a maintenance window for a large server.
"""
from __future__ import annotations

from datetime import date
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: Union[str, None] = "0015"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

SCHEMA = "market_partitions"
MONTHS_AHEAD = 3
MONTH_DEFAULT = ("CAST(date_trunc('month', transaction_timestamp() AT TIME ZONE 'UTC')"
                 " AS DATE)")

# Each table and its key as revision 0015 left it. The journal comes first: the projections
# take their month from their entry's.
KEYS = {
    "journal": ("device_id", "seq"),
    "sales": ("device_id", "seq"),
    "sale_lines": ("device_id", "seq", "line_no"),
    "payments": ("device_id", "seq", "line_no"),
    "voids": ("device_id", "seq"),
    "refunds": ("device_id", "seq"),
    "refund_lines": ("device_id", "seq", "line_no"),
    "cash_moves": ("device_id", "seq"),
    "day_closes": ("device_id", "seq"),
    "qr_checks": ("device_id", "seq"),
    "purchase_lines": ("device_id", "seq", "line_no"),
}


def _next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def _partition(table: str, month: date) -> str:
    return f"{SCHEMA}.{table}_{month.year:04d}_{month.month:02d}"


def _columns(conn: sa.Connection, table: str) -> list[str]:
    return list(conn.execute(sa.text(
        "SELECT attname FROM pg_attribute WHERE attrelid = CAST(:t AS regclass)"
        " AND attnum > 0 AND NOT attisdropped ORDER BY attnum"), {"t": f"public.{table}"}
    ).scalars())


def _index_definitions(conn: sa.Connection, table: str) -> list[tuple[str, str]]:
    """(name, CREATE INDEX …) of the table's indexes other than its primary key, made to
    apply to a table of the same name (partitioned or not)."""
    rows = conn.execute(sa.text(
        "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i"
        " JOIN pg_class c ON c.oid = i.indexrelid"
        " WHERE i.indrelid = CAST(:t AS regclass) AND NOT i.indisprimary ORDER BY c.relname"),
        {"t": f"public.{table}"}).all()
    return [(name, definition.replace(" ON ONLY ", " ON ")) for name, definition in rows]


def _quoted(columns: list[str]) -> str:
    return ", ".join(f'"{name}"' for name in columns)


def _upgrade_postgresql(conn: sa.Connection) -> None:
    op.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
    today = conn.execute(sa.text(f"SELECT {MONTH_DEFAULT}")).scalar_one()
    stored = conn.execute(sa.text(
        "SELECT DISTINCT CAST(date_trunc('month', received_at AT TIME ZONE 'UTC') AS DATE)"
        " FROM journal")).scalars().all()
    months = set(stored)
    month = today
    for _ in range(MONTHS_AHEAD + 1):
        months.add(month)
        month = _next_month(month)
    for table, key in KEYS.items():
        old = f"{table}_unpartitioned"
        columns = _columns(conn, table)
        indexes = _index_definitions(conn, table)
        op.execute(f"ALTER TABLE {table} RENAME TO {old}")
        op.execute(f"ALTER TABLE {old} RENAME CONSTRAINT pk_{table} TO pk_{old}")
        for name, _definition in indexes:
            op.execute(f'DROP INDEX "{name}"')
        op.execute(f"CREATE TABLE {table} (LIKE {old} INCLUDING DEFAULTS INCLUDING CONSTRAINTS,"
                   f" month DATE NOT NULL DEFAULT {MONTH_DEFAULT}) PARTITION BY RANGE (month)")
        op.execute(f"CREATE TABLE {SCHEMA}.{table}_default PARTITION OF {table} DEFAULT")
        for month in sorted(months):
            op.execute(f"CREATE TABLE {_partition(table, month)} PARTITION OF {table} FOR VALUES"
                       f" FROM ('{month.isoformat()}') TO ('{_next_month(month).isoformat()}')")
        if table == "journal":
            month_of = "CAST(date_trunc('month', o.received_at AT TIME ZONE 'UTC') AS DATE)"
            source = f"{old} o"
        else:
            month_of = f"COALESCE(j.month, {MONTH_DEFAULT})"
            source = (f"{old} o LEFT JOIN journal j ON j.device_id = o.device_id"
                      " AND j.seq = o.seq")
        op.execute(f"INSERT INTO {table} ({_quoted(columns)}, month) SELECT "
                   + ", ".join(f'o."{name}"' for name in columns)
                   + f", {month_of} FROM {source}")
        op.execute(f"ALTER TABLE {table} ADD CONSTRAINT pk_{table}"
                   f" PRIMARY KEY ({_quoted([*key, 'month'])})")
        for _name, definition in indexes:
            op.execute(definition)
        op.execute(f"DROP TABLE {old}")
        op.execute(f"ANALYZE {table}")


def _downgrade_postgresql(conn: sa.Connection) -> None:
    for table, key in reversed(list(KEYS.items())):
        old = f"{table}_partitioned"
        columns = [name for name in _columns(conn, table) if name != "month"]
        indexes = _index_definitions(conn, table)
        op.execute(f"ALTER TABLE {table} RENAME TO {old}")
        op.execute(f"ALTER TABLE {old} RENAME CONSTRAINT pk_{table} TO pk_{old}")
        for name, _definition in indexes:
            op.execute(f'DROP INDEX "{name}"')
        op.execute(f"CREATE TABLE {table} (LIKE {old} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)")
        op.execute(f"ALTER TABLE {table} DROP COLUMN month")
        op.execute(f"INSERT INTO {table} ({_quoted(columns)}) SELECT {_quoted(columns)}"
                   f" FROM {old}")
        op.execute(f"ALTER TABLE {table} ADD CONSTRAINT pk_{table}"
                   f" PRIMARY KEY ({_quoted(list(key))})")
        for _name, definition in indexes:
            op.execute(definition)
        op.execute(f"DROP TABLE {old}")   # and its partitions
    # Tables left detached by an interrupted archive stay, and so then does the schema.
    left = conn.execute(sa.text(
        "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = :s"), {"s": SCHEMA}).scalar_one()
    if not left:
        op.execute(f"DROP SCHEMA IF EXISTS {SCHEMA}")


def upgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name == "postgresql":
        _upgrade_postgresql(conn)
        return
    # SQLite: the column only, at once (a constant default rewrites no row); nothing reads it.
    for table in KEYS:
        op.execute(f"ALTER TABLE {table} ADD COLUMN month DATE NOT NULL DEFAULT '1970-01-01'")


def downgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name == "postgresql":
        _downgrade_postgresql(conn)
        return
    for table in KEYS:
        op.execute(f"ALTER TABLE {table} DROP COLUMN month")
