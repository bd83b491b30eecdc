"""The stalls' credit book (issue 18): credit payments of sales, repayments, customers as numbers
only, and the credit figures of the dashboard's rollups.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06

Stalls write, from issue 18 on, sales with a `credit` part (put on a buyer's account in the
stall's credit book), refunds and voids that lower such a debt, `credit_payment` entries (a
buyer pays back, in cash or by transfer) and `customer` entries (a buyer's name, phone and note,
sealed with a key only the vendor holds). From here on the server projects:

- `payments.customer_id`: the stall's own number of the customer a credit part is owed by;
- `refunds.credit`: what a refund took off the buyer's debt (`refunds.qr` is now what went back
  by transfer, no longer total − cash, which counted a credit part as a transfer);
- `credit_payments`: each repayment (customer number, amount, cash or qr, business day);
- `credit_customers`: only that a customer number exists at a stall. Her sealed name, phone and
  note are never read: the server has no key, and they stay in the journal as pushed;
- the rollups' `credit` (sales put on credit, net of voids and refunds to credit), `repaid`,
  `repaid_cash`, `repaid_qr`.

A server that ran the code of revision 0011 stored such entries already (the kinds were in the
shared contract) but projected the repayments and customers nowhere and counted a refund's
credit part as a transfer. This revision fills the new tables and columns from the stored
journal, reading of each entry only the fields named above (a `customer` entry: its
`customer_id`), and empties the rollups, which `market-server init`/`serve`
(rollups.fill_if_missing, right after the migration) or `market-server rebuild-rollups` compute
again from the projections, as revision 0011 did.
"""
from __future__ import annotations

import json
import re
from typing import Any, Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: Union[str, None] = "0011"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

ROLLUPS = ("stall_periods", "market_periods")
ROLLUP_FIGURES = ("credit", "repaid", "repaid_cash", "repaid_qr")
MAX_AMOUNT = 10**12
MAX_ID = 2**63 - 1
DAY = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
CREDIT = sa.text("method = 'credit'")

journal = sa.table("journal", sa.column("device_id"), sa.column("seq"), sa.column("kind"),
                   sa.column("at"), sa.column("payload"))
payments = sa.table("payments", sa.column("device_id"), sa.column("seq"), sa.column("line_no"),
                    sa.column("method"), sa.column("customer_id"))
refunds = sa.table("refunds", sa.column("device_id"), sa.column("seq"), sa.column("total"),
                   sa.column("cash"), sa.column("qr"), sa.column("credit"))
credit_payments = sa.table("credit_payments", sa.column("device_id"), sa.column("seq"),
                           sa.column("customer_id"), sa.column("amount"), sa.column("method"),
                           sa.column("business_day"), sa.column("at"))
credit_customers = sa.table("credit_customers", sa.column("device_id"),
                            sa.column("customer_id"), sa.column("seq"))


def _whole(value: Any, low: int, high: int) -> bool:
    return not isinstance(value, bool) and isinstance(value, int) and low <= value <= high


def _payload(text: str) -> dict[str, Any] | None:
    try:
        payload = json.loads(text)
    except ValueError:
        return None
    return payload if isinstance(payload, dict) else None


def _entries(conn: sa.engine.Connection, kind: str) -> Any:
    return conn.execute(sa.select(journal.c.device_id, journal.c.seq, journal.c.at,
                                  journal.c.payload)
                        .where(journal.c.kind == kind)
                        .order_by(journal.c.device_id, journal.c.seq))


def _insert(conn: sa.engine.Connection, table: Any, rows: Any) -> None:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= 1000:
            conn.execute(table.insert(), batch)
            batch = []
    if batch:
        conn.execute(table.insert(), batch)


def _repayments(conn: sa.engine.Connection) -> Any:
    for device_id, seq, at, text in _entries(conn, "credit_payment").all():
        p = _payload(text)
        if p is None:
            continue
        customer, amount, method, day = (p.get("customer_id"), p.get("amount"),
                                         p.get("method"), p.get("business_day"))
        if (_whole(customer, 1, MAX_ID) and _whole(amount, 1, MAX_AMOUNT)
                and method in ("cash", "qr") and isinstance(day, str) and DAY.match(day)):
            yield {"device_id": device_id, "seq": seq, "customer_id": customer,
                   "amount": amount, "method": method, "business_day": day, "at": at}


def _customers(conn: sa.engine.Connection) -> Any:
    """Each stall's customer numbers (the first entry naming each); nothing else is read."""
    seen: set[tuple[str, int]] = set()
    for device_id, seq, _at, text in _entries(conn, "customer").all():
        p = _payload(text)
        customer = p.get("customer_id") if p is not None else None
        if _whole(customer, 1, MAX_ID) and (device_id, customer) not in seen:
            seen.add((device_id, customer))
            yield {"device_id": device_id, "customer_id": customer, "seq": seq}


