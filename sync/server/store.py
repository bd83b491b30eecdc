"""The server's domain logic (no Flask): the journal push, its head, export, bundles and
integrity alerts; stalls, pairing and tokens (`pairing`) and the catalogue (`catalogue`) are
re-exported so that callers need only this module. docs/SYNC.md is the contract implemented here.

Every function takes a SQLAlchemy `Connection` inside a transaction the caller owns
(`db.write_transaction`), so that one HTTP request or one CLI command is one transaction.
"""
from __future__ import annotations

import logging
import unicodedata
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Iterator

from sqlalchemy import and_, select, update
from sqlalchemy.engine import Connection

from sync.protocol import (BUNDLE_FORMAT, LEGACY_BUNDLE_FORMAT, Entry, ProtocolError,
                           bundle_signed_by, canonical_text, entry_from_dict,
                           is_uuid, parse_timestamp, utc_timestamp)

from . import projection
from .personal_data import fields_in_clear
from .catalogue import catalogue, set_catalogue_product  # noqa: F401  (re-exported)
from .db import devices, integrity_alerts, journal, stalls, utcnow
from sync.errors import InvalidInput, NotFound
from .errors import BadBundle, WrongDevice
from .alerts import alert_on_stored_entries, raise_alert, row_entry, stored_entry
from .pairing import (add_stall, device_for_token, display_code,  # noqa: F401  (re-exported)
                      issue_pairing_code, issue_token, pair, register_signing_key,
                      revoke_device, signing_keys)

logger = logging.getLogger(__name__)

CLOCK_AHEAD_LIMIT = timedelta(minutes=10)
CLOCK_BEFORE_PAIRING_LIMIT = timedelta(minutes=10)  # the same skew allowed as ahead
MAX_SEQ = 2**62


# --- entries off the wire ------------------------------------------------------------------------

def _check_canonical(payload: Any) -> bytes:
    """Refuse a payload whose strings are not NFC (it would not read back as sent) or that cannot
    be encoded as UTF-8 (lone surrogates).

    The JSON text is NFC as a whole exactly when every string in it is (the quotes between them
    are starters that compose with nothing), so one C-speed dump replaces a walk of the payload.
    """
    text = canonical_text(payload)
    if not unicodedata.is_normalized("NFC", text):
        raise ProtocolError("payload strings must be NFC-normalised (not canonical)")
    return text.encode("utf-8")  # the canonical bytes, since every string is already NFC


def parse_entries(items: Any, *, payload_types_checked: bool = False) -> list[Entry]:
    """Read a list of wire entries; InvalidInput naming the first malformed one.

    Besides the shape that `entry_from_dict` checks, payload strings must already be NFC (the
    payload is stored canonically, and must read back exactly as it was sent) and `seq` must fit
    the database.
    """
    if not isinstance(items, list):
        raise InvalidInput("entries must be a list.")
    entries = []
    for index, item in enumerate(items):
        try:
            entry = entry_from_dict(item, payload_types_checked=payload_types_checked)
            if entry.seq > MAX_SEQ:
                raise ProtocolError("seq is too large")
            entry = replace(entry, payload_json=_check_canonical(entry.payload))
        except (ProtocolError, ValueError, RecursionError) as exc:
            raise InvalidInput(f"entries[{index}]: {exc}", index=index) from None
        entries.append(entry)
    return entries


# --- the push ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Refusal:
    """Why processing stopped at one entry (docs/SYNC.md: 409 codes)."""

    code: str      # conflict | broken_chain | bad_hash | sequence_gap | personal_data_in_clear
    message: str
    seq: int


@dataclass(frozen=True)
class PushResult:
    """What a push did: the device's head afterwards, counts, and the refusal if any."""

    acked_seq: int
    head_hash: str
    stored: int
    duplicates: int
    refusal: Refusal | None = None

    def to_dict(self) -> dict[str, Any]:
        """The 200 answer's fields."""
        return {"acked_seq": self.acked_seq, "head_hash": self.head_hash,
                "stored": self.stored, "duplicates": self.duplicates}


