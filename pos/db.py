"""The stall's SQLite database: connections with the durability pragmas, and the schema migrations.

Every write that must be all-or-nothing goes through `write_transaction`, which takes the write lock
up front (BEGIN IMMEDIATE) so that concurrent sales queue on the busy timeout instead of failing.
"""
from __future__ import annotations

import shutil
import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import sqlite_utils
from sqlite_utils.migrations import Migrations

BUSY_TIMEOUT_MS = 10_000
migrations = Migrations("market-pos")


class MigrationError(RuntimeError):
    """A schema migration that cannot run on this machine now; the message says what to do."""


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


class ConnectionPool:
    """Open connections to one database, handed out most recently used first.

    Opening a connection per request re-reads the schema and makes SQLite sync the directory at
    its first commit (a second fsync per sale). Keeping one per server thread avoided that, but
    waitress wakes its threads in turn, so each request met a connection whose page cache the
    other threads' writes had made stale: SQLite keeps a connection's cache only while no other
    connection writes. Handed out last-in first-out, the connection of the previous request serves
    the next, with its cache warm; more are opened only while requests overlap.
    """

    def __init__(self, path: str | Path):
        self.path = path
        self.idle: list[sqlite3.Connection] = []   # most recently returned last
        self._lock = threading.Lock()

    def take(self) -> sqlite3.Connection:
        """A connection for this request alone, until `give_back`."""
        with self._lock:
            if self.idle:
                return self.idle.pop()
        return connect(self.path)

    def give_back(self, conn: sqlite3.Connection) -> None:
        """Return a connection with no transaction left open (rolled back here if one is); one
        that cannot roll back is closed instead of handed out again."""
        try:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
        except sqlite3.Error:
            conn.close()
            raise
        with self._lock:
            self.idle.append(conn)


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


@migrations(name="0008_qr_payments")
def _qr_payments(db: sqlite_utils.Database) -> None:
    # The vendor's receiving accounts are settings (not journalled): each QR payment copies the
    # bank and account it was shown with into its sale entry.
    db.execute("""
        CREATE TABLE bank_accounts (
            id INTEGER PRIMARY KEY,
            bank_bin TEXT NOT NULL CHECK (length(bank_bin) = 6),
            account TEXT NOT NULL CHECK (length(account) BETWEEN 6 AND 19),
            holder TEXT NOT NULL CHECK (length(holder) BETWEEN 1 AND 50),
            is_card INTEGER NOT NULL DEFAULT 0 CHECK (is_card IN (0, 1)),
            is_default INTEGER NOT NULL DEFAULT 0 CHECK (is_default IN (0, 1)),
            active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
            created_at TEXT NOT NULL
        ) STRICT""")
    db.execute("CREATE UNIQUE INDEX bank_accounts_number ON bank_accounts(bank_bin, account)")
    # A code on screen that the buyer has not paid yet: local working state, like print jobs.
    # Nothing is journalled until the vendor (or the bank) confirms; cancelling records nothing.
    db.execute("""
        CREATE TABLE qr_pending (
            id TEXT PRIMARY KEY,
            reference TEXT NOT NULL,
            amount INTEGER NOT NULL CHECK (amount > 0),
            total INTEGER NOT NULL CHECK (total >= amount),
            request TEXT NOT NULL,
            bank_bin TEXT NOT NULL,
            account TEXT NOT NULL,
            holder TEXT NOT NULL,
            payload TEXT NOT NULL,
            created_at TEXT NOT NULL,
            created_by TEXT NOT NULL,
            state TEXT NOT NULL DEFAULT 'pending'
                CHECK (state IN ('pending', 'recorded', 'cancelled')),
            sale_id TEXT REFERENCES sales(id)
        ) STRICT""")
    db.execute("CREATE INDEX qr_pending_state ON qr_pending(state, created_at)")
    db.execute("CREATE INDEX qr_pending_reference ON qr_pending(reference)")
    for column in ("reference", "bank_bin", "account", "state", "bank_txn"):
        db.execute(f"ALTER TABLE payments ADD COLUMN {column} TEXT")
    db.execute("CREATE INDEX payments_reference ON payments(reference) WHERE reference IS NOT NULL")
    # Projection of `payment_check` entries: what the bank said about a QR payment.
    db.execute("""
        CREATE TABLE bank_checks (
            seq INTEGER PRIMARY KEY REFERENCES journal(seq),
            bank_txn TEXT NOT NULL UNIQUE,
            reference TEXT,
            sale_id TEXT REFERENCES sales(id),
            state TEXT NOT NULL CHECK (state IN ('bank_confirmed', 'mismatch')),
            reason TEXT,
            bank_amount INTEGER NOT NULL,
            expected INTEGER,
            source TEXT NOT NULL CHECK (source IN ('server', 'statement')),
            business_day TEXT NOT NULL,
            at TEXT NOT NULL
        ) STRICT""")
    db.execute("CREATE INDEX bank_checks_day ON bank_checks(business_day)")


