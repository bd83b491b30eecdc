"""Pairing (docs/SYNC.md): a one-time code from the province becomes this stall's token; an empty
stall takes the server's device id; a new bundle signing key is made and its public half sent."""
from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from pos import settings
from sync.protocol import canonical_json, new_signing_key, public_key_of, utc_timestamp

from . import catalogue, push
from .errors import PairingError, SyncRetryable
from .http import error_of, parse_retry_after
from .state import (KEY_ATTENTION, KEY_CATALOGUE_VERSION, KEY_DEVICE, KEY_ETAG, KEY_HEAD_HASH,
                    KEY_LAST_ERROR, KEY_LAST_ERROR_AT, KEY_LAST_ERROR_CODE, KEY_PAIRED_AT,
                    KEY_SERVER, KEY_SIGNING, KEY_SIGNING_REGISTERED, KEY_TOKEN, head_seq)

if TYPE_CHECKING:
    from .session import SyncSession


def normalise_server_url(url: str) -> str:
    """http(s)://host[:port][/prefix] without a trailing slash, or PairingError."""
    url = (url or "").strip().rstrip("/")
    if not url.startswith(("http://", "https://")) or len(url) > 300 or " " in url \
            or len(url.split("//", 1)[1]) == 0:
        raise PairingError("The server address must start with http:// or https://",
                           code="bad_server_url")
    return url


def normalise_code(code: str) -> str:
    """The pairing code as the server shows it (ABCD-EFGH), whatever spaces or case were typed."""
    letters = "".join(ch for ch in (code or "").upper() if ch.isalnum())
    if len(letters) != 8:
        raise PairingError("A pairing code has 8 letters and digits (ABCD-EFGH)",
                           code="bad_pairing_code")
    return f"{letters[:4]}-{letters[4:]}"


def pair(client: "SyncSession", server_url: str, code: str) -> dict[str, Any]:
    """Exchange the code for a token (the caller holds the sync lock); returns the server's
    answer without the token."""
    conn = client.conn
    device_id = settings.read(conn, KEY_DEVICE) or ""
    signing_key = new_signing_key()   # a new pairing, a new key (the old one may be lost)
    public_key = public_key_of(signing_key)
    body = canonical_json({"code": code, "device_id": device_id, "head_seq": head_seq(conn),
                           "public_key": public_key})
    try:
        answer = client.http.post_json("/api/v1/pair", body, base_url=server_url, token=None)
    except SyncRetryable as exc:
        raise PairingError(f"The server did not answer: {exc.message}", code=exc.code,
                           retry_after=exc.retry_after) from exc
    data = answer.data if isinstance(answer.data, dict) else {}
    if answer.status == 429:
        raise PairingError("Too many pairing attempts; wait and try again",
                           code="too_many_attempts",
                           retry_after=parse_retry_after(answer.headers.get("Retry-After")))
    if answer.status != 200:
        error = error_of(answer)
        raise PairingError(str(error.get("message") or f"HTTP {answer.status}"),
                           code=str(error.get("code") or "pairing_failed"))
    new_device, token, acked = data.get("device_id"), data.get("token"), data.get("acked_seq")
    if not isinstance(new_device, str) or not isinstance(token, str) or not token \
            or isinstance(acked, bool) or not isinstance(acked, int) or acked < 0:
        raise PairingError("The server's answer is not a pairing answer", code="bad_answer")
    with client.writing():
        now_head = head_seq(conn)
        if new_device != device_id:
            if now_head != 0:
                raise PairingError("The server gave another device id, but this stall has"
                                   " already recorded entries under its own",
                                   code="device_mismatch")
            settings.write(conn, KEY_DEVICE, new_device)
        for key, value in ((KEY_SERVER, server_url), (KEY_TOKEN, token),
                           (KEY_PAIRED_AT, utc_timestamp(client.now())),
                           (KEY_SIGNING, signing_key)):
            settings.write(conn, key, value)
        for key in (KEY_ETAG, KEY_CATALOGUE_VERSION, KEY_LAST_ERROR, KEY_LAST_ERROR_CODE,
                    KEY_LAST_ERROR_AT, KEY_ATTENTION, KEY_HEAD_HASH, KEY_SIGNING_REGISTERED):
            conn.execute("DELETE FROM settings WHERE key = ?", (key,))
        if data.get("public_key") == public_key:   # an older server ignores the key
            settings.write(conn, KEY_SIGNING_REGISTERED, public_key)
        _stored, problem = push.store_cursor(conn, acked, data.get("head_hash"), now_head)
        if problem:
            settings.write(conn, KEY_ATTENTION, json.dumps(problem, ensure_ascii=False))
        if isinstance(data.get("stall"), dict):
            catalogue.store_stall_details(conn, data["stall"])
    return {key: value for key, value in data.items() if key != "token"}
