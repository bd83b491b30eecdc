"""The schema: durability pragmas, STRICT tables, and migrations from every earlier version."""
import sqlite3
from pathlib import Path

import pytest

from pos import db, journal, sales
from pos import migrations
from pos.migrations import migration_modules
from sync.localtime import business_day
from tests.harness import stall_schema
from tests import payload_examples as examples

# Every migration that has shipped, in order. Migrations are append-only: this list may only grow.
SHIPPED = ["0001_journal", "0002_catalog_and_sales", "0003_access", "0004_day_totals",
           "0005_cash_and_day_close", "0006_print_jobs", "0007_catalogue_from_server",
           "0008_qr_payments", "0009_tax", "0010_journal_child_indexes",
           "0011_lines_and_payments_without_rowid", "0012_sale_rows_keyed_by_seq"]


def test_migrations_are_append_only():
    assert migrations.migration_names()[:len(SHIPPED)] == SHIPPED


def test_the_schema_is_what_the_inline_migrations_made():
    # tests/data/stall_schema.sql was dumped from pos/db.py while the migrations were still inline
    # (later migrations are appended to it, the text before them unchanged)
    # in it (before they moved to pos/migrations/, one file each): after every migration, the
    # tables, indexes and triggers with their SQL text, in the order they were created, the
    # migrations recorded and PRAGMA user_version. Moving them must have changed none of it.
    expected = (Path(__file__).parent / "data" / "stall_schema.sql").read_text()
    assert stall_schema.schema_text() == expected


def test_migration_files_are_found_in_order():
    assert migrations.migration_names() == migration_modules()
    assert migrations.migration_names()[-4:] == ["0016_refunds", "0017_parked",
                                                 "0018_credit_book", "0019_purchases_and_stock"]
    transactional = {m.name: m.transactional for m in migrations.RUNNER._migrations}
    assert [name for name, yes in transactional.items() if not yes] == [
        "0007_catalogue_from_server", "0011_lines_and_payments_without_rowid",
        "0012_sale_rows_keyed_by_seq", "0018_credit_book"]


def test_pragmas(tmp_path):
    migrations.migrate(tmp_path / "x.db")
    conn = db.connect(tmp_path / "x.db")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert conn.execute("PRAGMA busy_timeout").fetchone()[0] >= 5000


def test_migrating_twice_changes_nothing(tmp_path):
    path = tmp_path / "x.db"
    migrations.migrate(path)
    schema = db.connect(path).execute("SELECT sql FROM sqlite_master ORDER BY name").fetchall()
    migrations.migrate(path)
    assert db.connect(path).execute("SELECT sql FROM sqlite_master ORDER BY name").fetchall() \
        == schema


def test_strict_tables_check_values(tmp_path):
    migrations.migrate(tmp_path / "x.db")
    conn = db.connect(tmp_path / "x.db")
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute("INSERT INTO payments (sale_seq, line_no, method, amount, tendered,"
                     " change) VALUES (1, 1, 'card', 10, NULL, NULL)")
    with pytest.raises(sqlite3.Error):
        conn.execute("INSERT INTO day_totals (business_day, sales_count) VALUES ('d', 'many')")


DEVICE = "7d1e3c2a-0000-4000-8000-000000000001"


def _write_version_data(conn, applied):
    """Data a stall of that version would hold, written with that version's tables only."""
    with db.write_transaction(conn):
        conn.execute("INSERT INTO settings VALUES ('vendor_name', 'Bà Hoa')")
        if "0002_catalog_and_sales" not in applied:
            return
        product = journal.append(conn, DEVICE, "product", examples.product())
        conn.execute("INSERT INTO products (id, name, search_key, unit, price, journal_seq)"
                     " VALUES (1, 'Sả', 'sa', 'bó', 5000, ?)", (product.seq,))
        for number, voided in ((1, False), (2, True)):
            entry = journal.append(conn, DEVICE, "sale", examples.sale(number))
            conn.execute("INSERT INTO sales (id, seq, number, at, business_day, total, sold_by)"
                         " VALUES (?, ?, ?, ?, ?, 10000, 'owner')",
                         (entry.id, entry.seq, number, entry.at, business_day(entry.at)))
            # From 0012 on, a sale's lines and payments are keyed by its seq, before by its id.
            by_seq = "0012_sale_rows_keyed_by_seq" in applied
            key, key_column = (entry.seq, "sale_seq") if by_seq else (entry.id, "sale_id")
            conn.execute(f"INSERT INTO sale_lines ({key_column}, line_no, product_id, name, unit,"
                         " quantity_milli, unit_price, amount)"
                         " VALUES (?, 1, 1, 'Sả', 'bó', 2000, 5000, 10000)", (key,))
            conn.execute(f"INSERT INTO payments ({key_column}, line_no, method, amount, tendered,"
                         " change) VALUES (?, 1, 'cash', 10000, 20000, 10000)", (key,))
            if voided:
                void = journal.append(conn, DEVICE, "void",
                                      examples.void(entry.id, entry.seq, number))
                conn.execute("UPDATE sales SET voided_seq = ?, void_reason = 'x' WHERE id = ?",
                             (void.seq, entry.id))
        if "0004_day_totals" in applied:  # that version kept its counters as it sold
            conn.execute("INSERT INTO day_totals (business_day, sales_count, revenue, cash, qr,"
                         " voids_count, voided_amount) VALUES (?, 1, 10000, 10000, 0, 1, 10000)",
                         (business_day(entry.at),))


