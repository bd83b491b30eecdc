"""The durable outbound queue: an invoice is queued in the same transaction that stores the entry
carrying it, so no stored invoice can be missing from the queue, and it leaves the queue only by
a recorded answer (received, rejected) or by an export for upload by hand."""
from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, select, update
from sqlalchemy.engine import Connection

from sync.protocol import Entry

from ..alerts import alert_on_stored_entries
from ..db import einvoice_queue, insert_ignoring_duplicates, utcnow
from . import holders

logger = logging.getLogger(__name__)
INVOICE_KINDS = ("sale", "invoice_correction")
OUTSTANDING = ("queued", "sending", "sent", "rejected", "manual")
RECEIVED_STATUS = 8          # "Cục Thuế đã nhận hóa đơn có mã khởi tạo từ máy tính tiền"
RANGE_PREFIX = len("M2-26-A1B2C")   # form, year and the range the tax authority issued


def rows_for(entry: Entry) -> list[dict[str, Any]]:
    """The queue row of an entry that carries an MTT invoice ([] for any other entry). An entry
    whose invoice cannot be read is logged and left out; it stays in the journal."""
    if entry.kind not in INVOICE_KINDS or not isinstance(entry.payload, dict):
        return []
    invoice = entry.payload.get("invoice")
    if not isinstance(invoice, dict) or "code" not in invoice:
        return []
    from sync.invoice_xml import build_for_entry   # one XML builder for both ends
    try:
        xml = build_for_entry(entry).decode("utf-8")
        original = entry.payload.get("original") or {}
        code = str(invoice["code"])[:23]
        row = {"device_id": entry.device_id, "seq": entry.seq, "code": code,
               "seller_tax_code": str(invoice["seller"]["tax_code"])[:14],
               "code_range": code[:RANGE_PREFIX],
               "kind": entry.kind, "related_code": original.get("code"),
               "business_day": str(entry.payload["business_day"])[:10],
               "total": int(entry.payload["total"]), "xml": xml}
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        logger.warning("entry %s/%s carries an invoice that cannot be built: %s",
                       entry.device_id, entry.seq, exc)
        return []
    return [row]


def insert(conn: Connection, rows: list[dict[str, Any]], now: datetime | None = None) -> None:
    """Queue the rows (inside the transaction that stores their entries). An invoice is its
    seller's tax code and its code: of two invoices with the same key, one is kept as `duplicate`
    and never sent (two tills were set to the same block). The later one, unless only the earlier
    one's device does not hold the tax code (`holders`) and it has not left yet: then the holder's
    invoice takes the code back. Another seller's code, or range, never stops an invoice: it
    raises an alert instead (`_alert_shared_ranges`, `holders.alert_other_devices`)."""
    if not rows:
        return
    now = now or utcnow()
    owners = holders.holders_for(conn, rows, now)
    q = einvoice_queue
    taken: dict[tuple[str, str], dict[str, Any]] = {
        (r.seller_tax_code, r.code): {"device_id": r.device_id, "seq": r.seq, "state": r.state}
        for r in conn.execute(
            select(q.c.seller_tax_code, q.c.code, q.c.device_id, q.c.seq, q.c.state)
            .where(q.c.code.in_({row["code"] for row in rows}), q.c.state != "duplicate"))}
    staged = []
    for row in rows:
        key = (row["seller_tax_code"], row["code"])
        mine = {**row, "state": "queued", "message": None, "queued_at": now}
        other = taken.setdefault(key, mine)
        if other is not mine and (other["device_id"], other["seq"]) != (row["device_id"], row["seq"]):
            holder = owners.get(row["seller_tax_code"], ("",))[0]
            if (holder == row["device_id"] != other["device_id"]
                    and other["state"] in holders.RELEASABLE):
                if "queued_at" in other:      # staged in this batch: not in the table yet
                    other.update(state="duplicate", message=f"code taken back for device {holder},"
                                                            " which holds this tax code")
                else:
                    holders.take_back(conn, (other["device_id"], other["seq"]), holder)
                taken[key] = mine
            else:
                mine.update(state="duplicate",
                            message=f"code already used by device {other['device_id']} entry"
                                    f" {other['seq']} of the same seller: give each till its own"
                                    " device block")
                logger.error("duplicate MTT code %s of %s from %s/%s", row["code"],
                             row["seller_tax_code"], row["device_id"], row["seq"])
        staged.append(mine)
    conn.execute(insert_ignoring_duplicates(conn, q, on=["device_id", "seq"]), staged)
    _alert_shared_ranges(conn, rows, now)
    holders.alert_other_devices(conn, rows, owners, now)


