"""The sync API under /api/v1 (docs/SYNC.md): pairing, the bundle signing key, journal push and
head, catalogue pull."""
from __future__ import annotations

import hashlib
import json
import logging
from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, request
from sqlalchemy import select

from sync.numbers import NumberRefused, whole_number_or_none
from sync.protocol import (MAX_BATCH_BYTES, MAX_BATCH_ENTRIES, Entry, ProtocolError,
                           canonical_json, loads_without_floats, parse_timestamp, utc_timestamp)

from . import openapi, store
from .db import journal, read_transaction, write_transaction
from .device_auth import authenticated_device, bearer_token
from sync.errors import InvalidInput, TooLarge
from .errors import RateLimited, WrongDevice

logger = logging.getLogger(__name__)
bp = Blueprint("api", __name__, url_prefix="/api/v1")


def answer(body: dict[str, Any], status: int = 200) -> Response:
    """A JSON answer carrying the request's `server_time`."""
    response = jsonify({**body, "server_time": utc_timestamp(g.now)})
    response.status_code = status
    return response


def _engine() -> Any:
    return current_app.extensions["market_server"]["engine"]


@bp.before_request
def _limit_body() -> None:
    request.max_content_length = MAX_BATCH_BYTES


def json_body() -> dict[str, Any]:
    """The request's JSON object; InvalidInput with the reason when it is not one."""
    raw = request.get_data(cache=False)  # raises 413 past the limit
    try:
        data = loads_without_floats(raw)  # the sync wire has no floats anywhere
    except NumberRefused as exc:
        raise InvalidInput(f"A number in the body is refused: {exc}.", code="bad_number") from None
    except (ValueError, RecursionError) as exc:
        raise InvalidInput(f"The body is not valid JSON: {exc}", code="malformed_json") from None
    if not isinstance(data, dict):
        raise InvalidInput("The body must be a JSON object.")
    return data


@bp.post("/pair")
def pair() -> Response:
    """Redeem a one-time pairing code for a device token."""
    limiter = current_app.extensions["market_server"]["pair_limiter"]
    wait = limiter.hit(request.remote_addr or "unknown")
    if wait is not None:
        raise RateLimited("Too many pairing attempts from this address; wait and try again.",
                          retry_after=wait)
    body = json_body()
    with write_transaction(_engine()) as conn:
        result = store.pair(conn, body.get("code"), body.get("device_id"),
                            body.get("head_seq", 0), g.now, body.get("public_key"))
    return answer(result)


@bp.put("/device-key")
def register_device_key() -> Response:
    """Register the stall's bundle signing key with its token (stalls paired before keys)."""
    authenticated_device()
    public_key = json_body().get("public_key")
    with write_transaction(_engine()) as conn:
        registered = store.register_signing_key(conn, bearer_token(), public_key)
    return answer({"public_key": public_key, "registered": registered})


def _device_time() -> Any:
    value = request.headers.get("X-Device-Time")
    if not value:
        return None
    try:
        return parse_timestamp(value)
    except ProtocolError:
        raise InvalidInput("X-Device-Time must look like 2026-11-22T08:15:30.123Z.") from None


@bp.post("/journal")
def push_journal() -> Response:
    """Store a batch of the device's journal entries."""
    device_id = authenticated_device()
    body = json_body()
    items = body.get("entries")
    if not isinstance(items, list):
        raise InvalidInput("entries must be a list.")
    if len(items) > MAX_BATCH_ENTRIES:
        raise TooLarge(f"At most {MAX_BATCH_ENTRIES} entries per request.",
                       code="too_many_entries")
    if not isinstance(body.get("device_id"), str):
        raise InvalidInput("device_id must be the device's id.")
    if body["device_id"] != device_id:
        raise WrongDevice("This token belongs to another device.")
    entries = store.parse_entries(items, payload_types_checked=True)
    device_time = _device_time()
    with write_transaction(_engine()) as conn:
        result = store.push(conn, device_id, entries, g.now, device_time)
    if result.refusal is not None:
        refusal = result.refusal
        return answer({"error": {"code": refusal.code, "message": refusal.message,
                                 "seq": refusal.seq},
                       "acked_seq": result.acked_seq, "head_hash": result.head_hash}, 409)
    return answer(result.to_dict())


DOWNLOAD_PAGE = 500  # entries per page of GET /journal unless `limit` asks for fewer or more


def _whole_number(name: str, default: int, low: int, high: int) -> int:
    value = request.args.get(name)
    if value is None:
        return default
    number = whole_number_or_none(value)
    if number is None or not low <= number <= high:
        raise InvalidInput(f"{name} must be a whole number from {low} to {high}.")
    return number


@bp.get("/journal")
def download_journal() -> Response:
    """Send back the device's own entries after `after_seq`, in seq order, a page at a time (to
    rebuild a stall that lost its storage: `market-pos recover`)."""
    device_id = authenticated_device()
    after_seq = _whole_number("after_seq", 0, 0, store.MAX_SEQ)
    limit = _whole_number("limit", DOWNLOAD_PAGE, 1, MAX_BATCH_ENTRIES)
    with read_transaction(_engine()) as conn:
        head = store.head(conn, device_id)
        rows = conn.execute(
            select(journal.c.device_id, journal.c.seq, journal.c.id, journal.c.kind,
                   journal.c.at, journal.c.payload, journal.c.prev_hash, journal.c.hash)
            .where(journal.c.device_id == device_id, journal.c.seq > after_seq,
                   journal.c.seq <= head["acked_seq"])
            .order_by(journal.c.seq).limit(limit)).all()
    entries = [Entry(r.device_id, r.seq, r.id, r.kind, r.at, json.loads(r.payload), r.prev_hash,
                     r.hash).to_dict() for r in rows]
    last = entries[-1]["seq"] if entries else after_seq
    return answer({**head, "entries": entries,
                   "next_after_seq": last if last < head["acked_seq"] else None})


def conditional(body: dict[str, Any]) -> Response:
    """`body` as a JSON answer with an ETag, or `304 Not Modified` with no body when the
    request's If-None-Match holds that tag (docs/SYNC.md, "ETags on head and catalogue").

    The tag is the SHA-256 of the canonical JSON of `body`, which leaves out `server_time`: the
    time of the exchange, also sent as the X-Server-Time header. It is sent in the strong form,
    as the catalogue's always was (stalls hold such tags, and the contract says strong), and
    compared weakly, as RFC 9110 §13.1.2 asks for If-None-Match: a `W/` form of the same tag
    matches too. It depends on the data only, never on the process or the clock, so every
    server process behind a balancer gives the same tag. The 304 carries the tag, `no-cache`
    and X-Server-Time (the stall's clock offset), and no body."""
    etag = hashlib.sha256(canonical_json(body)).hexdigest()
    if request.if_none_match.contains_weak(etag):
        response = Response(status=304)
        response.headers.pop("Content-Type", None)
    else:
        response = answer(body)
    response.set_etag(etag)
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/journal/head")
def journal_head() -> Response:
    """Say how far the server holds the device's journal (304 if the client's ETag is current)."""
    device_id = authenticated_device()
    with read_transaction(_engine()) as conn:
        body = store.head(conn, device_id)
    return conditional(body)


@bp.get("/catalogue")
def catalogue() -> Response:
    """Send the stall's reference catalogue, or 304 if the client's ETag is current."""
    device_id = authenticated_device()
    with read_transaction(_engine()) as conn:
        body = store.catalogue(conn, device_id)
    return conditional(body)


@bp.get("/openapi.json")
def openapi_document() -> Response:
    """Describe this API (OpenAPI 3.1)."""
    return jsonify(openapi.document())
