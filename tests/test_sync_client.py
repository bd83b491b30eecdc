"""The stall's sync client against the REAL provincial server (sync.server) served by waitress on
127.0.0.1: pairing, push, rewind after a server restore, refused entries, catalogue pull, the lock,
Retry-After, bundles, the worker and its watchdog.

Faults are injected around the real server by a small WSGI wrapper (answer 503 with Retry-After,
hold a request, count pushes in flight); nothing of the stall or the server is mocked.
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
from sqlalchemy import select

from pos import catalog, db, journal, sales, settings, stall
from pos.sync import errors as sync_errors
from pos.sync.backoff import Backoff
from pos.sync.bundles import export_bundle
from pos.sync.client import SyncClient
from pos.sync.errors import PairingError, SyncRetryable
from pos.sync.http import MAX_RETRY_AFTER, parse_retry_after
from pos.sync.lockfile import SyncLock, lock_path
from pos.sync.schedule import Schedule
from pos.sync.state import read_state
from pos.sync.worker import SyncWorker, running_worker
from sync.protocol import (BUNDLE_FORMAT, bundle_signed_by, canonical_json, check_link,
                           entry_from_dict, public_key_of, utc_timestamp)

server_app = pytest.importorskip("sync.server.app")
from sync.server import catalogue as server_catalogue  # noqa: E402
from sync.server import migrations, store  # noqa: E402
from sync.server.db import journal as server_journal  # noqa: E402
from sync.server.db import make_engine, read_transaction, utcnow, write_transaction  # noqa: E402

PROVINCE, COMMUNE, MARKET = "Lào Cai", "Xã Bắc Hà", "Chợ Bắc Hà"
SALE = {"lines": [{"name": "Rau cải mèo", "unit_price": 10_000, "quantity": "2"}],
        "payments": [{"method": "cash", "amount": 20_000}]}


# --- the real server, served by waitress, with a fault-injecting wrapper ------------------------

class LiveSyncServer:
    """sync.server.app on a SQLite file, served by waitress on a loopback port that survives a
    restart (so that a stall keeps its URL when the server is stopped, restored and started)."""

    def __init__(self, db_file: Path):
        self.db_file = db_file
        self.port = 0
        self.faults: list[tuple[str, Callable[[], Any]]] = []   # (path prefix, action)
        self.log: list[tuple[str, str, float, int]] = []       # method, path, time, status
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self.app: Any = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def engine(self) -> Any:
        return self.app.extensions["market_server"]["engine"]

    def start(self) -> "LiveSyncServer":
        from waitress.server import create_server
        self.app = server_app.create_app({"DATABASE_URL": f"sqlite:///{self.db_file}",
                                          "SECRET_KEY": "test", "TESTING": True,
                                          "PAIR_RATE_LIMIT": 1000})
        from waitress import wasyncore
        # A socket map of its own (as tests/harness/live.py): with waitress's global map, one
        # server's close_all closed another's trigger, and its stop failed with EBADF.
        socket_map: dict[int, Any] = {}
        self._server = create_server(self._wsgi, map=socket_map, host="127.0.0.1",
                                     port=self.port, threads=4)
        self.port = self._server.effective_port
        stop = self._stop = threading.Event()

        def serve() -> None:
            try:
                while not stop.is_set():
                    wasyncore.loop(timeout=0.05, map=socket_map, count=1)
            finally:   # closed from inside its own loop, kept-alive connections with it
                wasyncore.close_all(socket_map, ignore_all=True)
        self._thread = threading.Thread(target=serve, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._stop.set()
            self._thread.join(timeout=10)   # type: ignore[union-attr]
            self._server.task_dispatcher.shutdown()
            self._server = None
            self.engine.dispose()

    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        path = environ.get("PATH_INFO", "")
        for index, (prefix, action) in enumerate(list(self.faults)):
            if path.startswith(prefix):
                del self.faults[index]
                answer = action()
                if answer == "cut-after-commit":   # the server commits; its answer is cut short
                    statuses_: list[str] = []
                    body = b"".join(self.app(environ, lambda st, h, *a: statuses_.append(st)))
                    self.log.append((environ["REQUEST_METHOD"], path, time.monotonic(),
                                     int(statuses_[0].split()[0])))
                    start_response(statuses_[0], [("Content-Type", "application/json"),
                                                  ("Content-Length", str(len(body)))])
                    return [body[:len(body) // 2]]
                if answer is not None:     # an answer instead of the server's
                    status, headers, body = answer
                    self.log.append((environ["REQUEST_METHOD"], path, time.monotonic(),
                                     int(status.split()[0])))
                    start_response(status, headers)
                    return [body]
                break
        pushing = path == "/api/v1/journal"
        if pushing:
            with self._lock:
                self.in_flight += 1
                self.max_in_flight = max(self.max_in_flight, self.in_flight)
        statuses: list[int] = []

        def record(status: str, headers: Any, *args: Any) -> Any:
            statuses.append(int(status.split()[0]))
            return start_response(status, headers, *args)
        try:
            return list(self.app(environ, record))
        finally:
            if pushing:
                with self._lock:
                    self.in_flight -= 1
            self.log.append((environ["REQUEST_METHOD"], path, time.monotonic(),
                             statuses[0] if statuses else 0))

    # the server's data

    def add_stall(self, name: str = "Sạp A12") -> tuple[str, str]:
        """A new stall: (device id, pairing code)."""
        with write_transaction(self.engine) as conn:
            _, device_id, code = store.add_stall(conn, PROVINCE, COMMUNE, MARKET, name,
                                                 now=utcnow())
        return device_id, code

    def set_product(self, **fields: Any) -> None:
        with write_transaction(self.engine) as conn:
            server_catalogue.set_catalogue_product(conn, province=PROVINCE, **fields)

    def hashes(self, device_id: str) -> dict[int, str]:
        with read_transaction(self.engine) as conn:
            return dict(conn.execute(select(server_journal.c.seq, server_journal.c.hash).where(
                server_journal.c.device_id == device_id)).all())

    def snapshot(self, path: Path) -> None:
        """A consistent copy of the server's database, as a nightly backup would take."""
        src, dst = sqlite3.connect(self.db_file), sqlite3.connect(path)
        try:
            src.backup(dst)
        finally:
            src.close()
            dst.close()

    def restore(self, path: Path) -> None:
        """Stop, put an older copy of the database back, start again on the same port."""
        self.stop()
        for suffix in ("-wal", "-shm"):
            Path(f"{self.db_file}{suffix}").unlink(missing_ok=True)
        shutil.copy(path, self.db_file)
        self.start()

    def pushes(self) -> list[tuple[str, str, float, int]]:
        return [row for row in self.log if row[1] == "/api/v1/journal"]