@migrations(name="0009_tax")
def _tax(db: sqlite_utils.Database) -> None:
    # MTT e-invoices (pos/tax): a projection of the journal, written by triggers from the very
    # entry that carries the invoice, so an invoice exists exactly when its entry does. The
    # 11-digit number is gap-free per (range, year, device block): the counter row moves in the
    # same transaction, and a number that is not the next one is refused (no gap, no reuse).
    db.execute("""
        CREATE TABLE mtt_counters (
            mtt_range TEXT NOT NULL CHECK (length(mtt_range) = 5),
            year INTEGER NOT NULL CHECK (year BETWEEN 2000 AND 2099),
            block INTEGER NOT NULL CHECK (block BETWEEN 0 AND 99),
            last INTEGER NOT NULL CHECK (last BETWEEN 1 AND 999999999),
            PRIMARY KEY (mtt_range, year, block)
        ) STRICT""")
    db.execute("""
        CREATE TABLE tax_invoices (
            code TEXT PRIMARY KEY CHECK (length(code) = 23),
            seq INTEGER NOT NULL UNIQUE REFERENCES journal(seq),
            sale_id TEXT NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('original', 'adjustment', 'replacement')),
            related_code TEXT REFERENCES tax_invoices(code),
            form INTEGER NOT NULL CHECK (form IN (1, 2)),
            symbol TEXT NOT NULL CHECK (length(symbol) = 6),
            mtt_range TEXT NOT NULL,
            year INTEGER NOT NULL,
            block INTEGER NOT NULL,
            number INTEGER NOT NULL CHECK (number BETWEEN 1 AND 999999999),
            business_day TEXT NOT NULL,
            total INTEGER NOT NULL,
            at TEXT NOT NULL,
            CHECK ((kind = 'original') = (related_code IS NULL)),
            CHECK (code = printf('M%d-%02d-%s-%02d%09d', form, year % 100, mtt_range, block,
                                 number))
        ) STRICT""")
    db.execute("CREATE INDEX tax_invoices_sale ON tax_invoices(sale_id)")
    db.execute("CREATE INDEX tax_invoices_day ON tax_invoices(business_day)")
    db.execute("""
        CREATE TRIGGER tax_invoices_no_update BEFORE UPDATE ON tax_invoices
        BEGIN SELECT RAISE(ABORT, 'issued invoices are immutable'); END""")
    db.execute("""
        CREATE TRIGGER tax_invoices_no_delete BEFORE DELETE ON tax_invoices
        BEGIN SELECT RAISE(ABORT, 'issued invoices cannot be deleted'); END""")
    db.execute("""
        CREATE TRIGGER tax_invoices_gap_free BEFORE INSERT ON tax_invoices
        WHEN NEW.number IS NOT IFNULL((SELECT last FROM mtt_counters WHERE
                 mtt_range = NEW.mtt_range AND year = NEW.year AND block = NEW.block), 0) + 1
        BEGIN SELECT RAISE(ABORT, 'MTT invoice numbers must be gap-free'); END""")
    db.execute("""
        CREATE TRIGGER tax_invoices_count AFTER INSERT ON tax_invoices
        BEGIN
            INSERT INTO mtt_counters (mtt_range, year, block, last)
            VALUES (NEW.mtt_range, NEW.year, NEW.block, NEW.number)
            ON CONFLICT (mtt_range, year, block) DO UPDATE SET last = excluded.last;
        END""")
    db.execute("""
        CREATE TRIGGER journal_tax_invoice AFTER INSERT ON journal
        WHEN NEW.kind IN ('sale', 'invoice_correction')
         AND json_extract(NEW.payload, '$.invoice.code') IS NOT NULL
        BEGIN
            INSERT INTO tax_invoices (code, seq, sale_id, kind, related_code, form, symbol,
                                      mtt_range, year, block, number, business_day, total, at)
            VALUES (json_extract(NEW.payload, '$.invoice.code'), NEW.seq,
                    IFNULL(json_extract(NEW.payload, '$.sale_id'), NEW.id),
                    IFNULL(json_extract(NEW.payload, '$.type'), 'original'),
                    json_extract(NEW.payload, '$.original.code'),
                    json_extract(NEW.payload, '$.invoice.form'),
                    json_extract(NEW.payload, '$.invoice.symbol'),
                    json_extract(NEW.payload, '$.invoice.range'),
                    json_extract(NEW.payload, '$.invoice.year'),
                    json_extract(NEW.payload, '$.invoice.block'),
                    json_extract(NEW.payload, '$.invoice.number'),
                    json_extract(NEW.payload, '$.business_day'),
                    json_extract(NEW.payload, '$.total'), NEW.at);
        END""")
    # Per-product tax group and VAT applicability: the vendor's settings, copied into each sale
    # entry's payload when the sale is made (so the books never depend on today's settings).
    db.execute("""
        CREATE TABLE product_tax (
            product_id INTEGER PRIMARY KEY REFERENCES products(id),
            tax_group TEXT NOT NULL CHECK (length(tax_group) BETWEEN 1 AND 20),
            vat TEXT NOT NULL CHECK (vat IN ('applies', 'KCT'))
        ) STRICT""")


