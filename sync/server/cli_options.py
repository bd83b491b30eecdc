"""What every `market-server` command shares: the --database option and the engine it opens
(migrated, with the dashboard's rollups filled), for sync/server/cli.py and einvoice/cli.py."""
from __future__ import annotations

from typing import Any

import click
from sqlalchemy import text

from .db import DATABASE_ENV, default_database_url, make_engine, write_transaction

database_option = click.option(
    "--database", "database", envvar=DATABASE_ENV, default=None, metavar="URL",
    help="sqlite:///FILE or postgresql+psycopg://… (default: $MARKET_SERVER_DATABASE or"
         " market-server.sqlite3 in ~/.local/share/market-server).")


def engine_for(database: str | None) -> Any:
    """The database's engine, as it is (for `init` and `upgrade`)."""
    return make_engine(database or default_database_url())


# pg_advisory_lock's key for schema upgrades: the bytes "mkt-migr" as a signed 64-bit number.
MIGRATION_LOCK = int.from_bytes(b"mkt-migr", "big", signed=True)


def migrated_engine(database: str | None) -> Any:
    """The database's engine, upgraded to the newest revision first.

    Several servers started at once (two `serve` behind a balancer) upgrade one after the
    other: on PostgreSQL under a session advisory lock, on SQLite under its write lock (the
    upgrade is one BEGIN IMMEDIATE transaction). The later ones find nothing left to do."""
    from . import migrations, partitions, rollups
    engine = engine_for(database)
    with engine.connect() as lock:
        if engine.dialect.name == "postgresql":
            lock.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK})
            lock.commit()
        try:
            migrations.upgrade(engine)
            with write_transaction(engine) as conn:  # upgraded to the dashboard's rollups
                rollups.fill_if_missing(conn)
            # PostgreSQL: this month's and the next months' partitions (sync/server/partitions.py)
            partitions.create_ahead_at_start(engine)
        finally:
            if engine.dialect.name == "postgresql":
                lock.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK})
                lock.commit()
    return engine
