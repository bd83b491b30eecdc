"""The journal entry format both ends share: canonical JSON, hashing and the chain rule.

This is the one copy of these rules; the stall and the provincial server both import it, so a hash
computed on a Raspberry Pi and recomputed on the server can never disagree by construction.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import time
import unicodedata
import uuid
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Iterator

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (Ed25519PrivateKey,
                                                              Ed25519PublicKey)

from .numbers import excerpt, loads_json

GENESIS_HASH = "0" * 64
HASHED_FIELDS = ("device_id", "seq", "id", "kind", "at", "payload")
_AT_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$", re.ASCII)
_HASH_PATTERN = re.compile(r"^[0-9a-f]{64}$")
_SIGNATURE_PATTERN = re.compile(r"^[0-9a-f]{128}$")


class ProtocolError(ValueError):
    """An entry or payload that does not follow the journal format."""


def normalise(value: Any) -> Any:
    """Return `value` with every string (keys too) NFC-normalised; refuse floats and other types.

    Floats are refused because money and quantities are integers: a float in a payload is a bug.
    ASCII and already-NFC strings are returned as they are (the common case, checked in C).
    Objects come back with their keys in canonical (sorted) order, as the stored JSON has them,
    so a payload reads the same whether it was just written or read back from the journal.
    """
    kind = type(value)
    if kind is str:
        return value if value.isascii() or unicodedata.is_normalized("NFC", value) \
            else unicodedata.normalize("NFC", value)
    if kind is int or kind is bool or value is None:
        return value
    if kind is dict:
        result = {}
        for key, item in value.items():
            if type(key) is not str:
                raise ProtocolError(f"object keys must be strings, not {type(key).__name__}")
            result[normalise(key)] = normalise(item)
        return {key: result[key] for key in sorted(result)}
    if kind is list or kind is tuple:
        return [normalise(item) for item in value]
    if isinstance(value, str):  # str subclasses (e.g. lazy strings) as plain text
        return unicodedata.normalize("NFC", str(value))
    if isinstance(value, bool) or isinstance(value, int):
        return int(value) if not isinstance(value, bool) else bool(value)
    if isinstance(value, dict):
        return normalise(dict(value))
    if isinstance(value, (list, tuple)):
        return [normalise(item) for item in value]
    raise ProtocolError(f"{type(value).__name__} is not allowed in a journal payload")


def canonical_json(value: Any) -> bytes:
    """Serialise `value` canonically: sorted keys, no white space, UTF-8, NFC strings."""
    return canonical_form(value)[1]


# The canonical serialiser: made once (json.dumps would build one per call; an entry's hash
# serialises six values). Its encode() keeps no state between calls.
_CANONICAL = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"),
                              allow_nan=False)


def canonical_form(value: Any) -> tuple[Any, bytes]:
    """`value` normalised and its canonical JSON: for a writer that keeps both (the journal keeps
    the normalised payload in its Entry and the bytes in its row), so it is walked only once."""
    clean = normalise(value)
    return clean, canonical_text(clean).encode("utf-8")


def canonical_text(clean: Any) -> str:
    """The canonical JSON text of a value whose strings are already NFC: normalised by a writer
    (`canonical_form`), or checked by the server, which must refuse a payload, not change it."""
    return _CANONICAL.encode(clean)


def entry_hash(prev_hash: str, device_id: str, seq: int, entry_id: str, kind: str, at: str,
               payload: Any) -> str:
    """Hash one entry, chaining it to the previous entry's hash."""
    return entry_hash_canonical(prev_hash, device_id, seq, entry_id, kind, at,
                                canonical_json(payload))


def entry_hash_canonical(prev_hash: str, device_id: str, seq: int, entry_id: str, kind: str,
                         at: str, payload_json: bytes) -> str:
    """The same hash, from a payload already in canonical form (so it is serialised only once).

    The body's keys in sorted order are at, device_id, id, kind, payload, seq; this writes the
    exact bytes `canonical_json` would write for that object.
    """
    body = b"".join((b'{"at":', canonical_json(at), b',"device_id":', canonical_json(device_id),
                     b',"id":', canonical_json(entry_id), b',"kind":', canonical_json(kind),
                     b',"payload":', payload_json, b',"seq":', canonical_json(seq), b"}"))
    return hashlib.sha256(prev_hash.encode("ascii") + body).hexdigest()


_CLOCK: ContextVar[Callable[[], datetime] | None] = ContextVar("market_clock", default=None)


