"""The dashboard reads its figures from a streaming replica (MARKET_SERVER_READ_DATABASE,
issue 21), and stays correct when the replica lags: a page is one snapshot, says the moment
its figures are complete up to (the replica's last replayed commit, pg_last_xact_replay_
timestamp()), the primary answers when the replica is too far behind or down, and what must
read its own writes (who may see which place, the admin pages) reads the primary.

A real hot standby on loopback: a primary started here, pg_basebackup -R, streaming
replication (tests/server/pgcluster.py). Replay is paused on the standby to make it lag."""
from __future__ import annotations

import re
import time
from datetime import datetime, timezone
from typing import Any, Iterator

import pytest
from sqlalchemy import text

from sync.protocol import parse_timestamp
from sync.server import migrations
from sync.server.app import create_app
from sync.server.db import READ_DATABASE_ENV, make_engine, write_transaction
from sync.server.users import create_user

from . import pgcluster
from .chain import Chain
from .conftest import pair_stall, push
from .test_admin import PASSWORD, csrf

pytestmark = pytest.mark.slow

DAY = "2026-11-22"
PERIOD = f"period=day&date={DAY}"


@pytest.fixture(scope="module")
def clusters() -> Iterator[tuple[pgcluster.Cluster, pgcluster.Cluster]]:
    bindir = pgcluster.find_bindir()
    if bindir is None:
        pytest.skip("PostgreSQL binaries (initdb, pg_ctl, pg_basebackup) not found: install"
                    " postgresql to run the replica test")
    primary = pgcluster.Cluster(bindir).start()
    try:
        pgcluster.admin_execute(primary.url(), 'CREATE DATABASE "market"')
        standby = pgcluster.start_standby(primary)
        try:
            yield primary, standby
        finally:
            standby.stop()
    finally:
        primary.stop()


def _standby_execute(standby: pgcluster.Cluster, statement: str) -> Any:
    import psycopg
    dsn = standby.url("market").replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(dsn, autocommit=True) as conn:
        return conn.execute(statement).fetchone()


@pytest.fixture
def server(clusters: tuple[pgcluster.Cluster, pgcluster.Cluster]) -> Iterator[Any]:
    """The app on the primary with the standby as its read database, an administrator logged
    in, a paired stall; the schema emptied and replayed first."""
    primary, standby = clusters
    engine = make_engine(primary.url("market"))
    migrations.upgrade(engine)
    with engine.begin() as conn:
        names = ", ".join(r[0] for r in conn.execute(text(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
            " AND tablename NOT IN ('alembic_version', 'catalogue_state')")))
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        conn.execute(text("UPDATE catalogue_state SET version = 0"))
    engine.dispose()
    _standby_execute(standby, "SELECT pg_wal_replay_resume()")
    app = create_app({"DATABASE_URL": primary.url("market"), "TESTING": True,
                      "SECRET_KEY": "test", "READ_DATABASE_URL": standby.url("market"),
                      "READ_MAX_LAG": 3600})
    main = app.extensions["market_server"]["engine"]
    with write_transaction(main) as conn:
        create_user(conn, "quantri", PASSWORD, "admin")
    admin = app.test_client()
    assert admin.post("/admin/login", data={"username": "quantri", "password": PASSWORD,
                                            "csrf_token": csrf(admin)}).status_code == 302

    class Server:
        pass
    s = Server()
    s.app, s.engine, s.admin, s.client = app, main, admin, app.test_client()
    s.primary, s.standby = primary, standby
    s.stall = pair_stall(s.client, main)
    s.chain = Chain(s.stall.device_id)
    yield s
    _standby_execute(standby, "SELECT pg_wal_replay_resume()")
    read = app.extensions["market_server"].get("read_engine")
    if read is not None:
        read.dispose()
    main.dispose()


def pause(standby: pgcluster.Cluster) -> None:
    """Stop the standby's replay (it keeps receiving WAL), once it says it has stopped."""
    _standby_execute(standby, "SELECT pg_wal_replay_pause()")
    deadline = time.monotonic() + 10
    while _standby_execute(standby, "SELECT pg_get_wal_replay_pause_state()")[0] != "paused":
        assert time.monotonic() < deadline, "the standby did not pause its replay"
        time.sleep(0.02)


def sell(s: Any, count: int) -> None:
    sent = len(s.chain.entries)
    s.chain.sales_run(count, day=DAY)
    assert push(s.client, s.stall, s.chain.entries[sent:]).status_code == 200


def revenue_of(s: Any) -> int:
    return sum(e.payload["total"] for e in s.chain.entries if e.kind == "sale")


