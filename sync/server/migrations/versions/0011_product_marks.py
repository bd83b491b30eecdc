"""A sale line's category and OCOP stars: the stall's own product data, not only the catalogue's.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06

Before this revision the dashboard looked a sold product's category and OCOP stars up by name in
the province's reference catalogue only, so a stall's own products (its `product` entries,
which carry both) counted as "Other" and never as OCOP (issue 17). From here on:

- `product` entries are projected into `product_entries`, one row per entry (a product's
  history); this revision fills it from the stored journal;
- each sale line gets the `category` and `ocop_stars` of its product as the stall had it when
  it sold: the latest `product` entry of that product before the sale; else (a product of the
  reference catalogue, which stalls do not journal) the catalogue's product of the line's name in
  the stall's scope, the same unit and the narrowest scope first; a line typed without a product
  has none ('' and 0). Old lines are filled here by the same rule;
- `product_periods` is keyed by category and stars as well. The rollups are derived tables: they
  are emptied here, and `market-server init`/`serve` (rollups.fill_if_missing, right after the
  migration) or `market-server rebuild-rollups` computes them again from the projections.
"""
from __future__ import annotations

import json
from typing import Any, Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: Union[str, None] = "0010"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

journal = sa.table("journal", sa.column("device_id"), sa.column("seq"), sa.column("kind"),
                   sa.column("payload"))
product_entries = sa.table("product_entries", sa.column("device_id"), sa.column("seq"),
                           sa.column("product_id"), sa.column("name"), sa.column("unit"),
                           sa.column("category"), sa.column("ocop_stars"))
MAX_ID = 2**63 - 1

# The latest product entry of a sale line's product before the sale.
_EARLIER = ("FROM product_entries pe WHERE pe.device_id = sale_lines.device_id"
            " AND pe.product_id = sale_lines.product_id AND pe.seq < sale_lines.seq")
_LATEST = f"(SELECT pe.{{column}} {_EARLIER} ORDER BY pe.seq DESC LIMIT 1)"
# The reference catalogue's product of the line's name in the stall's scope (as the stall pulls
# it: province-wide, its commune's, its market's), the same unit and the narrowest scope first.
# (SQLite refuses an outer column in a subquery's ORDER BY: the same unit is tried first in
# WHERE instead, then any unit. Never NULL when a product is found, so COALESCE can chain.)
_CATALOGUE = (
    "(SELECT COALESCE({column}, {none}) FROM catalogue_products cp, devices d, stalls s,"
    " markets m, communes c"
    " WHERE d.device_id = sale_lines.device_id AND s.id = d.stall_id AND m.id = s.market_id"
    " AND c.id = m.commune_id AND cp.province_id = c.province_id AND cp.name = sale_lines.name"
    " AND (cp.market_id = m.id OR (cp.market_id IS NULL AND (cp.commune_id IS NULL"
    " OR cp.commune_id = c.id))){unit}"
    " ORDER BY CASE WHEN cp.market_id IS NOT NULL THEN 0 WHEN cp.commune_id IS NOT NULL THEN 1"
    " ELSE 2 END, cp.version DESC, cp.id DESC LIMIT 1)")


def _from_catalogue(column: str, none: str) -> str:
    same_unit = _CATALOGUE.format(column=column, none=none, unit=" AND cp.unit = sale_lines.unit")
    any_unit = _CATALOGUE.format(column=column, none=none, unit="")
    return f"COALESCE({same_unit}, {any_unit}, {none})"


def _product_row(device_id: str, seq: int, payload: str) -> dict[str, Any] | None:
    """A product entry's row, or None when its payload cannot be read as the server reads it."""
    try:
        p = json.loads(payload)
        product_id, name, unit = p["product_id"], p["name"], p["unit"]
        category, stars = p.get("category") or "", p.get("ocop_stars")
    except (ValueError, KeyError, TypeError):
        return None
    if (isinstance(product_id, bool) or not isinstance(product_id, int)
            or not 1 <= product_id <= MAX_ID or not isinstance(name, str)
            or not isinstance(unit, str) or not isinstance(category, str)
            or stars not in (None, 3, 4, 5)):
        return None
    return {"device_id": device_id, "seq": seq, "product_id": product_id, "name": name[:200],
            "unit": unit[:32], "category": category[:40], "ocop_stars": stars or 0}


