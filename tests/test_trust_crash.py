"""Power cuts: the stall process is SIGKILLed while it sells, migrates, backs up and syncs.

Every sale the API answered 201 must be there, whole, after the restart; no half sale may
exist; `market-pos verify` and PRAGMA integrity_check must pass. Real processes, real SQLite
files, loopback HTTP only. MARKET_CRASH_CYCLES sets the number of kills (50 by default).
Figures of the run go to test-output/trust/ for RELIABILITY.md.
"""
from __future__ import annotations

import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

import pytest
import requests

from pos import access, backup, db, journal, sales, stall
from pos import migrations
from sync.localtime import business_day
from sync.money import line_amount, parse_quantity
from tests import payload_examples as examples
from tests.harness.stallproc import (BIN, Sellers, StallProcess, market_pos,
                                     whole_database_problems)

pytestmark = pytest.mark.slow
CYCLES = int(os.environ.get("MARKET_CRASH_CYCLES", "50"))
SELLERS = 4
FIGURES = Path(__file__).resolve().parent.parent / "test-output" / "trust"
NAMES = ["Rau cải mèo", "Chè Shan tuyết", "Tôm khô Cà Mau", "Gạo nếp cái hoa vàng",
         "Mật ong bạc hà"]


def write_figures(name: str, figures: dict[str, Any]) -> None:
    FIGURES.mkdir(parents=True, exist_ok=True)
    (FIGURES / f"{name}.json").write_text(json.dumps(figures, ensure_ascii=False, indent=2))


@pytest.fixture
def stall_dir(stall_template: Path, tmp_path: Path) -> tuple[Path, str]:
    """A set-up stall (catalogue, PINs) in its own folder, and an API token for it."""
    data = tmp_path / "stall"
    shutil.copytree(stall_template, data)
    conn = db.connect(stall.database_path(data))
    try:
        return data, access.issue_token(conn, "crash-test")
    finally:
        conn.close()


def random_sale(rng: random.Random, product_ids: list[int]) -> dict[str, Any]:
    lines: list[dict[str, Any]] = []
    for _ in range(rng.randint(1, 4)):
        if product_ids and rng.random() < 0.5:
            lines.append({"product_id": rng.choice(product_ids),
                          "quantity": rng.choice(["1", "2", "0.5", "0.75", "1.25"])})
        else:
            lines.append({"name": rng.choice(NAMES), "unit_price": rng.randrange(1000, 500000,
                                                                                 500),
                          "quantity": rng.choice(["1", "3", "0.25", "1.5"])})
    return {"lines": lines, "payments": []}


def cash_sale_maker(prices: dict[int, int]) -> Callable[[random.Random], dict[str, Any]]:
    """Random sales of these products, paid in cash (tendered exactly or with change)."""
    def make(rng: random.Random) -> dict[str, Any]:
        sale = random_sale(rng, sorted(prices))
        amount = sale_total(sale, prices)
        sale["payments"] = [{"method": "cash", "amount": amount,
                             "tendered": amount + rng.choice([0, 500, 10000])}]
        return sale
    return make


def sale_total(sale: dict[str, Any], prices: dict[int, int]) -> int:
    """What the stall will charge for these lines (the same rounding, pos/money.py)."""
    total = 0
    for line in sale["lines"]:
        price = prices[line["product_id"]] if "product_id" in line else line["unit_price"]
        total += line_amount(parse_quantity(line["quantity"]), price)
    return total


