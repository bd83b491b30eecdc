"""The stall's sync state: the settings keys sync keeps, `read_state` (what the screen, the API
and the e-invoice status read) and `SyncResult` (what one sync did). Imports nothing of the client, the
network or tax: anything may read the state."""
from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any

# Settings keys (the stall's `settings` table).
KEY_DEVICE = "device_id"
KEY_SERVER = "sync_server_url"
KEY_TOKEN = "sync_token"
KEY_ACKED = "sync_acked_seq"
KEY_HEAD_HASH = "sync_head_hash"
KEY_LAST_AT = "sync_last_at"
KEY_LAST_ERROR = "sync_last_error"
KEY_LAST_ERROR_CODE = "sync_last_error_code"
KEY_LAST_ERROR_AT = "sync_last_error_at"
KEY_OFFSET = "sync_clock_offset_ms"
KEY_ATTENTION = "sync_needs_attention"
KEY_ETAG = "sync_catalogue_etag"
# The head answer's ETag, with the server, cursor and head hash it came with (JSON).
KEY_HEAD_ETAG = "sync_head_etag"
KEY_CATALOGUE_VERSION = "sync_catalogue_version"
KEY_PAIRED_AT = "sync_paired_at"
KEY_BUNDLE_AT = "sync_last_bundle_at"
KEY_BUNDLE_SEQ = "sync_last_bundle_seq"
KEY_BANK_CURSOR = "sync_bank_cursor"
# The Ed25519 key that signs USB bundles (hex of its private seed), kept beside the token: a
# backup restores both together, and the server holds only the public half.
KEY_SIGNING = "sync_signing_key"
KEY_SIGNING_REGISTERED = "sync_signing_key_registered"   # the public key the server confirmed


@dataclass(frozen=True)
class SyncState:
    """The sync settings and figures of one stall, read in one go (for the screen and the API)."""

    device_id: str
    server_url: str | None
    paired: bool
    head_seq: int
    acked_seq: int
    last_sync_at: str | None
    last_error: str | None
    last_error_code: str | None
    last_error_at: str | None
    needs_attention: dict[str, Any] | None
    clock_offset_ms: int | None
    last_bundle_at: str | None
    catalogue_version: str | None

    @property
    def pending(self) -> int:
        return max(self.head_seq - self.acked_seq, 0)

    @property
    def last_any_at(self) -> str | None:
        """The latest sync of either kind: over the network, or a bundle written for a USB stick."""
        times = [t for t in (self.last_sync_at, self.last_bundle_at) if t]
        return max(times) if times else None

    def to_dict(self) -> dict[str, Any]:
        """The `GET /api/sync/status` answer."""
        return {"pending": self.pending, "acked_seq": self.acked_seq,
                "last_sync_at": self.last_sync_at, "last_error": self.last_error,
                "last_error_code": self.last_error_code, "needs_attention": self.needs_attention,
                "server_url": self.server_url, "paired": self.paired,
                "device_id": self.device_id, "head_seq": self.head_seq,
                "last_bundle_at": self.last_bundle_at, "clock_offset_ms": self.clock_offset_ms}


@dataclass
class SyncResult:
    """What one sync did. `status`: ok, busy (another sync holds the lock), not_paired, or
    needs_attention (the server refused an entry; see `needs_attention`)."""

    status: str
    pushed: int = 0
    duplicates: int = 0
    batches: int = 0
    acked_seq: int = 0
    head_seq: int = 0
    catalogue: str | None = None      # "updated", "unchanged", or None when not pulled
    bank: int = 0                     # bank notifications applied (pos/bankcheck.py)
    needs_attention: dict[str, Any] | None = None

    @property
    def pending(self) -> int:
        return max(self.head_seq - self.acked_seq, 0)

    @property
    def ok(self) -> bool:
        """Everything went and nothing waits."""
        return self.status == "ok" and self.pending == 0


def as_int(value: str | None, default: int = 0) -> int:
    """A stored setting as a whole number, `default` when absent or unreadable."""
    try:
        return int(value) if value not in (None, "") else default
    except ValueError:
        return default


def head_seq(conn: sqlite3.Connection) -> int:
    """The stall's last journal seq (0 for an empty journal)."""
    return conn.execute("SELECT IFNULL(MAX(seq), 0) FROM journal").fetchone()[0]


def read_state(conn: sqlite3.Connection) -> SyncState:
    """The stall's sync state from its database (one SELECT each; no transaction held)."""
    values = {row["key"]: row["value"] for row in conn.execute(
        "SELECT key, value FROM settings WHERE key = 'device_id' OR key LIKE 'sync\\_%' ESCAPE '\\'")}
    attention = None
    if values.get(KEY_ATTENTION):
        try:
            attention = json.loads(values[KEY_ATTENTION])
        except ValueError:
            attention = {"seq": None, "code": "unknown", "message": values[KEY_ATTENTION]}
    offset = values.get(KEY_OFFSET)
    return SyncState(
        device_id=values.get(KEY_DEVICE, ""), server_url=values.get(KEY_SERVER) or None,
        paired=bool(values.get(KEY_SERVER) and values.get(KEY_TOKEN)), head_seq=head_seq(conn),
        acked_seq=as_int(values.get(KEY_ACKED)), last_sync_at=values.get(KEY_LAST_AT) or None,
        last_error=values.get(KEY_LAST_ERROR) or None,
        last_error_code=values.get(KEY_LAST_ERROR_CODE) or None,
        last_error_at=values.get(KEY_LAST_ERROR_AT) or None, needs_attention=attention,
        clock_offset_ms=as_int(offset) if offset not in (None, "") else None,
        last_bundle_at=values.get(KEY_BUNDLE_AT) or None,
        catalogue_version=values.get(KEY_CATALOGUE_VERSION) or None)