def page(s: Any) -> tuple[int, dict[str, str], str, Any]:
    """The province's day page: revenue shown, the freshness line, the stall table's rows
    (from the same snapshot) and the response."""
    response = s.admin.get(f"/dashboard/?{PERIOD}", follow_redirects=True)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    shown = re.search(r'id="fig-revenue">([^<]*)<', html).group(1)
    line = re.search(r'<p class="small" id="figures-as-of" data-source="(\w+)">([^<]*)</p>',
                     html)
    csv = s.admin.get(f"/dashboard/stall/{s.stall.device_id}/sales.csv?{PERIOD}")
    return (int(re.sub(r"\D", "", shown) or 0), {"source": line.group(1), "text": line.group(2)},
            csv.get_data(as_text=True), response)


def as_of(response: Any) -> datetime:
    return parse_timestamp(response.headers["X-Figures-As-Of"])


def test_the_dashboard_reads_the_replica_and_says_how_old_its_figures_are(server):
    s = server
    sell(s, 3)
    pgcluster.wait_for_replay(s.primary.url("market"), s.standby.url("market"))
    asked = datetime.now(timezone.utc)
    shown, line, csv, response = page(s)
    # Caught up: the replica's figures are the primary's, complete up to the request.
    assert shown == revenue_of(s) and csv.count("\n") == 1 + 3
    assert line["source"] == "replica" and response.headers["X-Figures-Source"] == "replica"
    assert "Số liệu tính đến" in line["text"] and "bản sao" not in line["text"]
    assert as_of(response) >= asked.replace(microsecond=asked.microsecond // 1000 * 1000)

    # The replica stops replaying (a lag): more sales reach the primary only.
    pause(s.standby)
    replayed_before = _standby_execute(s.standby, "SELECT pg_last_xact_replay_timestamp()")[0]
    old_revenue = revenue_of(s)
    time.sleep(1.2)
    sell(s, 2)
    sold_at = datetime.now(timezone.utc)
    time.sleep(1.2)
    shown, line, csv, response = page(s)
    # Figures as of the replica's replay point, all of one snapshot, and the page says so.
    assert line["source"] == "replica", line
    assert shown == old_revenue and csv.count("\n") == 1 + 3
    assert "đọc từ bản sao cơ sở dữ liệu, chậm" in line["text"]
    lag = int(re.search(r"chậm (\d+) giây", line["text"]).group(1))
    assert lag >= 2
    assert as_of(response) <= sold_at
    assert abs((as_of(response) - replayed_before).total_seconds()) < 0.002
    # What must read its own writes reads the primary: a stall added now has its page.
    added = pair_stall(s.client, s.engine, "Sạp mới")
    new_page = s.admin.get(f"/dashboard/stall/{added.device_id}?{PERIOD}")
    assert new_page.status_code == 200
    stalls = s.admin.get("/admin/stalls")
    assert stalls.status_code == 200 and "Sạp mới" in stalls.get_data(as_text=True)

    # Further behind than allowed: the primary answers, current.
    s.app.config["READ_MAX_LAG"] = 1
    shown, line, csv, response = page(s)
    assert shown == revenue_of(s) and csv.count("\n") == 1 + 5
    assert line["source"] == "primary" and "bản sao" not in line["text"]
    s.app.config["READ_MAX_LAG"] = 3600

    # Replay resumes: the replica catches up and answers current figures again.
    _standby_execute(s.standby, "SELECT pg_wal_replay_resume()")
    pgcluster.wait_for_replay(s.primary.url("market"), s.standby.url("market"))
    shown, line, csv, response = page(s)
    assert shown == revenue_of(s) and csv.count("\n") == 1 + 5
    assert line["source"] == "replica" and "bản sao" not in line["text"]


def test_a_replica_that_does_not_answer_leaves_the_primary_to_answer(server, monkeypatch):
    s = server
    sell(s, 2)
    # A read database on a port nobody listens on (the replica is down).
    s.app.config["READ_DATABASE_URL"] = s.standby.url("market").replace(
        f":{s.standby.port}/", f":{pgcluster._free_port()}/")
    s.app.extensions["market_server"].pop("read_engine", None)
    shown, line, _csv, response = page(s)
    assert shown == revenue_of(s) and line["source"] == "primary"
    assert response.headers["X-Figures-Source"] == "primary"
    down = s.app.extensions["market_server"].pop("read_engine")
    down.dispose()
    # Without any read database (none configured) the primary answers as before.
    s.app.config.pop("READ_DATABASE_URL")
    monkeypatch.delenv(READ_DATABASE_ENV, raising=False)
    shown, line, _csv, _response = page(s)
    assert shown == revenue_of(s) and line["source"] == "primary"
    assert s.app.extensions["market_server"]["read_engine"] is None
