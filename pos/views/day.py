"""The business day's pages: cash in and out, the X figures, closing the day and the Z reports."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for

from .. import business_days, daybook
from ..db import get_db
from sync.errors import AppError
from .guards import owner_required
from sync.protocol import utc_timestamp

bp = Blueprint("day", __name__, url_prefix="/day")


def _current_day() -> str:
    return business_days.current_business_day(get_db(), utc_timestamp())


def _actor() -> str:
    return "owner" if session.get("role") == "owner" else "helper+owner_pin"


def _amount(text: str) -> str:
    """Let people type 200.000 or 200 000 as they read it."""
    return (text or "").replace(".", "").replace(" ", "")


@bp.route("/cash", methods=["GET", "POST"])
@owner_required
def cash() -> Any:
    """Record an opening float, cash put in, or cash taken out."""
    conn = get_db()
    day = _current_day()
    error, status = None, 200
    form = {"type": request.form.get("type", request.args.get("type", "float")),
            "amount": request.form.get("amount", ""), "reason": request.form.get("reason", "")}
    if request.method == "POST":
        try:
            daybook.record_cash_move(conn, current_app.config["DEVICE_ID"], form["type"],
                                     _amount(form["amount"]), form["reason"], _actor())
        except AppError as exc:
            error, status = str(exc.message), exc.status
        else:
            return redirect(url_for("sales.day"))
    return render_template("pos/cash.html", day=day, form=form, error=error,
                           moves=daybook.cash_moves(conn, day)), status


@bp.route("/close", methods=["GET", "POST"])
@owner_required
def close() -> Any:
    """Count the drawer and close the business day (Z report)."""
    conn = get_db()
    day = _current_day()
    error, status = None, 200
    if request.method == "POST":
        try:
            z = daybook.close_day(conn, current_app.config["DEVICE_ID"], day,
                                  _amount(request.form.get("counted_cash", "")), _actor())
        except AppError as exc:
            error, status = str(exc.message), exc.status
        else:
            return redirect(url_for("day.z_report", z_number=z["z_number"]))
    return render_template("pos/close.html", day=day, report=daybook.day_report(conn, day),
                           error=error, counted=request.form.get("counted_cash", "")), status


@bp.route("/z")
@owner_required
def z_reports() -> Any:
    """List the Z reports."""
    return render_template("pos/z_list.html", reports=daybook.z_reports(get_db()))


@bp.route("/z/<int:z_number>")
@owner_required
def z_report(z_number: int) -> Any:
    """Show one Z report."""
    return render_template("pos/report.html", report=daybook.z_report(get_db(), z_number))


@bp.route("/x")
@owner_required
def x_report() -> Any:
    """Show the X report: the current business day so far."""
    day = request.args.get("day") or _current_day()
    closed = daybook.close_for_day(get_db(), day)
    report = closed or daybook.day_report(get_db(), day)
    return render_template("pos/report.html", report=report)
