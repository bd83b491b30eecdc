"""Process-level proof that sync loses and doubles nothing: a real stall, a real server process,
a fault-injecting proxy between them, and the server killed with SIGKILL in the middle.

Runs against SQLite and PostgreSQL (the PostgreSQL half is skipped with a reason when the
binaries are absent; CI installs them). Loopback only.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Iterator

import pytest
import requests

from pos import db as stall_db
from pos import journal, sales, stall
from tests.harness.faultproxy import FaultPlan, FaultProxy
from tests.server import pgcluster

pytestmark = pytest.mark.slow
BIN = Path(sys.executable).parent
SALE = {"lines": [{"name": "Rau cải mèo", "unit_price": 10000, "quantity": "2"}],
        "payments": [{"method": "cash", "amount": 20000}]}
FAULTY = {"none": 4, "drop_request": 1, "drop_response": 1, "duplicate": 1, "delay": 1,
          "truncate": 1, "unavailable": 1}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run(*args: str, env: dict[str, str] | None = None, check: bool = True,
        timeout: float = 120) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([str(BIN / args[0]), *args[1:]], capture_output=True, text=True,
                            timeout=timeout, env={**os.environ, **(env or {})})
    if check and result.returncode != 0:
        raise AssertionError(f"{args} failed ({result.returncode}):\n{result.stdout}\n"
                             f"{result.stderr}")
    return result


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'server.sqlite3'}"
    server = request.getfixturevalue("postgres_server")
    name = f"faults_{uuid.uuid4().hex[:10]}"
    pgcluster.admin_execute(server, f'CREATE DATABASE "{name}"')
    return pgcluster.with_database(server, name)


class ServerProcess:
    """`market-server serve` in a child process that can be SIGKILLed and started again."""

    def __init__(self, database_url: str, data_dir: Path):
        self.database_url = database_url
        self.port = free_port()
        self.env = {"MARKET_SERVER_DATA": str(data_dir), "MARKET_SERVER_DATABASE": database_url}
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [str(BIN / "market-server"), "serve", "--port", str(self.port)],
            env={**os.environ, **self.env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{self.url}/api/v1/openapi.json", timeout=1).ok:
                    return
            except requests.RequestException:
                time.sleep(0.1)
        raise AssertionError("the server did not start")

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return run("market-server", *args, env=self.env)


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[ServerProcess]:
    process = ServerProcess(database_url, tmp_path / "server-data")
    process.cli("init")
    process.start()
    yield process
    process.kill()


def new_stall(server: ServerProcess, tmp_path: Path, name: str, proxy_url: str | None = None
              ) -> Path:
    """A stall data directory, paired with the server (directly, or through the proxy)."""
    data = tmp_path / name
    run("market-pos", "init", "--data", str(data), "--pin", "1234")
    added = json.loads(server.cli("add-stall", "--province", "Lào Cai", "--commune", "Xã Bắc Hà",
                                  "--market", "Chợ Bắc Hà", "--name", name, "--json").stdout)
    run("market-pos", "pair", "--data", str(data), "--server", proxy_url or server.url,
        "--code", added["pairing_code"])
    return data


def sell(data: Path, count: int) -> None:
    """Record sales straight into the stall's database, as the sell screen does."""
    conn = stall_db.connect(stall.database_path(data))
    try:
        device = conn.execute("SELECT value FROM settings WHERE key = 'device_id'").fetchone()[0]
        for _ in range(count):
            sales.record_sale(conn, device, SALE, "owner")
    finally:
        conn.close()


def sync_until_done(data: Path, attempts: int = 60) -> int:
    """Run `market-pos sync` until it says nothing is pending; return how many runs it took."""
    for attempt in range(1, attempts + 1):
        if run("market-pos", "sync", "--data", str(data), check=False,
               timeout=120).returncode == 0:
            return attempt
        time.sleep(0.2)
    raise AssertionError(f"sync did not finish in {attempts} attempts")


def stall_entries(data: Path) -> list[dict[str, object]]:
    conn = stall_db.connect(stall.database_path(data))
    try:
        return [entry.to_dict() for entry in journal.entries(conn)]
    finally:
        conn.close()


def server_entries(server: ServerProcess, device_id: str) -> list[dict[str, object]]:
    out = server.cli("export-journal", "--device", device_id, "--format", "jsonl").stdout
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def device_of(data: Path) -> str:
    conn = sqlite3.connect(stall.database_path(data))
    try:
        return conn.execute("SELECT value FROM settings WHERE key = 'device_id'").fetchone()[0]
    finally:
        conn.close()


