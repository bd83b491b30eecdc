"""Stalls, one-time pairing codes and device tokens (docs/SYNC.md, "Identity and pairing").

Only hashes of tokens and keyed hashes of codes are stored (the key, `server_secret`, lives
outside the database): a copy of the database lets nobody pair or push.
Beside each token the server keeps the stall's public key for USB bundles, never its private
half: a copy of the database lets nobody sign a bundle either.
"""
from __future__ import annotations

import logging
import secrets
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from sync.protocol import PAIRING_ALPHABET, is_public_key, is_uuid, token_hash

from .db import device_tokens, devices, journal, pairing_codes, stalls, utcnow
from sync.errors import InvalidInput, NotFound
from .errors import BadPairingCode, DeviceInUse, SigningKeyTaken
from .places import clean_name, ensure_market, public_stall, stall_for_device
from .server_secret import pairing_code_digest

logger = logging.getLogger(__name__)

PAIRING_CODE_LENGTH = 8
PAIRING_CODE_TTL = timedelta(hours=24)
TOKEN_PREFIX = "dt_"
PUBLIC_KEY_FORMAT = "public_key must be an Ed25519 public key: 64 lowercase hex digits."


# --- stalls and pairing codes -------------------------------------------------------------------

def _new_pairing_code() -> str:
    return "".join(secrets.choice(PAIRING_ALPHABET) for _ in range(PAIRING_CODE_LENGTH))


def display_code(code: str) -> str:
    """A pairing code as people read it: ABCD-EFGH."""
    return f"{code[:4]}-{code[4:]}"


def normalise_code(code: Any) -> str:
    """The 8 characters of a code, without dash or spaces, upper-cased; else BadPairingCode."""
    if not isinstance(code, str):
        raise BadPairingCode("The pairing code is wrong, used or expired.")
    cleaned = "".join(code.split()).replace("-", "").upper()
    if len(cleaned) != PAIRING_CODE_LENGTH or any(ch not in PAIRING_ALPHABET for ch in cleaned):
        raise BadPairingCode("The pairing code is wrong, used or expired.")
    return cleaned


def issue_pairing_code(conn: Connection, stall_id: int, now: datetime) -> str:
    """A new one-time code for a stall (valid 24 h, stored hashed); shown as ABCD-EFGH."""
    device_id = conn.execute(select(devices.c.device_id).where(devices.c.stall_id == stall_id)
                             ).scalar_one_or_none()
    if device_id is None:
        raise NotFound("No such stall.", code="unknown_stall")
    code = _new_pairing_code()
    conn.execute(pairing_codes.insert().values(
        code_hash=pairing_code_digest(code), stall_id=stall_id, device_id=device_id, created_at=now,
        expires_at=now + PAIRING_CODE_TTL))
    return display_code(code)


def add_stall(conn: Connection, province: str, commune: str, market: str, name: str,
              vendor_name: str | None = None, now: datetime | None = None,
              district: str | None = None) -> tuple[int, str, str]:
    """Create a stall (and its places if new) with a device id and a pairing code.

    Returns (stall_id, device_id, pairing_code).
    """
    now = now or utcnow()
    place = ensure_market(conn, province, commune, market, district)
    stall_id = int(conn.execute(stalls.insert().values(
        market_id=place["market_id"], name=clean_name(name, "Stall name", 120),
        vendor_name=clean_name(vendor_name, "Vendor name", 120, required=False),
        created_at=now).returning(stalls.c.id)).scalar_one())
    device_id = str(uuid.uuid4())
    conn.execute(devices.insert().values(device_id=device_id, stall_id=stall_id))
    code = issue_pairing_code(conn, stall_id, now)
    logger.info("stall %s added with device %s", stall_id, device_id)
    return stall_id, device_id, code


def pair(conn: Connection, code: Any, device_id: Any, head_seq: Any,
         now: datetime, public_key: Any = None) -> dict[str, Any]:
    """Redeem a pairing code: choose the device id (adopt, bind or recover) and issue a token,
    with the stall's bundle signing key (`public_key`, hex) when it sends one.

    - The server holds entries for the stall's device: recover, the stall continues that chain.
    - The stall's journal is empty (`head_seq` 0): it adopts the server's device id.
    - The stall sold before pairing: the server binds the stall to the stall's own device id,
      provided no other stall uses it.
    """
    if isinstance(head_seq, bool) or not isinstance(head_seq, int) or head_seq < 0:
        raise InvalidInput("head_seq must be a whole number from 0.")
    if device_id == "":
        device_id = None
    if device_id is not None and not is_uuid(device_id):
        raise InvalidInput("device_id must be a lowercase UUID.")
    if public_key is not None and not is_public_key(public_key):
        raise InvalidInput(PUBLIC_KEY_FORMAT)
    code_hash = pairing_code_digest(normalise_code(code))
    row = conn.execute(select(pairing_codes).where(pairing_codes.c.code_hash == code_hash)
                       .with_for_update()).mappings().one_or_none()
    if row is None or row["used_at"] is not None or row["expires_at"] <= now:
        raise BadPairingCode("The pairing code is wrong, used or expired.")
    stall = conn.execute(select(stalls.c.revoked_at).where(stalls.c.id == row["stall_id"])
                         ).one()
    if stall.revoked_at is not None:
        raise BadPairingCode("The pairing code is wrong, used or expired.")
    device = conn.execute(select(devices).where(devices.c.stall_id == row["stall_id"])
                          .with_for_update()).mappings().one()
    chosen = device["device_id"]
    if device["acked_seq"] == 0 and head_seq > 0:
        if device_id is None:
            raise InvalidInput("A stall with entries must send its device_id.")
        if device_id != chosen:
            _bind(conn, row["stall_id"], chosen, device_id, now)
            chosen = device_id
    used = conn.execute(update(pairing_codes)
                        .where(pairing_codes.c.code_hash == code_hash,
                               pairing_codes.c.used_at.is_(None))
                        .values(used_at=now)).rowcount
    if used != 1:  # a concurrent request redeemed it first
        raise BadPairingCode("The pairing code is wrong, used or expired.")
    conn.execute(update(devices).where(devices.c.device_id == chosen).values(paired_at=now))
    token = issue_token(conn, chosen, now, public_key)
    details = stall_for_device(conn, chosen)
    assert details is not None
    logger.info("device %s paired to stall %s", chosen, row["stall_id"])
    answer = {"device_id": chosen, "token": token, "acked_seq": device["acked_seq"],
              "head_hash": device["head_hash"], "stall": public_stall(details)}
    if public_key is not None:
        answer["public_key"] = public_key   # the stall knows its key is registered
    return answer


