"""Log-in guard per user name, and a session key per user.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25

Wrong passwords are counted per user name in `login_guard`, for names that exist and names that
do not alike (so a lock-out does not tell which exist), with lock-outs that grow
(sync/lockout.py). The counters that lived on `users` go. `users.session_key` is copied into the
session cookie at log-in and changed at log-out and at a password change; a cookie whose key
differs is logged out (a copy of a cookie no longer outlives its session).
"""
from __future__ import annotations

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: Union[str, None] = "0005"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def _time() -> sa.types.TypeEngine:
    return sa.DateTime(timezone=True).with_variant(sa.String(24), "sqlite")


def upgrade() -> None:
    op.create_table(
        "login_guard",
        sa.Column("username", sa.String(40), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("lockouts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("locked_until", _time()),
        sa.Column("last_failure_at", _time()),
        sa.PrimaryKeyConstraint("username", name="pk_login_guard"),
    )
    op.create_index("ix_login_guard_last_failure_at", "login_guard", ["last_failure_at"])
    op.add_column("users", sa.Column("session_key", sa.String(32)))
    op.drop_column("users", "failed_logins")
    op.drop_column("users", "locked_until")


def downgrade() -> None:
    op.add_column("users", sa.Column("locked_until", _time()))
    op.add_column("users", sa.Column("failed_logins", sa.Integer(), nullable=False,
                                     server_default="0"))
    op.drop_column("users", "session_key")
    op.drop_index("ix_login_guard_last_failure_at", "login_guard")
    op.drop_table("login_guard")
