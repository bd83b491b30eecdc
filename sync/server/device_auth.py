"""Which stall is asking: the device of a request's bearer token (the sync API, the bank's
device routes and the stall's list of invoices not yet received all ask this)."""
from __future__ import annotations

from flask import request

from sync.errors import NotAuthenticated

from .db import get_engine, read_transaction
from .pairing import device_for_token


def bearer_token() -> str:
    """The request's bearer token as sent; 401 when there is none (not checked here)."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthenticated("Send the device token as Authorization: Bearer <token>.")
    return token.strip()


def authenticated_device() -> str:
    """The device of the request's bearer token; 401 when missing, unknown or revoked."""
    with read_transaction(get_engine()) as conn:
        device_id = device_for_token(conn, bearer_token())
    if device_id is None:
        raise NotAuthenticated("This device token is unknown or revoked.", code="bad_token")
    return device_id
