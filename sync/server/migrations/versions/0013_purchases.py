"""Goods the stalls buy from growers (issue 19): the lines of `purchase` entries, as figures.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06

Stalls write, from issue 19 on, `purchase` entries (goods bought from a grower who gives no
invoice, with the grower's name, ID number, address and phone sealed with a key only the vendor
holds) and `stock_count` entries. The server projects of a purchase only its lines, per product
and business day, for the dashboard's "produce bought from growers": never the grower, whose
sealed fields stay in the journal as pushed. Counts are stored in the journal and projected
nowhere. A server that ran the code of revision 0012 stored such entries already; this revision
fills `purchase_lines` from them, reading of each entry only the fields named here.
"""
from __future__ import annotations

import json
import re
from typing import Any, Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: Union[str, None] = "0012"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

MAX_AMOUNT = 10**12
MAX_ID = 2**63 - 1
DAY = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")

journal = sa.table("journal", sa.column("device_id"), sa.column("seq"), sa.column("kind"),
                   sa.column("payload"))
purchase_lines = sa.table("purchase_lines", sa.column("device_id"), sa.column("seq"),
                          sa.column("line_no"), sa.column("product_id"), sa.column("name"),
                          sa.column("unit"), sa.column("quantity_milli"), sa.column("amount"),
                          sa.column("business_day"))


def _whole(value: Any, low: int, high: int) -> bool:
    return not isinstance(value, bool) and isinstance(value, int) and low <= value <= high


def _text(value: Any, most: int) -> bool:
    return isinstance(value, str) and 1 <= len(value) <= most


def _lines(conn: sa.engine.Connection) -> Any:
    for device_id, seq, text in conn.execute(
            sa.select(journal.c.device_id, journal.c.seq, journal.c.payload)
            .where(journal.c.kind == "purchase")
            .order_by(journal.c.device_id, journal.c.seq)).all():
        try:
            p = json.loads(text)
        except ValueError:
            continue
        if not isinstance(p, dict):
            continue
        day, lines = p.get("business_day"), p.get("lines")
        if not (isinstance(day, str) and DAY.match(day) and isinstance(lines, list)):
            continue
        rows = []
        for line_no, line in enumerate(lines, start=1):
            if not (isinstance(line, dict) and _whole(line.get("product_id"), 1, MAX_ID)
                    and _text(line.get("name"), 120) and _text(line.get("unit"), 16)
                    and _whole(line.get("quantity_milli"), 1, 10**9)
                    and _whole(line.get("amount"), 1, MAX_AMOUNT)):
                rows = []
                break
            rows.append({"device_id": device_id, "seq": seq, "line_no": line_no,
                         "product_id": line["product_id"], "name": line["name"],
                         "unit": line["unit"], "quantity_milli": line["quantity_milli"],
                         "amount": line["amount"], "business_day": day})
        yield from rows


def upgrade() -> None:
    op.create_table(
        "purchase_lines",
        sa.Column("device_id", sa.String(36), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("unit", sa.String(16), nullable=False),
        sa.Column("quantity_milli", sa.BigInteger(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("business_day", sa.String(10), nullable=False),
        sa.PrimaryKeyConstraint("device_id", "seq", "line_no", name="pk_purchase_lines"),
    )
    op.create_index("ix_purchase_lines_device_id_business_day", "purchase_lines",
                    ["device_id", "business_day"])
    rows = list(_lines(op.get_bind()))
    for start in range(0, len(rows), 1000):
        op.get_bind().execute(purchase_lines.insert(), rows[start:start + 1000])


def downgrade() -> None:
    op.drop_index("ix_purchase_lines_device_id_business_day", "purchase_lines")
    op.drop_table("purchase_lines")
