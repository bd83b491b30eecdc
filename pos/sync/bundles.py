"""USB bundles (docs/SYNC.md): the entries the server lacks, signed with the stall's bundle key,
for a stall that never reaches the network; and the registration of that key with the server."""
from __future__ import annotations

import json
import logging
import os
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from pos import db, settings
from sync.protocol import (BUNDLE_FORMAT, canonical_json, new_signing_key, public_key_of,
                           sign_bundle, utc_timestamp)

from .errors import SyncError, SyncRefused
from .push import entry_json, journal_rows
from .state import (KEY_BUNDLE_AT, KEY_BUNDLE_SEQ, KEY_SIGNING, KEY_SIGNING_REGISTERED,
                    KEY_TOKEN, SyncState, read_state)

if TYPE_CHECKING:
    from .session import SyncSession

logger = logging.getLogger(__name__)


def register_signing_key(client: "SyncSession", state: SyncState) -> None:
    """Make sure the server holds this stall's bundle key (stalls paired before keys had none):
    make one if needed and register it with the token, once."""
    http = client.http
    signing_key = settings.read(client.conn, KEY_SIGNING)
    if not signing_key:
        with client.writing() as conn:
            signing_key = settings.read(conn, KEY_SIGNING) or new_signing_key()
            settings.write(conn, KEY_SIGNING, signing_key)
    public_key = public_key_of(signing_key)
    if settings.read(client.conn, KEY_SIGNING_REGISTERED) == public_key:
        return
    answer = http.request("PUT", "/api/v1/device-key", canonical_json({"public_key": public_key}),
                          headers={"Content-Type": "application/json"})
    if answer.status == 404:
        return             # a server from before bundle keys: it takes no bundles of ours
    http.raise_for_transient(answer)
    if answer.status in (401, 403):
        raise SyncRefused(f"The server refused this stall (HTTP {answer.status}); pair it"
                          " again", code="unauthorised")
    if answer.status != 200:
        logger.warning("the server did not take this stall's bundle key (HTTP %s): USB"
                       " bundles need a new pairing", answer.status)
        return             # sales still sync; export-bundle says what to do
    with client.writing() as conn:
        settings.write(conn, KEY_SIGNING_REGISTERED, public_key)


def export_bundle(db_path: str | Path, path: str | Path, *,
                  clock: Callable[[], float] = time.time) -> dict[str, Any]:
    """Write every entry the server has not acknowledged into a bundle file (docs/SYNC.md),
    signed with the stall's bundle key. Returns {"entries", "first_seq", "last_seq", "path"}.
    Written to a temporary file and renamed, so a half-written bundle never exists."""
    path = Path(path)
    conn = db.connect(db_path)
    try:
        state = read_state(conn)
        if not settings.read(conn, KEY_TOKEN):
            raise SyncError("Pair the stall with the provincial server first: a bundle is signed"
                            " with the stall's key", code="not_paired")
        signing_key = settings.read(conn, KEY_SIGNING)
        if not signing_key or \
                settings.read(conn, KEY_SIGNING_REGISTERED) != public_key_of(signing_key):
            raise SyncError("The provincial server does not know this stall's bundle key yet:"
                            " connect to the network and sync once (or pair the stall again),"
                            " then save the bundle", code="key_not_registered")
        rows = list(journal_rows(conn, state.acked_seq))
        entries = [json.loads(entry_json(row)) for row in rows]
        created_at = utc_timestamp(datetime.fromtimestamp(clock(), timezone.utc))
        bundle = {"format": BUNDLE_FORMAT, "device_id": state.device_id,
                  "created_at": created_at, "entries": entries}
        bundle["signature"] = sign_bundle(signing_key, state.device_id, created_at, entries)
        tmp = path.with_name(f".{path.name}.tmp")
        with open(tmp, "wb") as f:
            f.write(canonical_json(bundle))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        with db.write_transaction(conn):
            settings.write(conn, KEY_BUNDLE_AT, created_at)
            settings.write(conn, KEY_BUNDLE_SEQ, str(rows[-1]["seq"] if rows else state.acked_seq))
    finally:
        conn.close()
    return {"entries": len(entries), "first_seq": entries[0]["seq"] if entries else None,
            "last_seq": entries[-1]["seq"] if entries else None, "path": str(path)}
