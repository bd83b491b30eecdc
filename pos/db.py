"""The stall's SQLite database: connections with the durability pragmas, and the schema migrations.

Every write that must be all-or-nothing goes through `write_transaction`, which takes the write lock
up front (BEGIN IMMEDIATE) so that concurrent sales queue on the busy timeout instead of failing.
"""
from __future__ import annotations

import sqlite3
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import sqlite_utils
from sqlite_utils.migrations import Migrations

BUSY_TIMEOUT_MS = 10_000
migrations = Migrations("market-pos")


def connect(path: str | Path) -> sqlite3.Connection:
    """Open the database with WAL, synchronous=FULL, foreign keys and a busy timeout."""
    conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None,
                           check_same_thread=False)
    conn.row_factory = sqlite3.Row
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


@contextmanager
def write_transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """Run a block as one IMMEDIATE transaction: all of it is committed, or none of it."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    else:
        conn.execute("COMMIT")


def migrate(path: str | Path, *, stop_before: str | None = None) -> None:
    """Apply every pending migration (or those before `stop_before`, for tests of old versions)."""
    conn = connect(path)
    try:
        migrations.apply(sqlite_utils.Database(conn), stop_before=stop_before)
    finally:
        conn.close()


def migration_names() -> list[str]:
    """Names of all migrations, oldest first."""
    return [m.name for m in migrations._migrations]


# Migrations are append-only: never edit one that has shipped; add a new one below.

@migrations(name="0001_journal")
def _journal(db: sqlite_utils.Database) -> None:
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


@migrations(name="0002_catalog_and_sales")
def _catalog_and_sales(db: sqlite_utils.Database) -> None:
    db.execute("""
        CREATE TABLE products (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 120),
            search_key TEXT NOT NULL,
            unit TEXT NOT NULL CHECK (length(unit) BETWEEN 1 AND 16),
            price INTEGER NOT NULL CHECK (price BETWEEN 0 AND 1000000000000),
            category TEXT NOT NULL DEFAULT '',
            barcode TEXT,
            ocop_stars INTEGER CHECK (ocop_stars BETWEEN 3 AND 5),
            trace_url TEXT,
            active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
            journal_seq INTEGER NOT NULL REFERENCES journal(seq)
        ) STRICT""")
    db.execute("CREATE UNIQUE INDEX products_barcode ON products(barcode) WHERE barcode IS NOT NULL")
    db.execute("""
        CREATE TABLE sales (
            id TEXT PRIMARY KEY,
            seq INTEGER NOT NULL UNIQUE REFERENCES journal(seq),
            number INTEGER NOT NULL UNIQUE CHECK (number >= 1),
            at TEXT NOT NULL,
            business_day TEXT NOT NULL,
            total INTEGER NOT NULL CHECK (total >= 0),
            sold_by TEXT NOT NULL,
            voided_seq INTEGER REFERENCES journal(seq),
            void_reason TEXT
        ) STRICT""")
    db.execute("CREATE INDEX sales_business_day ON sales(business_day, number)")
    db.execute("""
        CREATE TABLE sale_lines (
            sale_id TEXT NOT NULL REFERENCES sales(id),
            line_no INTEGER NOT NULL,
            product_id INTEGER REFERENCES products(id),
            name TEXT NOT NULL,
            unit TEXT NOT NULL,
            quantity_milli INTEGER NOT NULL CHECK (quantity_milli > 0),
            unit_price INTEGER NOT NULL CHECK (unit_price >= 0),
            amount INTEGER NOT NULL CHECK (amount >= 0),
            PRIMARY KEY (sale_id, line_no)
        ) STRICT""")
    db.execute("""
        CREATE TABLE payments (
            sale_id TEXT NOT NULL REFERENCES sales(id),
            line_no INTEGER NOT NULL,
            method TEXT NOT NULL CHECK (method IN ('cash', 'qr')),
            amount INTEGER NOT NULL CHECK (amount >= 0),
            tendered INTEGER CHECK (tendered >= amount),
            change INTEGER CHECK (change >= 0),
            PRIMARY KEY (sale_id, line_no)
        ) STRICT""")


@migrations(name="0003_access")
def _access(db: sqlite_utils.Database) -> None:
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


@migrations(name="0004_day_totals")
def _day_totals(db: sqlite_utils.Database) -> None:
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


@migrations(name="0005_cash_and_day_close")
def _cash_and_day_close(db: sqlite_utils.Database) -> None:
    # Opening float, cash put in and taken out: projections of "cash_move" entries.
    db.execute("""
        CREATE TABLE cash_moves (
            seq INTEGER PRIMARY KEY REFERENCES journal(seq),
            business_day TEXT NOT NULL,
            type TEXT NOT NULL CHECK (type IN ('float', 'in', 'out')),
            amount INTEGER NOT NULL CHECK (amount > 0),
            reason TEXT NOT NULL,
            at TEXT NOT NULL
        ) STRICT""")
    db.execute("CREATE INDEX cash_moves_day ON cash_moves(business_day)")
    # Z reports: projections of "day_close" entries; one per business day, numbered.
    db.execute("""
        CREATE TABLE day_closes (
            business_day TEXT PRIMARY KEY,
            z_number INTEGER NOT NULL UNIQUE CHECK (z_number >= 1),
            seq INTEGER NOT NULL UNIQUE REFERENCES journal(seq),
            at TEXT NOT NULL,
            expected_cash INTEGER NOT NULL,
            counted_cash INTEGER NOT NULL CHECK (counted_cash >= 0),
            report TEXT NOT NULL
        ) STRICT""")


@migrations(name="0006_print_jobs")
def _print_jobs(db: sqlite_utils.Database) -> None:
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


@migrations(name="0007_catalogue_from_server", transactional=False)
def _catalogue_from_server(db: sqlite_utils.Database) -> None:
    # Products pulled from the provincial server are the server's fact, not the stall's: they are
    # not journalled, so `journal_seq` becomes optional (required unless the row has a
    # `server_ref`). SQLite cannot relax NOT NULL in place, so the table is rebuilt (the documented
    # 12-step way: foreign keys off, copy, drop, rename, check), in one transaction of its own.
    conn = db.conn
    columns = {row[1] for row in conn.execute("PRAGMA table_info(products)")}
    if "server_ref" in columns:  # rebuilt already; only the record of it was missing
        return
    conn.execute("PRAGMA foreign_keys = OFF")
    try:
        with write_transaction(conn):
            conn.execute("""
                CREATE TABLE products_new (
                    id INTEGER PRIMARY KEY,
                    name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 120),
                    search_key TEXT NOT NULL,
                    unit TEXT NOT NULL CHECK (length(unit) BETWEEN 1 AND 16),
                    price INTEGER NOT NULL CHECK (price BETWEEN 0 AND 1000000000000),
                    category TEXT NOT NULL DEFAULT '',
                    barcode TEXT,
                    ocop_stars INTEGER CHECK (ocop_stars BETWEEN 3 AND 5),
                    trace_url TEXT,
                    active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
                    journal_seq INTEGER REFERENCES journal(seq),
                    server_ref TEXT UNIQUE CHECK (length(server_ref) BETWEEN 1 AND 64),
                    binding INTEGER NOT NULL DEFAULT 0 CHECK (binding IN (0, 1)),
                    server_price INTEGER CHECK (server_price BETWEEN 0 AND 1000000000000),
                    server_active INTEGER CHECK (server_active IN (0, 1)),
                    CHECK (journal_seq IS NOT NULL OR server_ref IS NOT NULL)
                ) STRICT""")
            conn.execute("""
                INSERT INTO products_new (id, name, search_key, unit, price, category, barcode,
                                          ocop_stars, trace_url, active, journal_seq)
                SELECT id, name, search_key, unit, price, category, barcode, ocop_stars, trace_url,
                       active, journal_seq FROM products""")
            conn.execute("DROP TABLE products")
            conn.execute("ALTER TABLE products_new RENAME TO products")
            conn.execute("CREATE UNIQUE INDEX products_barcode ON products(barcode)"
                         " WHERE barcode IS NOT NULL")
            problems = conn.execute("PRAGMA foreign_key_check").fetchall()
            if problems:
                raise sqlite3.IntegrityError(f"foreign keys broken by the rebuild: {problems[:3]}")
    finally:
        conn.execute("PRAGMA foreign_keys = ON")