def _fill_product_entries(conn: sa.engine.Connection) -> None:
    rows = conn.execute(sa.select(journal.c.device_id, journal.c.seq, journal.c.payload)
                        .where(journal.c.kind == "product")
                        .order_by(journal.c.device_id, journal.c.seq)).all()
    batch: list[dict[str, Any]] = []
    for device_id, seq, payload in rows:
        row = _product_row(device_id, seq, payload)
        if row is not None:
            batch.append(row)
        if len(batch) >= 1000:
            conn.execute(product_entries.insert(), batch)
            batch = []
    if batch:
        conn.execute(product_entries.insert(), batch)


def _fill_sale_lines(conn: sa.engine.Connection) -> None:
    conn.execute(sa.text(
        f"UPDATE sale_lines SET category = {_LATEST.format(column='category')},"
        f" ocop_stars = {_LATEST.format(column='ocop_stars')}"
        f" WHERE product_id IS NOT NULL AND EXISTS (SELECT 1 {_EARLIER})"))
    conn.execute(sa.text(
        f"UPDATE sale_lines SET category = {_from_catalogue('cp.category', repr(''))},"
        f" ocop_stars = {_from_catalogue('cp.ocop_stars', '0')}"
        f" WHERE product_id IS NOT NULL AND NOT EXISTS (SELECT 1 {_EARLIER})"
        f" AND name IN (SELECT name FROM catalogue_products)"))


def _id() -> sa.types.TypeEngine:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _product_periods(marks: bool) -> None:
    keys = ["market_id", "kind", "period", "name", "unit"]
    columns = [sa.Column("market_id", _id(), nullable=False),
               sa.Column("kind", sa.String(1), nullable=False),
               sa.Column("period", sa.String(10), nullable=False),
               sa.Column("name", sa.String(200), nullable=False),
               sa.Column("unit", sa.String(32), nullable=False)]
    if marks:
        keys += ["category", "ocop_stars"]
        columns += [sa.Column("category", sa.String(40), nullable=False),
                    sa.Column("ocop_stars", sa.Integer(), nullable=False)]
    op.create_table(
        "product_periods", *columns,
        sa.Column("province_id", _id(), nullable=False),
        sa.Column("commune_id", _id(), nullable=False),
        sa.Column("quantity_milli", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("revenue", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("lines", sa.BigInteger(), nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint(*keys, name="pk_product_periods"),
        sa.CheckConstraint("kind IN ('d', 'w', 'm')", name="ck_product_periods_kind"),
    )
    op.create_index("ix_product_periods_kind_period_province_id_commune_id", "product_periods",
                    ["kind", "period", "province_id", "commune_id"])


def _replace_product_periods(marks: bool) -> None:
    """The rollups are derived: emptied, and filled again by `rollups.fill_if_missing`."""
    op.drop_index("ix_product_periods_kind_period_province_id_commune_id", "product_periods")
    op.drop_table("product_periods")
    _product_periods(marks)
    op.execute("DELETE FROM market_periods")
    op.execute("DELETE FROM stall_periods")


def upgrade() -> None:
    op.create_table(
        "product_entries",
        sa.Column("device_id", sa.String(36), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("product_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("unit", sa.String(32), nullable=False),
        sa.Column("category", sa.String(40), nullable=False),
        sa.Column("ocop_stars", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("device_id", "seq", name="pk_product_entries"),
    )
    op.create_index("ix_product_entries_device_id_product_id_seq", "product_entries",
                    ["device_id", "product_id", "seq"])
    with op.batch_alter_table("sale_lines") as batch:
        batch.add_column(sa.Column("category", sa.String(40), nullable=False,
                                   server_default=""))
        batch.add_column(sa.Column("ocop_stars", sa.Integer(), nullable=False,
                                   server_default="0"))
    conn = op.get_bind()
    _fill_product_entries(conn)
    _fill_sale_lines(conn)
    _replace_product_periods(marks=True)


def downgrade() -> None:
    _replace_product_periods(marks=False)
    with op.batch_alter_table("sale_lines") as batch:
        batch.drop_column("ocop_stars")
        batch.drop_column("category")
    op.drop_index("ix_product_entries_device_id_product_id_seq", "product_entries")
    op.drop_table("product_entries")