def _credit_parts(conn: sa.engine.Connection) -> None:
    """The customer number of each credit payment already stored (its sale's entry read)."""
    sales = conn.execute(sa.select(payments.c.device_id, payments.c.seq).distinct()
                         .where(payments.c.method == "credit")).all()
    update = (payments.update()
              .where(payments.c.device_id == sa.bindparam("b_device"),
                     payments.c.seq == sa.bindparam("b_seq"),
                     payments.c.line_no == sa.bindparam("b_line"))
              .values(customer_id=sa.bindparam("b_customer")))
    for device_id, seq in sales:
        text = conn.execute(sa.select(journal.c.payload).where(
            journal.c.device_id == device_id, journal.c.seq == seq)).scalar()
        p = _payload(text or "")
        pays = p.get("payments") if p is not None else None
        if not isinstance(pays, list):
            continue
        rows = [{"b_device": device_id, "b_seq": seq, "b_line": line_no,
                 "b_customer": pay.get("customer_id")}
                for line_no, pay in enumerate(pays, start=1)
                if isinstance(pay, dict) and pay.get("method") == "credit"
                and _whole(pay.get("customer_id"), 1, MAX_ID)]
        if rows:
            conn.execute(update, rows)


def _refund_credit(conn: sa.engine.Connection) -> None:
    """A stored refund's credit part, and its transfer part without it."""
    update = (refunds.update()
              .where(refunds.c.device_id == sa.bindparam("b_device"),
                     refunds.c.seq == sa.bindparam("b_seq"))
              .values(credit=sa.bindparam("b_credit"),
                      qr=refunds.c.total - refunds.c.cash - sa.bindparam("b_credit")))
    rows = []
    for device_id, seq, _at, text in _entries(conn, "refund").all():
        p = _payload(text)
        pays = p.get("payments") if p is not None else None
        if not isinstance(pays, list):
            continue
        credit = sum(pay.get("amount") for pay in pays
                     if isinstance(pay, dict) and pay.get("method") == "credit"
                     and _whole(pay.get("amount"), 1, MAX_AMOUNT))
        if credit:
            rows.append({"b_device": device_id, "b_seq": seq, "b_credit": credit})
    if rows:
        conn.execute(update, rows)


def _empty_rollups() -> None:
    """The rollups are derived: emptied, and filled again by `rollups.fill_if_missing`."""
    op.execute("DELETE FROM product_periods")
    op.execute("DELETE FROM market_periods")
    op.execute("DELETE FROM stall_periods")


def upgrade() -> None:
    with op.batch_alter_table("payments") as batch:
        batch.add_column(sa.Column("customer_id", sa.BigInteger()))
    op.create_index("ix_payments_credit", "payments", ["device_id", "seq"],
                    sqlite_where=CREDIT, postgresql_where=CREDIT)
    with op.batch_alter_table("refunds") as batch:
        batch.add_column(sa.Column("credit", sa.BigInteger(), nullable=False,
                                   server_default="0"))
    op.create_table(
        "credit_payments",
        sa.Column("device_id", sa.String(36), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("customer_id", sa.BigInteger(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("method", sa.String(16), nullable=False),
        sa.Column("business_day", sa.String(10), nullable=False),
        sa.Column("at", sa.String(24), nullable=False),
        sa.PrimaryKeyConstraint("device_id", "seq", name="pk_credit_payments"),
        sa.CheckConstraint("method IN ('cash', 'qr')", name="ck_credit_payments_method"),
    )
    op.create_index("ix_credit_payments_device_id_business_day", "credit_payments",
                    ["device_id", "business_day"])
    op.create_table(
        "credit_customers",
        sa.Column("device_id", sa.String(36), nullable=False),
        sa.Column("customer_id", sa.BigInteger(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("device_id", "customer_id", name="pk_credit_customers"),
    )
    for table in ROLLUPS:
        with op.batch_alter_table(table) as batch:
            for name in ROLLUP_FIGURES:
                batch.add_column(sa.Column(name, sa.BigInteger(), nullable=False,
                                           server_default="0"))
    conn = op.get_bind()
    _credit_parts(conn)
    _refund_credit(conn)
    _insert(conn, credit_payments, _repayments(conn))
    _insert(conn, credit_customers, _customers(conn))
    _empty_rollups()


def downgrade() -> None:
    for table in ROLLUPS:
        with op.batch_alter_table(table) as batch:
            for name in reversed(ROLLUP_FIGURES):
                batch.drop_column(name)
    _empty_rollups()
    op.drop_table("credit_customers")
    op.drop_index("ix_credit_payments_device_id_business_day", "credit_payments")
    op.drop_table("credit_payments")
    op.execute("UPDATE refunds SET qr = qr + credit")   # as 0011 counted them: total − cash
    with op.batch_alter_table("refunds") as batch:
        batch.drop_column("credit")
    op.drop_index("ix_payments_credit", "payments")
    with op.batch_alter_table("payments") as batch:
        batch.drop_column("customer_id")
