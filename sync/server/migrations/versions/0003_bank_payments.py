"""QR-transfer payments: webhook secrets, bank notifications, QR checks, payment references.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""
from __future__ import annotations

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: Union[str, None] = "0002"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def _time() -> sa.types.TypeEngine:
    return sa.DateTime(timezone=True).with_variant(sa.String(24), "sqlite")


def _id() -> sa.types.TypeEngine:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "webhook_secrets",
        sa.Column("id", _id(), primary_key=True),
        sa.Column("name", sa.String(40), nullable=False),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("created_at", _time(), nullable=False),
        sa.Column("revoked_at", _time()),
        sa.PrimaryKeyConstraint("id", name="pk_webhook_secrets"),
        sa.UniqueConstraint("secret_hash", name="uq_webhook_secrets_secret_hash"),
    )
    op.create_table(
        "bank_notifications",
        sa.Column("id", _id(), primary_key=True, autoincrement=True),
        sa.Column("txn_id", sa.String(64), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("description", sa.String(500), nullable=False),
        sa.Column("account", sa.String(32)),
        sa.Column("paid_at", _time()),
        sa.Column("received_at", _time(), nullable=False),
        sa.Column("reference", sa.String(16)),
        sa.Column("device_id", sa.String(36)),
        sa.Column("acknowledged_at", _time()),
        sa.Column("acknowledged_by", sa.String(100)),
        sa.PrimaryKeyConstraint("id", name="pk_bank_notifications"),
        sa.UniqueConstraint("txn_id", name="uq_bank_notifications_txn_id"),
    )
    op.create_index("ix_bank_notifications_device_id", "bank_notifications", ["device_id"])
    op.create_table(
        "qr_checks",
        sa.Column("device_id", sa.String(36), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("reference", sa.String(16)),
        sa.Column("sale_id", sa.String(36)),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(32)),
        sa.Column("bank_txn", sa.String(64)),
        sa.Column("bank_amount", sa.BigInteger()),
        sa.Column("expected", sa.BigInteger()),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("business_day", sa.String(10)),
        sa.Column("at", sa.String(24), nullable=False),
        sa.PrimaryKeyConstraint("device_id", "seq", name="pk_qr_checks"),
        sa.CheckConstraint("state IN ('bank_confirmed', 'mismatch')", name="ck_qr_checks_state"),
    )
    op.create_index("ix_qr_checks_device_id_sale_id", "qr_checks", ["device_id", "sale_id"])
    with op.batch_alter_table("payments") as batch:
        batch.add_column(sa.Column("reference", sa.String(16)))
        batch.add_column(sa.Column("state", sa.String(16)))


def downgrade() -> None:
    with op.batch_alter_table("payments") as batch:
        batch.drop_column("state")
        batch.drop_column("reference")
    op.drop_index("ix_qr_checks_device_id_sale_id", "qr_checks")
    op.drop_table("qr_checks")
    op.drop_index("ix_bank_notifications_device_id", "bank_notifications")
    op.drop_table("bank_notifications")
    op.drop_table("webhook_secrets")