def _stored_hashes(conn: Connection, device_id: str, seqs: list[int]) -> dict[int, str]:
    """The stored hashes of these seqs, in one query per 1,000 (a resent batch is one query)."""
    known: dict[int, str] = {}
    for start in range(0, len(seqs), 1000):
        known.update(conn.execute(select(journal.c.seq, journal.c.hash).where(
            journal.c.device_id == device_id,
            journal.c.seq.in_(seqs[start:start + 1000]))).all())
    return known


def _clock_flag(entry: Entry, ahead_of: str, behind: str) -> str | None:
    # `at` has been checked to be fixed-width ISO UTC, so text order is time order.
    if entry.at > ahead_of:
        return "ahead"
    if entry.at < behind:
        return "behind"
    return None


def push(conn: Connection, device_id: str, entries: list[Entry], now: datetime,
         device_time: datetime | None = None) -> PushResult:
    """Store a batch of a device's entries (docs/SYNC.md, "Push"), in the caller's transaction.

    The device's row is locked first, so pushes of one device run one after the other. Entries
    are taken in order until the first refusal; those before it are stored and projected. Alerts
    for a refusal are written in the same transaction, which the caller commits even when the
    answer is 409.
    """
    for entry in entries:
        if entry.device_id != device_id:
            raise WrongDevice(f"Entry {entry.seq} belongs to another device.")
    row = conn.execute(
        select(devices.c.acked_seq, devices.c.head_hash, devices.c.paired_at,
               stalls.c.created_at)
        .select_from(devices.join(stalls, stalls.c.id == devices.c.stall_id))
        .where(devices.c.device_id == device_id)
        .with_for_update(of=devices)).one_or_none()
    if row is None:
        raise NotFound("This device is not known to the server.", code="unknown_device")
    acked, head_hash = row.acked_seq, row.head_hash
    not_before = row.paired_at or row.created_at  # entries dated earlier are implausible

    known = _stored_hashes(conn, device_id, sorted({e.seq for e in entries if e.seq <= acked}))

    accepted: list[Entry] = []
    batch_entries: dict[int, Entry] = {}
    duplicates = 0
    refusal: Refusal | None = None
    cur_seq, cur_hash = acked, head_hash
    for entry in entries:
        clear = fields_in_clear(entry)
        if clear:
            # Personal data must reach the province sealed (docs/SYNC.md, "Personal data"):
            # refused before anything of it is stored, without an alert (an alert keeps the
            # entry), and the message names the fields, never their values.
            refusal = Refusal("personal_data_in_clear",
                              f"seq {entry.seq} ({entry.kind}) holds {', '.join(clear)} in"
                              " clear: personal data must be sealed at the stall", entry.seq)
            break
        if entry.seq <= cur_seq:
            stored_hash = known.get(entry.seq)
            if stored_hash == entry.hash:
                duplicates += 1
                continue
            stored = batch_entries.get(entry.seq) or stored_entry(conn, device_id, entry.seq)
            refusal = Refusal("conflict", f"seq {entry.seq} is already stored with another hash",
                              entry.seq)
            raise_alert(conn, device_id, entry.seq, "conflict", refusal.message, entry, stored,
                         now)
            break
        if entry.seq > cur_seq + 1:
            refusal = Refusal("sequence_gap", f"expected seq {cur_seq + 1}, found {entry.seq}",
                              entry.seq)
            break
        if entry.prev_hash != cur_hash:
            refusal = Refusal("broken_chain", f"prev_hash of seq {entry.seq} is not the hash of"
                              f" seq {cur_seq}", entry.seq)
        elif entry.expected_hash() != entry.hash:
            refusal = Refusal("bad_hash", f"hash of seq {entry.seq} does not match its content",
                              entry.seq)
        if refusal:
            previous = batch_entries.get(cur_seq) or (
                stored_entry(conn, device_id, cur_seq) if cur_seq else None)
            raise_alert(conn, device_id, entry.seq, refusal.code, refusal.message, entry,
                         previous, now)
            break
        accepted.append(entry)
        batch_entries[entry.seq] = entry
        known[entry.seq] = entry.hash
        cur_seq, cur_hash = entry.seq, entry.hash

    if accepted:
        _store(conn, device_id, accepted, now, not_before)
    values: dict[str, Any] = {"last_sync_at": now}
    if accepted:
        values.update(acked_seq=cur_seq, head_hash=cur_hash)
    if device_time is not None:
        values["clock_offset_ms"] = int((now - device_time).total_seconds() * 1000)
    conn.execute(update(devices).where(devices.c.device_id == device_id).values(**values))
    if refusal:
        logger.info("push from %s stopped at seq %s: %s", device_id, refusal.seq, refusal.code)
    return PushResult(cur_seq, cur_hash, len(accepted), duplicates, refusal)


