"""Lost SD card, no backup: `market-pos recover` rebuilds the stall from the provincial server's
copy of its journal (GET /api/v1/journal), table for table, and the next sale continues the same
chain. The server is the real one over loopback HTTP (test_sync_client.py's `sync_server`)."""
from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
import requests
from click.testing import CliRunner
from sqlalchemy import select, update

from pos import daybook, db, journal, sales, settings, stall
from pos.cli import main
from pos.sync import recover as recovery
from pos.sync.client import SyncClient
from sync.server import store
from sync.server.db import devices, journal as server_journal, utcnow, write_transaction
from tests.test_sync_client import (paired, server_template,  # noqa: F401  (fixtures)
                                    sync_server)

COMPARED = {  # table -> columns that must be identical after a recover
    "journal": "*", "sales": "*", "sale_lines": "*", "payments": "*", "day_totals": "*",
    "cash_moves": "*", "day_closes": "*", "bank_checks": "*",
    "products": "id, name, search_key, unit, price, category, barcode, ocop_stars, trace_url,"
                " active, journal_seq"}


def trade(conn: sqlite3.Connection) -> None:
    """A varied history: catalogue and free lines, a void, cash moves, a closed day, more sales."""
    device = settings.read(conn, "device_id")
    products = [r[0] for r in conn.execute("SELECT id FROM products WHERE active = 1")]
    sale_ids = []
    for index in range(30):
        request = {"lines": [{"product_id": products[index % len(products)], "quantity": "1.5"},
                             {"name": "Rau cải mèo", "unit_price": 7000, "quantity": "3"}],
                   }
        sale_ids.append(sales.record_sale(conn, device, _priced(conn, request), "owner")["id"])
    sales.void_sale(conn, device, sale_ids[3], "Khách trả lại hàng", "owner")
    daybook.record_cash_move(conn, device, "float", 500000, "", "owner")
    daybook.record_cash_move(conn, device, "out", 120000, "Mua túi nilon", "owner")
    today = conn.execute("SELECT business_day FROM sales ORDER BY seq DESC LIMIT 1").fetchone()[0]
    daybook.close_day(conn, device, today, 1_000_000, "owner")
    for _ in range(5):   # these belong to the next business day
        sales.record_sale(conn, device, _priced(conn, {"lines": [
            {"name": "Mật ong bạc hà", "unit_price": 250000, "quantity": "1"}]}), "helper")


def _priced(conn: sqlite3.Connection, request: dict[str, Any]) -> dict[str, Any]:
    """The request with one cash payment of exactly its total (the stall computes the total)."""
    from sync.money import line_amount, parse_quantity
    total = 0
    for line in request["lines"]:
        price = line.get("unit_price")
        if price is None:
            price = conn.execute("SELECT price FROM products WHERE id = ?",
                                 (line["product_id"],)).fetchone()[0]
        total += line_amount(parse_quantity(line["quantity"]), price)
    return {**request, "payments": [{"method": "cash", "amount": total, "tendered": total}]}


