"""Integrity alerts on stored entries, and reading an entry back from the journal: below the
store (which raises alerts as entries arrive) and the e-invoice queue (which raises them on
ranges and tax codes), so that neither imports the other."""
from __future__ import annotations

import json
import logging
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from sync.protocol import Entry, canonical_json

from .db import integrity_alerts, journal

logger = logging.getLogger(__name__)


def entry_json(entry: Entry) -> str:
    return canonical_json(entry.to_dict()).decode("utf-8")


def row_entry(row: Any) -> Entry:
    return Entry(row.device_id, row.seq, row.id, row.kind, row.at, json.loads(row.payload),
                 row.prev_hash, row.hash)


def stored_entry(conn: Connection, device_id: str, seq: int) -> Entry | None:
    row = conn.execute(select(journal).where(journal.c.device_id == device_id,
                                             journal.c.seq == seq)).first()
    return row_entry(row) if row else None


def raise_alert(conn: Connection, device_id: str, seq: int, kind: str, message: str,
                 received: Entry, stored: Entry | None, now: datetime) -> None:
    """Record an integrity alert with both versions, unless the same one is already open."""
    received_json = entry_json(received)
    t = integrity_alerts
    if conn.execute(select(t.c.id).where(
            t.c.device_id == device_id, t.c.seq == seq, t.c.kind == kind,
            t.c.resolved_at.is_(None), t.c.received_entry == received_json)).first():
        return
    conn.execute(t.insert().values(
        device_id=device_id, id=str(uuid.uuid4()), seq=seq, kind=kind, message=message,
        stored_entry=entry_json(stored) if stored else None, received_entry=received_json,
        created_at=now))
    logger.warning("integrity alert %s for device %s seq %s: %s", kind, device_id, seq, message)


def alert_on_stored_entries(conn: Connection, kind: str, message: str, at: tuple[str, int],
                            beside: tuple[str, int], now: datetime) -> None:
    """An alert on a stored entry `at` (device, seq), shown with the stored entry `beside` it;
    once while the same alert (device, kind and message) is open, so every later entry of the
    same story does not bury the administrator in alerts."""
    t = integrity_alerts
    if conn.execute(select(t.c.id).where(t.c.device_id == at[0], t.c.kind == kind,
                                         t.c.resolved_at.is_(None),
                                         t.c.message == message)).first():
        return
    entry = stored_entry(conn, *at)
    if entry is None:
        logger.error("no stored entry %s/%s for a %s alert", at[0], at[1], kind)
        return
    raise_alert(conn, at[0], at[1], kind, message, entry, stored_entry(conn, *beside), now)