_CLOCK_MESSAGES = {
    "ahead": "Clock ahead: device time {at} is more than 10 minutes ahead of the server",
    "behind": "Clock behind: device time {at} is before the device was paired",
}


def _clock_alert(conn: Connection, device_id: str, flag: str, flagged: list[Entry],
                 now: datetime) -> None:
    """One open clock alert per device and direction: a Pi that booted with a wrong date flags
    every entry (journal.clock_flag) but should not bury the administrator in alerts."""
    prefix = _CLOCK_MESSAGES[flag].split(":")[0]
    t = integrity_alerts
    if conn.execute(select(t.c.id).where(t.c.device_id == device_id, t.c.kind == "clock",
                                         t.c.resolved_at.is_(None),
                                         t.c.message.startswith(prefix))).first():
        return
    first = flagged[0]
    message = _CLOCK_MESSAGES[flag].format(at=first.at)
    if len(flagged) > 1:
        message += f" (and {len(flagged) - 1} later entries of the same push)"
    raise_alert(conn, device_id, first.seq, "clock", message, first, None, now)


def _store(conn: Connection, device_id: str, accepted: list[Entry], now: datetime,
           not_before: datetime) -> None:
    """Insert the journal rows, their clock alerts and their projections, in bulk."""
    rows = []
    flagged: dict[str, list[Entry]] = {}
    ahead_of = utc_timestamp(now + CLOCK_AHEAD_LIMIT)
    behind = utc_timestamp(not_before - CLOCK_BEFORE_PAIRING_LIMIT)
    for entry in accepted:
        flag = _clock_flag(entry, ahead_of, behind)
        if flag:
            flagged.setdefault(flag, []).append(entry)
        rows.append({"device_id": device_id, "seq": entry.seq, "id": entry.id,
                     "kind": entry.kind, "at": entry.at,
                     "payload": entry.canonical_payload().decode("utf-8"),
                     "prev_hash": entry.prev_hash, "hash": entry.hash, "received_at": now,
                     "clock_flag": flag})
    conn.execute(journal.insert(), rows)
    for flag, entries in flagged.items():
        _clock_alert(conn, device_id, flag, entries, now)
    projection.write(conn, projection.project(accepted))


def head(conn: Connection, device_id: str) -> dict[str, Any]:
    """The device's head: the highest seq held with no gap, and its hash."""
    row = conn.execute(select(devices.c.acked_seq, devices.c.head_hash)
                       .where(devices.c.device_id == device_id)).one_or_none()
    if row is None:
        raise NotFound("This device is not known to the server.", code="unknown_device")
    return {"device_id": device_id, "acked_seq": row.acked_seq, "head_hash": row.head_hash}


# --- export and bundles --------------------------------------------------------------------------

def export_journal(conn: Connection, device_id: str | None = None) -> Iterator[dict[str, Any]]:
    """Every stored entry (of one device, or all), exactly as stored, in (device, seq) order."""
    query = select(journal.c.device_id, journal.c.seq, journal.c.id, journal.c.kind,
                   journal.c.at, journal.c.payload, journal.c.prev_hash, journal.c.hash)
    if device_id is not None:
        query = query.where(journal.c.device_id == device_id)
    result = conn.execute(query.order_by(journal.c.device_id, journal.c.seq)
                          .execution_options(yield_per=1000))
    for row in result:
        yield row_entry(row).to_dict()


