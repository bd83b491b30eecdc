"""Tax pages: the year's revenue and thresholds, the tax settings, products' tax groups, the sales
books, invoices and their corrections; and the home screen's tax banner."""
from __future__ import annotations

import logging
import sqlite3
from typing import Any

from flask import (Blueprint, Response, current_app, flash, jsonify, redirect,
                   render_template, request, session, url_for)
from flask_babel import gettext as _

from .. import catalog
from ..db import get_db
from ..db import write_transaction
from sync.errors import AppError, InvalidInput, NotFound
from sync.localtime import format_day, parse_day, today
from sync.money import format_vnd, parse_amount
from ..paper import render_pdf
from ..printing.config import PrinterConfig
from sync import invoice_xml

from ..sync import einvoice_status as status
from ..tax import books, invoices, purchase_list, rates, thresholds
from ..tax import receipt as tax_receipt
from ..tax import settings as tax_settings
from .api import read_json
from .guards import is_owner_now, login_required, owner_required

logger = logging.getLogger(__name__)
bp = Blueprint("tax", __name__, url_prefix="/tax")


def warning_text(warning: thresholds.Warning) -> str:
    """A threshold warning in the vendor's language."""
    values = {k: (format_day(v) if k == "deadline" else format_vnd(v))
              for k, v in warning.values.items()}
    if warning.code == "tax_near":
        return _("Revenue this year is close to %(threshold)s: above it, VAT and personal"
                 " income tax begin.", **values)
    if warning.code == "tax_due":
        return _("Revenue this year is above %(threshold)s: the household now owes VAT and"
                 " personal income tax on revenue.", **values)
    if warning.code == "mtt_near":
        return _("Revenue this year is close to %(threshold)s: above it, e-invoices from the"
                 " cash register become mandatory.", **values)
    return _("Revenue this year is above %(threshold)s: register for e-invoices from the cash"
             " register by %(deadline)s and switch them on in the tax settings.", **values)


@bp.app_template_global("tax_banner")
def tax_banner() -> dict[str, Any] | None:
    """What the home screen's tax banner shows (templates/pos/_tax_banner.html), or None.

    Never fails the page: a database problem hides the banner and is logged."""
    try:
        conn = get_db()
        ts = tax_settings.load(conn)
        day = today()
        messages = [(w.level, warning_text(w)) for w in thresholds.warnings(conn, ts, day)]
        out = status.outstanding(conn) if ts.mtt or _has_invoices(conn) else None
    except (sqlite3.Error, LookupError):
        logger.exception("tax banner not shown")
        return None
    if out and out.count:
        oldest = out.oldest_day()
        late = bool(oldest and oldest < day) or thresholds.deadline_passed(ts)
        if late or thresholds.near_deadline(ts):
            messages.append(("alert" if late else "info", _(
                "%(n)d e-invoices have not reached the tax authority yet: connect to the"
                " province before %(time)s.", n=out.count, time=ts.send_deadline)))
    if not messages:
        return None
    return {"messages": messages, "level": "alert" if any(l == "alert" for l, _m in messages)
            else "info"}


@bp.app_template_global("tax_mode")
def tax_mode() -> str:
    """"mtt" when sales get e-invoices (the sell screen then offers the buyer field), else
    "receipt"."""
    try:
        return tax_settings.load(get_db()).mode
    except sqlite3.Error:
        logger.exception("tax mode not read")
        return "receipt"


@bp.app_template_global("sale_invoice_code")
def sale_invoice_code(sale_id: str) -> str | None:
    """A sale's MTT code, for the sale page's link to its e-invoice (None for a receipt)."""
    return invoices.invoice_code(get_db(), sale_id)


def _has_invoices(conn: sqlite3.Connection) -> bool:
    return conn.execute("SELECT 1 FROM tax_invoices LIMIT 1").fetchone() is not None


