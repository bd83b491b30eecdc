"""The national roll-up (issue 21, docs/SCALE.md "The national roll-up"): two provinces'
dashboard rollups reach a national database by PostgreSQL logical replication.

Three real clusters on loopback: province A and province B (wal_level=logical, each with its
own `market-server serve` process) and the national one. Both provinces have a market 1, a
commune 1 and a province 1 of their own, so every national key must carry the province to
hold them apart. Sales are pushed over HTTP as stalls push them; the operator's commands
(`market-server national publish|subscribe|status`) are run through the real CLI.

- rows pushed before the subscription are copied, rows pushed after are streamed: the national
  tables hold exactly each province's rows and `national_periods` their sum;
- the national cluster down while both provinces sell (the link drops): it catches up;
- province A's database and server restarted (fast shutdown), a void pushed after: caught up;
- a province rebuilding its rollups (DELETE and INSERT in one transaction), a second publish
  and subscribe (idempotent), a publish under another code refused.

Every wait polls against a deadline; nothing sleeps a fixed time.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable, Iterator

import psycopg
import pytest
import requests
from click.testing import CliRunner

from sync.protocol import canonical_json
from sync.server import rollups, store
from sync.server.cli import main as cli
from sync.server.db import make_engine, utcnow, write_transaction

from . import pgcluster
from .chain import Chain

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
DEADLINE = 60          # seconds for a change to reach the national database (two shared cores)
TABLES = ("market_periods", "product_periods")
FIGURES = ("sales", "revenue", "cash", "qr", "voids", "voided", "active")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(condition: Callable[[], Any], what: str, deadline: float = DEADLINE) -> Any:
    end = time.monotonic() + deadline
    last: Any = None
    while True:
        try:
            result = condition()
        except psycopg.OperationalError as exc:   # a cluster still starting
            result, last = None, exc
        if result:
            return result
        if time.monotonic() > end:
            raise AssertionError(f"{what}: not within {deadline} s ({last})")
        time.sleep(0.1)


def dsn(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def rows(url: str, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(dsn(url), autocommit=True) as conn:
        return conn.execute(sql, params).fetchall()


class Province:
    """A provincial PostgreSQL cluster and its `market-server serve` (waitress) process."""

    def __init__(self, name: str, code: str, bindir: Path, folder: Path):
        self.name, self.code, self.folder = name, code, folder
        self.cluster = pgcluster.RestartableCluster(bindir, settings=pgcluster.LOGICAL).start()
        pgcluster.admin_execute(self.cluster.url(), 'CREATE DATABASE "province"')
        self.url = pgcluster.with_database(self.cluster.url(), "province")
        self.port = free_port()
        self.server: subprocess.Popen[bytes] | None = None
        self.chains: dict[str, tuple[Chain, str]] = {}

    def start_server(self) -> None:
        env = {**os.environ, "MARKET_SERVER_DATABASE": self.url,
               "MARKET_SERVER_DATA": str(self.folder), "MARKET_SERVER_SECRET_KEY": "national",
               "PYTHONPATH": str(ROOT)}
        log = open(self.folder / "server.log", "ab")
        self.server = subprocess.Popen(
            [sys.executable, "-m", "sync.server.cli", "serve", "--port", str(self.port),
             "--threads", "4"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True)
        log.close()

        def up() -> bool:
            if self.server is not None and self.server.poll() is not None:
                raise AssertionError(f"{self.name}'s server exited:\n" + (
                    self.folder / "server.log").read_text(errors="replace")[-3000:])
            try:
                return requests.get(f"http://127.0.0.1:{self.port}/api/v1/openapi.json",
                                    timeout=2).ok
            except requests.RequestException:
                return False
        wait_for(up, f"{self.name}'s server answers", 30)

    def stop_server(self) -> None:
        if self.server is not None and self.server.poll() is None:
            os.killpg(self.server.pid, signal.SIGTERM)
            try:
                self.server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.server.pid, signal.SIGKILL)
                self.server.wait(timeout=10)
        self.server = None

    def add_stalls(self, places: list[tuple[str, str, str]]) -> None:
        """One stall per (province, commune, market), paired (its token kept)."""
        engine = make_engine(self.url)
        try:
            with write_transaction(engine) as conn:
                for index, (province, commune, market) in enumerate(places):
                    _, device_id, code = store.add_stall(conn, province, commune, market,
                                                         f"Sạp {index + 1}", now=utcnow())
                    answer = store.pair(conn, code, None, 0, utcnow())
                    self.chains[answer["device_id"]] = (Chain(answer["device_id"]),
                                                        answer["token"])
        finally:
            engine.dispose()

    def push(self, sales: int, *, void_last: bool = False) -> None:
        """Each stall sells `sales` times (and voids its last sale) and pushes, as a stall."""
        for device_id, (chain, token) in self.chains.items():
            first = len(chain.entries)
            made = chain.sales_run(sales, qr_share=20_000)
            if void_last:
                chain.void(made[-1])
            body = canonical_json({"device_id": device_id,
                                   "entries": [e.to_dict() for e in chain.entries[first:]]})
            answer = requests.post(
                f"http://127.0.0.1:{self.port}/api/v1/journal", data=body, timeout=30,
                headers={"Authorization": f"Bearer {token}",
                         "Content-Type": "application/json"})
            assert answer.status_code == 200, answer.text
            assert answer.json()["acked_seq"] == len(chain.entries)

    def close(self) -> None:
        self.stop_server()
        self.cluster.stop()


def run_cli(*args: str) -> Any:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result


@pytest.fixture(scope="module")
def country(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    bindir = pgcluster.find_bindir()
    if bindir is None:
        pytest.skip("PostgreSQL binaries not found (Debian: apt-get install postgresql;"
                    " .ci/run installs them)")
    folder = tmp_path_factory.mktemp("national")
    made: list[Any] = []
    try:
        a = Province("province A", "10", bindir, folder / "a")
        made.append(a)
        b = Province("province B", "15", bindir, folder / "b")
        made.append(b)
        national = pgcluster.RestartableCluster(bindir, settings=pgcluster.LOGICAL).start()
        made.append(national)
        pgcluster.admin_execute(national.url(), 'CREATE DATABASE "national"')
        for province in (a, b):
            (province.folder).mkdir(parents=True, exist_ok=True)
            province.start_server()   # migrates the database
        # The same ids on both sides: province 1, market 1 and a commune 1 in each.
        a.add_stalls([("Lào Cai", "Phường Cốc Lếu", "Chợ Cốc Lếu"),
                      ("Lào Cai", "Phường Cốc Lếu", "Chợ Cốc Lếu"),
                      ("Lào Cai", "Xã Bắc Hà", "Chợ Bắc Hà")])
        b.add_stalls([("Tuyên Quang", "Phường Minh Xuân", "Chợ Tam Cờ"),
                      ("Tuyên Quang", "Xã Hà Giang", "Chợ Hà Giang")])
        yield {"a": a, "b": b, "national": pgcluster.with_database(national.url(), "national"),
               "national_cluster": national}
    finally:
        for thing in reversed(made):
            try:
                thing.close() if isinstance(thing, Province) else thing.stop()
            except Exception:  # noqa: BLE001  (the others still stop)
                pass


def province_rows(province: Province, table: str) -> set[tuple[Any, ...]]:
    return set(rows(province.url, f"SELECT * FROM {table}"))


def national_rows(country: dict[str, Any], province: Province, table: str
                  ) -> set[tuple[Any, ...]]:
    """The national rows of one province, in the province's column order."""
    columns = [name for (name,) in rows(
        province.url, "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass"
        " AND attnum > 0 AND NOT attisdropped ORDER BY attnum", table)]
    listed = ", ".join(f'"{c}"' for c in columns)
    return set(rows(country["national"], f"SELECT {listed} FROM {table}"
                    " WHERE province_code = %s", province.code))