def import_bundle(conn: Connection, data: Any, now: datetime) -> PushResult:
    """Store a stall's offline bundle exactly like a push, after checking its signature.

    The signature must verify with the Ed25519 key registered with one of the device's live
    tokens. The server holds only public keys, so a copy of its database cannot sign a bundle;
    for the same reason the older HMAC bundles (keyed with the stored token hash) are refused.
    """
    if not isinstance(data, dict):
        raise BadBundle("A bundle is a JSON object.")
    if data.get("format") == LEGACY_BUNDLE_FORMAT:
        raise BadBundle(OLD_BUNDLE_MESSAGE, code="old_bundle_format")
    if data.get("format") != BUNDLE_FORMAT:
        raise BadBundle(f"Not a {BUNDLE_FORMAT} bundle.")
    device_id, created_at, items, signature = (data.get("device_id"), data.get("created_at"),
                                               data.get("entries"), data.get("signature"))
    if not is_uuid(device_id) or not isinstance(created_at, str) or not isinstance(items, list) \
            or not isinstance(signature, str):
        raise BadBundle("A bundle needs device_id, created_at, entries and signature.")
    try:
        parse_timestamp(created_at)
    except ProtocolError as exc:
        raise BadBundle(f"created_at: {exc}") from None
    keys = signing_keys(conn, device_id)
    if not keys:
        raise BadBundle(NO_KEY_MESSAGE, code="no_signing_key")
    try:
        signed = any(bundle_signed_by(key, signature, device_id, created_at, items)
                     for key in keys)
    except (ProtocolError, ValueError, RecursionError) as exc:
        raise BadBundle(f"The bundle's entries cannot be read: {exc}") from None
    if not signed:
        raise BadBundle(BAD_SIGNATURE_MESSAGE, code="bad_signature")
    try:
        entries = parse_entries(items)
    except InvalidInput as exc:
        raise BadBundle(exc.message) from None
    return push(conn, device_id, entries, now)


OLD_BUNDLE_MESSAGE = (
    f"This bundle has the old format {LEGACY_BUNDLE_FORMAT}, which a copy of the server's"
    " database could forge, so it is no longer accepted. Update market-pos on the stall, connect"
    " it to the network once to sync, then export the bundle again.")
NO_KEY_MESSAGE = (
    "The server holds no bundle signing key for this stall (or the stall is unknown or revoked)."
    " Connect the stall to the network once to sync (or pair it again), then export the bundle"
    " again.")
BAD_SIGNATURE_MESSAGE = (
    "The bundle's signature does not match this stall's key: it was changed after the stall"
    " wrote it, or another machine wrote it. Nothing was stored.")


# --- integrity alerts ----------------------------------------------------------------------------

def list_alerts(conn: Connection, device_id: str | None = None, *, include_resolved: bool = False,
                limit: int = 500) -> list[dict[str, Any]]:
    """Integrity alerts, newest first (open ones only unless `include_resolved`)."""
    t = integrity_alerts
    query = select(t)
    if device_id is not None:
        query = query.where(t.c.device_id == device_id)
    if not include_resolved:
        query = query.where(t.c.resolved_at.is_(None))
    rows = conn.execute(query.order_by(t.c.created_at.desc(), t.c.device_id, t.c.seq)
                        .limit(limit)).mappings().all()
    return [dict(row) for row in rows]


def resolve_alert(conn: Connection, alert_id: str, by: str, note: str | None = None,
                  now: datetime | None = None) -> bool:
    """Mark an alert resolved by an administrator; False if there is no open alert with that id."""
    t = integrity_alerts
    return conn.execute(update(t).where(and_(t.c.id == alert_id, t.c.resolved_at.is_(None)))
                        .values(resolved_at=now or utcnow(), resolved_by=by, note=note)
                        ).rowcount == 1


__all__ = ["PushResult", "Refusal", "add_stall", "alert_on_stored_entries", "catalogue",
           "device_for_token", "display_code", "export_journal", "head", "import_bundle",
           "issue_pairing_code", "issue_token", "list_alerts", "pair", "parse_entries", "push",
           "register_signing_key", "resolve_alert", "revoke_device", "set_catalogue_product",
           "signing_keys"]