def _alert_shared_ranges(conn: Connection, rows: list[dict[str, Any]], now: datetime) -> None:
    """An integrity alert on both stalls when a range (form, year and the tax authority's range)
    carries invoices of two tax codes: a stall has typed in another seller's range."""
    q = einvoice_queue
    firsts: dict[tuple[str, str], tuple[str, int]] = {}
    for row in rows:
        if row["code_range"] and row["seller_tax_code"]:
            firsts.setdefault((row["code_range"], row["seller_tax_code"]),
                              (row["device_id"], row["seq"]))
    for (code_range, tax_code), here in firsts.items():
        other = conn.execute(
            select(q.c.device_id, q.c.seq, q.c.seller_tax_code)
            .where(q.c.code_range == code_range, q.c.seller_tax_code != tax_code,
                   q.c.seller_tax_code != "")
            .order_by(q.c.queued_at, q.c.device_id, q.c.seq).limit(1)).first()
        if other is None:
            continue
        there = (other.device_id, other.seq)
        for at, beside, mine, theirs in ((here, there, tax_code, other.seller_tax_code),
                                         (there, here, other.seller_tax_code, tax_code)):
            message = (f"E-invoice range {code_range} is used by tax code {mine} here and by tax"
                       f" code {theirs} on device {beside[0]}: a range belongs to the seller"
                       " it was issued to")
            alert_on_stored_entries(conn, "einvoice_range", message, at, beside, now)


def pending_codes(conn: Connection, device_id: str) -> list[str]:
    """Every invoice of a device that the tax authority has not received, oldest first: those
    on their way and those that will never be sent (`duplicate`), which the stall must hear of."""
    return list(conn.execute(
        select(einvoice_queue.c.code)
        .where(and_(einvoice_queue.c.device_id == device_id,
                    einvoice_queue.c.state != "received"))
        .order_by(einvoice_queue.c.seq)).scalars())


def counts(conn: Connection, device_id: str | None = None) -> dict[str, int]:
    """How many invoices are in each state (for one device, or all)."""
    query = select(einvoice_queue.c.state, func.count()).group_by(einvoice_queue.c.state)
    if device_id is not None:
        query = query.where(einvoice_queue.c.device_id == device_id)
    return {state: n for state, n in conn.execute(query)}


def outstanding(conn: Connection, *, device_id: str | None = None, before_day: str | None = None,
                limit: int = 500) -> list[dict[str, Any]]:
    """Invoices not received by the tax authority, oldest first, without their XML."""
    columns = [c for c in einvoice_queue.c if c.name != "xml"]
    query = select(*columns).where(einvoice_queue.c.state.in_(OUTSTANDING))
    if device_id is not None:
        query = query.where(einvoice_queue.c.device_id == device_id)
    if before_day is not None:
        query = query.where(einvoice_queue.c.business_day < before_day)
    query = query.order_by(einvoice_queue.c.queued_at, einvoice_queue.c.device_id,
                           einvoice_queue.c.seq).limit(limit)
    return [dict(r._mapping) for r in conn.execute(query)]


class AmbiguousCode(ValueError):
    """A bare code that invoices of more than one seller carry: the seller must be named."""


def mark_received_by_hand(conn: Connection, codes: list[str], now: datetime | None = None,
                          *, seller_tax_code: str | None = None) -> int:
    """Record the tax authority's receipt of invoices uploaded by hand (status 8).

    An invoice is its seller's tax code and its code: without `seller_tax_code`, a code that two
    sellers' invoices carry is refused (AmbiguousCode) and nothing is recorded, so a receipt for
    one taxpayer never marks another's invoice received."""
    waiting = einvoice_queue.c.state.in_(("manual", "queued", "rejected"))
    which = and_(einvoice_queue.c.code.in_(codes), waiting)
    if seller_tax_code is not None:
        which = and_(which, einvoice_queue.c.seller_tax_code == seller_tax_code)
    else:
        shared = conn.execute(
            select(einvoice_queue.c.code).where(which).group_by(einvoice_queue.c.code)
            .having(func.count(func.distinct(einvoice_queue.c.seller_tax_code)) > 1)).scalars().all()
        if shared:
            raise AmbiguousCode(f"{', '.join(sorted(shared))}: invoices of more than one seller"
                                " carry this code; name the seller's tax code.")
    result = conn.execute(
        update(einvoice_queue).where(which)
        .values(state="received", provider_status=RECEIVED_STATUS, received_at=now or utcnow(),
                message="recorded by hand"))
    return result.rowcount
