"""The dashboard's produce bought from growers (issue 19): purchase figures in the rollups.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07

Revision 0013 projects the lines of the stalls' `purchase` entries (goods bought from growers)
into `purchase_lines`. The dashboard shows them per place and product, for a day, week or month,
read like its other figures from rollups kept in the push's own transaction:

- `stall_periods` and `market_periods` gain `purchases` (how many purchases on the business day)
  and `purchased` (what they paid, in đồng: a cost, never revenue);
- `purchase_periods`: per market, period and product (the lines' name and unit) the quantity
  bought, its amount and the number of purchases it was in.

The rollups are derived tables. A server that stored purchases already (it ran 0013) has them
emptied here, and `market-server init`/`serve` (rollups.fill_if_missing, right after the
migration) or `market-server rebuild-rollups` computes them again from the projections, as
revisions 0011 and 0012 did; a server without any purchase keeps its rollups as they are (their
new columns are 0, which is right).
"""
from __future__ import annotations

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: Union[str, None] = "0013"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

ROLLUPS = ("stall_periods", "market_periods")
ROLLUP_FIGURES = ("purchases", "purchased")
INDEX = "ix_purchase_periods_kind_period_province_id_commune_id"


def _id() -> sa.types.TypeEngine:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _empty_rollups_if_purchases(tables: tuple[str, ...]) -> None:
    """Emptied (and filled again by `rollups.fill_if_missing`) only if they are not right as
    they stand, that is if the server holds purchases."""
    conn = op.get_bind()
    if conn.execute(sa.text("SELECT 1 FROM purchase_lines LIMIT 1")).first() is None:
        return
    for table in tables:
        op.execute(f"DELETE FROM {table}")


def upgrade() -> None:
    for table in ROLLUPS:
        with op.batch_alter_table(table) as batch:
            for name in ROLLUP_FIGURES:
                batch.add_column(sa.Column(name, sa.BigInteger(), nullable=False,
                                           server_default="0"))
    op.create_table(
        "purchase_periods",
        sa.Column("market_id", _id(), nullable=False),
        sa.Column("kind", sa.String(1), nullable=False),
        sa.Column("period", sa.String(10), nullable=False),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("unit", sa.String(16), nullable=False),
        sa.Column("province_id", _id(), nullable=False),
        sa.Column("commune_id", _id(), nullable=False),
        sa.Column("quantity_milli", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("amount", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("purchases", sa.BigInteger(), nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("market_id", "kind", "period", "name", "unit",
                                name="pk_purchase_periods"),
        sa.CheckConstraint("kind IN ('d', 'w', 'm')", name="ck_purchase_periods_kind"),
    )
    op.create_index(INDEX, "purchase_periods", ["kind", "period", "province_id", "commune_id"])
    _empty_rollups_if_purchases(("purchase_periods", "product_periods", "market_periods",
                                 "stall_periods"))


def downgrade() -> None:
    op.drop_index(INDEX, "purchase_periods")
    op.drop_table("purchase_periods")
    for table in ROLLUPS:
        with op.batch_alter_table(table) as batch:
            for name in reversed(ROLLUP_FIGURES):
                batch.drop_column(name)
    # Stall and market rows made by purchases alone would stay, with nothing in them.
    _empty_rollups_if_purchases(("product_periods", "market_periods", "stall_periods"))