def test_sigkill_while_selling_loses_and_halves_nothing(stall_dir: tuple[Path, str]) -> None:
    data, token = stall_dir
    db_path = stall.database_path(data)
    conn = db.connect(db_path)
    prices = {r[0]: r[1] for r in conn.execute("SELECT id, price FROM products WHERE active = 1")}
    conn.close()
    rng = random.Random(20261123)
    acknowledged: dict[str, dict[str, Any]] = {}
    cut_off = verified = 0
    started = time.monotonic()
    for cycle in range(CYCLES):
        process = StallProcess(data).start()
        if acknowledged:  # after the restart the stall serves the last acknowledged sale as it was
            last = max(acknowledged.values(), key=lambda sale: sale["seq"])
            again = requests.get(f"{process.url}/api/sales/{last['id']}", timeout=5,
                                 headers={"Authorization": f"Bearer {token}"})
            assert again.status_code == 200 and again.json()["hash"] == last["hash"]
        sellers = Sellers(process.url, token, cash_sale_maker(prices), seed=cycle,
                          threads=SELLERS).start()
        time.sleep(rng.uniform(0.05, 0.6))
        process.kill()
        sellers.join()
        assert not sellers.refused, sellers.refused[:3]
        acknowledged.update(sellers.acknowledged)
        cut_off += sellers.cut_off
        problems = whole_database_problems(db_path, acknowledged)
        assert not problems, f"after kill {cycle + 1}: {problems}"
        result = market_pos("verify", "--data", str(data), check=False)
        assert result.returncode == 0, f"after kill {cycle + 1}: {result.stderr}"
        verified = int(result.stdout.split(":")[1].split()[0])
    assert len(acknowledged) > CYCLES, "the sellers hardly sold: the test proved nothing"
    write_figures("crash_selling", {
        "kills": CYCLES, "sales_acknowledged": len(acknowledged),
        "requests_cut_off_by_a_kill": cut_off, "journal_entries_verified": verified,
        "lost": 0, "half_sales": 0, "seconds": round(time.monotonic() - started, 1)})


# --- a kill during a schema migration ---------------------------------------------------------

DEVICE = "7d1e3c2a-0000-4000-8000-00000000c0de"


def old_stall(path: Path, sales_count: int) -> None:
    """A stall database of the version before the day counters, with many sales to migrate."""
    migrations.migrate(path, stop_before="0004_day_totals")
    conn = db.connect(path)
    with db.write_transaction(conn):
        conn.execute("INSERT INTO settings VALUES ('device_id', ?)", (DEVICE,))
        product = journal.append(conn, DEVICE, "product", examples.product())
        conn.execute("INSERT INTO products (id, name, search_key, unit, price, journal_seq)"
                     " VALUES (1, 'Sả', 'sa', 'bó', 5000, ?)", (product.seq,))
        for number in range(1, sales_count + 1):
            entry = journal.append(conn, DEVICE, "sale", examples.sale(number))
            conn.execute("INSERT INTO sales (id, seq, number, at, business_day, total, sold_by)"
                         " VALUES (?, ?, ?, ?, ?, 10000, 'owner')",
                         (entry.id, entry.seq, number, entry.at, business_day(entry.at)))
            conn.execute("INSERT INTO sale_lines VALUES (?, 1, 1, 'Sả', 'bó', 2000, 5000, 10000)",
                         (entry.id,))
            conn.execute("INSERT INTO payments VALUES (?, 1, 'cash', 10000, 20000, 10000)",
                         (entry.id,))
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


def kill_after(args: list[str], delay: float) -> int:
    """Start a command, SIGKILL it after `delay` seconds; its return code (negative if killed)."""
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        process.wait(timeout=delay)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
    return process.returncode


# A child that migrates like `market-pos` does at start, but says when a migration has done its
# work and waits before its commit: the parent SIGKILLs it there, the worst moment there is.
MIGRATE_AND_WAIT = """
import sys, time
from pathlib import Path
from pos import migrations, stall
target = sys.argv[2]
for migration in migrations.RUNNER._migrations:
    if migration.name == target:
        work = migration.fn
        def paused(database, work=work):
            work(database)
            print("uncommitted", flush=True)
            time.sleep(60)
        migration.fn = paused
stall.prepare(Path(sys.argv[1]))
print("finished", flush=True)
"""


def test_sigkill_inside_each_schema_migration(tmp_path: Path) -> None:
    template = tmp_path / "old.sqlite3"
    old_stall(template, 5000)
    pending = migrations.migration_names()[3:]
    for name in pending:
        data = tmp_path / name
        data.mkdir()
        path = stall.database_path(data)
        shutil.copy(template, path)
        child = subprocess.Popen([sys.executable, "-c", MIGRATE_AND_WAIT, str(data), name],
                                 stdout=subprocess.PIPE, text=True)
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "uncommitted", f"{name} never ran"
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
        conn = sqlite3.connect(path)
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        applied = [r[0] for r in conn.execute("SELECT name FROM _sqlite_migrations ORDER BY id")]
        conn.close()
        assert name not in applied and applied == migrations.migration_names()[:len(applied)]
        market_pos("verify", "--data", str(data))   # the restart finishes the migrations
        assert whole_database_problems(path, {}) == []
        conn = db.connect(path)
        assert conn.execute("SELECT COUNT(*) FROM sales").fetchone()[0] == 5000
        assert [r[0] for r in conn.execute("SELECT name FROM _sqlite_migrations ORDER BY id")] \
            == migrations.migration_names()
        conn.close()
    write_figures("crash_migration", {"kills": len(pending), "migrations_killed": pending,
                                      "sales_migrated_each_time": 5000, "lost": 0})


