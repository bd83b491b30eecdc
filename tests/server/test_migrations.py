"""Alembic migrations: `init` on an empty database creates the schema; again, it changes nothing."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from click.testing import CliRunner
from sqlalchemy import inspect, select

from sync.server import migrations
from sync.server.cli import main
from sync.server.db import catalogue_state, make_engine, metadata


def test_init_creates_the_schema_and_is_idempotent(empty_db):
    runner = CliRunner()
    first = runner.invoke(main, ["init", "--database", empty_db])
    assert first.exit_code == 0, first.output
    engine = make_engine(empty_db)
    try:
        tables = set(inspect(engine).get_table_names())
        assert {t.name for t in metadata.sorted_tables} | {"alembic_version"} == tables
        assert migrations.current_revision(engine) == migrations.head_revision()
        second = runner.invoke(main, ["init", "--database", empty_db])
        assert second.exit_code == 0, second.output
        assert f"revision {migrations.head_revision()}" in second.output
        with engine.connect() as conn:
            assert conn.execute(select(catalogue_state)).all() == [(1, 0)]
    finally:
        engine.dispose()


def test_migrated_schema_matches_the_metadata(empty_db):
    """The explicit migration and the code's tables agree (autogenerate finds nothing to do)."""
    engine = make_engine(empty_db)
    try:
        migrations.upgrade(engine)
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(context, metadata) == []
    finally:
        engine.dispose()


def test_migrations_ship_as_package_files():
    folder = migrations.SCRIPT_LOCATION
    assert (folder / "env.py").is_file() and (folder / "script.py.mako").is_file()
    assert (folder / "versions" / "0001_initial.py").is_file()
