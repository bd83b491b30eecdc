"""The dashboard pages: province → commune/ward → market → stall, their CSV exports and the
commune's monthly report. Every URL resolves its place through `scope` first: out of the user's
scope is 403, before anything is read."""
from __future__ import annotations

from datetime import datetime
from functools import wraps
from typing import Any, Callable

from flask import Blueprint, Response, abort, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from sync.money import format_number, format_quantity, format_vnd

from . import figures, scope
from .db import Freshness, figures_transaction, get_engine
from .charts import trend_svg
from .db import read_transaction
from sync.errors import InvalidInput
from .exports import Col, Grid, to_csv
from .scope import Place

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")

LEVEL_NAMES = {"province": _l("Province"), "commune": _l("Commune/ward"),
               "market": _l("Market"), "stall": _l("Stall")}
ALERT_NAMES = {"conflict": _l("Conflict"), "broken_chain": _l("Broken chain"),
               "bad_hash": _l("Wrong hash"), "clock": _l("Clock off"),
               "qr_mismatch": _l("QR payment mismatch"),
               "unrouted": _l("Bank payment for no stall"),
               "einvoice_pending": _l("E-invoices not yet received by the tax authority"),
               "einvoice_duplicate": _l("E-invoice code used by another till"),
               "einvoice_range": _l("E-invoice range used by two sellers"),
               "einvoice_seller": _l("Tax code used by two stalls")}
PERIOD_NAMES = {"day": _l("Day"), "week": _l("Week"), "month": _l("Month")}