def _period_args() -> tuple[str, str]:
    year = today()[:4]
    try:
        first = parse_day(request.args.get("from") or f"{year}-01-01")
        last = parse_day(request.args.get("to") or today())
        books.check_period(first, last)
    except ValueError:
        raise InvalidInput(_("Choose a period: a start and an end day, at most five years"
                             " apart."), field="from")
    return first, last


@bp.get("/")
@login_required
def overview() -> Any:
    """The year's revenue, warnings, tax estimate, invoices still out, and the books."""
    conn = get_db()
    ts = tax_settings.load(conn)
    day = today()
    year = int(day[:4])
    revenue = thresholds.year_revenue(conn, year)
    first, last = f"{year}-01-01", day
    book = books.build(conn, "s2a", first, last, ts)
    estimate = rates.estimate(day, book.by_group_vat)
    return render_template(
        "pos/tax.html", ts=ts, revenue=revenue, period=rates.period(day),
        warnings=[(w.level, warning_text(w)) for w in thresholds.warnings(conn, ts, day)],
        estimate=estimate, outstanding=status.outstanding(conn), first=first, last=last,
        invoices=invoices.list_invoices(conn, limit=30), can_edit=is_owner_now(),
        uncorrected=invoices.voided_without_correction(conn))


@bp.route("/settings", methods=["GET", "POST"])
@owner_required
def settings_page() -> Any:
    """Choose the receipt mode and enter the e-invoice registration."""
    conn = get_db()
    ts = tax_settings.load(conn)
    error, status_code = None, 200
    if request.method == "POST":
        changes = {key: request.form.get(key, "") for key in tax_settings.FIELDS
                   if key in request.form}
        try:
            new = tax_settings.validate(changes, ts)
        except AppError as exc:
            error, status_code = str(exc.message), exc.status
            ts = tax_settings.TaxSettings(**{**ts.to_api(), **{k: v for k, v in changes.items()
                                                             if k not in ("invoice_form",
                                                                          "device_block")}})
        else:
            with write_transaction(conn):
                tax_settings.save(conn, new)
            flash(_("Tax settings saved."))
            return redirect(url_for("tax.overview"))
    return render_template("pos/tax_settings.html", ts=ts, error=error,
                           groups=invoices.group_choices(session.get("lang", "vi"))), status_code


@bp.route("/products", methods=["GET", "POST"])
@owner_required
def products() -> Any:
    """Each product's tax group and whether VAT applies (KCT: not subject to VAT)."""
    conn = get_db()
    if request.method == "POST":
        choices = {}
        for product in catalog.list_products(conn):
            group = request.form.get(f"group-{product['id']}")
            vat = request.form.get(f"vat-{product['id']}")
            if group is not None and vat is not None:
                choices[product["id"]] = (group, vat)
        invoices.set_product_taxes(conn, choices)   # all or nothing
        flash(_("Tax groups saved."))
        return redirect(url_for("tax.products"))
    current = {row["product_id"]: dict(row) for row in conn.execute("SELECT * FROM product_tax")}
    ts = tax_settings.load(conn)
    return render_template("pos/tax_products.html", products=catalog.list_products(conn),
                           current=current, default_group=ts.default_group,
                           groups=invoices.group_choices(session.get("lang", "vi")))


