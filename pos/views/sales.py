"""Today's sales, one sale, and voiding a sale with a reason."""
from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, abort, current_app, redirect, render_template, request, session, url_for

from .. import business_days, daybook, sales
from sync.protocol import utc_timestamp
from ..db import get_db
from sync.errors import AppError
from .guards import is_owner_now, login_required, owner_required

bp = Blueprint("sales", __name__, url_prefix="/sales")


@bp.route("/")
@login_required
def day() -> Any:
    """List the sales of a business day (today by default) with its totals."""
    conn = get_db()
    current = business_days.current_business_day(conn, utc_timestamp())
    day = request.args.get("day") or current
    try:
        date.fromisoformat(day)
    except ValueError:
        abort(404)
    return render_template("pos/sales.html", day=day, sales=sales.list_sales(conn, day=day),
                           totals=sales.day_totals(conn, day), today=current,
                           report=daybook.day_report(conn, day),
                           closed=daybook.close_for_day(conn, day))


@bp.route("/<sale_id>")
@login_required
def detail(sale_id: str) -> Any:
    """Show one sale."""
    sale = sales.get_sale(get_db(), sale_id)
    return render_template("pos/sale.html", sale=sale, can_void=is_owner_now(),
                           day_closed=business_days.day_is_closed(get_db(), sale["business_day"]))


@bp.route("/<sale_id>/void", methods=["GET", "POST"])
@owner_required
def void(sale_id: str) -> Any:
    """Ask for a reason and void the sale (a new journal entry; the original stays)."""
    conn = get_db()
    sale = sales.get_sale(conn, sale_id)
    error, status = None, 200
    if request.method == "POST":
        try:
            sales.void_sale(conn, current_app.config["DEVICE_ID"], sale_id,
                            request.form.get("reason"), voided_by="owner"
                            if session.get("role") == "owner" else "helper+owner_pin")
        except AppError as exc:
            error, status = str(exc.message), exc.status
        else:
            return redirect(url_for("sales.detail", sale_id=sale_id))
    return render_template("pos/void.html", sale=sale, error=error,
                           reason=request.form.get("reason", "")), status
