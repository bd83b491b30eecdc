"""An e-invoice is its seller's tax code and its code; a range used by two sellers is an alert.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05

Before this revision the queue took an MTT code as a duplicate by the code alone, so a stall
that typed in another seller's range silenced that seller's invoices (issue 15). The queue gets
the seller's tax code (read from each row's stored entry) and the code's range; the unique key
becomes (seller's tax code, code) among the invoices not marked duplicate; an invoice marked
duplicate only because another seller had used its code is queued again.
"""
from __future__ import annotations

import json
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: Union[str, None] = "0006"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

RANGE_PREFIX = 11            # M2-26-A1B2C: form, year and the range the tax authority issued
OLD_KINDS = "'conflict', 'broken_chain', 'bad_hash', 'clock'"
NEW_KINDS = OLD_KINDS + ", 'einvoice_range'"
NOT_DUPLICATE = sa.text("state <> 'duplicate'")

queue = sa.table("einvoice_queue", sa.column("device_id"), sa.column("seq"), sa.column("code"),
                 sa.column("seller_tax_code"), sa.column("code_range"), sa.column("state"),
                 sa.column("message"))
journal = sa.table("journal", sa.column("device_id"), sa.column("seq"), sa.column("payload"))


def _seller_tax_code(payload: str) -> str:
    """The seller's tax code in a stored entry's invoice ('' when it cannot be read)."""
    try:
        return str(json.loads(payload)["invoice"]["seller"]["tax_code"])[:14]
    except (ValueError, KeyError, TypeError):
        return ""


def _fill_seller_tax_codes(conn: sa.engine.Connection) -> None:
    rows = conn.execute(
        sa.select(queue.c.device_id, queue.c.seq, journal.c.payload)
        .select_from(queue.join(journal, sa.and_(journal.c.device_id == queue.c.device_id,
                                                 journal.c.seq == queue.c.seq)))).all()
    updates = [{"b_device": r.device_id, "b_seq": r.seq, "b_tax": _seller_tax_code(r.payload)}
               for r in rows]
    if updates:
        conn.execute(queue.update()
                     .where(sa.and_(queue.c.device_id == sa.bindparam("b_device"),
                                    queue.c.seq == sa.bindparam("b_seq")))
                     .values(seller_tax_code=sa.bindparam("b_tax")), updates)
    conn.execute(queue.update().values(code_range=sa.func.substr(queue.c.code, 1, RANGE_PREFIX)))


def _requeue_other_sellers_duplicates(conn: sa.engine.Connection) -> None:
    """Queue again each `duplicate` whose (seller's tax code, code) no other invoice holds."""
    held = {(r.seller_tax_code, r.code) for r in conn.execute(
        sa.select(queue.c.seller_tax_code, queue.c.code).where(queue.c.state != "duplicate"))}
    for row in conn.execute(sa.select(queue.c.device_id, queue.c.seq, queue.c.seller_tax_code,
                                      queue.c.code)
                            .where(queue.c.state == "duplicate")
                            .order_by(queue.c.device_id, queue.c.seq)).all():
        if (row.seller_tax_code, row.code) in held:
            continue
        held.add((row.seller_tax_code, row.code))
        conn.execute(queue.update()
                     .where(sa.and_(queue.c.device_id == row.device_id,
                                    queue.c.seq == row.seq))
                     .values(state="queued", message=None))


def upgrade() -> None:
    with op.batch_alter_table("einvoice_queue") as batch:
        batch.add_column(sa.Column("seller_tax_code", sa.String(14), nullable=False,
                                   server_default=""))
        batch.add_column(sa.Column("code_range", sa.String(11), nullable=False,
                                   server_default=""))
        batch.drop_index("ix_einvoice_queue_code")
    conn = op.get_bind()
    _fill_seller_tax_codes(conn)
    _requeue_other_sellers_duplicates(conn)
    op.create_index("ix_einvoice_queue_seller_tax_code_code", "einvoice_queue",
                    ["seller_tax_code", "code"], unique=True, sqlite_where=NOT_DUPLICATE,
                    postgresql_where=NOT_DUPLICATE)
    op.create_index("ix_einvoice_queue_code_range_seller_tax_code", "einvoice_queue",
                    ["code_range", "seller_tax_code"])
    with op.batch_alter_table("integrity_alerts") as batch:
        batch.drop_constraint("ck_integrity_alerts_kind", type_="check")
        batch.create_check_constraint("ck_integrity_alerts_kind", f"kind IN ({NEW_KINDS})")


def downgrade() -> None:
    op.execute("DELETE FROM integrity_alerts WHERE kind = 'einvoice_range'")
    with op.batch_alter_table("integrity_alerts") as batch:
        batch.drop_constraint("ck_integrity_alerts_kind", type_="check")
        batch.create_check_constraint("ck_integrity_alerts_kind", f"kind IN ({OLD_KINDS})")
    op.drop_index("ix_einvoice_queue_code_range_seller_tax_code", "einvoice_queue")
    op.drop_index("ix_einvoice_queue_seller_tax_code_code", "einvoice_queue")
    with op.batch_alter_table("einvoice_queue") as batch:
        batch.create_index("ix_einvoice_queue_code", ["code"])
        batch.drop_column("code_range")
        batch.drop_column("seller_tax_code")