def _bind(conn: Connection, stall_id: int, old_id: str, new_id: str, now: datetime) -> None:
    """Give a stall whose server device holds nothing the stall's own device id.

    The device row is replaced rather than renamed: `device_id` is the key the journal is
    distributed by, and a distributed key is never updated in place.
    """
    if conn.execute(select(devices.c.stall_id).where(devices.c.device_id == new_id)
                    ).scalar_one_or_none() is not None:
        raise DeviceInUse("Another stall already uses this device id.")
    if conn.execute(select(journal.c.seq).where(journal.c.device_id == new_id).limit(1)
                    ).first() is not None:
        raise DeviceInUse("Entries of this device id are already stored.")
    conn.execute(update(device_tokens).where(device_tokens.c.device_id == old_id,
                                             device_tokens.c.revoked_at.is_(None))
                 .values(revoked_at=now))
    conn.execute(devices.delete().where(devices.c.device_id == old_id))
    conn.execute(devices.insert().values(device_id=new_id, stall_id=stall_id))
    conn.execute(update(pairing_codes).where(pairing_codes.c.stall_id == stall_id)
                 .values(device_id=new_id))
    logger.info("stall %s bound to its own device id %s (was %s)", stall_id, new_id, old_id)


# --- device tokens -------------------------------------------------------------------------------

def issue_token(conn: Connection, device_id: str, now: datetime,
                public_key: str | None = None) -> str:
    """A new bearer token for a device: 32 random bytes, url-safe base64, prefix dt_; with the
    stall's bundle signing key if it is known."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    conn.execute(device_tokens.insert().values(token_hash=token_hash(token), device_id=device_id,
                                               created_at=now, signing_key=public_key))
    return token


def register_signing_key(conn: Connection, token: str, public_key: Any) -> bool:
    """Give a live token the stall's bundle signing key, once (for stalls paired before keys).

    Returns True when it was registered now, False when it already was (a resent request).
    A token's key is never replaced: another key means a new pairing code from the
    administrator, so a stolen token cannot swap the key a real stall registered.
    """
    if not is_public_key(public_key):
        raise InvalidInput(PUBLIC_KEY_FORMAT)
    hashed = token_hash(token)
    if conn.execute(update(device_tokens)
                    .where(device_tokens.c.token_hash == hashed,
                           device_tokens.c.revoked_at.is_(None),
                           device_tokens.c.signing_key.is_(None))
                    .values(signing_key=public_key)).rowcount == 1:
        return True
    current = conn.execute(select(device_tokens.c.signing_key)
                           .where(device_tokens.c.token_hash == hashed)).scalar_one_or_none()
    if current != public_key:
        raise SigningKeyTaken("This stall already has another bundle signing key; pair it again"
                              " with a new code to change it.")
    return False


def signing_keys(conn: Connection, device_id: str) -> list[str]:
    """The bundle signing keys of a device's live tokens (its stall not revoked)."""
    return list(conn.execute(
        select(device_tokens.c.signing_key)
        .select_from(device_tokens.join(devices, devices.c.device_id == device_tokens.c.device_id)
                     .join(stalls, stalls.c.id == devices.c.stall_id))
        .where(device_tokens.c.device_id == device_id, device_tokens.c.revoked_at.is_(None),
               device_tokens.c.signing_key.is_not(None), stalls.c.revoked_at.is_(None))
    ).scalars())


def device_for_token(conn: Connection, token: str) -> str | None:
    """The device a live token belongs to, or None (unknown, revoked, or its stall revoked).

    Only the token's SHA-256 is stored and looked up, so the table leaks no usable token.
    """
    if not isinstance(token, str) or not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    row = conn.execute(
        select(device_tokens.c.device_id)
        .select_from(device_tokens.join(devices, devices.c.device_id == device_tokens.c.device_id)
                     .join(stalls, stalls.c.id == devices.c.stall_id))
        .where(device_tokens.c.token_hash == token_hash(token),
               device_tokens.c.revoked_at.is_(None), stalls.c.revoked_at.is_(None))).first()
    return row.device_id if row else None


def revoke_device(conn: Connection, device_id: str, now: datetime) -> int:
    """Revoke every live token of a device; returns how many were revoked."""
    return conn.execute(update(device_tokens)
                        .where(device_tokens.c.device_id == device_id,
                               device_tokens.c.revoked_at.is_(None))
                        .values(revoked_at=now)).rowcount
