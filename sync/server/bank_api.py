"""The bank routes of the sync API: the notification webhook, and each stall's notifications."""
from __future__ import annotations

from flask import Blueprint, Response, current_app, g, request

from sync.numbers import NumberRefused, whole_number
from sync.protocol import ProtocolError, loads_without_floats

from . import bank
from .api import answer
from .device_auth import authenticated_device
from .db import read_transaction, write_transaction
from sync.errors import InvalidInput, NotAuthenticated

bp = Blueprint("bank_api", __name__, url_prefix="/api/v1/bank")
MAX_BODY = 1024 * 1024


def _engine():  # type: ignore[no-untyped-def]
    return current_app.extensions["market_server"]["engine"]


def _webhook_secret() -> str:
    """The shared secret, as `Authorization: Bearer|Apikey <secret>` or `X-Webhook-Secret`."""
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() in ("bearer", "apikey") and value.strip():
        return value.strip()
    return request.headers.get("X-Webhook-Secret", "").strip()


@bp.post("/notifications")
def receive() -> Response:
    """A bank balance-change notification (one transfer, or a list)."""
    with read_transaction(_engine()) as conn:
        if not bank.secret_is_valid(conn, _webhook_secret()):
            raise NotAuthenticated("Send the webhook secret as Authorization: Bearer <secret>.",
                                   code="bad_secret")
    if (request.content_length or 0) > MAX_BODY:
        raise InvalidInput("The body is larger than 1 MiB.")
    try:
        body = loads_without_floats(request.get_data(cache=False)[:MAX_BODY + 1])
    except NumberRefused as exc:
        raise InvalidInput(f"A number in the body is refused: {exc}.", code="bad_number") from None
    except (ValueError, RecursionError, ProtocolError) as exc:
        raise InvalidInput(f"The body is not valid JSON: {exc}", code="malformed_json") from None
    notifications = bank.parse_notifications(body)
    with write_transaction(_engine()) as conn:
        counts = bank.store(conn, notifications, g.now)
    return answer(counts)


@bp.get("/notifications")
def for_stall() -> Response:
    """The calling stall's notifications after `after` (an id it got before), oldest first."""
    device_id = authenticated_device()
    try:
        after = whole_number(request.args.get("after", "0"))
    except NumberRefused:
        raise InvalidInput("after must be a whole number.") from None
    if not 0 <= after < 2 ** 63:
        raise InvalidInput("after must be a whole number from 0 to 2^63 - 1.")
    with read_transaction(_engine()) as conn:
        items = bank.for_device(conn, device_id, after)
    return answer({"notifications": items, "more": len(items) == bank.PAGE})