def unavailable(seconds: int = 0, status: str = "503 Service Unavailable") -> Callable[[], Any]:
    """A fault: the server is overloaded (and may say for how long), answering as it does."""
    def answer() -> tuple[str, list[tuple[str, str]], bytes]:
        now = utc_timestamp()
        body = json.dumps({"error": {"code": "unavailable", "message": "busy"},
                           "server_time": now}).encode()
        headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body))),
                   ("X-Server-Time", now)]
        if seconds:
            headers.append(("Retry-After", str(seconds)))
        return status, headers, body
    return answer


@pytest.fixture(scope="session")
def server_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sync-server") / "server.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    migrations.upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture
def sync_server(server_template: Path, tmp_path: Path) -> Iterator[LiveSyncServer]:
    path = tmp_path / "server.sqlite3"
    shutil.copy(server_template, path)
    server = LiveSyncServer(path).start()
    yield server
    server.stop()


# --- stalls ---------------------------------------------------------------------------------------

def sell(conn: sqlite3.Connection, count: int = 1) -> None:
    device = settings.read(conn, "device_id")
    for _ in range(count):
        sales.record_sale(conn, device, SALE, "owner")


def stall_hashes(conn: sqlite3.Connection) -> dict[int, str]:
    return dict(conn.execute("SELECT seq, hash FROM journal").fetchall())


