"""The JSON API of the margin (issue 19): `GET /api/margin?from=YYYY-MM-DD&to=YYYY-MM-DD`.

The owner's, like the X/Z figures' pages: what the stall earns on each product is hers to see
(a helper gets 403). The same authentication as the rest of /api (api_base.authenticate). A
missing end is the current business day; a day that is not a day, a first day after the last,
or a period over 366 days is a 400 with a message saying which (pos/margin.py).
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request

from sync.money import quantity_text
from sync.protocol import utc_timestamp

from .. import business_days, margin
from ..db import get_db
from .api_base import authenticate, require_owner

bp = Blueprint("api_margin", __name__, url_prefix="/api")
bp.before_request(authenticate)

_QUANTITIES = ("bought", "sold", "on_hand")


def _with_quantities(row: dict[str, Any]) -> dict[str, Any]:
    """A row with each `*_milli` also as the API's exact decimal string ("12.5"; null stays)."""
    out = dict(row)
    for name in _QUANTITIES:
        if f"{name}_milli" in row:
            milli = row[f"{name}_milli"]
            out[name] = None if milli is None else quantity_text(milli)
    return out


@bp.get("/margin")
def margin_report() -> Any:
    """Per product over a period of business days: bought (quantity, paid), sold (quantity,
    revenue as X/Z count it), on hand now, average purchase price, cost of goods sold, gross
    margin and margin %, with a total."""
    require_owner()
    conn = get_db()
    today = business_days.current_business_day(conn, utc_timestamp())
    first, last = margin.parse_period(request.args.get("from"), request.args.get("to"), today)
    report = margin.margin(conn, first, last)
    report["products"] = [_with_quantities(row) for row in report["products"]]
    return jsonify(report)
