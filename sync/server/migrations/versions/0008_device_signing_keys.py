"""Each device token may carry the stall's Ed25519 public key, which checks its USB bundles.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25

Bundles used to carry an HMAC keyed with SHA-256 of the token, which is exactly what
`device_tokens` stores: a copy of the database could forge them. Now the stall signs with a
private key the server never sees; tokens paired before this revision have no key until the
stall registers one on its next online sync (`PUT /api/v1/device-key`).
"""
from __future__ import annotations

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: Union[str, None] = "0007"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.add_column("device_tokens", sa.Column("signing_key", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("device_tokens") as batch:
        batch.drop_column("signing_key")