@contextmanager
def clock(now: Callable[[], datetime]) -> Iterator[None]:
    """Inside this block, and in this thread only, `utc_timestamp()` without a moment reads
    `now()` (an aware datetime) instead of the system clock. The demo uses it to record its
    morning of sales at morning times through the stall's own writers (pos/demo.py)."""
    token = _CLOCK.set(now)
    try:
        yield
    finally:
        _CLOCK.reset(token)


def utc_timestamp(moment: datetime | None = None) -> str:
    """Format a moment as the journal's `at`: UTC with milliseconds, e.g. 2026-11-22T08:15:30.123Z.
    Without a moment: now, by the system clock (or by the `clock` block this runs in)."""
    if moment is None:
        override = _CLOCK.get()
        moment = override() if override is not None else datetime.now(timezone.utc)
    moment = moment.astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_timestamp(at: str) -> datetime:
    """Parse a journal `at` back into an aware UTC datetime."""
    if not _AT_PATTERN.match(at):
        raise ProtocolError(f"bad timestamp {at!r}")
    return datetime.fromisoformat(at[:-1] + "+00:00")  # the pattern above: ms and a Z


def new_entry_id() -> str:
    """A fresh lowercase UUID for an entry, ordered by time: version 7 of RFC 9562 (48 bits of
    Unix milliseconds, then 74 random bits).

    Entry ids are the keys of UNIQUE indexes on the stall (journal, sales) and on the server.
    Random ids (version 4) land anywhere in those indexes: each new entry reads and rewrites a
    random page, and the pages stay a third empty. Ids that grow with time are appended at the
    end. A clock set wrong only loses the order, never the uniqueness.
    """
    millis = time.time_ns() // 1_000_000 & (1 << 48) - 1
    rand = int.from_bytes(os.urandom(10), "big")     # 80 bits: 12 for rand_a, 62 for rand_b
    value = (millis << 80 | 0x7 << 76 | (rand >> 68) << 64 | 0b10 << 62
             | rand & (1 << 62) - 1)
    return str(uuid.UUID(int=value))


@dataclass(frozen=True)
class Entry:
    """One immutable journal entry, as stored and as sent over the wire."""

    device_id: str
    seq: int
    id: str
    kind: str
    at: str
    payload: Any
    prev_hash: str
    hash: str
    # The payload's canonical bytes, when already known (saves serialising it again).
    payload_json: bytes | None = field(default=None, compare=False, repr=False)

    def canonical_payload(self) -> bytes:
        """The payload as canonical JSON bytes."""
        return self.payload_json if self.payload_json is not None \
            else canonical_json(self.payload)

    def expected_hash(self) -> str:
        """Recompute this entry's hash from its fields."""
        return entry_hash_canonical(self.prev_hash, self.device_id, self.seq, self.id,
                                    self.kind, self.at, self.canonical_payload())

    def to_dict(self) -> dict[str, Any]:
        """The wire form of the entry."""
        return {"device_id": self.device_id, "seq": self.seq, "id": self.id, "kind": self.kind,
                "at": self.at, "payload": self.payload, "prev_hash": self.prev_hash,
                "hash": self.hash}


def check_link(entry: Entry, previous: Entry | None) -> str | None:
    """Say what is wrong with `entry` following `previous` (None for the first), or None if sound."""
    if not _HASH_PATTERN.match(entry.hash) or not _HASH_PATTERN.match(entry.prev_hash):
        return "hash is not 64 lowercase hex digits"
    expected_seq = 1 if previous is None else previous.seq + 1
    if entry.seq != expected_seq:
        return f"sequence gap: expected seq {expected_seq}, found {entry.seq}"
    expected_prev = GENESIS_HASH if previous is None else previous.hash
    if entry.prev_hash != expected_prev:
        return "prev_hash does not match the previous entry's hash"
    if entry.expected_hash() != entry.hash:
        return "hash does not match the entry's content"
    return None


# --- the wire: limits, parsing entries, bundles (docs/SYNC.md) ----------------------------------

MAX_BATCH_ENTRIES = 1000          # the server refuses more (413)
MAX_BATCH_BYTES = 4 * 1024 * 1024
CLIENT_BATCH_ENTRIES = 500        # what the client sends at most
CLIENT_BATCH_BYTES = 1024 * 1024
# Version 2 is signed with the stall's Ed25519 key. Version 1 carried an HMAC keyed with what the
# server stores (SHA-256 of the token), so a copy of the server's database could forge it: refused.
BUNDLE_FORMAT = "market-pos-bundle/2"
LEGACY_BUNDLE_FORMAT = "market-pos-bundle/1"
PAIRING_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
_UUID_PATTERN = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_KIND_PATTERN = re.compile(r"^[a-z_]{1,32}$")


