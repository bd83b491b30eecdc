"""Dashboard rollups: figures per stall, per market and per product, by day, week and month.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24

The tables are filled as entries arrive (sync/server/rollups.py); on a database that already
holds sales, `market-server rebuild-rollups` computes them from the projections.
"""
from __future__ import annotations

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: Union[str, None] = "0003"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def _id() -> sa.types.TypeEngine:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _figures() -> list[sa.Column]:
    return [sa.Column(name, sa.BigInteger(), nullable=False, server_default="0")
            for name in ("sales", "revenue", "cash", "qr", "qr_sales", "voids", "voided")]


def upgrade() -> None:
    op.create_table(
        "stall_periods",
        sa.Column("device_id", sa.String(36), nullable=False),
        sa.Column("kind", sa.String(1), nullable=False),
        sa.Column("period", sa.String(10), nullable=False),
        sa.Column("province_id", _id(), nullable=False),
        sa.Column("commune_id", _id(), nullable=False),
        sa.Column("market_id", _id(), nullable=False),
        *_figures(),
        sa.PrimaryKeyConstraint("device_id", "kind", "period", name="pk_stall_periods"),
        sa.CheckConstraint("kind IN ('d', 'w', 'm')", name="ck_stall_periods_kind"),
    )
    op.create_index("ix_stall_periods_kind_period_province_id_commune_id_market_id",
                    "stall_periods", ["kind", "period", "province_id", "commune_id", "market_id"])
    op.create_table(
        "market_periods",
        sa.Column("market_id", _id(), nullable=False),
        sa.Column("kind", sa.String(1), nullable=False),
        sa.Column("period", sa.String(10), nullable=False),
        sa.Column("province_id", _id(), nullable=False),
        sa.Column("commune_id", _id(), nullable=False),
        *_figures(),
        sa.Column("active", sa.BigInteger(), nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("market_id", "kind", "period", name="pk_market_periods"),
        sa.CheckConstraint("kind IN ('d', 'w', 'm')", name="ck_market_periods_kind"),
    )
    op.create_index("ix_market_periods_kind_period_province_id_commune_id", "market_periods",
                    ["kind", "period", "province_id", "commune_id"])
    op.create_table(
        "product_periods",
        sa.Column("market_id", _id(), nullable=False),
        sa.Column("kind", sa.String(1), nullable=False),
        sa.Column("period", sa.String(10), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("unit", sa.String(32), nullable=False),
        sa.Column("province_id", _id(), nullable=False),
        sa.Column("commune_id", _id(), nullable=False),
        sa.Column("quantity_milli", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("revenue", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("lines", sa.BigInteger(), nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("market_id", "kind", "period", "name", "unit",
                                name="pk_product_periods"),
        sa.CheckConstraint("kind IN ('d', 'w', 'm')", name="ck_product_periods_kind"),
    )
    op.create_index("ix_product_periods_kind_period_province_id_commune_id", "product_periods",
                    ["kind", "period", "province_id", "commune_id"])
    op.create_index("ix_qr_checks_state_business_day", "qr_checks", ["state", "business_day"])


def downgrade() -> None:
    op.drop_index("ix_qr_checks_state_business_day", "qr_checks")
    op.drop_index("ix_product_periods_kind_period_province_id_commune_id", "product_periods")
    op.drop_table("product_periods")
    op.drop_index("ix_market_periods_kind_period_province_id_commune_id", "market_periods")
    op.drop_table("market_periods")
    op.drop_index("ix_stall_periods_kind_period_province_id_commune_id_market_id",
                  "stall_periods")
    op.drop_table("stall_periods")