@pytest.fixture
def paired(app: Any, conn: sqlite3.Connection, sync_server: LiveSyncServer) -> Iterator[SyncClient]:
    """The test stall (demo catalogue, already journalled) paired with the live server."""
    _, code = sync_server.add_stall()
    client = SyncClient(app.config["DATABASE"], timeout=(2, 10))
    client.pair(sync_server.url, code)
    yield client
    client.close()


def test_pairing_an_empty_stall_adopts_the_server_device_id(tmp_path, sync_server):
    stall.prepare(tmp_path / "fresh")
    path = stall.database_path(tmp_path / "fresh")
    own = settings.read(db.connect(path), "device_id")
    server_device, code = sync_server.add_stall("Sạp chè Shan")
    client = SyncClient(path)
    answer = client.pair(sync_server.url, code.lower().replace("-", " "))
    state = client.state()
    client.close()
    assert answer["device_id"] == server_device != own
    assert "token" not in answer
    assert state.device_id == server_device and state.paired
    assert state.server_url == sync_server.url and state.acked_seq == 0
    assert state.clock_offset_ms is not None and abs(state.clock_offset_ms) < 5000
    conn = db.connect(path)
    values = settings.read_all(conn)
    assert (values["stall_name"], values["market"], values["commune"], values["province"]) == \
        ("Sạp chè Shan", MARKET, COMMUNE, PROVINCE)
    assert values["sync_token"].startswith("dt_")


def test_pairing_a_stall_that_sold_keeps_its_own_device_id(app, conn, sync_server):
    sell(conn, 2)
    own = app.config["DEVICE_ID"]
    server_device, code = sync_server.add_stall()
    client = SyncClient(app.config["DATABASE"])
    answer = client.pair(sync_server.url, code)
    client.close()
    assert answer["device_id"] == own != server_device
    assert settings.read(conn, "device_id") == own


def test_a_wrong_or_used_code_is_refused_and_changes_nothing(app, conn, sync_server):
    _, code = sync_server.add_stall()
    client = SyncClient(app.config["DATABASE"])
    with pytest.raises(PairingError) as wrong:
        client.pair(sync_server.url, "ABCD-EFGH")
    assert wrong.value.code == "bad_pairing_code"
    assert not client.state().paired
    client.pair(sync_server.url, code)
    with pytest.raises(PairingError) as used:
        client.pair(sync_server.url, code)
    assert used.value.code == "bad_pairing_code"
    with pytest.raises(PairingError) as bad_url:
        client.pair("ftp://x", code)
    assert bad_url.value.code == "bad_server_url"
    client.close()


def test_sync_pushes_everything_once(app, conn, paired, sync_server):
    sell(conn, 7)
    result = paired.sync_once()
    head = conn.execute("SELECT MAX(seq) FROM journal").fetchone()[0]
    assert (result.status, result.pushed, result.acked_seq, result.pending) == ("ok", head, head, 0)
    assert result.ok
    assert sync_server.hashes(app.config["DEVICE_ID"]) == stall_hashes(conn)
    pushes = len(sync_server.pushes())
    again = paired.sync_once()
    assert (again.pushed, again.duplicates, again.batches, again.catalogue) == (0, 0, 0, "unchanged")
    assert len(sync_server.pushes()) == pushes, "nothing pending: nothing pushed"
    state = read_state(conn)
    assert state.last_sync_at and state.last_error is None and state.pending == 0


