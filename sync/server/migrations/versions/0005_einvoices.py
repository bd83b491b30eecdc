"""MTT e-invoices on their way to the provider: the outbound queue and its batches.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24

The queue is filled as sale entries arrive (sync/server/einvoice/queue.py); entries stored
before this revision are queued by `market-server einvoice-requeue`.
"""
from __future__ import annotations

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: Union[str, None] = "0004"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def _time() -> sa.types.TypeEngine:
    return sa.DateTime(timezone=True).with_variant(sa.String(24), "sqlite")


def upgrade() -> None:
    op.create_table(
        "einvoice_queue",
        sa.Column("device_id", sa.String(36), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("code", sa.String(23), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("related_code", sa.String(23)),
        sa.Column("business_day", sa.String(10), nullable=False),
        sa.Column("total", sa.BigInteger(), nullable=False),
        sa.Column("xml", sa.Text(), nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("batch_id", sa.String(36)),
        sa.Column("provider_status", sa.Integer()),
        sa.Column("message", sa.Text()),
        sa.Column("queued_at", _time(), nullable=False),
        sa.Column("sent_at", _time()),
        sa.Column("received_at", _time()),
        sa.PrimaryKeyConstraint("device_id", "seq", name="pk_einvoice_queue"),
        sa.CheckConstraint("state IN ('queued', 'sending', 'sent', 'received', 'rejected',"
                           " 'manual', 'duplicate')", name="ck_einvoice_queue_state"),
    )
    op.create_index("ix_einvoice_queue_state_queued_at", "einvoice_queue", ["state", "queued_at"])
    op.create_index("ix_einvoice_queue_batch_id", "einvoice_queue", ["batch_id"])
    op.create_index("ix_einvoice_queue_code", "einvoice_queue", ["code"])
    op.create_table(
        "einvoice_batches",
        sa.Column("batch_id", sa.String(36), nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("transaction_id", sa.String(100)),
        sa.Column("invoices", sa.Integer(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("next_attempt_at", _time(), nullable=False),
        sa.Column("last_error", sa.Text()),
        sa.Column("created_at", _time(), nullable=False),
        sa.Column("sent_at", _time()),
        sa.Column("done_at", _time()),
        sa.PrimaryKeyConstraint("batch_id", name="pk_einvoice_batches"),
        sa.CheckConstraint("state IN ('sending', 'sent', 'done')",
                           name="ck_einvoice_batches_state"),
    )
    op.create_index("ix_einvoice_batches_state_next_attempt_at", "einvoice_batches",
                    ["state", "next_attempt_at"])


def downgrade() -> None:
    op.drop_index("ix_einvoice_batches_state_next_attempt_at", "einvoice_batches")
    op.drop_table("einvoice_batches")
    op.drop_index("ix_einvoice_queue_code", "einvoice_queue")
    op.drop_index("ix_einvoice_queue_batch_id", "einvoice_queue")
    op.drop_index("ix_einvoice_queue_state_queued_at", "einvoice_queue")
    op.drop_table("einvoice_queue")
