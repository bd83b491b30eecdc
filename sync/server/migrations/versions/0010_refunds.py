"""Refunds of part of a sale, and their figures in the dashboard's rollups.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05

Stalls write `refund` entries from issue 17 on: some lines of a sale, or part of a weighed
quantity, given back in cash or by transfer. The server projects them into `refunds` and
`refund_lines`, and the rollups count them on the refund's own day (revenue, cash and QR net of
refunds; `refunds`/`refunded` beside `voids`/`voided`). A server upgraded past this revision
holds no refunds yet, so the new rollup columns start at zero and stay right.
"""
from __future__ import annotations

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: Union[str, None] = "0009"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

ROLLUPS = ("stall_periods", "market_periods")


def upgrade() -> None:
    op.create_table(
        "refunds",
        sa.Column("device_id", sa.String(36), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("sale_id", sa.String(36), nullable=False),
        sa.Column("sale_seq", sa.BigInteger(), nullable=False),
        sa.Column("business_day", sa.String(10), nullable=False),
        sa.Column("total", sa.BigInteger(), nullable=False),
        sa.Column("cash", sa.BigInteger(), nullable=False),
        sa.Column("qr", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.String(400), nullable=False),
        sa.Column("at", sa.String(24), nullable=False),
        sa.PrimaryKeyConstraint("device_id", "seq", name="pk_refunds"),
    )
    op.create_index("ix_refunds_device_id_sale_seq", "refunds", ["device_id", "sale_seq"])
    op.create_index("ix_refunds_business_day", "refunds", ["business_day"])
    op.create_table(
        "refund_lines",
        sa.Column("device_id", sa.String(36), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("unit", sa.String(32), nullable=False),
        sa.Column("quantity_milli", sa.BigInteger(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("device_id", "seq", "line_no", name="pk_refund_lines"),
    )
    for table in ROLLUPS:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("refunds", sa.BigInteger(), nullable=False,
                                       server_default="0"))
            batch.add_column(sa.Column("refunded", sa.BigInteger(), nullable=False,
                                       server_default="0"))


def downgrade() -> None:
    for table in ROLLUPS:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("refunded")
            batch.drop_column("refunds")
    op.drop_table("refund_lines")
    op.drop_index("ix_refunds_business_day", "refunds")
    op.drop_index("ix_refunds_device_id_sale_seq", "refunds")
    op.drop_table("refunds")