def assert_server_holds_exactly(server: ServerProcess, data: Path) -> None:
    mine = stall_entries(data)
    theirs = server_entries(server, device_of(data))
    assert len(theirs) == len(mine)
    assert [e["seq"] for e in theirs] == list(range(1, len(mine) + 1)), "duplicates or gaps"
    assert [e["hash"] for e in theirs] == [e["hash"] for e in mine]
    assert theirs == mine


def test_5000_offline_sales_survive_faults_and_a_killed_server(server: ServerProcess,
                                                               tmp_path: Path) -> None:
    proxy = FaultProxy(server.port, FaultPlan(FAULTY, seed=20261123)).start()
    try:
        data = new_stall(server, tmp_path, "Sạp A12")
        server.kill()                       # the link is gone: the stall keeps selling
        sell(data, 5000)
        server.start()
        conn = stall_db.connect(stall.database_path(data))
        with stall_db.write_transaction(conn):
            conn.execute("UPDATE settings SET value = ? WHERE key = 'sync_server_url'",
                         (proxy.url,))
        conn.close()

        killer_done = threading.Event()

        def kill_and_restart() -> None:
            time.sleep(1.5)
            server.kill()                   # SIGKILL in the middle of the backlog
            time.sleep(0.5)
            server.start()
            killer_done.set()

        killer = threading.Thread(target=kill_and_restart, daemon=True)
        killer.start()
        for _ in range(40):                 # sync through the faults while the server dies
            run("market-pos", "sync", "--data", str(data), check=False, timeout=120)
            if killer_done.is_set() and proxy.counts.total() > 30:
                break
        killer.join(timeout=60)
        proxy.enabled = False               # heal
        sync_until_done(data)
        assert sum(count for fault, count in proxy.counts.items() if fault != "none") > 0
        assert_server_holds_exactly(server, data)
        run("market-pos", "verify", "--data", str(data))
    finally:
        proxy.stop()


def test_two_stalls_sync_at_once(server: ServerProcess, tmp_path: Path) -> None:
    stalls = [new_stall(server, tmp_path, name) for name in ("Sạp 1", "Sạp 2")]
    for data in stalls:
        sell(data, 300)
    threads = [threading.Thread(target=sync_until_done, args=(data,)) for data in stalls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    for data in stalls:
        assert_server_holds_exactly(server, data)


def test_a_stall_restored_from_an_old_backup_cannot_fork_the_journal(server: ServerProcess,
                                                                       tmp_path: Path) -> None:
    data = new_stall(server, tmp_path, "Sạp B3")
    sell(data, 20)
    sync_until_done(data)
    backup = tmp_path / "backup.sqlite3"
    source = sqlite3.connect(stall.database_path(data))
    target = sqlite3.connect(backup)
    source.backup(target)
    source.close(), target.close()
    sell(data, 10)
    sync_until_done(data)
    held = server_entries(server, device_of(data))
    # The SD card dies; the stall is restored from last night's backup and sells on.
    for suffix in ("", "-wal", "-shm"):
        Path(f"{stall.database_path(data)}{suffix}").unlink(missing_ok=True)
    shutil.copy(backup, stall.database_path(data))
    sell(data, 5)
    result = run("market-pos", "sync", "--data", str(data), check=False)
    assert result.returncode != 0
    assert server_entries(server, device_of(data)) == held, "the server accepted a fork"
    status = sqlite3.connect(stall.database_path(data)).execute(
        "SELECT value FROM settings WHERE key = 'sync_needs_attention'").fetchone()
    assert status and "conflict" in status[0]


def test_a_tampered_entry_is_caught_by_verify_and_by_the_server(server: ServerProcess,
                                                                 tmp_path: Path) -> None:
    data = new_stall(server, tmp_path, "Sạp C7")
    sell(data, 5)
    conn = sqlite3.connect(stall.database_path(data))
    conn.execute("DROP TRIGGER journal_no_update")
    conn.execute("UPDATE journal SET payload = replace(payload, '20000', '2000') WHERE seq = 3")
    conn.commit()
    conn.close()
    verify = run("market-pos", "verify", "--data", str(data), check=False)
    assert verify.returncode == 1 and "seq 3" in verify.stderr
    result = run("market-pos", "sync", "--data", str(data), check=False)
    assert result.returncode != 0
    assert [e["seq"] for e in server_entries(server, device_of(data))] == [1, 2]
    attention = sqlite3.connect(stall.database_path(data)).execute(
        "SELECT value FROM settings WHERE key = 'sync_needs_attention'").fetchone()
    assert attention and "bad_hash" in attention[0]