def test_a_backlog_goes_in_capped_batches_with_progress(app, conn, sync_server):
    sell(conn, 12)
    _, code = sync_server.add_stall()
    client = SyncClient(app.config["DATABASE"], batch_entries=5)
    client.pair(sync_server.url, code)
    seen: list[tuple[int, int]] = []
    result = client.sync_once(progress=lambda acked, head: seen.append((acked, head)))
    client.close()
    head = conn.execute("SELECT MAX(seq) FROM journal").fetchone()[0]
    assert result.batches == -(-head // 5)
    assert seen[0] == (0, head) and seen[-1] == (head, head)
    assert [acked for acked, _ in seen] == sorted(acked for acked, _ in seen)
    assert sync_server.hashes(app.config["DEVICE_ID"]) == stall_hashes(conn)


def test_sales_made_while_the_server_is_down_arrive_later(app, conn, paired, sync_server):
    paired.sync_once()
    sync_server.stop()
    sell(conn, 3)   # selling never waits for the server
    with pytest.raises(SyncRetryable) as down:
        paired.sync_once()
    assert down.value.code == "network"
    state = read_state(conn)
    assert state.pending == 3 and state.last_error and state.last_error_code == "network"
    sync_server.start()
    result = paired.sync_once()
    assert (result.pushed, result.pending) == (3, 0)
    assert read_state(conn).last_error is None
    assert sync_server.hashes(app.config["DEVICE_ID"]) == stall_hashes(conn)


@pytest.mark.parametrize("more_sales_after_restore", [True, False])
def test_a_server_restored_from_an_older_copy_gets_everything_again(
        app, conn, paired, sync_server, tmp_path, more_sales_after_restore):
    sell(conn, 2)
    paired.sync_once()
    backup = tmp_path / "nightly.sqlite3"
    sync_server.snapshot(backup)
    held_then = len(sync_server.hashes(app.config["DEVICE_ID"]))
    sell(conn, 4)
    paired.sync_once()
    sync_server.restore(backup)   # the server loses the last 4 entries
    assert len(sync_server.hashes(app.config["DEVICE_ID"])) == held_then
    if more_sales_after_restore:
        sell(conn, 1)
    result = paired.sync_once()
    assert result.ok
    assert result.pushed == 4 + more_sales_after_restore
    assert sync_server.hashes(app.config["DEVICE_ID"]) == stall_hashes(conn)
    assert read_state(conn).acked_seq == max(stall_hashes(conn))


def _tamper(conn: sqlite3.Connection, seq: int) -> None:
    """What someone with the file could do: drop the trigger and rewrite a sale's total."""
    entry = journal.get(conn, seq)
    conn.execute("DROP TRIGGER IF EXISTS journal_no_update")
    conn.execute("UPDATE journal SET payload = ? WHERE seq = ?",
                 (canonical_json(dict(entry.payload, total=1)).decode(), seq))


def test_a_tampered_entry_needs_attention_with_the_servers_reason(app, conn, paired, sync_server,
                                                                 owner):
    paired.sync_once()
    sell(conn, 3)
    first = conn.execute("SELECT MAX(seq) FROM journal").fetchone()[0] - 2
    _tamper(conn, first + 1)
    result = paired.sync_once()
    assert result.status == "needs_attention"
    attention = result.needs_attention
    assert (attention["seq"], attention["code"]) == (first + 1, "bad_hash")
    assert attention["message"]
    assert result.acked_seq == first and result.pending == 2   # the later entries wait
    assert max(sync_server.hashes(app.config["DEVICE_ID"])) == first
    status = owner.get("/api/sync/status").get_json()
    assert status["needs_attention"] == attention and status["pending"] == 2
    page = owner.get("/").get_data(as_text=True)
    assert "level-attention" in page
    assert f"Bản ghi {first + 1} đã bị sửa sau khi ghi" in page
    # Asked again (say the administrator looked), the server still refuses: still shown.
    assert paired.sync_once().status == "needs_attention"
    # A worker does not hammer the server with it: without retry_refused nothing is pushed.
    pushes = len(sync_server.pushes())
    assert paired.sync_once(retry_refused=False).status == "needs_attention"
    assert len(sync_server.pushes()) == pushes


def test_a_stall_restored_from_an_old_backup_is_refused_not_forked(app, conn, paired,
                                                                   sync_server, data_dir,
                                                                   tmp_path):
    paired.sync_once()
    old_copy = tmp_path / "old-stall"
    shutil.copytree(data_dir, old_copy)   # yesterday's backup of the stall (already paired)
    sell(conn, 1)
    paired.sync_once()
    seq = conn.execute("SELECT MAX(seq) FROM journal").fetchone()[0]
    restored = db.connect(stall.database_path(old_copy))
    sell(restored, 1)   # the restored stall records another entry under the same seq
    client = SyncClient(stall.database_path(old_copy))
    result = client.sync_once()
    client.close()
    assert result.status == "needs_attention"
    assert (result.needs_attention["seq"], result.needs_attention["code"]) == (seq, "conflict")
    assert sync_server.hashes(app.config["DEVICE_ID"])[seq] == stall_hashes(conn)[seq]
    assert read_state(restored).needs_attention["code"] == "conflict"
    restored.close()


def test_catalogue_pull_merges_without_touching_the_vendors_prices(app, conn, paired,
                                                                  sync_server):
    own_before = {p["id"]: p for p in catalog.list_products(conn)}
    sync_server.set_product(name="Rau cải mèo", unit="bó", price=10_000, category="Rau")
    sync_server.set_product(name="Gạo nếp cái hoa vàng", unit="kg", price=40_000, binding=True)
    result = paired.sync_once()
    assert result.catalogue == "updated"
    products = {p["name"]: p for p in catalog.list_products(conn)}
    rau, gao = products["Rau cải mèo"], products["Gạo nếp cái hoa vàng"]
    assert (rau["price"], rau["binding"], rau["unit"], rau["category"]) == (10_000, False, "bó",
                                                                           "Rau")
    assert (gao["price"], gao["binding"]) == (40_000, True)
    assert rau["server_ref"] and gao["server_ref"]
    journal_size = conn.execute("SELECT COUNT(*) FROM journal").fetchone()[0]
    assert paired.sync_once().catalogue == "unchanged"   # If-None-Match → 304
    assert any(row[1] == "/api/v1/catalogue" and row[3] == 304 for row in sync_server.log)
    # The vendor sets her own price for the non-binding product (a journalled change) …
    catalog.save_product(conn, app.config["DEVICE_ID"], {"price": 12_000}, rau["id"])
    with pytest.raises(Exception, match="market board"):
        catalog.save_product(conn, app.config["DEVICE_ID"], {"price": 30_000}, gao["id"])
    # … then the province changes both prices and a name.
    sync_server.set_product(name="Rau cải mèo", unit="bó", price=11_000, category="Rau xanh")
    sync_server.set_product(name="Gạo nếp cái hoa vàng", unit="kg", price=45_000, binding=True)
    assert paired.sync_once().catalogue == "updated"
    products = {p["name"]: p for p in catalog.list_products(conn)}
    assert products["Rau cải mèo"]["price"] == 12_000          # the vendor's price stays
    assert products["Rau cải mèo"]["category"] == "Rau xanh"   # the rest follows the server
    assert products["Gạo nếp cái hoa vàng"]["price"] == 45_000  # binding: overwritten
    sync_server.set_product(name="Gạo nếp cái hoa vàng", unit="kg", price=45_000, binding=True,
                            active=False)
    paired.sync_once()
    assert not catalog.get_product(conn, gao["id"])["active"]
    # The stall's own products are untouched, and nothing of the server's was journalled.
    for product_id, product in own_before.items():
        assert catalog.get_product(conn, product_id) == product
    assert conn.execute("SELECT COUNT(*) FROM journal").fetchone()[0] == journal_size + 1
    assert conn.execute("SELECT COUNT(*) FROM products WHERE server_ref IS NOT NULL"
                        " AND journal_seq IS NULL").fetchone()[0] == 1   # gạo (rau was edited)


def test_two_syncs_at_once_never_both_push(app, conn, sync_server, data_dir):
    sell(conn, 20)
    _, code = sync_server.add_stall()
    thread_client = SyncClient(app.config["DATABASE"], batch_entries=2)
    thread_client.pair(sync_server.url, code)
    gate, held = threading.Event(), threading.Event()
    sync_server.faults.append(("/api/v1/journal",
                               lambda: held.set() or (gate.wait(60) and None)))
    results: list[Any] = []
    thread = threading.Thread(target=lambda: results.append(thread_client.sync_once()))
    thread.start()
    assert held.wait(30)   # the thread holds the lock, its first push held at the server
    other = SyncClient(app.config["DATABASE"])
    assert other.sync_once(lock_wait=0.2).status == "busy"
    other.close()
    cli = subprocess.Popen([str(Path(sys.executable).parent / "market-pos"), "sync", "--data",
                            str(data_dir)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True)
    # The CLI is waiting for the lock once it holds the lock file open (no sleep-and-hope).
    lock_file = lock_path(app.config["DATABASE"]).resolve()
    _wait(lambda: cli.poll() is not None or _holds_open(cli.pid, lock_file), timeout=30)
    assert cli.poll() is None, cli.communicate()
    gate.set()
    out, err = cli.communicate(timeout=60)
    thread.join(10)
    thread_client.close()
    assert cli.returncode == 0, err
    assert results[0].ok
    assert sync_server.max_in_flight == 1
    pushes = [row for row in sync_server.pushes()]
    head = conn.execute("SELECT MAX(seq) FROM journal").fetchone()[0]
    assert len(pushes) == -(-head // 2)   # the CLI, after waiting, had nothing left to push
    assert sync_server.hashes(app.config["DEVICE_ID"]) == stall_hashes(conn)


def test_overload_is_an_unknown_outcome_with_the_servers_retry_after(app, conn, paired,
                                                                   sync_server):
    sell(conn, 1)
    sync_server.faults.append(("/api/v1/journal", unavailable(7)))
    with pytest.raises(SyncRetryable) as busy:
        paired.sync_once()
    assert (busy.value.code, busy.value.retry_after) == ("server_busy", 7)
    assert read_state(conn).last_error_code == "server_busy"
    sync_server.faults.append(("/api/v1/journal", unavailable(0, "500 Internal Server Error")))
    with pytest.raises(SyncRetryable) as broken:
        paired.sync_once()
    assert broken.value.code == "server_error" and broken.value.retry_after is None
    assert paired.sync_once().ok


def test_cut_or_unreadable_answers_are_unknown_outcomes(app, conn, paired, sync_server):
    paired.sync_once()
    sell(conn, 3)
    head = conn.execute("SELECT MAX(seq) FROM journal").fetchone()[0]
    sync_server.faults.append(("/api/v1/journal", lambda: "cut-after-commit"))
    with pytest.raises(SyncRetryable):
        paired.sync_once()
    assert len(sync_server.hashes(app.config["DEVICE_ID"])) == head   # stored, answer lost
    assert read_state(conn).pending == 3
    html = b"<html>proxy error</html>"
    sync_server.faults.append(("/api/v1/journal", lambda: (
        "200 OK", [("Content-Type", "text/html"), ("Content-Length", str(len(html)))], html)))
    with pytest.raises(SyncRetryable) as unreadable:
        paired.sync_once()
    assert unreadable.value.code == "bad_answer"
    result = paired.sync_once()   # the same entries again: duplicates, nothing doubled
    assert (result.pushed, result.duplicates, result.pending) == (0, 3, 0)
    assert sync_server.hashes(app.config["DEVICE_ID"]) == stall_hashes(conn)


def test_the_worker_waits_as_long_as_retry_after_says(app, conn, paired, sync_server):
    paired.sync_once()
    sell(conn, 1)
    sync_server.faults.append(("/api/v1/journal", unavailable(1, "429 Too Many Requests")))
    sync_server.log.clear()
    worker = SyncWorker(app.config["DATABASE"], lambda: SyncClient(app.config["DATABASE"]),
                        poll_seconds=0.05, rand=lambda: 0.0)
    worker.start()
    try:
        _wait(lambda: read_state(conn).pending == 0)
    finally:
        worker.stop()
    pushes = sync_server.pushes()
    assert [row[3] for row in pushes] == [429, 200]
    assert pushes[1][2] - pushes[0][2] >= 0.95   # jitter 0 here: only Retry-After held it back
    assert read_state(conn).pending == 0


def test_the_worker_syncs_after_a_sale_and_on_wake(app, conn, paired, sync_server):
    # Pushes coalesced on a short schedule (tests/test_sync_schedule.py tests the real one);
    # no poll during the test but the one asked for with wake().
    schedule = Schedule(push_interval=0.5, push_quiet=0.1, poll_interval=3600,
                        poll_start_spread=3600, start=time.monotonic())
    worker = SyncWorker(app.config["DATA_DIR"], poll_seconds=0.05, schedule=schedule)
    worker.start()
    try:
        assert running_worker(app.config["DATABASE"]) is worker
        _wait(lambda: worker.syncs >= 1)   # at start: push what waits, pull the catalogue
        sell(conn, 2)
        _wait(lambda: read_state(conn).pending == 0)
        pulls = sum(1 for row in sync_server.log if row[1] == "/api/v1/catalogue")
        worker.wake()
        _wait(lambda: sum(1 for row in sync_server.log if row[1] == "/api/v1/catalogue") > pulls)
    finally:
        started = time.monotonic()
        worker.stop()
    assert time.monotonic() - started < 2
    assert not worker.running and running_worker(app.config["DATABASE"]) is None


def _holds_open(pid: int, path: Path) -> bool:
    """Whether process `pid` has `path` open (Linux: its /proc/PID/fd links)."""
    try:
        fds = list(Path(f"/proc/{pid}/fd").iterdir())
    except OSError:
        return False
    for fd in fds:
        try:
            if Path(os.readlink(fd)) == path:
                return True
        except OSError:
            continue
    return False


def _wait(condition: Callable[[], bool], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A server that accepts connections, reads, and then never answers: a stuck sync."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                sock, _ = listener.accept()
            except OSError:
                continue
            held.append(sock)
    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    stop.set()
    thread.join(2)
    for sock in held:
        sock.close()
    listener.close()


def test_the_watchdog_restarts_a_sync_that_makes_no_progress(app, conn, paired, silent_server):
    with db.write_transaction(conn):
        settings.write(conn, "sync_server_url", silent_server)
    worker = SyncWorker(app.config["DATABASE"], lambda: SyncClient(app.config["DATABASE"]),
                        poll_seconds=0.05, watchdog_seconds=0.4, rand=lambda: 0.0)
    worker.start()
    try:
        _wait(lambda: worker.restarts >= 2, timeout=10)
        # The stuck attempts gave the lock back: another sync can take it at once.
        lock = SyncLock(lock_path(app.config["DATABASE"]))
    finally:
        started = time.monotonic()
        worker.stop()
    assert time.monotonic() - started < 2, "stop() cuts the stuck request"
    assert lock.acquire(1.0)
    lock.release()


def test_export_bundle_holds_exactly_the_pending_entries_and_verifies(app, conn, paired,
                                                                     sync_server, tmp_path):
    paired.sync_once()
    acked = read_state(conn).acked_seq
    sell(conn, 3)
    path = tmp_path / "usb" / "bundle.json"
    path.parent.mkdir()
    summary = export_bundle(app.config["DATABASE"], path)
    bundle = json.loads(path.read_bytes())
    assert path.read_bytes() == canonical_json(bundle)
    assert bundle["format"] == BUNDLE_FORMAT
    assert bundle["device_id"] == app.config["DEVICE_ID"]
    public_key = public_key_of(settings.read(conn, "sync_signing_key"))
    assert bundle_signed_by(public_key, bundle["signature"], bundle["device_id"],
                            bundle["created_at"], bundle["entries"])
    seqs = [entry["seq"] for entry in bundle["entries"]]
    head = conn.execute("SELECT MAX(seq) FROM journal").fetchone()[0]
    assert seqs == list(range(acked + 1, head + 1)) and summary["entries"] == 3
    previous = journal.get(conn, acked)
    for item in bundle["entries"]:
        entry = entry_from_dict(item)
        assert check_link(entry, previous) is None
        previous = entry
    state = read_state(conn)
    assert state.last_bundle_at == bundle["created_at"] and state.pending == 3
    # The server takes it like a push; importing twice and syncing later double nothing.
    for _ in range(2):
        with write_transaction(sync_server.engine) as server_conn:
            store.import_bundle(server_conn, bundle, utcnow())
    assert sync_server.hashes(app.config["DEVICE_ID"]) == stall_hashes(conn)
    result = paired.sync_once()
    assert (result.pushed, result.pending) == (0, 0)
    # A forged bundle does not verify.
    forged = dict(bundle, entries=bundle["entries"][:-1])
    assert not bundle_signed_by(public_key, forged["signature"], forged["device_id"],
                                forged["created_at"], forged["entries"])


def test_an_unpaired_stall_cannot_export_a_bundle(app, tmp_path):
    with pytest.raises(sync_errors.SyncError) as exc:
        export_bundle(app.config["DATABASE"], tmp_path / "b.json")
    assert exc.value.code == "not_paired"
    assert not (tmp_path / "b.json").exists()


def test_an_unpaired_stall_syncs_nothing(app):
    client = SyncClient(app.config["DATABASE"])
    result = client.sync_once()
    client.close()
    assert result.status == "not_paired" and result.pending > 0


def test_a_revoked_token_asks_for_pairing_again(app, conn, paired, sync_server):
    with write_transaction(sync_server.engine) as server_conn:
        store.revoke_device(server_conn, app.config["DEVICE_ID"], utcnow())
    with pytest.raises(sync_errors.SyncRefused) as refused:
        paired.sync_once()
    assert refused.value.code == "unauthorised"
    assert read_state(conn).last_error_code == "unauthorised"


# --- parts that need no server ------------------------------------------------------------------

def test_backoff_doubles_from_one_second_to_five_minutes_with_full_jitter():
    top = Backoff(rand=lambda: 1.0)
    assert [top.failure() for _ in range(11)] == [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300]
    half = Backoff(rand=lambda: 0.5)
    assert [half.failure() for _ in range(3)] == [0.5, 1, 2]
    low = Backoff(rand=lambda: 0.0)
    assert low.failure() == 0 and low.failure(retry_after=30) == 30
    low.reset()
    assert low.failures == 0 and low.ceiling() == 0


def test_retry_after_in_seconds_or_as_a_date():
    assert parse_retry_after("12") == 12
    assert parse_retry_after(None) is None and parse_retry_after("soon") is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now=1445412500.0) == 10
    assert parse_retry_after("999999") == MAX_RETRY_AFTER


def test_the_lock_is_one_sync_per_stall_across_processes(tmp_path):
    path = tmp_path / "sync.lock"
    first, second = SyncLock(path), SyncLock(path)
    assert first.acquire()
    started = time.monotonic()
    assert not second.acquire(wait=0.2)
    assert 0.2 <= time.monotonic() - started < 1
    first.release()
    assert second.acquire()
    second.release()
    holder = subprocess.Popen([sys.executable, "-c", (
        "import fcntl, sys, time; f = open(sys.argv[1], 'w'); fcntl.flock(f, fcntl.LOCK_EX);"
        " print('held', flush=True); time.sleep(30)"), str(path)], stdout=subprocess.PIPE,
        text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        assert not first.acquire(wait=0.1)
    finally:
        holder.kill()
        holder.wait()
    assert first.acquire(wait=2)
    first.release()


def test_a_process_killed_in_a_sync_leaves_no_lock(tmp_path):
    path = tmp_path / "sync.lock"
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys; from pos.sync.lockfile import SyncLock; l = SyncLock(sys.argv[1]);"
        " l.acquire(); print('held', flush=True); import time; time.sleep(30)"), str(path)],
        stdout=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parent.parent,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)})
    assert holder.stdout.readline().strip() == "held"
    holder.kill()
    holder.wait()
    assert SyncLock(path).acquire(wait=1)


def test_the_clock_offset_comes_from_every_answer(app, conn, paired, sync_server):
    """A Pi that booted offline a day behind: every answer, even a refusal, corrects the
    offset; the entries keep the device's own time."""
    slow = SyncClient(app.config["DATABASE"], clock=lambda: time.time() - 86_400)
    sync_server.faults.append(("/api/v1/journal", unavailable(3)))
    sell(conn, 1)
    with pytest.raises(SyncRetryable):
        slow.sync_once()
    assert abs(read_state(conn).clock_offset_ms - 86_400_000) < 5_000
    fast = SyncClient(app.config["DATABASE"], clock=lambda: time.time() + 3_600)
    assert fast.sync_once().ok
    assert abs(read_state(conn).clock_offset_ms + 3_600_000) < 5_000
    slow.close()
    fast.close()
