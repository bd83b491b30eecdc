"""What every `market-server` command shares: the --database option and the engine it opens
(migrated, with the dashboard's rollups filled), for sync/server/cli.py and einvoice/cli.py."""
from __future__ import annotations

from typing import Any

import click

from .db import DATABASE_ENV, default_database_url, make_engine, write_transaction

database_option = click.option(
    "--database", "database", envvar=DATABASE_ENV, default=None, metavar="URL",
    help="sqlite:///FILE or postgresql+psycopg://… (default: $MARKET_SERVER_DATABASE or"
         " market-server.sqlite3 in ~/.local/share/market-server).")


def engine_for(database: str | None) -> Any:
    """The database's engine, as it is (for `init` and `upgrade`)."""
    return make_engine(database or default_database_url())


def migrated_engine(database: str | None) -> Any:
    """The database's engine, upgraded to the newest revision first."""
    from . import migrations, rollups
    engine = engine_for(database)
    migrations.upgrade(engine)
    with write_transaction(engine) as conn:  # a database upgraded to the dashboard's rollups
        rollups.fill_if_missing(conn)
    return engine
