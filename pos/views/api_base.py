"""What every JSON API route of the stall shares: reading a body exactly, and who is asking
(a bearer token, or an unlocked session with its CSRF token for writes). The blueprints that
serve the API (pos/views/api.py, api_qr.py) run `authenticate` before each request."""
from __future__ import annotations

from typing import Any

from flask import g, request, session
from flask_babel import gettext as _

from sync.errors import Forbidden, InvalidInput, NotAuthenticated
from sync.numbers import NumberRefused, loads_json

from .. import access
from ..db import get_db
from .guards import csrf, is_owner_now


def read_json() -> Any:
    """Parse the body exactly: decimals as Decimal (never float), every number bounded by its text
    before it is built (sync.numbers); malformed JSON or a refused number is a clear 400."""
    raw = request.get_data(cache=False)
    try:
        return loads_json(raw.decode("utf-8"))
    except NumberRefused:
        raise InvalidInput(_("A number in the request is too long or too large: amounts are whole "
                             "đồng, such as 15000, and quantities such as 1.5."),
                           code="bad_number") from None
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise InvalidInput(_("The request body is not valid JSON."), code="malformed_json")


def json_object() -> dict[str, Any]:
    """The body as a JSON object, or a clear 400."""
    body = read_json()
    if not isinstance(body, dict):
        raise InvalidInput(_("The request must be a JSON object."))
    return body


def authenticate() -> None:
    """Accept a bearer token, or an unlocked session (with its CSRF token for writes)."""
    if request.endpoint == "api.openapi_document":  # the API's description is public
        return
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        if not access.token_is_valid(get_db(), header[7:].strip()):
            raise NotAuthenticated(_("The API token is not valid."), code="bad_token")
        g.api_role, g.api_owner = "api", True
        return
    if session.get("role") in access.ROLES:
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            csrf.protect()
        g.api_role, g.api_owner = session["role"], is_owner_now()
        return
    raise NotAuthenticated(_("Unlock the stall or send an API token."))


def require_owner() -> None:
    if not g.api_owner:
        raise Forbidden(_("Only the owner can do this. Ask the owner to enter the PIN."),
                        code="owner_required")