def login_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Logged-in users only (administrators and viewers); others are sent to log in."""
    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if g.get("user") is None:
            return redirect(url_for("admin.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)
    return wrapped


def _period() -> figures.Period:
    try:
        return figures.parse_period(request.args.get("period"), request.args.get("date"))
    except figures.BadPeriod as exc:
        raise InvalidInput(str(exc), code="bad_period") from None


def _period_args(period: figures.Period) -> dict[str, str]:
    return {"period": period.kind, "date": period.start.isoformat()}


def _visible_place(conn: Any, level: str, key: str) -> Place:
    """The place of the URL, or 404 (unknown) / 403 (outside the user's scope)."""
    if level not in scope.LEVELS:
        abort(404)
    place = scope.resolve(conn, level, key)
    if place is None:
        abort(404)
    if not scope.may_see(g.user, place):
        abort(403)
    return place


# --- the tables of a page ----------------------------------------------------------------------

def _figure_columns(first: Col) -> list[Col]:
    return [first, Col("revenue", _l("Revenue"), "money"), Col("sales", _l("Sales"), "count"),
            Col("average", _l("Average ticket"), "money"),
            Col("qr", _l("QR value"), "money"),
            Col("qr_share", _l("Cashless share (value)"), "share"),
            Col("qr_count_share", _l("Cashless share (count)"), "share"),
            Col("voids", _l("Voids"), "count"), Col("voided", _l("Voided amount"), "money"),
            Col("credit", _l("Credit sales"), "money"), Col("repaid", _l("Repayments"), "money")]


def _child_link(place: Place, period: figures.Period) -> Callable[[dict[str, Any]], str]:
    child = scope.CHILD[place.level]
    return lambda row: url_for(".place", level=child, key=row["key"], **_period_args(period))


def _stall_link(period: figures.Period) -> Callable[[dict[str, Any]], str | None]:
    def link(row: dict[str, Any]) -> str | None:
        if not row.get("device_id"):
            return None
        return url_for(".place", level="stall", key=row["device_id"], **_period_args(period))
    return link


def build_grids(conn: Any, place: Place, period: figures.Period, now: datetime,
                include_unrouted: bool) -> dict[str, Grid]:
    """Every table of a place's page, by name (the page draws them, the export writes one)."""
    grids: dict[str, Grid] = {}
    if place.level != "stall":
        child = scope.CHILD[place.level]
        names = {"commune": ("communes", _l("Communes and wards")),
                 "market": ("markets", _l("Markets")), "stall": ("stalls", _l("Stalls"))}
        name, title = names[child]
        children = figures.breakdown(conn, place, period)
        grids[name] = Grid(name, title, _figure_columns(Col("name", LEVEL_NAMES[child])),
                           children, _child_link(place, period))
        grids["purchases"] = _purchases_grid(conn, place, period, children)
    grids["purchased_products"] = Grid("purchased_products", _l("Produce bought, by product"), [
        Col("name", _l("Product")), Col("unit", _l("Unit")),
        Col("quantity_milli", _l("Quantity bought"), "quantity"),
        Col("amount", _l("Paid to growers"), "money"),
        Col("unit_price", _l("Average price per unit"), "money"),
        Col("purchases", _l("Purchases"), "count")],
        figures.purchased_products(conn, place, period),
        note=_l("What the stalls paid local growers for their produce (purchases without an"
                " invoice, recorded at the stall), by the product's name and unit. Growers'"
                " names and ID numbers stay on the stall."))
    grids["trend"] = Grid("trend", _l("Day by day"), _figure_columns(Col("day", _l("Day"), "day")),
                          figures.trend(conn, place, period))
    products, categories = figures.products(conn, place, period)
    for row in categories:
        row["category"] = row["category"] or str(_l("Other"))
    grids["products"] = Grid("products", _l("Products by revenue"), [
        Col("name", _l("Product")), Col("ocop_stars", _l("OCOP stars"), "stars"),
        Col("category", _l("Category")), Col("unit", _l("Unit")),
        Col("quantity_milli", _l("Quantity"), "quantity"), Col("revenue", _l("Revenue"), "money"),
        Col("lines", _l("Sale lines"), "count")], products,
        note=_l("OCOP stars and categories are the product's as the stall had it when it"
                " sold: the stall's own product, or the province's reference catalogue. Items"
                " typed in without a product count under Other."))
    grids["categories"] = Grid("categories", _l("Categories by revenue"), [
        Col("category", _l("Category")), Col("revenue", _l("Revenue"), "money"),
        Col("share", _l("Share of revenue"), "share"), Col("ocop", _l("of which OCOP"), "money"),
        Col("lines", _l("Sale lines"), "count")], categories)
    if place.level in ("commune", "market"):
        grids["silent"] = Grid("silent", _l("Stalls silent for more than 3 days"), [
            Col("name", _l("Stall")), Col("market", _l("Market")),
            Col("last_sync_at", _l("Last sync"), "time"), Col("acked_seq", _l("Entries"), "count")],
            figures.silent_stalls(conn, place, now), _stall_link(period))
    if place.level == "stall":
        grids["sales"] = Grid("sales", _l("Sales"), [
            Col("number", _l("No.")), Col("at", _l("Time"), "time"),
            Col("business_day", _l("Business day"), "day"), Col("total", _l("Total"), "money"),
            Col("cash", _l("Cash"), "money"), Col("qr", _l("QR"), "money"),
            Col("credit", _l("On credit"), "money"),
            Col("voided", _l("Voided"), "flag"), Col("seq", _l("Entry"), "count")],
            figures.stall_sales(conn, place, period))
        grids["voids"] = Grid("voids", _l("Voids"), [
            Col("number", _l("Sale no.")), Col("at", _l("Time"), "time"),
            Col("amount", _l("Amount"), "money"), Col("reason", _l("Reason")),
            Col("seq", _l("Entry"), "count")], figures.stall_voids(conn, place, period))
        grids["day_closes"] = Grid("day_closes", _l("Day closes (Z)"), [
            Col("z_number", _l("Z no.")), Col("business_day", _l("Business day"), "day"),
            Col("expected_cash", _l("Expected cash"), "money"),
            Col("counted_cash", _l("Counted cash"), "money"),
            Col("difference", _l("Difference"), "money"), Col("at", _l("Time"), "time")],
            figures.stall_day_closes(conn, place, period))
    alerts = figures.alert_rows(conn, place, period, include_unrouted=include_unrouted)
    for row in alerts:
        row["kind_name"] = str(ALERT_NAMES.get(row["kind"], row["kind"]))
    if place.level == "province":  # province-wide pages name communes, not single stalls
        for row in alerts:
            row.pop("stall"), row.pop("device_id"), row.pop("seq")
        where = Col("commune", _l("Commune/ward"))
    else:
        where = Col("stall", _l("Stall"))
    grids["alerts"] = Grid("alerts", _l("Alerts"), [
        Col("kind_name", _l("Alert")), where, Col("message", _l("What happened")),
        Col("at", _l("Time"), "time")], alerts, _stall_link(period),
        note=_l("Integrity alerts stay until an administrator resolves them; QR mismatches are "
                "those of the period."))
    return grids


def _purchases_grid(conn: Any, place: Place, period: figures.Period,
                    children: list[dict[str, Any]]) -> Grid:
    """Produce bought from growers by commune, market or stall × the products bought for the
    most money in the place (their quantity and amount), then the other products' amount."""
    child = scope.CHILD[place.level]
    products, rows = figures.purchase_breakdown(conn, place, period, children)
    columns = [Col("name", LEVEL_NAMES[child]), Col("purchased", _l("Paid to growers"), "money"),
               Col("purchases", _l("Purchases"), "count")]
    for index, (name, unit) in enumerate(products):
        columns.append(Col(f"product_{index}", name, "produce", unit=unit))
        for row in rows:
            row[f"product_{index}"] = {"quantity_milli": row[f"quantity_{index}"], "unit": unit,
                                       "amount": row[f"amount_{index}"]}
    columns.append(Col("other", _l("Other products (₫)"), "money"))
    return Grid("purchases", _l("Produce bought from growers"), columns, rows,
                _child_link(place, period),
                note=_l("The products the stalls paid growers the most for in this period, one"
                        " by one: the quantity bought in its unit, and under it what was paid;"
                        " the rest under Other products. The export has both in two columns."))


def _include_unrouted(conn: Any, place: Place) -> bool:
    """Bank payments that reached no stall belong to no commune: they show on a province's
    page, to an administrator, or to its viewers when the server holds that one province."""
    if place.level != "province":
        return False
    return g.user.is_admin or len(scope.all_provinces(conn)) == 1


# --- the pages ---------------------------------------------------------------------------------

def quantity_cell(quantity_milli: int) -> str:
    """A quantity the Vietnamese way: thousands grouped with dots, a decimal comma
    (1250500 → '1.250,5'; 750 → '0,75')."""
    sign = "-" if quantity_milli < 0 else ""
    whole, milli = divmod(abs(quantity_milli), 1000)
    text = format_number(whole)
    if milli:
        text += format_quantity(milli)[1:]
    return sign + text


@bp.app_template_filter("cell")
def cell(value: Any, kind: str) -> str:
    """A table cell as the page shows it (Vietnamese number format)."""
    if value is None:
        return "" if kind != "share" else "–"
    if kind == "money":
        return format_vnd(int(value))
    if kind == "count":
        return format_number(int(value))
    if kind == "share":
        return f"{value // 100},{value % 100:02d} %"
    if kind == "quantity":
        return quantity_cell(int(value))
    if kind == "time":
        from .admin import vn_time
        return vn_time(value) if isinstance(value, datetime) else str(value)
    if kind == "day":
        return f"{value[8:10]}/{value[5:7]}/{value[0:4]}" if len(str(value)) == 10 else str(value)
    if kind == "stars":
        return "★" * int(value) if value else ""
    if kind == "produce":   # no-break spaces keep '40 kg' and '7.200.000 ₫' whole
        if not value.get("amount"):
            return "–"
        return Markup('{}\u00a0{}<br><span class="small">{}</span>').format(
            quantity_cell(int(value["quantity_milli"])), value["unit"],
            format_vnd(int(value["amount"])).replace(" ", "\u00a0"))
    if kind == "flag":
        return _("yes") if value else ""
    return str(value)


def as_of_text(freshness: Freshness) -> str:
    """The moment the figures are complete up to, in Vietnam, to the second."""
    from sync.localtime import VIETNAM
    return freshness.as_of.astimezone(VIETNAM).strftime("%d/%m/%Y %H:%M:%S")


def freshness_headers(freshness: Freshness) -> dict[str, str]:
    """A download says it too: X-Figures-As-Of (ISO UTC) and X-Figures-Source."""
    from sync.protocol import utc_timestamp
    return {"X-Figures-As-Of": utc_timestamp(freshness.as_of),
            "X-Figures-Source": freshness.source}


@bp.get("/")
@login_required
def home() -> Any:
    """Open the user's own place (an administrator with several provinces picks one)."""
    with read_transaction(get_engine()) as conn:
        place = scope.home(conn, g.user)
        provinces = scope.all_provinces(conn) if place is None else []
    if place is not None:
        return redirect(url_for(".place", level=place.level, key=place.key, **request.args))
    if len(provinces) == 1:
        return redirect(url_for(".place", level="province", key=provinces[0]["id"],
                                **request.args))
    return render_template("server/dashboard_home.html", provinces=provinces)


@bp.get("/<level>/<key>")
@login_required
def place(level: str, key: str) -> Any:
    """A place's figures for a day, week or month, its trend and its tables."""
    period = _period()
    # Who may see which place, and a stall's own details (its device, last sync), are read on
    # the primary: a stall added or synced a moment ago is found as it is. The figures in one
    # snapshot, on the read replica if there is one (db.figures_transaction).
    with read_transaction(get_engine()) as conn:
        where = _visible_place(conn, level, key)
        unrouted = _include_unrouted(conn, where)
        details = figures.stall_details(conn, where) if level == "stall" else None
    with figures_transaction(g.now) as (conn, freshness):
        totals = figures.totals(conn, where, period)
        silent = figures.silent_count(conn, where, g.now)
        alert_counts = figures.alert_counts(conn, where, period, include_unrouted=unrouted)
        grids = build_grids(conn, where, period, g.now, unrouted)
    chart = trend_svg(grids["trend"].rows, _("Revenue by day"), _("Revenue"),
                      _("of which QR"))
    return render_template(
        "server/dashboard.html", place=where, period=period, totals=totals, silent=silent,
        alert_counts=alert_counts, alert_names=ALERT_NAMES, grids=grids, chart=chart,
        details=details, level_names=LEVEL_NAMES, period_names=PERIOD_NAMES,
        freshness=freshness, as_of=as_of_text(freshness),
        period_args=_period_args(period), previous=_period_args(period.shifted(-1)),
        following=_period_args(period.shifted(+1))), freshness_headers(freshness)


@bp.get("/<level>/<key>/<name>.csv")
@login_required
def export(level: str, key: str, name: str) -> Response:
    """One table of a page as CSV (UTF-8 with BOM, for Excel)."""
    period = _period()
    with read_transaction(get_engine()) as conn:
        where = _visible_place(conn, level, key)
        unrouted = _include_unrouted(conn, where)
    with figures_transaction(g.now) as (conn, freshness):
        grids = build_grids(conn, where, period, g.now, unrouted)
    grid = grids.get(name)
    if grid is None:
        abort(404)
    filename = f"{level}-{where.key}-{name}-{period.key}.csv"
    return Response(to_csv(grid), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"',
                             **freshness_headers(freshness)})


@bp.get("/commune/<key>/report.pdf")
@login_required
def monthly_report(key: str) -> Response:
    """The commune's monthly report as a PDF (month of the `date` argument)."""
    from .monthly_report import render_monthly_report
    try:
        period = figures.parse_period("month", request.args.get("date"))
    except figures.BadPeriod as exc:
        raise InvalidInput(str(exc), code="bad_period") from None
    with read_transaction(get_engine()) as conn:
        where = _visible_place(conn, "commune", key)
    with figures_transaction(g.now) as (conn, freshness):
        pdf = render_monthly_report(conn, where, period, g.now)
    filename = f"bao-cao-{period.key}-xa-{where.commune_id}.pdf"
    return Response(pdf, mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{filename}"',
                             **freshness_headers(freshness)})

