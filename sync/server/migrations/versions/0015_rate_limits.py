"""Rate limits shared by every server process.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-09

Pairing attempts and receipt checks per client address, and typed check codes per device tag,
were counted in one process's memory (sync/server/ratelimit.py): N processes behind a balancer
would have let through N times the limit. `rate_limits` keeps one row per scope and key, its
window's start (milliseconds since the epoch) and the hits in it, changed by one atomic
INSERT … ON CONFLICT DO UPDATE; windows that ended are deleted as the limiter goes. Nothing to
carry over: the old counts lived in memory and ended with the process.
"""
from __future__ import annotations

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: Union[str, None] = "0014"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        "rate_limits",
        sa.Column("scope", sa.String(16), nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("window_start", sa.BigInteger(), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("scope", "key", name="pk_rate_limits"),
    )
    op.create_index("ix_rate_limits_scope_window_start", "rate_limits",
                    ["scope", "window_start"])


def downgrade() -> None:
    op.drop_index("ix_rate_limits_scope_window_start", "rate_limits")
    op.drop_table("rate_limits")
