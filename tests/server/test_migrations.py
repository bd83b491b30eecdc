"""Alembic migrations: `init` on an empty database creates the schema; again, it changes nothing;
revisions that fill new columns from stored data fill them as the push path would have."""
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


def _downgrade(engine, revision):
    from alembic import command
    config = migrations.alembic_config(engine)
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, revision)


def test_0011_gives_stored_sale_lines_their_products_marks_and_refills_the_rollups(empty_db):
    """Issue 17: a server upgraded past 0011 reads the `product` entries it already stores, gives
    the sale lines it already holds the category and OCOP stars their product had when it sold,
    and (at `init`) computes the rollups again: the same rows as a server that had them on push.
    The data come through the real push path; the schema is then taken back to 0010 and up."""
    from sync.server import rollups
    from sync.server.app import create_app
    from sync.server.catalogue import set_catalogue_product
    from sync.server.db import (market_periods, product_entries, product_periods,
                                read_transaction, refunds, sale_lines, stall_periods,
                                write_transaction)

    from .chain import Chain
    from .conftest import PROVINCE, pair_stall, push
    from .test_projections import GREENS, HONEY, PLUMS, TEA, TYPED_TEA, _sale_of

    engine = make_engine(empty_db)
    migrations.upgrade(engine)
    app = create_app({"DATABASE_URL": empty_db, "TESTING": True, "SECRET_KEY": "test"})
    try:
        client, app_engine = app.test_client(), app.extensions["market_server"]["engine"]
        with write_transaction(app_engine) as conn:
            set_catalogue_product(conn, province=PROVINCE, name="Chè Shan tuyết", unit="gói",
                                  price=120_000, category="Chè", ocop_stars=4)
            set_catalogue_product(conn, province=PROVINCE, name="Rau muống", unit="bó",
                                  price=10_000, category="Rau")
        stall = pair_stall(client, app_engine)
        chain = Chain(stall.device_id)
        chain.product(1, "Mật ong bạc hà", 250_000, unit="chai", category="Đặc sản",
                      ocop_stars=4)
        chain.product(8, "Mận Bắc Hà", 30_000, category="Quả", ocop_stars=3)
        first = _sale_of(chain, [HONEY, TEA, TYPED_TEA, PLUMS, GREENS])
        chain.product(1, "Mật ong bạc hà", 250_000, unit="chai", category="Mật ong")
        _sale_of(chain, [HONEY, PLUMS], day="2026-11-23")
        voided = _sale_of(chain, [PLUMS, TEA], day="2026-11-23")
        chain.void(voided)
        chain.append("refund", {
            "sale_id": first.id, "sale_seq": first.seq, "sale_number": 1,
            "business_day": "2026-11-24", "total": 30_000,
            "lines": [{"line": 4, "product_id": 8, "name": "Mận Bắc Hà", "unit": "kg",
                       "quantity_milli": 1000, "unit_price": 30_000, "amount": 30_000}],
            "payments": [{"method": "cash", "amount": 30_000}], "reason": "Dập",
            "refunded_by": "owner"})
        assert push(client, stall, chain.entries).status_code == 200

        def snapshot():
            with read_transaction(engine) as conn:
                return {table.name: sorted(tuple(row) for row in conn.execute(select(table)))
                        for table in (sale_lines, product_entries, stall_periods,
                                      market_periods, product_periods, refunds)}

        pushed = snapshot()
        assert len(pushed["refunds"]) == 1 and len(pushed["product_entries"]) == 3
        assert {r[4:6] + r[9:11] for r in pushed["sale_lines"]} == {
            ("Mật ong bạc hà", "chai", "Đặc sản", 4), ("Mật ong bạc hà", "chai", "Mật ong", 0),
            ("Chè Shan tuyết", "gói", "Chè", 4), ("Chè Shan tuyết", "gói", "", 0),
            ("Mận Bắc Hà", "kg", "Quả", 3), ("Rau muống", "bó", "Rau", 0)}
        _downgrade(engine, "0010")
        with engine.connect() as conn:
            assert "category" not in {c["name"] for c in inspect(conn).get_columns("sale_lines")}
            assert not inspect(conn).has_table("product_entries")
        result = CliRunner().invoke(main, ["init", "--database", empty_db])
        assert result.exit_code == 0, result.output
        assert migrations.current_revision(engine) == migrations.head_revision()
        assert snapshot() == pushed
        with write_transaction(engine) as conn:
            rollups.rebuild(conn)
        assert snapshot() == pushed
    finally:
        app.extensions["market_server"]["engine"].dispose()
        engine.dispose()
