"""Fixtures of the provincial server's contract suite, run against SQLite AND PostgreSQL.

`server_db` is parametrized over both backends, so every test that uses it (directly or through
`app`/`client`) runs twice. PostgreSQL comes from a throwaway cluster started once per session
with initdb/pg_ctl (as the `postgres` user when the tests run as root), or from
MARKET_TEST_POSTGRES_URL. NOTE: when neither the binaries nor that URL are available the
PostgreSQL half is SKIPPED with a reason; CI installs the `postgresql` package so it always runs
there.
"""
from __future__ import annotations

import shutil
import uuid
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, text

from sync.protocol import Entry, new_signing_key, public_key_of
from sync.server import migrations, store
from sync.server.app import create_app
from sync.server.db import make_engine, metadata, utcnow, write_transaction

from . import pgcluster

BACKENDS = ("sqlite", "postgresql")
PROVINCE, COMMUNE, MARKET = "Hà Giang", "Phường Minh Khai", "Chợ trung tâm Hà Giang"


# --- databases -----------------------------------------------------------------------------------

def new_postgres_database(server_url: str) -> str:
    """A fresh, empty database on the test server."""
    name = f"market_{uuid.uuid4().hex[:12]}"
    pgcluster.admin_execute(server_url, f'CREATE DATABASE "{name}"')
    return pgcluster.with_database(server_url, name)


@pytest.fixture(scope="session")
def postgres_migrated(postgres_server: str) -> str:
    """One migrated database shared by the tests (emptied before each)."""
    url = new_postgres_database(postgres_server)
    engine = make_engine(url)
    migrations.upgrade(engine)
    engine.dispose()
    return url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test (faster than migrating each time)."""
    path = tmp_path_factory.mktemp("sqlite-template") / "server.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    migrations.upgrade(engine)
    engine.dispose()  # the last connection to close checkpoints and removes the WAL file
    assert not path.with_name(path.name + "-wal").exists()
    return path


def _empty_postgres(url: str) -> None:
    tables = ", ".join(t.name for t in metadata.sorted_tables if t.name != "catalogue_state")
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
            conn.execute(text("UPDATE catalogue_state SET version = 0"))
    finally:
        engine.dispose()


@pytest.fixture(params=BACKENDS)
def server_db(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of a migrated, empty database on each backend."""
    if request.param == "sqlite":
        path = tmp_path / "server.sqlite3"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url = request.getfixturevalue("postgres_migrated")
    _empty_postgres(url)
    return url


@pytest.fixture(params=BACKENDS)
def empty_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty database (no schema) on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.sqlite3'}"
        return
    server = request.getfixturevalue("postgres_server")
    url = new_postgres_database(server)
    yield url
    name = url.rsplit("/", 1)[1]
    pgcluster.admin_execute(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --- the app -------------------------------------------------------------------------------------

@pytest.fixture
def app(server_db: str) -> Iterator[Flask]:
    app = create_app({"DATABASE_URL": server_db, "TESTING": True, "SECRET_KEY": "test"})
    yield app
    app.extensions["market_server"]["engine"].dispose()


@pytest.fixture
def engine(app: Flask) -> Engine:
    return app.extensions["market_server"]["engine"]


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def add_stall(engine: Engine, name: str = "Sạp rau cô Lan", *, market: str = MARKET,
              commune: str = COMMUNE, province: str = PROVINCE) -> SimpleNamespace:
    """A new stall on the server: its ids and pairing code."""
    with write_transaction(engine) as conn:
        stall_id, device_id, code = store.add_stall(conn, province, commune, market, name,
                                                    "Nguyễn Thị Lan", utcnow())
    return SimpleNamespace(stall_id=stall_id, device_id=device_id, code=code)


def pair_stall(client: FlaskClient, engine: Engine, name: str = "Sạp rau cô Lan",
               **place: str) -> SimpleNamespace:
    """A stall paired with an empty journal (it adopts the server's device id), with its bundle
    signing key (`signing_key`, the private half the stall keeps)."""
    stall = add_stall(engine, name, **place)
    stall.signing_key = new_signing_key()
    response = client.post("/api/v1/pair", json={"code": stall.code, "head_seq": 0,
                                                 "public_key": public_key_of(stall.signing_key)})
    assert response.status_code == 200, response.get_json()
    stall.token = response.get_json()["token"]
    stall.headers = bearer(stall.token)
    return stall


@pytest.fixture
def stall(client: FlaskClient, engine: Engine) -> SimpleNamespace:
    """A paired stall: device_id, token, headers."""
    return pair_stall(client, engine)


def push(client: FlaskClient, stall: SimpleNamespace, entries: list[Any],
         device_id: str | None = None) -> Any:
    """POST a batch of entries (Entry objects or dicts) for the stall."""
    items = [e.to_dict() if isinstance(e, Entry) else e for e in entries]
    return client.post("/api/v1/journal", headers=stall.headers,
                       json={"device_id": device_id or stall.device_id, "entries": items})


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    """The app served by waitress on a free loopback port; yields its base URL."""
    from tests.harness.live import serve_in_thread
    with serve_in_thread(app, threads=8) as url:
        yield url