@migrations(name="0010_journal_child_indexes")
def _journal_child_indexes(db: sqlite_utils.Database) -> None:
    # Every sale inserts into `journal`, and SQLite plans a look-up of each table whose column
    # references journal(seq) for that insert (foreign keys). Two such columns had no index, so
    # the plan of the sale's INSERT read `products` and `sales` whole; with these, every step of a
    # sale is an index search (tests/test_no_scans.py). The same holds for an invoice's own
    # reference to the invoice it corrects, inserted by the journal's trigger in MTT mode. Few
    # sales are voided and few invoices corrected: those indexes hold only them.
    db.execute("CREATE INDEX products_journal_seq ON products(journal_seq)")
    db.execute("CREATE INDEX sales_voided_seq ON sales(voided_seq) WHERE voided_seq IS NOT NULL")
    db.execute("CREATE INDEX IF NOT EXISTS tax_invoices_related ON tax_invoices(related_code)"
               " WHERE related_code IS NOT NULL")


@migrations(name="0011_lines_and_payments_without_rowid", transactional=False)
def _lines_and_payments_without_rowid(db: sqlite_utils.Database) -> None:
    # A sale's lines and payments are always read by (sale_id, line_no), their primary key. As
    # rowid tables they stored that key twice (the row, and the key's own index: about a quarter
    # of a sale's bytes on disk, BENCHMARKS.md); WITHOUT ROWID tables are the key's index. SQLite
    # cannot change that in place, so both are rebuilt the documented way, in one transaction.
    conn = db.conn
    if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'sale_lines' AND sql LIKE"
                    " '%WITHOUT ROWID%'").fetchone():
        return  # rebuilt already; only the record of it was missing
    conn.execute("PRAGMA foreign_keys = OFF")
    try:
        with write_transaction(conn):
            conn.execute("""
                CREATE TABLE sale_lines_new (
                    sale_id TEXT NOT NULL REFERENCES sales(id),
                    line_no INTEGER NOT NULL,
                    product_id INTEGER REFERENCES products(id),
                    name TEXT NOT NULL,
                    unit TEXT NOT NULL,
                    quantity_milli INTEGER NOT NULL CHECK (quantity_milli > 0),
                    unit_price INTEGER NOT NULL CHECK (unit_price >= 0),
                    amount INTEGER NOT NULL CHECK (amount >= 0),
                    PRIMARY KEY (sale_id, line_no)
                ) STRICT, WITHOUT ROWID""")
            conn.execute("INSERT INTO sale_lines_new SELECT sale_id, line_no, product_id, name,"
                         " unit, quantity_milli, unit_price, amount FROM sale_lines")
            conn.execute("""
                CREATE TABLE payments_new (
                    sale_id TEXT NOT NULL REFERENCES sales(id),
                    line_no INTEGER NOT NULL,
                    method TEXT NOT NULL CHECK (method IN ('cash', 'qr')),
                    amount INTEGER NOT NULL CHECK (amount >= 0),
                    tendered INTEGER CHECK (tendered >= amount),
                    change INTEGER CHECK (change >= 0),
                    reference TEXT,
                    bank_bin TEXT,
                    account TEXT,
                    state TEXT,
                    bank_txn TEXT,
                    PRIMARY KEY (sale_id, line_no)
                ) STRICT, WITHOUT ROWID""")
            conn.execute("INSERT INTO payments_new SELECT sale_id, line_no, method, amount,"
                         " tendered, change, reference, bank_bin, account, state, bank_txn"
                         " FROM payments")
            conn.execute("DROP TABLE sale_lines")
            conn.execute("DROP TABLE payments")
            conn.execute("ALTER TABLE sale_lines_new RENAME TO sale_lines")
            conn.execute("ALTER TABLE payments_new RENAME TO payments")
            conn.execute("CREATE INDEX payments_reference ON payments(reference)"
                         " WHERE reference IS NOT NULL")
            problems = conn.execute("PRAGMA foreign_key_check").fetchall()
            if problems:
                raise sqlite3.IntegrityError(f"foreign keys broken by the rebuild: {problems[:3]}")
    finally:
        conn.execute("PRAGMA foreign_keys = ON")