def in_step(country: dict[str, Any]) -> bool:
    """Every province's rows are in the national tables, exactly, and nothing else is."""
    for province in (country["a"], country["b"]):
        for table in TABLES + ("markets", "communes", "provinces"):
            if national_rows(country, province, table) != province_rows(province, table):
                return False
    codes = {code for (code,) in rows(country["national"],
                                      "SELECT DISTINCT province_code FROM market_periods")}
    return codes == {"10", "15"}


def provincial_sums(country: dict[str, Any]) -> dict[tuple[str, str], tuple[int, ...]]:
    totals: dict[tuple[str, str], list[int]] = {}
    for province in (country["a"], country["b"]):
        for kind, period, *figures in rows(
                province.url, f"SELECT kind, period, {', '.join(FIGURES)} FROM market_periods"):
            acc = totals.setdefault((kind, period), [0] * len(FIGURES))
            for i, value in enumerate(figures):
                acc[i] += value
    return {key: tuple(values) for key, values in totals.items()}


def national_sums(country: dict[str, Any]) -> dict[tuple[str, str], tuple[int, ...]]:
    return {(kind, period): tuple(figures) for kind, period, *figures in rows(
        country["national"], f"SELECT kind, period, {', '.join(FIGURES)} FROM national_periods")}


def assert_caught_up(country: dict[str, Any], what: str) -> None:
    wait_for(lambda: in_step(country), what)
    assert national_sums(country) == provincial_sums(country)


