"""Monthly partitions on PostgreSQL (issue 21, revision 0016, sync/server/partitions.py): the
journal and its projections partitioned by month, (device_id, seq) still unique across months,
a populated server converted and taken back, partitions made ahead (and rows rescued from the
default partition), a month archived to a file and restored with the journal and the dashboard
as they were; SQLite unpartitioned."""
from __future__ import annotations

import gzip
import io
import json
import re
import tarfile
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterator

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, func, inspect, select, text

from sync.server import migrations, partitions, store
from sync.server.app import create_app
from sync.server.cli import main
from sync.server.db import (PARTITIONED_TABLES, journal, make_engine, read_transaction,
                            utcnow, write_transaction)
from sync.server.users import create_user

from . import pgcluster
from .chain import Chain
from .conftest import new_postgres_database, pair_stall, push
from .test_admin import PASSWORD, csrf

THIS_MONTH = partitions.month_of(utcnow())
OLD_MONTH = partitions.next_month(THIS_MONTH, -4)
OLD_DAY = OLD_MONTH.replace(day=10).isoformat()


# --- fixtures ------------------------------------------------------------------------------------

@pytest.fixture
def pg_url(postgres_server: str) -> Iterator[str]:
    """A fresh, migrated PostgreSQL database of its own (these tests change its partitions)."""
    url = new_postgres_database(postgres_server)
    engine = make_engine(url)
    migrations.upgrade(engine)
    engine.dispose()
    yield url
    pgcluster.admin_execute(postgres_server,
                            f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


@pytest.fixture
def pg(pg_url: str) -> Iterator[Any]:
    app = create_app({"DATABASE_URL": pg_url, "TESTING": True, "SECRET_KEY": "test"})
    engine = app.extensions["market_server"]["engine"]
    with write_transaction(engine) as conn:
        create_user(conn, "quantri", PASSWORD, "admin")
    admin = app.test_client()
    assert admin.post("/admin/login", data={"username": "quantri", "password": PASSWORD,
                                            "csrf_token": csrf(admin)}).status_code == 302

    class Server:
        url = pg_url
    server = Server()
    server.app, server.engine, server.client, server.admin = (app, engine, app.test_client(),
                                                              admin)
    yield server
    engine.dispose()


def move_to_month(engine: Engine, device_id: str, first: int, last: int, month: date) -> None:
    """Give entries first..last of a device, and every row projected from them, another
    month (PostgreSQL moves each row to that month's partition), as if stored then."""
    with write_transaction(engine) as conn:
        partitions.ensure_month(conn, month)
        for table in PARTITIONED_TABLES:
            conn.execute(text(f"UPDATE {table.name} SET month = :month WHERE device_id = :device"
                              " AND seq BETWEEN :first AND :last"),
                         {"month": month, "device": device_id, "first": first, "last": last})


def rows_by_month(engine: Engine, table: str) -> dict[str, int]:
    with read_transaction(engine) as conn:
        return {str(month)[:7]: n for month, n in conn.execute(text(
            f"SELECT month, count(*) FROM {table} GROUP BY month"))}


def tables_snapshot(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    with read_transaction(engine) as conn:
        return {t.name: sorted(tuple(row) for row in conn.execute(select(t)))
                for t in PARTITIONED_TABLES}


def journal_export(engine: Engine, device_id: str | None = None) -> list[dict[str, Any]]:
    with read_transaction(engine) as conn:
        return list(store.export_journal(conn, device_id))


def cli(url: str, *args: str) -> Any:
    return CliRunner().invoke(main, [*args[:2], "--database", url, *args[2:]]
                              if args[0] == "partitions" else [args[0], "--database", url,
                                                                *args[1:]])


def old_and_new_sales(server: Any) -> tuple[Any, Chain]:
    """A stall with entries stored four months ago (sales of that month, a void, a cash move
    and a Z close) and sales of this month."""
    stall = pair_stall(server.client, server.engine)
    chain = Chain(stall.device_id)
    first = chain.sales_run(5, day=OLD_DAY, qr_share=20_000)
    chain.void(first[1])
    chain.cash_move("in", 500_000, "Tiền lẻ")
    chain.day_close(expected=100_000, counted=100_000)
    old = len(chain.entries)
    chain.sales_run(3, day=THIS_MONTH.replace(day=2).isoformat())
    assert push(server.client, stall, chain.entries[:old]).status_code == 200
    move_to_month(server.engine, stall.device_id, 1, old, OLD_MONTH)
    assert push(server.client, stall, chain.entries[old:]).status_code == 200
    stall.old = old
    return stall, chain


def dashboard(server: Any, stall: Any) -> dict[str, str]:
    """What the dashboard shows of the old month: the province's figures (rollups) and every
    CSV table of the stall's page (read from sales, voids, Z closes)."""
    out = {}
    period = f"period=month&date={OLD_DAY}"
    html = server.admin.get(f"/dashboard/?{period}", follow_redirects=True)
    assert html.status_code == 200
    out["province"] = re.search(r'<section class="figures".*?</section>',
                                html.get_data(as_text=True), re.S).group(0)
    for grid in ("sales", "voids", "day_closes", "trend", "products"):
        response = server.admin.get(f"/dashboard/stall/{stall.device_id}/{grid}.csv?{period}")
        assert response.status_code == 200, grid
        out[grid] = response.get_data(as_text=True)
    return out


# --- the schema ----------------------------------------------------------------------------------

def test_postgresql_partitions_by_month_and_sqlite_keeps_plain_tables(empty_db):
    engine = make_engine(empty_db)
    try:
        migrations.upgrade(engine)
        with engine.connect() as conn:
            for table in PARTITIONED_TABLES:
                assert "month" in {c["name"] for c in inspect(conn).get_columns(table.name)}
            if conn.dialect.name == "sqlite":
                assert not partitions.supported(conn)
                return
            assert partitions.supported(conn)
            kinds = dict(conn.execute(text(
                "SELECT relname, relkind FROM pg_class c JOIN pg_namespace n"
                " ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind IN"
                " ('r', 'p')")).all())
            assert {t.name for t in PARTITIONED_TABLES} == {n for n, k in kinds.items()
                                                             if k == "p"}
            assert kinds["product_entries"] == kinds["einvoice_queue"] == "r"
            for table in PARTITIONED_TABLES:   # the key plus the partition key
                key = inspect(conn).get_pk_constraint(table.name)["constrained_columns"]
                assert key == [c.name for c in table.primary_key.columns] + ["month"]
            made = {(p.table, p.month) for p in partitions.attached(conn)}
        wanted = [partitions.next_month(THIS_MONTH, n) for n in range(4)] + [None]
        assert made == {(t.name, m) for t in PARTITIONED_TABLES for m in wanted}
    finally:
        engine.dispose()


def test_upgrade_converts_a_populated_server_and_downgrade_takes_it_back(pg):
    """Rows keep every value; the months come from the entries' received_at; downgraded, the
    tables are plain again with their old keys and indexes, and upgraded again the same."""
    stall, chain = old_and_new_sales(pg)
    with write_transaction(pg.engine) as conn:   # what the upgrade reads months from
        conn.execute(text("UPDATE journal SET received_at = date_trunc('month', received_at"
                          " - interval '4 months') + interval '9 days' WHERE seq <= :old"),
                     {"old": stall.old})
    before = tables_snapshot(pg.engine)
    from alembic import command
    config = migrations.alembic_config(pg.engine)
    with pg.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0015")
    with pg.engine.connect() as conn:
        assert not partitions.supported(conn)
        assert "month" not in {c["name"] for c in inspect(conn).get_columns("sales")}
        assert inspect(conn).get_pk_constraint("sale_lines")["constrained_columns"] == [
            "device_id", "seq", "line_no"]
        assert "ix_sales_device_id_business_day" in {
            i["name"] for i in inspect(conn).get_indexes("sales")}
        assert conn.execute(text("SELECT to_regnamespace('market_partitions')")).scalar() is None
        for table in PARTITIONED_TABLES:   # every row, every value but the month
            assert sorted(tuple(r) for r in conn.execute(text(f"SELECT * FROM {table.name}"))
                          ) == sorted(row[:-1] for row in before[table.name]), table.name
    result = CliRunner().invoke(main, ["init", "--database", pg.url])
    assert result.exit_code == 0, result.output
    assert tables_snapshot(pg.engine) == before
    old, new = OLD_MONTH.isoformat()[:7], THIS_MONTH.isoformat()[:7]
    assert rows_by_month(pg.engine, "sales") == {old: 5, new: 3}
    assert rows_by_month(pg.engine, "voids") == {old: 1}
    with read_transaction(pg.engine) as conn:   # the partition the rows live in
        where = dict(conn.execute(text(
            "SELECT tableoid::regclass::text, count(*) FROM journal GROUP BY 1")).all())
    assert where == {f"market_partitions.journal_{OLD_MONTH:%Y_%m}": stall.old,
                     f"market_partitions.journal_{THIS_MONTH:%Y_%m}": len(chain.entries)
                     - stall.old}


# --- (device_id, seq) unique across months -------------------------------------------------------

def test_an_entry_sent_again_after_its_month_moved_on_is_a_duplicate_or_a_conflict(pg):
    """The stored key is (device_id, seq, month): PostgreSQL alone would take the same
    (device_id, seq) again in another month. The push refuses it: it finds the stored entry
    whatever its month, so a resend is a duplicate and a different entry a conflict."""
    stall = pair_stall(pg.client, pg.engine)
    chain = Chain(stall.device_id)
    chain.sales_run(3)
    assert push(pg.client, stall, chain.entries).status_code == 200
    move_to_month(pg.engine, stall.device_id, 1, 3, OLD_MONTH)   # stored months ago
    again = push(pg.client, stall, chain.entries)
    assert again.status_code == 200
    assert again.get_json()["stored"] == 0 and again.get_json()["duplicates"] == 3
    other = Chain(stall.device_id)
    other.sales_run(2, day="2026-12-01", qr_share=5_000)
    refused = push(pg.client, stall, other.entries)
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "conflict"
    with read_transaction(pg.engine) as conn:
        counts = conn.execute(select(journal.c.seq, func.count()).where(
            journal.c.device_id == stall.device_id).group_by(journal.c.seq)).all()
        assert sorted(counts) == [(1, 1), (2, 1), (3, 1)]
        assert conn.execute(text("SELECT count(*) FROM sales")).scalar_one() == 3
    assert rows_by_month(pg.engine, "journal") == {OLD_MONTH.isoformat()[:7]: 3}
    more = chain.sales_run(1)
    assert push(pg.client, stall, more).get_json()["acked_seq"] == 4  # continues this month
    assert rows_by_month(pg.engine, "journal") == {OLD_MONTH.isoformat()[:7]: 3,
                                                   THIS_MONTH.isoformat()[:7]: 1}


# --- archive and restore -------------------------------------------------------------------------

def test_a_month_archived_to_a_file_and_restored_reads_as_before(pg, tmp_path):
    stall, chain = old_and_new_sales(pg)
    other, other_chain = old_and_new_sales(pg)
    journal_before = journal_export(pg.engine)
    tables_before = tables_snapshot(pg.engine)
    shown_before = dashboard(pg, stall)
    assert "Khách đổi ý" in shown_before["voids"] and shown_before["sales"].count("\n") > 4
    month = OLD_MONTH.isoformat()[:7]

    target = tmp_path / f"thang-{month}.tar"
    result = cli(pg.url, "partitions", "archive", month, "--to", str(target))
    assert result.exit_code == 0, result.output
    assert f"Archived {month}" in result.output and f"{2 * stall.old} journal entries" \
        in result.output
    # Gone from the live tables (and from the push's and the stall page's view) ...
    assert journal_export(pg.engine) == [e for e in journal_before if e["seq"] > stall.old]
    assert month not in rows_by_month(pg.engine, "journal")
    listing = cli(pg.url, "partitions", "list")
    assert listing.exit_code == 0 and not listing.output.startswith(month)
    assert THIS_MONTH.isoformat()[:7] in listing.output
    during = dashboard(pg, stall)
    assert during["province"] == shown_before["province"]     # the rollups keep the month
    assert during["sales"].count("\n") == 1 and "Khách đổi ý" not in during["voids"]
    # ... and in the file: the manifest, one gzip CSV per table, the rows as they were.
    with tarfile.open(target) as tar:
        manifest = json.loads(tar.extractfile("manifest.json").read())
        assert manifest["month"] == month and manifest["revision"] == "0016"
        assert set(tar.getnames()) == {"manifest.json"} | {
            f"{t.name}.csv.gz" for t in PARTITIONED_TABLES}
        csv = gzip.decompress(tar.extractfile("journal.csv.gz").read()).decode()
    assert manifest["tables"]["journal"]["rows"] == 2 * stall.old == csv.count("\n") - 1
    assert all(entry["hash"] in csv for entry in journal_before if entry["seq"] <= stall.old)
    # The stalls push on meanwhile.
    late = chain.sales_run(1, day=THIS_MONTH.replace(day=3).isoformat())
    assert push(pg.client, stall, late).status_code == 200
    journal_before.append(journal_export(pg.engine, stall.device_id)[-1])

    result = cli(pg.url, "partitions", "restore", str(target))
    assert result.exit_code == 0, result.output
    assert journal_export(pg.engine) == sorted(journal_before,
                                               key=lambda e: (e["device_id"], e["seq"]))
    after = tables_snapshot(pg.engine)
    for name, rows in tables_before.items():
        assert set(rows) <= set(after[name]), name
    shown_after = dashboard(pg, stall)
    assert shown_after["province"] == shown_before["province"]
    for grid in ("voids", "day_closes", "products"):
        assert shown_after[grid] == shown_before[grid], grid
    assert shown_after["sales"] == shown_before["sales"]
    assert rows_by_month(pg.engine, "journal")[month] == 2 * stall.old
    # Restored once is enough; the month is live again.
    again = cli(pg.url, "partitions", "restore", str(target))
    assert again.exit_code != 0 and "not archived" in again.output


def test_archive_refuses_recent_months_and_a_tampered_file_restores_nothing(pg, tmp_path):
    stall, _chain = old_and_new_sales(pg)
    for month in (THIS_MONTH, partitions.next_month(THIS_MONTH, -1)):
        refused = cli(pg.url, "partitions", "archive", month.isoformat()[:7], "--to",
                      str(tmp_path / "x.tar"))
        assert refused.exit_code != 0 and "too recent" in refused.output
    never = cli(pg.url, "partitions", "archive", "2019-01", "--to", str(tmp_path / "x.tar"))
    assert never.exit_code != 0 and "no partition" in never.output
    assert cli(pg.url, "partitions", "archive", "2019-13", "--to",
               str(tmp_path / "x.tar")).exit_code != 0
    assert not (tmp_path / "x.tar").exists()
    target = tmp_path / "old.tar"
    assert cli(pg.url, "partitions", "archive", OLD_MONTH.isoformat()[:7], "--to",
               str(target)).exit_code == 0
    exists = cli(pg.url, "partitions", "archive", OLD_MONTH.isoformat()[:7], "--to",
                 str(target))
    assert exists.exit_code != 0
    # One changed amount in the sales CSV: its checksum no longer matches, nothing attached.
    tampered = tmp_path / "tampered.tar"
    with tarfile.open(target) as tar, tarfile.open(tampered, "w") as out:
        for member in tar.getmembers():
            data = tar.extractfile(member).read()
            if member.name == "sales.csv.gz":
                text_ = gzip.decompress(data).decode()
                text_ = re.sub(r",(\d+),(\d+),(\d+),owner", lambda m: f",{int(m.group(1)) + 1},"
                               f"{m.group(2)},{m.group(3)},owner", text_, count=1)
                data = gzip.compress(text_.encode())
                member.size = len(data)
            out.addfile(member, io.BytesIO(data))
    bad = cli(pg.url, "partitions", "restore", str(tampered))
    assert bad.exit_code != 0 and "does not match" in bad.output
    with pg.engine.connect() as conn:
        assert not any(p.month == OLD_MONTH for p in partitions.attached(conn))
        assert not partitions.detached(conn)
    good = cli(pg.url, "partitions", "restore", str(target))
    assert good.exit_code == 0, good.output
    assert rows_by_month(pg.engine, "journal")[OLD_MONTH.isoformat()[:7]] == stall.old


def test_restore_refuses_a_month_whose_keys_are_live_again(pg, tmp_path):
    """A (device_id, seq) in an archive that the live tables hold meanwhile (here put there
    by hand: the push cannot) stops the restore before anything is attached."""
    stall, _chain = old_and_new_sales(pg)
    target = tmp_path / "old.tar"
    assert cli(pg.url, "partitions", "archive", OLD_MONTH.isoformat()[:7], "--to",
               str(target)).exit_code == 0
    with write_transaction(pg.engine) as conn:
        conn.execute(text(
            "INSERT INTO journal (device_id, seq, id, kind, at, payload, prev_hash, hash,"
            " received_at) SELECT device_id, 1, id, kind, at, payload, prev_hash, hash,"
            " received_at FROM journal WHERE device_id = :d AND seq = :s"),
            {"d": stall.device_id, "s": stall.old + 1})
    refused = cli(pg.url, "partitions", "restore", str(target))
    assert refused.exit_code != 0 and "in the live table already" in refused.output
    with pg.engine.connect() as conn:
        assert not any(p.month == OLD_MONTH for p in partitions.attached(conn))


def test_an_archive_interrupted_after_the_detach_is_finished_by_running_it_again(pg, tmp_path,
                                                                                   monkeypatch):
    stall, _chain = old_and_new_sales(pg)
    month = OLD_MONTH.isoformat()[:7]

    def disk_full(*_args: Any, **_kwargs: Any) -> Any:
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(partitions, "_write_archive", disk_full)
    failed = cli(pg.url, "partitions", "archive", month, "--to", str(tmp_path / "a.tar"))
    assert failed.exit_code != 0 and not (tmp_path / "a.tar").exists()
    # A failed write attaches the month again: nothing lost, nothing hidden.
    assert rows_by_month(pg.engine, "journal")[month] == stall.old
    monkeypatch.undo()
    # A process killed between the detach and the drop leaves the tables detached ...
    with write_transaction(pg.engine) as conn:
        for table in partitions.TABLES:
            conn.execute(text(f"ALTER TABLE {table} DETACH PARTITION market_partitions."
                              f"{partitions.partition_name(table, OLD_MONTH)}"))
    listing = cli(pg.url, "partitions", "list")
    assert f"{month}\tdetached, not archived" in listing.output
    # ... and the same command finishes the archive.
    done = cli(pg.url, "partitions", "archive", month, "--to", str(tmp_path / "a.tar"))
    assert done.exit_code == 0, done.output
    with pg.engine.connect() as conn:
        assert not partitions.detached(conn)
    assert partitions.read_manifest(tmp_path / "a.tar")["tables"]["journal"]["rows"] == \
        stall.old


# --- partitions made ahead -----------------------------------------------------------------------

def test_partitions_are_made_ahead_at_start_and_rescue_rows_from_the_default(pg):
    far = partitions.next_month(THIS_MONTH, 7)
    with write_transaction(pg.engine) as conn:   # a server whose maintenance did not run
        for table in partitions.TABLES:
            conn.execute(text(f"DROP TABLE market_partitions."
                              f"{partitions.partition_name(table, partitions.next_month(THIS_MONTH))}"))
    stall = pair_stall(pg.client, pg.engine)
    chain = Chain(stall.device_id)
    chain.sales_run(2)
    assert push(pg.client, stall, chain.entries).status_code == 200
    with write_transaction(pg.engine) as conn:   # rows of a month with no partition yet
        for table in PARTITIONED_TABLES:
            conn.execute(text(f"UPDATE {table.name} SET month = :m"), {"m": far})
    with pg.engine.connect() as conn:
        defaults = {p.table: p.rows for p in partitions.attached(conn) if p.month is None}
    assert defaults["journal"] == 2 and defaults["sales"] == 2 and defaults["sale_lines"] > 2
    # `init` (and `serve`, through the same start-up) makes them.
    result = CliRunner().invoke(main, ["init", "--database", pg.url])
    assert result.exit_code == 0, result.output
    with pg.engine.connect() as conn:
        found = partitions.attached(conn)
    months = {p.month for p in found}
    assert partitions.next_month(THIS_MONTH) in months and far in months
    assert all(p.rows == 0 for p in found if p.month is None)
    assert rows_by_month(pg.engine, "journal") == {far.isoformat()[:7]: 2}
    with read_transaction(pg.engine) as conn:
        assert conn.execute(text("SELECT DISTINCT tableoid::regclass::text FROM sales")
                            ).scalars().all() == [f"market_partitions.sales_{far:%Y_%m}"]
    made = cli(pg.url, "partitions", "create-ahead", "--months", "9")
    assert made.exit_code == 0 and "partition(s) made" in made.output
    with pg.engine.connect() as conn:
        assert partitions.next_month(THIS_MONTH, 9) in partitions.months_present(conn)
    again = cli(pg.url, "partitions", "create-ahead", "--months", "9")
    assert again.output.startswith("0 partition(s) made")


def test_partition_commands_on_sqlite_say_they_are_for_postgresql(tmp_path):
    url = f"sqlite:///{tmp_path / 'server.sqlite3'}"
    for args in (("partitions", "list"), ("partitions", "archive", "2026-01", "--to",
                                          str(tmp_path / "a.tar")),
                 ("partitions", "restore", str(tmp_path / "server.sqlite3"))):
        result = cli(url, *args)
        assert result.exit_code != 0 and "only on PostgreSQL" in result.output, args
    made = cli(url, "partitions", "create-ahead")
    assert made.exit_code == 0 and made.output.startswith("0 partition(s) made")
