"""The margin page (issue 19): per product over a period, what was bought, sold and is left, the
average purchase price and the gross margin, so the vendor sees whether the herbs paid.

The owner's (a helper is sent to the owner's PIN), like the X/Z figures. Quick choices (today,
seven days, this month, last month) are links; the two days come from the app's keypad as
dd/mm/yyyy. A period that cannot be read shows the page again with the message (400).
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request

from sync.errors import InvalidInput
from sync.protocol import utc_timestamp

from .. import business_days, margin
from ..db import get_db
from .guards import owner_required

bp = Blueprint("margin", __name__)


@bp.get("/margin")
@owner_required
def page() -> Any:
    """The margin of each product over the chosen period (today when none is chosen)."""
    conn = get_db()
    today = business_days.current_business_day(conn, utc_timestamp())
    choices = margin.periods(today)
    raw_first, raw_last = request.args.get("from"), request.args.get("to")
    error, status, report = None, 200, None
    try:
        first, last = margin.parse_period(raw_first, raw_last, today)
    except InvalidInput as exc:
        error, status = str(exc.message), 400
        first = last = None
    else:
        report = margin.margin(conn, first, last)
    # Every quick choice that is this period lights up: on the 7th "last 7 days" is "this
    # month", on the 1st "today" is too.
    chosen = {c["key"] for c in choices if (c["from"], c["to"]) == (first, last)}
    return render_template("pos/margin.html", report=report, choices=choices, chosen=chosen,
                           first=first, last=last, raw_first=raw_first or "",
                           raw_last=raw_last or "", error=error), status
