"""Bank balance-change notifications: in from the vendors' banks, down to the stalls.

Vietnamese payment-notification services (Casso, SePay and the banks' own open APIs) call a
webhook for each incoming transfer with, in one spelling or another, the transaction id, the
amount, the description the buyer's bank passed on, the receiving account and the time. This
module accepts the common shapes, authenticates the caller with a shared secret (stored hashed,
like device tokens), stores each transaction once (a resent notification is a no-op) and routes
it to the stall whose payment reference (`SAP12 0457`, sync/qrref.py) the description carries.
The stall fetches its notifications on its next sync and matches them to its pending and
recorded QR payments (pos/bankcheck.py); its verdict comes back up as a journal entry.
A notification that names no known stall stays here, unrouted, for an administrator.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, select
from sqlalchemy.engine import Connection

from sync.numbers import whole_number_or_none
from sync.protocol import utc_timestamp
from sync.qrref import find_reference, stall_id_of_reference

from .db import bank_notifications, devices, insert_ignoring_duplicates, webhook_secrets
from sync.errors import InvalidInput

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
MAX_PER_REQUEST = 500
PAGE = 200
SECRET_PREFIX = "wh_"

_TXN_KEYS = ("transaction_id", "transactionId", "tid", "id", "referenceCode", "reference")
_AMOUNT_KEYS = ("amount", "transferAmount", "creditAmount", "credit_amount")
_TEXT_KEYS = ("description", "content", "addDescription", "remark")
_ACCOUNT_KEYS = ("account", "accountNumber", "account_number", "bank_sub_acc_id", "subAccId")
_TIME_KEYS = ("time", "when", "transactionDate", "transaction_date", "transactionDateTime")
_TIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M")


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def create_secret(conn: Connection, name: str, now: datetime) -> str:
    """A new webhook secret (shown once; only its SHA-256 is kept)."""
    name = " ".join((name or "").split())
    if not 1 <= len(name) <= 40:
        raise InvalidInput("Give the secret a name of 1 to 40 characters (e.g. the service).")
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    conn.execute(webhook_secrets.insert().values(name=name, secret_hash=_hash(secret),
                                                 created_at=now))
    return secret


def revoke_secret(conn: Connection, name: str, now: datetime) -> int:
    """Revoke every live secret with this name; returns how many."""
    result = conn.execute(webhook_secrets.update()
                          .where(and_(webhook_secrets.c.name == name,
                                      webhook_secrets.c.revoked_at.is_(None)))
                          .values(revoked_at=now))
    return result.rowcount or 0


def secret_is_valid(conn: Connection, secret: str) -> bool:
    """Whether a live secret has this value (compared as SHA-256 digests via the unique index)."""
    if not secret:
        return False
    return conn.execute(select(webhook_secrets.c.id).where(and_(
        webhook_secrets.c.secret_hash == _hash(secret),
        webhook_secrets.c.revoked_at.is_(None)))).first() is not None


def _first(item: dict[str, Any], keys: tuple[str, ...]) -> Any:
    for key in keys:
        if item.get(key) not in (None, ""):
            return item[key]
    return None


def _time(value: Any) -> datetime | None:
    """The bank's time: ISO with an offset, or Vietnam's wall-clock time as the services send it."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        moment = None
        for fmt in _TIME_FORMATS:
            try:
                moment = datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
        if moment is None:
            raise InvalidInput(f"The time {text[:40]!r} is not a date and time.")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=VIETNAM)
    return moment.astimezone(timezone.utc)