@migrations(name="0012_sale_rows_keyed_by_seq", transactional=False)
def _sale_rows_keyed_by_seq(db: sqlite_utils.Database) -> None:
    # Bytes per sale (BENCHMARKS.md), two causes. (1) A sale's lines and payments were keyed by
    # its 36-character id: four copies per sale, and random keys leave the b-tree pages about a
    # third empty. Keyed by the sale's journal seq (a small integer that only grows), each row
    # is shorter and every insert appends. (2) The journal kept a UNIQUE index on `hash` that no
    # query reads: the chain is ordered by seq, each hash covers its seq, and the append trigger
    # checks every link. Both are rebuilt the documented way, in one transaction.
    conn = db.conn
    if conn.execute("SELECT 1 FROM pragma_table_info('sale_lines') WHERE name = 'sale_seq'"
                    ).fetchone():
        return  # rebuilt already; only the record of it was missing
    _require_room_to_rewrite(conn)
    conn.execute("PRAGMA foreign_keys = OFF")
    try:
        with write_transaction(conn):
            triggers = [sql for (sql,) in conn.execute(
                "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'journal'")]
            conn.execute("""
                CREATE TABLE journal_new (
                    seq INTEGER PRIMARY KEY CHECK (seq >= 1),
                    id TEXT NOT NULL UNIQUE CHECK (length(id) = 36),
                    device_id TEXT NOT NULL,
                    kind TEXT NOT NULL,
                    at TEXT NOT NULL CHECK (length(at) = 24),
                    payload TEXT NOT NULL,
                    prev_hash TEXT NOT NULL CHECK (length(prev_hash) = 64),
                    hash TEXT NOT NULL CHECK (length(hash) = 64)
                ) STRICT""")
            conn.execute("INSERT INTO journal_new SELECT seq, id, device_id, kind, at, payload,"
                         " prev_hash, hash FROM journal ORDER BY seq")
            conn.execute("DROP TABLE journal")
            conn.execute("ALTER TABLE journal_new RENAME TO journal")
            for sql in triggers:
                conn.execute(sql)
            conn.execute("""
                CREATE TABLE sale_lines_new (
                    sale_seq INTEGER NOT NULL REFERENCES sales(seq),
                    line_no INTEGER NOT NULL,
                    product_id INTEGER REFERENCES products(id),
                    name TEXT NOT NULL,
                    unit TEXT NOT NULL,
                    quantity_milli INTEGER NOT NULL CHECK (quantity_milli > 0),
                    unit_price INTEGER NOT NULL CHECK (unit_price >= 0),
                    amount INTEGER NOT NULL CHECK (amount >= 0),
                    PRIMARY KEY (sale_seq, line_no)
                ) STRICT, WITHOUT ROWID""")
            conn.execute("INSERT INTO sale_lines_new SELECT s.seq, l.line_no, l.product_id,"
                         " l.name, l.unit, l.quantity_milli, l.unit_price, l.amount"
                         " FROM sale_lines l JOIN sales s ON s.id = l.sale_id"
                         " ORDER BY s.seq, l.line_no")
            conn.execute("""
                CREATE TABLE payments_new (
                    sale_seq INTEGER NOT NULL REFERENCES sales(seq),
                    line_no INTEGER NOT NULL,
                    method TEXT NOT NULL CHECK (method IN ('cash', 'qr')),
                    amount INTEGER NOT NULL CHECK (amount >= 0),
                    tendered INTEGER CHECK (tendered >= amount),
                    change INTEGER CHECK (change >= 0),
                    reference TEXT,
                    bank_bin TEXT,
                    account TEXT,
                    state TEXT,
                    bank_txn TEXT,
                    PRIMARY KEY (sale_seq, line_no)
                ) STRICT, WITHOUT ROWID""")
            conn.execute("INSERT INTO payments_new SELECT s.seq, p.line_no, p.method, p.amount,"
                         " p.tendered, p.change, p.reference, p.bank_bin, p.account, p.state,"
                         " p.bank_txn FROM payments p JOIN sales s ON s.id = p.sale_id"
                         " ORDER BY s.seq, p.line_no")
            lost = conn.execute(
                "SELECT (SELECT COUNT(*) FROM sale_lines) - (SELECT COUNT(*) FROM sale_lines_new),"
                " (SELECT COUNT(*) FROM payments) - (SELECT COUNT(*) FROM payments_new)").fetchone()
            if any(lost):
                raise sqlite3.IntegrityError(f"lines or payments without their sale: {tuple(lost)}")
            conn.execute("DROP TABLE sale_lines")
            conn.execute("DROP TABLE payments")
            conn.execute("ALTER TABLE sale_lines_new RENAME TO sale_lines")
            conn.execute("ALTER TABLE payments_new RENAME TO payments")
            conn.execute("CREATE INDEX payments_reference ON payments(reference)"
                         " WHERE reference IS NOT NULL")
            problems = conn.execute("PRAGMA foreign_key_check").fetchall()
            if problems:
                raise sqlite3.IntegrityError(f"foreign keys broken by the rebuild: {problems[:3]}")
    finally:
        conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # give the rewrite's log space back


