"""A seller's tax code belongs to a device: a copied tax code silences nobody.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05

Revision 0007 keyed invoices by (seller's tax code, code), but a stall that copied its
neighbour's tax code as well as its range still had the neighbour's later invoice held back as a
duplicate, without an alert (issue 15). `tax_code_holders` names the device each tax code belongs
to (filled here with the first device that sent invoices under it); `einvoice_seller` alerts
name a second device using it.
"""
from __future__ import annotations

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: Union[str, None] = "0008"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

OLD_KINDS = "'conflict', 'broken_chain', 'bad_hash', 'clock', 'einvoice_range'"
NEW_KINDS = OLD_KINDS + ", 'einvoice_seller'"


def _timestamp() -> sa.types.TypeEngine:
    """The server's UTC timestamp column as of this revision (ISO text on SQLite)."""
    return sa.DateTime(timezone=True).with_variant(sa.String(24), "sqlite")


def upgrade() -> None:
    holders = op.create_table(
        "tax_code_holders",
        sa.Column("seller_tax_code", sa.String(14), primary_key=True),
        sa.Column("device_id", sa.String(36), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("bound_by", sa.String(100), nullable=False),
        sa.Column("bound_at", _timestamp(), nullable=False))
    queue = sa.table("einvoice_queue", sa.column("device_id"), sa.column("seq"),
                     sa.column("seller_tax_code"), sa.column("queued_at"))
    conn = op.get_bind()
    firsts: dict[str, sa.Row] = {}
    for row in conn.execute(sa.select(queue.c.seller_tax_code, queue.c.device_id, queue.c.seq,
                                      queue.c.queued_at)
                            .where(queue.c.seller_tax_code != "")
                            .order_by(queue.c.queued_at, queue.c.device_id, queue.c.seq)):
        firsts.setdefault(row.seller_tax_code, row)
    if firsts:
        op.bulk_insert(holders, [{"seller_tax_code": code, "device_id": r.device_id,
                                  "seq": r.seq, "bound_by": "first use",
                                  "bound_at": r.queued_at} for code, r in firsts.items()])
    with op.batch_alter_table("integrity_alerts") as batch:
        batch.drop_constraint("ck_integrity_alerts_kind", type_="check")
        batch.create_check_constraint("ck_integrity_alerts_kind", f"kind IN ({NEW_KINDS})")


def downgrade() -> None:
    op.execute("DELETE FROM integrity_alerts WHERE kind = 'einvoice_seller'")
    with op.batch_alter_table("integrity_alerts") as batch:
        batch.drop_constraint("ck_integrity_alerts_kind", type_="check")
        batch.create_check_constraint("ck_integrity_alerts_kind", f"kind IN ({OLD_KINDS})")
    op.drop_table("tax_code_holders")
