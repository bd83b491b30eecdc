"""Engines: SQLite durability pragmas and BEGIN IMMEDIATE for writes; URL handling."""
from __future__ import annotations

import sqlite3
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from sync.server.db import (devices, make_engine, normalise_url, read_transaction, stalls,
                            write_transaction)


@pytest.fixture
def sqlite_engine(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    yield engine
    engine.dispose()


def test_sqlite_pragmas(sqlite_engine):
    with sqlite_engine.connect() as conn:
        pragma = lambda name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()  # noqa: E731
        assert pragma("journal_mode") == "wal"
        assert pragma("synchronous") == 2  # FULL
        assert pragma("foreign_keys") == 1
        assert pragma("busy_timeout") >= 10_000


def test_sqlite_write_transactions_take_the_write_lock_up_front(sqlite_engine, tmp_path):
    other = sqlite3.connect(tmp_path / "db.sqlite3", timeout=0, isolation_level=None)
    with write_transaction(sqlite_engine) as conn:
        conn.exec_driver_sql("SELECT 1")
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
    other.execute("BEGIN IMMEDIATE")  # free again after the commit
    other.execute("ROLLBACK")
    with read_transaction(sqlite_engine) as conn:  # readers do not lock writers out
        conn.exec_driver_sql("SELECT 1")
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
    other.close()


def test_postgres_urls_use_psycopg():
    assert normalise_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_url("sqlite:///x") == "sqlite:///x"
    with pytest.raises(ValueError):
        make_engine("mysql://u@h/db")


def test_times_round_trip_as_aware_utc(engine):
    from sync.server import store
    moment = datetime(2026, 11, 22, 8, 15, 30, 123000, tzinfo=timezone.utc)
    with write_transaction(engine) as conn:
        store.add_stall(conn, "P", "C", "M", "S", now=moment)
    with read_transaction(engine) as conn:
        assert conn.execute(select(stalls.c.created_at)).scalar_one() == moment
        with pytest.raises(Exception):
            conn.execute(devices.update().values(paired_at=datetime(2026, 1, 1)))


def test_the_domain_modules_import_no_flask():
    """store, pairing, catalogue, projection and db are usable from the CLI and scripts alone."""
    import subprocess
    import sys
    code = ("import sys, sync.server.store, sync.server.cli; "
            "sys.exit('flask' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
