"""The province's catalogue pulled from the server (ETag-conditional) and merged by pos/catalog.py,
and the stall details that flow down with it (and with pairing)."""
from __future__ import annotations

import logging
import sqlite3
from typing import TYPE_CHECKING, Any

from pos import catalog, qr_references, settings
from sync.qrref import stall_id_of

from .errors import SyncRefused, SyncRetryable
from .http import error_of
from .state import KEY_CATALOGUE_VERSION, KEY_ETAG

if TYPE_CHECKING:
    from .session import SyncSession

logger = logging.getLogger(__name__)
# Stall details that flow down: the server's key -> the stall's setting.
STALL_DETAILS = {"name": "stall_name", "market": "market", "commune": "commune",
                 "province": "province"}


def pull_catalogue(client: "SyncSession") -> str:
    """"updated" or "unchanged" (the server answered 304 to the stored ETag)."""
    http = client.http
    etag = settings.read(client.conn, KEY_ETAG)
    answer = http.get("/api/v1/catalogue", headers={"If-None-Match": etag} if etag else None)
    if answer.status == 304:
        with client.writing():
            pass   # the clock offset of this answer
        return "unchanged"
    http.raise_for_transient(answer)
    data = answer.data
    if answer.status != 200 or not isinstance(data, dict) \
            or not isinstance(data.get("products"), list):
        if answer.status in (401, 403):
            raise SyncRefused(f"The server refused this stall"
                              f" ({error_of(answer).get('message') or answer.status});"
                              " pair it again", code="unauthorised")
        raise SyncRetryable(f"The catalogue could not be read (HTTP {answer.status})",
                            code="bad_answer")
    with client.writing() as conn:
        counts = catalog.merge_server_catalogue(conn, data["products"])
        if isinstance(data.get("stall"), dict):
            store_stall_details(conn, data["stall"])
        if answer.headers.get("ETag"):
            settings.write(conn, KEY_ETAG, answer.headers["ETag"])
        if data.get("version") is not None:
            settings.write(conn, KEY_CATALOGUE_VERSION, str(data["version"]))
    logger.info("catalogue version %s merged: %s", data.get("version"), counts)
    return "updated"


def store_stall_details(conn: sqlite3.Connection, stall: dict[str, Any]) -> None:
    """The stall's name, place and payment code as the province knows them."""
    for server_key, setting in STALL_DETAILS.items():
        value = stall.get(server_key)
        if not isinstance(value, str):
            continue
        value = " ".join(value.split())
        if value and len(value) <= settings.STALL_FIELDS[setting][1]:
            settings.write(conn, setting, value)
    code = stall.get("payment_code")
    if isinstance(code, str) and stall_id_of(code):
        settings.write(conn, qr_references.KEY_STALL_CODE, code)