def parse_notifications(body: Any) -> list[dict[str, Any]]:
    """The incoming transfers of a webhook body: one object, or a list under `data` (Casso) or
    `transactions`. Outgoing transfers (negative, or transferType "out") are dropped."""
    if isinstance(body, dict) and isinstance(body.get("data"), list):
        items = body["data"]
    elif isinstance(body, dict) and isinstance(body.get("transactions"), list):
        items = body["transactions"]
    elif isinstance(body, dict):
        items = [body]
    else:
        raise InvalidInput("The body must be a JSON object.")
    if len(items) > MAX_PER_REQUEST:
        raise InvalidInput(f"At most {MAX_PER_REQUEST} transactions per request.")
    out = []
    for index, item in enumerate(items):
        where = f"transaction {index + 1}"
        if not isinstance(item, dict):
            raise InvalidInput(f"{where} must be an object.")
        if str(item.get("transferType", "in")).lower() == "out":
            continue
        txn_id = _first(item, _TXN_KEYS)
        if isinstance(txn_id, int) and not isinstance(txn_id, bool):
            txn_id = str(txn_id)
        if not isinstance(txn_id, str) or not 1 <= len(txn_id.strip()) <= 64:
            raise InvalidInput(f"{where}: a transaction id (1 to 64 characters) is required.")
        amount = _first(item, _AMOUNT_KEYS)
        if isinstance(amount, str):
            amount = whole_number_or_none(amount.strip())
        if isinstance(amount, bool) or not isinstance(amount, int):
            raise InvalidInput(f"{where}: the amount must be a whole number of dong.")
        if amount <= 0:
            continue
        if amount >= 10 ** 12:
            raise InvalidInput(f"{where}: the amount is too large.")
        description = _first(item, _TEXT_KEYS) or ""
        if not isinstance(description, str):
            raise InvalidInput(f"{where}: the description must be text.")
        account = _first(item, _ACCOUNT_KEYS)
        out.append({"txn_id": txn_id.strip(), "amount": amount,
                    "description": " ".join(description.replace("\x00", " ").split())[:500],
                    "account": str(account)[:32] if account is not None else None,
                    "paid_at": _time(_first(item, _TIME_KEYS))})
    return out


def _device_for_reference(conn: Connection, reference: str | None) -> str | None:
    stall_id = stall_id_of_reference(reference) if reference else None
    if stall_id is None:
        return None
    return conn.execute(select(devices.c.device_id).where(devices.c.stall_id == stall_id)
                        ).scalar()


def store(conn: Connection, notifications: list[dict[str, Any]], now: datetime) -> dict[str, int]:
    """Keep each transaction once and route it; counts of stored, duplicate and unrouted."""
    counts = {"received": len(notifications), "stored": 0, "duplicates": 0, "unrouted": 0}
    for item in notifications:
        reference = find_reference(item["description"])
        device_id = _device_for_reference(conn, reference)
        result = conn.execute(insert_ignoring_duplicates(conn, bank_notifications).values(
            **item, reference=reference, device_id=device_id, received_at=now))
        if result.rowcount:
            counts["stored"] += 1
            counts["unrouted"] += device_id is None
        else:
            counts["duplicates"] += 1
    return counts


def for_device(conn: Connection, device_id: str, after: int) -> list[dict[str, Any]]:
    """The device's notifications after id `after`, oldest first, one page."""
    rows = conn.execute(select(bank_notifications).where(and_(
        bank_notifications.c.device_id == device_id, bank_notifications.c.id > after))
        .order_by(bank_notifications.c.id).limit(PAGE)).mappings()
    return [{"id": row["id"], "txn_id": row["txn_id"], "amount": row["amount"],
             "description": row["description"], "reference": row["reference"],
             "paid_at": utc_timestamp(row["paid_at"]) if row["paid_at"] else None}
            for row in rows]


def unrouted(conn: Connection, limit: int = 100) -> list[dict[str, Any]]:
    """Transfers that reached no stall and nobody has looked at yet, newest first."""
    rows = conn.execute(select(bank_notifications).where(and_(
        bank_notifications.c.device_id.is_(None),
        bank_notifications.c.acknowledged_at.is_(None)))
        .order_by(bank_notifications.c.id.desc()).limit(limit)).mappings()
    return [dict(row) for row in rows]


def acknowledge(conn: Connection, notification_id: int, by: str, now: datetime) -> bool:
    """An administrator has looked at an unrouted transfer (e.g. told the vendor whose it was)."""
    result = conn.execute(bank_notifications.update().where(and_(
        bank_notifications.c.id == notification_id, bank_notifications.c.device_id.is_(None),
        bank_notifications.c.acknowledged_at.is_(None)))
        .values(acknowledged_at=now, acknowledged_by=by[:100]))
    return bool(result.rowcount)
