"""Which device a seller's tax code belongs to, so that a copied tax code silences nobody.

A receipt shows the seller's tax code, form and range, so a hostile stall can type in its
neighbour's and sell. Codes are unique per (tax code, code), and the later of two invoices with
the same key is held back as `duplicate`; without a holder the copier, syncing first, would hold
back the neighbour's real invoice. The holder is the first device that sent invoices under the
tax code, or the device an officer names; its invoice keeps a contested code, and any other device
using the tax code raises an `einvoice_seller` alert on both stalls (a household with two tills
raises it once: the officer confirms it and resolves the alert).
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, select, update
from sqlalchemy.engine import Connection

from ..alerts import alert_on_stored_entries
from ..db import devices, einvoice_queue, insert_ignoring_duplicates, tax_code_holders

FIRST_USE = "first use"
# A held invoice that has not left the server can give its code back to the holder's invoice.
RELEASABLE = ("queued", "rejected")


def holders_for(conn: Connection, rows: list[dict[str, Any]],
                now: datetime) -> dict[str, tuple[str, int]]:
    """Tax code → (device, first seq) of its holder, binding each tax code seen for the first
    time to the first of `rows` that uses it."""
    firsts: dict[str, dict[str, Any]] = {}
    for row in rows:
        if row["seller_tax_code"]:
            firsts.setdefault(row["seller_tax_code"], row)
    if not firsts:
        return {}
    t = tax_code_holders
    conn.execute(insert_ignoring_duplicates(conn, t, on=["seller_tax_code"]),
                 [{"seller_tax_code": code, "device_id": row["device_id"], "seq": row["seq"],
                   "bound_by": FIRST_USE, "bound_at": now} for code, row in firsts.items()])
    return {r.seller_tax_code: (r.device_id, r.seq) for r in conn.execute(
        select(t.c.seller_tax_code, t.c.device_id, t.c.seq)
        .where(t.c.seller_tax_code.in_(list(firsts))))}


def alert_other_devices(conn: Connection, rows: list[dict[str, Any]],
                        holders: dict[str, tuple[str, int]], now: datetime) -> None:
    """An `einvoice_seller` alert on both stalls for each device using a tax code it does not
    hold (once while open: the message names the tax code and both devices)."""
    seen: set[tuple[str, str]] = set()
    for row in rows:
        holder = holders.get(row["seller_tax_code"])
        pair = (row["seller_tax_code"], row["device_id"])
        if holder is None or holder[0] == row["device_id"] or pair in seen:
            continue
        seen.add(pair)
        here = (row["device_id"], row["seq"])
        message = (f"Tax code {row['seller_tax_code']} belongs to device {holder[0]}, and device"
                   f" {row['device_id']} sent invoices under it: a copied tax code, or a second"
                   " till of the same household (confirm, or name the holder with"
                   " `market-server einvoice-holder`)")
        alert_on_stored_entries(conn, "einvoice_seller", message, here, holder, now)
        alert_on_stored_entries(conn, "einvoice_seller", message, holder, here, now)


def bind(conn: Connection, tax_code: str, device_id: str, officer: str,
         now: datetime) -> int:
    """Name `device_id` the holder of `tax_code` (before or after it has sent invoices), and give
    it back every code that another device's invoice, not yet sent, had taken. Returns how many
    of its invoices were queued again. Raises LookupError for a device the server does not know."""
    if conn.execute(select(devices.c.device_id).where(devices.c.device_id == device_id)).first() is None:
        raise LookupError(f"no device {device_id} is paired with this server")
    q = einvoice_queue
    first = conn.execute(select(q.c.seq).where(q.c.device_id == device_id,
                                               q.c.seller_tax_code == tax_code)
                         .order_by(q.c.seq).limit(1)).scalar() or 0
    t = tax_code_holders
    values = {"device_id": device_id, "seq": first, "bound_by": officer, "bound_at": now}
    if conn.execute(update(t).where(t.c.seller_tax_code == tax_code).values(**values)).rowcount == 0:
        conn.execute(t.insert().values(seller_tax_code=tax_code, **values))
    requeued = 0
    for row in conn.execute(select(q.c.seq, q.c.code).where(
            q.c.device_id == device_id, q.c.seller_tax_code == tax_code,
            q.c.state == "duplicate").order_by(q.c.seq)).all():
        occupant = conn.execute(select(q.c.device_id, q.c.seq, q.c.state).where(
            q.c.seller_tax_code == tax_code, q.c.code == row.code,
            q.c.state != "duplicate")).first()
        if occupant is not None and (occupant.device_id == device_id
                                     or occupant.state not in RELEASABLE):
            continue
        if occupant is not None:
            take_back(conn, (occupant.device_id, occupant.seq), device_id)
        conn.execute(update(q).where(and_(q.c.device_id == device_id, q.c.seq == row.seq))
                     .values(state="queued", message=None))
        requeued += 1
    return requeued


def take_back(conn: Connection, at: tuple[str, int], holder_device: str) -> None:
    """Hold back another device's invoice whose code the holder's invoice needs."""
    q = einvoice_queue
    conn.execute(update(q).where(and_(q.c.device_id == at[0], q.c.seq == at[1]))
                 .values(state="duplicate",
                         message=f"code taken back for device {holder_device}, which holds this"
                                 " tax code"))