@bp.get("/books/<kind>.<fmt>")
@owner_required
def book(kind: str, fmt: str) -> Any:
    """The sales book S1a-HKD or S2a-HKD for a period, as PDF or CSV."""
    if kind not in books.BOOK_KINDS or fmt not in ("pdf", "csv"):
        raise NotFound(_("This page does not exist."))
    conn = get_db()
    first, last = _period_args()
    ts = tax_settings.load(conn)
    built = books.build(conn, kind, first, last, ts)
    name = f"{books.FORM_NAMES[kind]}_{first}_{last}.{fmt}"
    if fmt == "csv":
        return Response(books.to_csv(built), mimetype="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})
    return Response(books.to_pdf(conn, built, ts, today()), mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{name}"'})


@bp.get("/purchase-list.<fmt>")
@owner_required
def purchase_list_file(fmt: str) -> Any:
    """Form 02/TNDN, goods bought without an invoice from growers, for a period: PDF or CSV."""
    if fmt not in ("pdf", "csv"):
        raise NotFound(_("This page does not exist."))
    conn = get_db()
    first, last = _period_args()
    rows = purchase_list.build(conn, first, last)
    name = f"02-TNDN_{first}_{last}.{fmt}"
    if fmt == "csv":
        return Response(purchase_list.to_csv(rows), mimetype="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})
    return Response(purchase_list.to_pdf(conn, rows, first, last, tax_settings.load(conn),
                                         today()), mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{name}"'})


@bp.post("/refresh")
@login_required
def refresh() -> Any:
    """Ask the province which invoices still wait for the tax authority."""
    if status.refresh(get_db()):
        flash(_("Checked with the province."))
    else:
        flash(_("The province could not be reached; try again when online."))
    return redirect(url_for("tax.overview"))


@bp.get("/invoices/<code>")
@login_required
def invoice(code: str) -> Any:
    """One invoice, its corrections, and (for the owner) the correction form."""
    conn = get_db()
    found = invoices.get_invoice(conn, code)
    return render_template("pos/tax_invoice.html", invoice=found,
                           corrections=invoices.corrections_of(conn, code),
                           can_edit=is_owner_now(), error=None)


@bp.get("/invoices/<code>.xml")
@login_required
def invoice_xml_file(code: str) -> Any:
    """The invoice's XML in the tax authority's structure."""
    found = invoices.get_invoice(get_db(), code)
    kind = "sale" if found["kind"] == "original" else invoices.CORRECTION_KIND
    xml = invoice_xml.build(kind, found["payload"], found["at"], found["entry_id"])
    return Response(xml, mimetype="application/xml",
                    headers={"Content-Disposition": f'inline; filename="{code}.xml"'})


@bp.get("/invoices/<code>.pdf")
@login_required
def invoice_pdf(code: str) -> Any:
    """The printed invoice (80 mm roll by default; width=58|80|A5|A4)."""
    paper = request.args.get("width", "80").upper()
    if paper not in ("58", "80", "A5", "A4"):
        raise InvalidInput(_("Paper must be 58, 80, A5 or A4."), field="width")
    conn = get_db()
    doc = tax_receipt.document_for_invoice(conn, code, copy=request.args.get("copy") == "1")
    return Response(render_pdf(doc, paper, PrinterConfig.load(conn).printable_for(paper)),
                    mimetype="application/pdf")


@bp.post("/invoices/<code>/correct")
@owner_required
def correct(code: str) -> Any:
    """Issue an adjustment or replacement invoice (JSON body, or the page's adjustment form)."""
    conn = get_db()
    device_id = current_app.config["DEVICE_ID"]
    by = "owner" if session.get("role") == "owner" else "helper+owner_pin"
    if request.is_json:
        issued = invoices.issue_correction(conn, device_id, code, read_json(), by)
        return jsonify({k: v for k, v in issued.items() if k != "payload"} |
                       {"lines": issued["payload"]["lines"]}), 201
    form = request.form
    try:
        amount_text = form.get("amount", "").strip().replace(".", "")
        negative = amount_text.startswith("-")
        amount = parse_amount(amount_text.removeprefix("-"), field="amount")
        amount = -amount if negative else amount
        issued = invoices.issue_correction(conn, device_id, code, {
            "type": "adjustment", "reason": form.get("reason"),
            "lines": [{"name": form.get("name") or form.get("reason"), "amount": amount}]}, by)
    except AppError as exc:
        return render_template("pos/tax_invoice.html",
                               invoice=invoices.get_invoice(conn, code),
                               corrections=invoices.corrections_of(conn, code), can_edit=True,
                               error=str(exc.message)), exc.status
    flash(_("Adjustment invoice %(code)s issued.", code=issued["code"]))
    return redirect(url_for("tax.invoice", code=issued["code"]))
