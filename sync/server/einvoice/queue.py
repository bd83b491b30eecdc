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

from ..db import einvoice_queue, insert_ignoring_duplicates, utcnow

logger = logging.getLogger(__name__)
INVOICE_KINDS = ("sale", "invoice_correction")
OUTSTANDING = ("queued", "sending", "sent", "rejected", "manual")
RECEIVED_STATUS = 8          # "Cục Thuế đã nhận hóa đơn có mã khởi tạo từ máy tính tiền"


def rows_for(entry: Entry) -> list[dict[str, Any]]:
    """The queue row of an entry that carries an MTT invoice ([] for any other entry). An entry
    whose invoice cannot be read is logged and left out; it stays in the journal."""
    if entry.kind not in INVOICE_KINDS or not isinstance(entry.payload, dict):
        return []
    invoice = entry.payload.get("invoice")
    if not isinstance(invoice, dict) or "code" not in invoice:
        return []
    from pos.tax.invoice_xml import build_for_entry   # the stall's builder: one XML for both ends
    try:
        xml = build_for_entry(entry).decode("utf-8")
        original = entry.payload.get("original") or {}
        row = {"device_id": entry.device_id, "seq": entry.seq, "code": str(invoice["code"])[:23],
               "kind": entry.kind, "related_code": original.get("code"),
               "business_day": str(entry.payload["business_day"])[:10],
               "total": int(entry.payload["total"]), "xml": xml}
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        logger.warning("entry %s/%s carries an invoice that cannot be built: %s",
                       entry.device_id, entry.seq, exc)
        return []
    return [row]


def insert(conn: Connection, rows: list[dict[str, Any]], now: datetime | None = None) -> None:
    """Queue the rows (inside the transaction that stores their entries). A code another device
    already sent is kept as `duplicate` and never sent: two tills were set to the same block."""
    if not rows:
        return
    now = now or utcnow()
    duplicates = {r.code: (r.device_id, r.seq) for r in conn.execute(
        select(einvoice_queue.c.code, einvoice_queue.c.device_id, einvoice_queue.c.seq)
        .where(einvoice_queue.c.code.in_([row["code"] for row in rows])))}
    seen: dict[str, tuple[str, int]] = {}
    staged = []
    for row in rows:
        other = duplicates.get(row["code"]) or seen.get(row["code"])
        state, message = "queued", None
        if other and other != (row["device_id"], row["seq"]):
            state = "duplicate"
            message = (f"code already used by device {other[0]} entry {other[1]}: give each"
                       " till its own device block")
            logger.error("duplicate MTT code %s from %s/%s", row["code"], row["device_id"],
                         row["seq"])
        seen.setdefault(row["code"], (row["device_id"], row["seq"]))
        staged.append({**row, "state": state, "message": message, "queued_at": now})
    conn.execute(insert_ignoring_duplicates(conn, einvoice_queue), staged)


def pending_codes(conn: Connection, device_id: str) -> list[str]:
    """A device's invoices not (yet) received by the tax authority, oldest first."""
    return list(conn.execute(
        select(einvoice_queue.c.code)
        .where(and_(einvoice_queue.c.device_id == device_id,
                    einvoice_queue.c.state.in_(OUTSTANDING)))
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


def mark_received_by_hand(conn: Connection, codes: list[str], now: datetime | None = None) -> int:
    """Record the tax authority's receipt of invoices uploaded by hand (status 8)."""
    result = conn.execute(
        update(einvoice_queue)
        .where(and_(einvoice_queue.c.code.in_(codes),
                    einvoice_queue.c.state.in_(("manual", "queued", "rejected"))))
        .values(state="received", provider_status=RECEIVED_STATUS, received_at=now or utcnow(),
                message="recorded by hand"))
    return result.rowcount