@pytest.mark.parametrize("stop_before", migrations.migration_names()[1:])
def test_migrating_from_every_earlier_version(tmp_path, stop_before):
    path = tmp_path / "old.db"
    migrations.migrate(path, stop_before=stop_before)
    conn = db.connect(path)
    applied = {r[0] for r in conn.execute("SELECT name FROM _sqlite_migrations")}
    assert stop_before not in applied
    _write_version_data(conn, applied)
    entries_before = conn.execute("SELECT COUNT(*) FROM journal").fetchone()[0]
    migrations.migrate(path)
    assert {r[0] for r in conn.execute("SELECT name FROM _sqlite_migrations")} \
        == set(migrations.migration_names())
    assert conn.execute("SELECT COUNT(*) FROM journal").fetchone()[0] == entries_before
    assert journal.verify(conn, DEVICE).ok
    assert conn.execute("SELECT value FROM settings WHERE key = 'vendor_name'").fetchone()[0] \
        == "Bà Hoa"
    if "0002_catalog_and_sales" in applied:
        day = conn.execute("SELECT business_day FROM sales LIMIT 1").fetchone()[0]
        totals = sales.day_totals(conn, day)
        assert totals == {"sales_count": 1, "revenue": 10000, "cash": 10000, "qr": 0,
                          "voids_count": 1, "voided_amount": 10000, "refunds_count": 0,
                          "refunded_amount": 0, "credit": 0}
        for number in (1, 2):  # lines and payments still belong to their sale
            sale_id = conn.execute("SELECT id FROM sales WHERE number = ?", (number,)).fetchone()[0]
            migrated = sales.get_sale(conn, sale_id)
            assert [(l["name"], l["amount"]) for l in migrated["lines"]] == [("Sả", 10000)]
            assert migrated["payments"] == [{"method": "cash", "amount": 10000,
                                             "tendered": 20000, "change": 10000}]
    # The migrated stall sells as a new one would.
    with db.write_transaction(conn):
        conn.execute("INSERT OR IGNORE INTO settings VALUES ('device_id', ?)", (DEVICE,))
    if "0002_catalog_and_sales" not in applied:
        return
    sale = sales.record_sale(conn, DEVICE, {"lines": [{"product_id": 1, "quantity": "1"}],
                                            "payments": [{"method": "cash", "amount": 5000}]},
                             "owner")
    assert sale["number"] == 3
    assert journal.verify(conn, DEVICE).ok


def test_a_rewrite_the_disk_cannot_hold_is_refused_and_changes_nothing(tmp_path, monkeypatch):
    # Migration 0012 rewrites the journal; with too little free space it must say so before it
    # starts (pos/db.py require_room_to_rewrite), leave the database as it was, and run at the
    # next start once there is room.
    import shutil
    from collections import namedtuple

    path = tmp_path / "old.db"
    migrations.migrate(path, stop_before="0012_sale_rows_keyed_by_seq")
    conn = db.connect(path)
    _write_version_data(conn, {r[0] for r in conn.execute("SELECT name FROM _sqlite_migrations")})
    schema = conn.execute("SELECT sql FROM sqlite_master ORDER BY name").fetchall()
    conn.close()
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda _path: usage(10**9, 10**9 - 4096, 4096))
    with pytest.raises(migrations.MigrationError, match="Not enough free disk space"):
        migrations.migrate(path)
    conn = db.connect(path)
    assert conn.execute("SELECT sql FROM sqlite_master ORDER BY name").fetchall() == schema
    assert "0012_sale_rows_keyed_by_seq" not in {
        r[0] for r in conn.execute("SELECT name FROM _sqlite_migrations")}
    monkeypatch.undo()
    migrations.migrate(path)
    assert journal.verify(conn, DEVICE).ok
    assert conn.execute("SELECT COUNT(*) FROM sale_lines WHERE sale_seq > 0").fetchone()[0] == 2


def test_the_cli_tells_a_refused_migration_plainly(tmp_path, monkeypatch):
    import shutil
    from collections import namedtuple

    from click.testing import CliRunner

    from pos import cli, stall
    stall_dir = tmp_path / "stall"
    stall_dir.mkdir()
    migrations.migrate(stall.database_path(stall_dir), stop_before="0012_sale_rows_keyed_by_seq")
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda _path: usage(10**9, 10**9 - 4096, 4096))
    for command in (["verify"], ["serve", "--port", "0"]):   # serve stops before it serves
        result = CliRunner().invoke(cli.main, [*command, "--data", str(stall_dir)])
        assert result.exit_code != 0
        assert "Not enough free disk space" in result.output
        assert "Traceback" not in result.output