def _require_room_to_rewrite(conn: sqlite3.Connection) -> None:
    """Refuse, with a message a person can act on, a rewrite of the database's big tables when
    the disk cannot hold it: the rewrite goes through the write-ahead log and then into the file,
    so it may need about twice the database's size until the log is checkpointed. Refused, the
    migration has changed nothing and runs at the next start."""
    path = Path(conn.execute("PRAGMA database_list").fetchone()[2] or ".")
    size = conn.execute("SELECT page_count * page_size FROM pragma_page_count(),"
                        " pragma_page_size()").fetchone()[0]
    needed = 2 * size + 2**20
    free = shutil.disk_usage(path.parent).free
    if free < needed:
        raise MigrationError(
            f"Not enough free disk space to upgrade the stall's database ({path}): the upgrade"
            f" needs about {needed // 2**20} MB free and {free // 2**20} MB are. Nothing was"
            " changed. Free some space (or move old backups away), then start again. / Không"
            " đủ chỗ trống để nâng cấp dữ liệu của sạp; chưa có gì thay đổi. Hãy dọn bớt rồi"
            " mở lại.")


@migrations(name="0013_pin_guard_lockouts")
def _pin_guard_lockouts(db: sqlite_utils.Database) -> None:
    # Lock-outs grow with each one of a streak (sync/lockout.py), and a streak is forgotten a day
    # after its last failure: the guard keeps both beside the failure count.
    db.execute("ALTER TABLE pin_guard ADD COLUMN lockouts INTEGER NOT NULL DEFAULT 0")
    db.execute("ALTER TABLE pin_guard ADD COLUMN last_failure_at REAL NOT NULL DEFAULT 0")


@migrations(name="0014_api_token_ids")
def _api_token_ids(db: sqlite_utils.Database) -> None:
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