def tables(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    conn = sqlite3.connect(path)
    try:
        found = {name: conn.execute(f"SELECT {columns} FROM {name} WHERE {_own(name)} ORDER BY 1,"
                                    " 2").fetchall() for name, columns in COMPARED.items()}
    finally:
        conn.close()
    # A Z report's figures are kept as JSON: the same object, whatever the order of its keys.
    found["day_closes"] = [row[:-1] + (json.loads(row[-1]),) for row in found["day_closes"]]
    return found


def _own(table: str) -> str:
    return "journal_seq IS NOT NULL" if table == "products" else "1"


def reissue_code(sync_server: Any, device_id: str) -> str:
    """What the administrator does for a stall whose card died: a new one-time code."""
    with write_transaction(sync_server.engine) as conn:
        stall_id = conn.execute(select(devices.c.stall_id).where(
            devices.c.device_id == device_id)).scalar_one()
        return store.issue_pairing_code(conn, stall_id, utcnow())


@pytest.fixture
def synced(app: Any, conn: sqlite3.Connection, paired: SyncClient) -> SyncClient:
    trade(conn)
    result = paired.sync_once()
    assert result.pending == 0, result
    return paired


def test_recover_rebuilds_the_stall_and_continues_the_chain(app: Any, conn: sqlite3.Connection,
                                                            synced: SyncClient, sync_server: Any,
                                                            tmp_path: Path) -> None:
    original = tables(app.config["DATABASE"])
    device = settings.read(conn, "device_id")
    head = journal.get(conn, conn.execute("SELECT MAX(seq) FROM journal").fetchone()[0])
    assert head is not None
    code = reissue_code(sync_server, device)
    fresh = tmp_path / "new-card"
    runner = CliRunner()
    assert runner.invoke(main, ["init", "--data", str(fresh), "--pin", "1234"]).exit_code == 0
    result = runner.invoke(main, ["recover", "--data", str(fresh), "--server", sync_server.url,
                                  "--code", code])
    assert result.exit_code == 0, result.output
    assert f"Recovered {head.seq} entries (35 sales)" in result.output
    rebuilt = tables(stall.database_path(fresh))
    for name in COMPARED:
        assert rebuilt[name] == original[name], f"{name} differs after the recover"
    assert runner.invoke(main, ["verify", "--data", str(fresh)]).exit_code == 0
    # The stall sells on, continuing the same chain, and the server takes the next entry.
    new = db.connect(stall.database_path(fresh))
    assert settings.read(new, "device_id") == device
    sale = sales.record_sale(new, device, _priced(new, {"lines": [
        {"name": "Gạo nếp", "unit_price": 40000, "quantity": "2"}]}), "owner")
    assert sale["seq"] == head.seq + 1 and sale["number"] == 36
    assert journal.get(new, sale["seq"]).prev_hash == head.hash
    client = SyncClient(stall.database_path(fresh), timeout=(2, 10))
    outcome = client.sync_once()
    client.close()
    assert outcome.status == "ok" and outcome.pending == 0 and outcome.acked_seq == sale["seq"]
    assert sync_server.hashes(device)[sale["seq"]] == sale["hash"]
    new.close()


def test_the_download_is_paged_and_only_the_devices_own(app: Any, synced: SyncClient,
                                                         sync_server: Any) -> None:
    token = settings.read(synced.conn, "sync_token")
    device = settings.read(synced.conn, "device_id")
    auth = {"Authorization": f"Bearer {token}"}
    url = f"{sync_server.url}/api/v1/journal"
    first = requests.get(url, params={"after_seq": 0, "limit": 7}, headers=auth, timeout=5)
    assert first.status_code == 200
    page = first.json()
    assert [e["seq"] for e in page["entries"]] == list(range(1, 8))
    assert page["next_after_seq"] == 7 and page["device_id"] == device
    last = requests.get(url, params={"after_seq": page["acked_seq"] - 2}, headers=auth,
                        timeout=5).json()
    assert len(last["entries"]) == 2 and last["next_after_seq"] is None
    assert last["entries"][-1]["hash"] == last["head_hash"]
    # Another stall's token sees only its own (empty) journal; no token, nothing.
    other_device, code = sync_server.add_stall("Sạp khác")
    other = requests.post(f"{sync_server.url}/api/v1/pair", json={"code": code, "head_seq": 0},
                          timeout=5).json()
    theirs = requests.get(url, headers={"Authorization": f"Bearer {other['token']}"}, timeout=5)
    assert theirs.status_code == 200 and theirs.json()["entries"] == []
    assert theirs.json()["device_id"] == other_device
    assert requests.get(url, timeout=5).status_code == 401
    for bad in ("-1", "x", "1.5", "99999999999999999999999"):
        answer = requests.get(url, params={"after_seq": bad}, headers=auth, timeout=5)
        assert answer.status_code == 400 and "after_seq" in answer.json()["error"]["message"]
    assert requests.get(url, params={"limit": "0"}, headers=auth, timeout=5).status_code == 400


def test_recover_refuses_a_stall_that_already_sold(app: Any, synced: SyncClient,
                                                   sync_server: Any, data_dir: Path) -> None:
    device = settings.read(synced.conn, "device_id")
    result = CliRunner().invoke(main, ["recover", "--data", str(data_dir), "--server",
                                       sync_server.url, "--code",
                                       reissue_code(sync_server, device)])
    assert result.exit_code == 1 and "rebuilds an empty stall" in result.output


def test_a_forged_entry_on_the_server_stops_the_recover(app: Any, conn: sqlite3.Connection,
                                                        synced: SyncClient, sync_server: Any,
                                                        tmp_path: Path) -> None:
    device = settings.read(conn, "device_id")
    with write_transaction(sync_server.engine) as sconn:   # someone edits the server's copy
        sconn.execute(update(server_journal).where(server_journal.c.device_id == device,
                                                   server_journal.c.seq == 20)
                      .values(at="2020-01-01T00:00:00.000Z"))
    fresh = tmp_path / "new-card"
    stall.prepare(fresh)
    with pytest.raises(recovery.RecoverError, match="entry 20 is not sound"):
        recovery.recover(stall.database_path(fresh), sync_server.url,
                         reissue_code(sync_server, device), page=8)
    new = db.connect(stall.database_path(fresh))
    assert new.execute("SELECT MAX(seq) FROM journal").fetchone()[0] == 16  # whole pages only
    assert journal.verify(new).ok
    new.close()


def test_an_interrupted_recover_continues_without_a_new_code(app: Any, conn: sqlite3.Connection,
                                                             synced: SyncClient, sync_server: Any,
                                                             tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch
                                                             ) -> None:
    original = tables(app.config["DATABASE"])
    device = settings.read(conn, "device_id")
    fresh = tmp_path / "new-card"
    stall.prepare(fresh)
    real_get = recovery._get_page
    calls = {"n": 0}

    def flaky(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 3:
            raise recovery.RecoverError("The server did not answer (ConnectionError)")
        return real_get(*args, **kwargs)
    monkeypatch.setattr(recovery, "_get_page", flaky)
    with pytest.raises(recovery.RecoverError):
        recovery.recover(stall.database_path(fresh), sync_server.url,
                         reissue_code(sync_server, device), page=10)
    monkeypatch.setattr(recovery, "_get_page", real_get)
    result = CliRunner().invoke(main, ["recover", "--data", str(fresh)])
    assert result.exit_code == 0, result.output
    assert tables(stall.database_path(fresh)) == original
