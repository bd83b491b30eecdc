"""Today's sales, one sale, voiding a sale with a reason, and giving back part of it."""
from __future__ import annotations

from datetime import date
from typing import Any

from flask import (Blueprint, abort, current_app, flash, redirect, render_template, request,
                   session, url_for)
from flask_babel import gettext as _

from .. import business_days, daybook, refunds, sales
from sync import checkcode
from sync.money import format_number
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
    conn = get_db()
    sale = sales.get_sale(conn, sale_id)
    given = refunds.refunds_of(conn, sale["seq"])
    return render_template("pos/sale.html", sale=sale, can_void=is_owner_now(), refunds=given,
                           customers=_customer_names(conn, sale),
                           check_code=checkcode.make(current_app.config["DEVICE_ID"],
                                                     sale["seq"], sale["hash"]),
                           can_refund=any(refunds.left_to_give(sale, given)),
                           day_closed=business_days.day_is_closed(conn, sale["business_day"]))


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


def _customer_names(conn: Any, sale: dict[str, Any]) -> dict[int, str]:
    """Whose account a credit payment went on (the credit book's customers), by id."""
    ids = [p["customer_id"] for p in sale["payments"] if p["method"] == "credit"]
    return {row["id"]: row["name"] for row in conn.execute(
        f"SELECT id, name FROM customers WHERE id IN ({', '.join('?' * len(ids))})", ids)} \
        if ids else {}


def _refund_request(form: Any, line_count: int) -> dict[str, Any]:
    """The refund form as the API's request: a quantity per line given back (a comma or a
    point as the decimal sign), the way the money goes back, the reason."""
    lines = []
    for number in range(1, line_count + 1):
        typed = (form.get(f"q{number}") or "").strip().replace(",", ".")
        if typed:
            lines.append({"line": number, "quantity": typed})
    return {"lines": lines, "payments": [{"method": form.get("method") or "cash"}],
            "reason": form.get("reason")}


@bp.route("/<sale_id>/refund", methods=["GET", "POST"])
@owner_required
def refund(sale_id: str) -> Any:
    """Give back some lines, or part of a weighed quantity, in cash or by transfer."""
    conn = get_db()
    sale = sales.get_sale(conn, sale_id)
    error, status = None, 200
    if request.method == "POST":
        try:
            done = refunds.refund_sale(
                conn, current_app.config["DEVICE_ID"], sale_id,
                _refund_request(request.form, len(sale["lines"])),
                refunded_by="owner" if session.get("role") == "owner" else "helper+owner_pin")
        except AppError as exc:
            error, status = str(exc.message), exc.status
        else:
            flash(_("Given back: %(amount)s ₫.", amount=format_number(done["total"])))
            return redirect(url_for("sales.detail", sale_id=sale_id))
    given = refunds.refunds_of(conn, sale["seq"])
    return render_template("pos/refund.html", sale=sale, error=error, form=request.form,
                           left=refunds.left_to_give(sale, given),
                           customers=_customer_names(conn, sale)), status