# --- a kill during a backup -------------------------------------------------------------------

def test_sigkill_during_a_backup_leaves_the_old_backup_or_a_sound_new_one(
        stall_dir: tuple[Path, str], tmp_path: Path) -> None:
    data, _ = stall_dir
    db_path = stall.database_path(data)
    conn = db.connect(db_path)
    device = conn.execute("SELECT value FROM settings WHERE key = 'device_id'").fetchone()[0]
    sale = {"lines": [{"name": "Rau", "unit_price": 10000, "quantity": "2"}],
            "payments": [{"method": "cash", "amount": 20000}]}
    with db.write_transaction(conn):
        for _ in range(6000):
            sales.write_sale(conn, device, sale, "owner")
    conn.close()
    target = tmp_path / "usb" / "stall.sqlite3"
    target.parent.mkdir()
    market_pos("backup", "--data", str(data), "-o", str(target))
    first = backup.check_database(target)
    start = time.monotonic()
    market_pos("backup", "--data", str(data), "-o", str(tmp_path / "timing.sqlite3"))
    full = time.monotonic() - start
    rng = random.Random(11)
    killed = 0
    for attempt in range(6):
        with db.write_transaction(conn := db.connect(db_path)):
            sales.write_sale(conn, device, sale, "owner")
        conn.close()
        code = kill_after([str(BIN / "market-pos"), "backup", "--data", str(data), "-o",
                           str(target)], rng.uniform(0.4, 1.0) * full)
        killed += code < 0
        checked = backup.check_database(target)
        assert checked.ok, checked.problem
        assert checked.head_seq >= first.head_seq
        assert whole_database_problems(db_path, {}) == []
    assert killed >= 1, "no kill landed inside a backup"
    market_pos("verify", "--data", str(data))
    write_figures("crash_backup", {"kills": 6, "killed_mid_backup": killed,
                                   "backup_entries": backup.check_database(target).entries})


# --- a kill during a sync ---------------------------------------------------------------------

def kill_mid_sync(data: Path, rng: random.Random) -> bool:
    """Run `market-pos sync` and SIGKILL it once the server has acknowledged part of the backlog
    (the stall's cursor moved but is not at its head); whether the kill landed mid-sync."""
    path = stall.database_path(data)

    def cursor() -> tuple[int, int]:
        conn = sqlite3.connect(path)
        try:
            acked = conn.execute("SELECT value FROM settings WHERE key = 'sync_acked_seq'"
                                 ).fetchone()
            head = conn.execute("SELECT MAX(seq) FROM journal").fetchone()[0]
            return int(acked[0]) if acked else 0, head
        finally:
            conn.close()

    start, _ = cursor()
    process = subprocess.Popen([str(BIN / "market-pos"), "sync", "--data", str(data)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while process.poll() is None and time.monotonic() < deadline:
        acked, head = cursor()
        if start < acked < head:
            time.sleep(rng.uniform(0, 0.05))
            process.send_signal(signal.SIGKILL)
            break
        time.sleep(0.005)
    process.wait(timeout=10)
    return process.returncode < 0


def test_sigkill_during_a_sync_then_the_sync_completes(tmp_path: Path) -> None:
    from tests.test_sync_faults import (ServerProcess, assert_server_holds_exactly, new_stall,
                                        sell, sync_until_done)
    server = ServerProcess(f"sqlite:///{tmp_path / 'server.sqlite3'}", tmp_path / "server-data")
    server.cli("init")
    server.start()
    try:
        data = new_stall(server, tmp_path, "Sạp K9")
        rng = random.Random(5)
        killed = 0
        for attempt in range(3):
            sell(data, 2500)
            killed += kill_mid_sync(data, rng)
            assert whole_database_problems(stall.database_path(data), {}) == []
            market_pos("verify", "--data", str(data))
        assert killed >= 1, "no kill landed inside a sync"
        sync_until_done(data)
        assert_server_holds_exactly(server, data)
        write_figures("crash_sync", {"kills": 3, "killed_mid_sync": killed,
                                     "entries_checked_on_server": 2500 * 3})
    finally:
        server.kill()