def test_national_rollup(country: dict[str, Any]) -> None:
    a, b, national = country["a"], country["b"], country["national"]
    # Sales before anything is published: the subscription's first copy brings them.
    a.push(3)
    b.push(2)
    for province in (a, b):
        published = run_cli("national", "publish", "--database", province.url,
                            "--code", province.code)
        assert published.exit_code == 0, published.output
        assert "market_periods" in published.output
    for province in (a, b):
        subscribed = run_cli("national", "subscribe", "--national", national,
                             "--publisher", province.url)
        assert subscribed.exit_code == 0, subscribed.output
        assert f"national_{province.code}" in subscribed.output
        assert "created" in subscribed.output
    assert_caught_up(country, "the first copy")
    # Both provinces have a market 1: two national rows, told apart by the province.
    assert sorted(r[0] for r in rows(national, "SELECT province_code FROM market_periods"
                                     " WHERE market_id = 1 AND kind = 'm'")) == ["10", "15"]
    assert {r[0] for r in rows(national, "SELECT province FROM national_province_periods")} \
        == {"Lào Cai", "Tuyên Quang"}
    assert len(rows(national, "SELECT * FROM national_markets")) == 4   # 2 + 2

    # A later push appears nationally (streamed, not copied).
    before = national_sums(country)
    a.push(2)
    assert_caught_up(country, "a push after the subscription")
    assert national_sums(country) != before

    # The link to the national database drops while both provinces sell; then it returns.
    country["national_cluster"].pause()
    a.push(1)
    b.push(4, void_last=True)
    stalled = run_cli("national", "status", "--database", a.url, "--json")
    assert stalled.exit_code == 1, stalled.output     # its slot has no subscriber connected
    slot = json.loads(stalled.output)["slots"][0]
    assert slot["slot"] == "national_10" and slot["active"] is False
    assert slot["lag_bytes"] > 0                     # kept for the national database
    country["national_cluster"].resume()
    assert_caught_up(country, "catch-up after the national database was down")

    # Province A restarts: its server and its database (fast shutdown), then sells and voids.
    a.stop_server()
    a.cluster.pause()
    a.cluster.resume()
    a.start_server()
    a.push(2, void_last=True)
    assert_caught_up(country, "catch-up after province A restarted")

    # A province rebuilds its rollups (one transaction of DELETEs and INSERTs).
    engine = make_engine(b.url)
    try:
        with write_transaction(engine) as conn:
            rollups.rebuild(conn)
    finally:
        engine.dispose()
    b.push(1)
    assert_caught_up(country, "a rebuild of province B's rollups")

    # Both commands again: nothing changes; another code for a published province: refused.
    again = run_cli("national", "publish", "--database", a.url, "--code", "10")
    assert again.exit_code == 0, again.output
    refreshed = run_cli("national", "subscribe", "--national", national, "--publisher", a.url)
    assert refreshed.exit_code == 0 and "refreshed" in refreshed.output, refreshed.output
    other = run_cli("national", "publish", "--database", a.url, "--code", "11")
    assert other.exit_code != 0 and "already publishes as province '10'" in other.output
    a.push(1)
    assert_caught_up(country, "after publishing and subscribing again")

    # Healthy: every subscription runs with its tables copied, every slot has its reader.
    def healthy() -> Any:
        result = run_cli("national", "status", "--database", a.url,
                         "--national", national, "--json")
        return result if result.exit_code == 0 else None
    status = json.loads(wait_for(healthy, "national status says healthy").output)
    subscriptions = {s["subscription"]: s for s in status[1]["subscriptions"]}
    assert set(subscriptions) == {"national_10", "national_15"}
    assert all(s["running"] and s["tables_ready"] == s["tables"] == 6
               for s in subscriptions.values())
    assert subscriptions["national_10"]["market_period_rows"] == len(
        rows(a.url, "SELECT 1 FROM market_periods"))


def test_publish_needs_postgresql(tmp_path: Path) -> None:
    result = run_cli("national", "publish", "--database",
                     f"sqlite:///{tmp_path / 'server.sqlite3'}", "--code", "10")
    assert result.exit_code != 0 and "needs PostgreSQL" in result.output
