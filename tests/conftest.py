"""Shared fixtures: a fresh stall on a real temporary SQLite file, clients, and a live waitress server."""
from __future__ import annotations

import os
import re
import secrets
import shutil
from pathlib import Path
from typing import Any, Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from pos import access, catalog, db, demo
from tests.server import pgcluster
from pos.app import create_app

# The provincial server's own secret (session cookies, pairing codes) comes from the environment
# in tests, so the web app and the command line agree without a key file in the home folder;
# subprocesses inherit it.
os.environ.setdefault("MARKET_SERVER_SECRET_KEY", "tests-" + secrets.token_hex(8))

OWNER_PIN = "1234"
HELPER_PIN = "5678"


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "stall"


@pytest.fixture(scope="session")
def stall_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One set-up stall (PINs, demo details and catalogue), built once: PIN hashing is slow on
    purpose, so each test copies this folder instead of hashing again."""
    template = tmp_path_factory.mktemp("template") / "stall"
    app = create_app({"DATA_DIR": template})
    conn = connect(app)
    try:
        from pos import settings
        with db.write_transaction(conn):
            for key, value in settings.validate_stall(demo.DEMO_STALL, partial=False).items():
                settings.write(conn, key, value)
        access.set_pin(conn, "owner", OWNER_PIN)
        access.set_pin(conn, "helper", HELPER_PIN)
        for product in demo.DEMO_PRODUCTS:
            catalog.save_product(conn, app.config["DEVICE_ID"], product)
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    return template


@pytest.fixture
def app(stall_template: Path, data_dir: Path) -> Flask:
    """A fresh copy of the set-up stall on a real SQLite file of its own."""
    shutil.copytree(stall_template, data_dir)
    return create_app({"DATA_DIR": data_dir, "TESTING": True})


def connect(app: Flask):  # type: ignore[no-untyped-def]
    """A separate connection to the app's database file, as another process would have."""
    return db.connect(app.config["DATABASE"])


@pytest.fixture
def conn(app: Flask) -> Iterator[Any]:
    connection = connect(app)
    yield connection
    connection.close()


def csrf_token(client: FlaskClient, path: str = "/unlock") -> str:
    """Read the CSRF token from a page, as a browser would."""
    html = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', html) or re.search(
        r'name="csrf-token" content="([^"]+)"', html)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def unlock(client: FlaskClient, pin: str) -> Any:
    return client.post("/unlock", data={"pin": pin, "csrf_token": csrf_token(client)})


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def owner(app: Flask) -> FlaskClient:
    """A browser session unlocked by the owner."""
    client = app.test_client()
    assert unlock(client, OWNER_PIN).status_code == 302
    return client


@pytest.fixture
def helper(app: Flask) -> FlaskClient:
    """A browser session unlocked by the helper."""
    client = app.test_client()
    assert unlock(client, HELPER_PIN).status_code == 302
    return client


@pytest.fixture
def token(conn: Any) -> str:
    return access.issue_token(conn, "tests")


@pytest.fixture
def api(app: Flask, token: str) -> FlaskClient:
    """A client that sends the bearer token with every request."""
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    """The app served by waitress on a free loopback port; yields its base URL."""
    from tests.harness.live import serve_in_thread
    with serve_in_thread(app) as url:
        yield url


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """The URL of a PostgreSQL server's maintenance database (started here if need be)."""
    url = os.environ.get("MARKET_TEST_POSTGRES_URL")
    if url:
        yield url
        return
    bindir = pgcluster.find_bindir()
    if bindir is None:
        pytest.skip("PostgreSQL binaries (initdb, pg_ctl) not found: install postgresql or set "
                    "MARKET_TEST_POSTGRES_URL to run the PostgreSQL half of the suite")
    cluster = pgcluster.Cluster(bindir).start()
    try:
        yield cluster.url()
    finally:
        cluster.stop()