def is_uuid(value: object) -> bool:
    """A lowercase UUID string, as device ids and entry ids are."""
    return isinstance(value, str) and bool(_UUID_PATTERN.match(value))


def entry_from_dict(data: object, *, payload_types_checked: bool = False) -> Entry:
    """Read one entry off the wire, checking its shape (not its chain); ProtocolError if wrong.

    `payload_types_checked`: the JSON was parsed with floats refused (`loads_without_floats`), so
    the payload can only hold the allowed types and need not be walked again.
    """
    if not isinstance(data, dict):
        raise ProtocolError("an entry must be a JSON object")
    fields = ("device_id", "seq", "id", "kind", "at", "payload", "prev_hash", "hash")
    missing = [name for name in fields if name not in data]
    if missing:
        raise ProtocolError(f"entry lacks {', '.join(missing)}")
    extra = sorted(set(data) - set(fields))
    if extra:
        raise ProtocolError(f"entry has unknown fields {', '.join(extra)}")
    seq = data["seq"]
    if isinstance(seq, bool) or not isinstance(seq, int) or seq < 1:
        raise ProtocolError("seq must be a whole number from 1")
    if not is_uuid(data["device_id"]) or not is_uuid(data["id"]):
        raise ProtocolError("device_id and id must be lowercase UUIDs")
    if not isinstance(data["kind"], str) or not _KIND_PATTERN.match(data["kind"]):
        raise ProtocolError("kind must be a short lowercase word")
    if not isinstance(data["at"], str):
        raise ProtocolError("at must be a timestamp string")
    parse_timestamp(data["at"])
    for name in ("prev_hash", "hash"):
        if not isinstance(data[name], str) or not _HASH_PATTERN.match(data[name]):
            raise ProtocolError(f"{name} must be 64 lowercase hex digits")
    payload = data["payload"]
    if not payload_types_checked:
        normalise(payload)  # refuses floats and odd types
    return Entry(data["device_id"], seq, data["id"], data["kind"], data["at"], payload,
                 data["prev_hash"], data["hash"])


def _refuse_float(text: str) -> Any:
    raise ProtocolError(f"{excerpt(text)} is not a whole number: floats are not allowed")


def loads_without_floats(raw: bytes | str) -> Any:
    """Parse JSON refusing floats, NaN, Infinity and whole numbers past 64 bits by their text
    (NumberRefused or ProtocolError, both ValueErrors) before any is built."""
    return loads_json(raw, parse_float=_refuse_float)


def token_hash(token: str) -> str:
    """SHA-256 of a device token (or pairing code), in hex: what the server stores."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_signing_key() -> str:
    """A fresh Ed25519 private key for signing bundles, as the hex of its 32-byte seed."""
    return Ed25519PrivateKey.generate().private_bytes_raw().hex()


def public_key_of(private_hex: str) -> str:
    """The public half of a signing key, as the hex of its 32 bytes (what the server keeps)."""
    private = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(private_hex))
    return private.public_key().public_bytes_raw().hex()


def is_public_key(value: object) -> bool:
    """64 lowercase hex digits that decode to a valid Ed25519 public key."""
    if not isinstance(value, str) or not _HASH_PATTERN.match(value):
        return False
    try:
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(value))
    except ValueError:
        return False
    return True


def bundle_content(device_id: str, created_at: str, entries: list[dict[str, Any]]) -> bytes:
    """The signed part of a bundle: the canonical JSON of its format, device, time and entries."""
    return canonical_json({"format": BUNDLE_FORMAT, "device_id": device_id,
                           "created_at": created_at, "entries": entries})


def sign_bundle(private_hex: str, device_id: str, created_at: str,
                entries: list[dict[str, Any]]) -> str:
    """The Ed25519 signature of a bundle's content, in hex (128 digits)."""
    private = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(private_hex))
    return private.sign(bundle_content(device_id, created_at, entries)).hex()


def bundle_signed_by(public_hex: str, signature_hex: str, device_id: str, created_at: str,
                     entries: list[dict[str, Any]]) -> bool:
    """Whether `signature_hex` is the signature of this content by the key `public_hex`.

    The server holds only public keys: a copy of its database can check a bundle, not make one.
    Entries that cannot be serialised canonically raise ProtocolError (the bundle is unreadable,
    which says more than "not signed").
    """
    content = bundle_content(device_id, created_at, entries)
    if not isinstance(signature_hex, str) or not _SIGNATURE_PATTERN.match(signature_hex):
        return False
    try:
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_hex)).verify(
            bytes.fromhex(signature_hex), content)
    except (InvalidSignature, ValueError):
        return False
    return True
