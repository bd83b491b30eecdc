"""The buying pages (issue 19): goods bought from growers on the touch screen (Nhập hàng), the
list of purchases and one purchase with the grower's slip, the stock on hand, and the count
(Kiểm kho).

The pages call pos/purchases.py exactly as the JSON API does (pos/views/api_purchases.py), so a
refusal is the same message on the page as in the API, and nothing is written. Every number
comes from the app's keypad: quantities take a comma or a point as the decimal sign, amounts may
carry the dots the vendor reads (12.000).
"""
from __future__ import annotations

from typing import Any

from flask import (Blueprint, current_app, flash, redirect, render_template, request, session,
                   url_for)
from flask_babel import gettext as _

from .. import catalog, printouts, purchases
from ..db import get_db
from ..printing import queue as print_queue
from ..printing.config import PrinterConfig
from sync.errors import AppError, InvalidInput
from sync.money import format_number
from .guards import is_owner_now, login_required, owner_required, safe_next

bp = Blueprint("buying", __name__)
MAX_FORM_LINES = 8      # lines on the buying page; the API takes more
RECENT_GROWERS = 8      # chips of the growers she bought from last
LIST_LENGTH = 100       # purchases on the list page
NEW = "new"             # the product choice that names a new product


def _role() -> str:
    return str(session.get("role") or "helper")


def _amount(text: str | None) -> str:
    """12.000 or 12 000 as she reads it, to the digits the API takes."""
    return (text or "").replace(".", "").replace(" ", "").strip()


def _quantity(text: str | None) -> str:
    """12,5 from the keypad (or 12.5) to the API's 12.5."""
    return (text or "").strip().replace(",", ".")


def _line_count(form: Any) -> int:
    try:
        count = int(form.get("lines", "1"))
    except ValueError:
        count = 1
    if form.get("action") == "add":
        count += 1
    return max(1, min(count, MAX_FORM_LINES))


def _purchase_request(form: Any, count: int) -> dict[str, Any]:
    """The buying form as the API's request. Empty rows are left out; a row that names a new
    product carries its name and unit (and its selling price, if she gave one)."""
    supplier = {key: form.get(f"grower_{key}", "").strip()
                for key in ("name", "id_number", "address", "phone")}
    lines: list[dict[str, Any]] = []
    for n in range(1, count + 1):
        choice, quantity = form.get(f"p{n}", ""), _quantity(form.get(f"q{n}"))
        unit_price = _amount(form.get(f"c{n}"))
        if not choice and not quantity and not unit_price:
            continue
        line: dict[str, Any] = {"quantity": quantity, "unit_price": unit_price}
        if choice == NEW:
            line.update(name=form.get(f"name{n}", ""), unit=form.get(f"unit{n}", ""))
            price = _amount(form.get(f"price{n}"))
            if price:
                line["price"] = price
        elif choice.isdigit():
            line["product_id"] = int(choice)
        else:
            raise InvalidInput(_("Choose the goods on line %(n)s.", n=n), field=f"lines[{n - 1}]")
        lines.append(line)
    method = "qr" if form.get("method") == "qr" else "cash"
    # One payment for the whole purchase on this page (the API also splits one): without an
    # amount it is the lines' total.
    return {"supplier": {k: v for k, v in supplier.items() if v or k == "name"},
            "lines": lines, "payments": [{"method": method}]}


def _growers(conn: Any) -> list[dict[str, Any]]:
    """The growers she bought from last, for chips."""
    return [dict(row) for row in conn.execute(
        "SELECT id, name, address FROM suppliers ORDER BY last_seq DESC LIMIT ?",
        (RECENT_GROWERS,))]


def _grower(conn: Any, raw: str | None) -> dict[str, str]:
    """A known grower's details to fill the form (?grower=<id>)."""
    if raw and raw.isdigit():
        row = conn.execute("SELECT name, id_number, address, phone FROM suppliers WHERE id = ?",
                           (int(raw),)).fetchone()
        if row:
            return {f"grower_{key}": row[key] or "" for key in row.keys()}
    return {}


@bp.route("/purchases/new", methods=["GET", "POST"])
@login_required
def buy() -> Any:
    """Buy from a grower: who, what (a product in the list or a new one), how much, at what
    price, paid in cash from the drawer or by transfer."""
    conn = get_db()
    form: dict[str, str] = dict(request.form) if request.method == "POST" else \
        _grower(conn, request.args.get("grower"))
    count = _line_count(request.form) if request.method == "POST" else 1
    error, status = None, 200
    if request.method == "POST" and request.form.get("action") != "add":
        try:
            done = purchases.record_purchase(conn, current_app.config["DEVICE_ID"],
                                             _purchase_request(request.form, count), _role())
        except AppError as exc:
            error, status = str(exc.message), exc.status
        else:
            flash(_("Purchase no. %(number)s saved: %(amount)s ₫.", number=done["number"],
                    amount=format_number(done["total"])))
            for warning in done["warnings"]:
                flash(warning["message"])
            return redirect(url_for("buying.purchase", number=done["number"]))
    return render_template("pos/purchase_form.html", form=form, count=count, error=error,
                           products=purchases.stock(conn), growers=_growers(conn),
                           units=catalog.SUGGESTED_UNITS, new=NEW), status


@bp.get("/purchases/")
@login_required
def purchase_list() -> Any:
    """The latest purchases, newest first, with the grower's name as the stall knows it."""
    conn = get_db()
    rows = [dict(row) for row in conn.execute(
        "SELECT p.number, p.business_day, p.at, p.total, p.cash, p.qr, s.name AS grower"
        " FROM purchases p JOIN suppliers s ON s.id = p.supplier_id"
        " ORDER BY p.number DESC LIMIT ?", (LIST_LENGTH,))]
    return render_template("pos/purchases.html", purchases=rows)


@bp.get("/purchases/<int:number>")
@login_required
def purchase(number: int) -> Any:
    """One purchase: what was bought, from whom, how she was paid, and her slip."""
    conn = get_db()
    bought, grower = purchases.purchase_with_supplier(conn, number)
    return render_template("pos/purchase.html", purchase=bought, grower=grower)


@bp.post("/purchases/<int:number>/print")
@login_required
def print_slip(number: int) -> Any:
    """Print the grower's slip; without a printer, open its PDF in the print view."""
    conn = get_db()
    purchases.purchase_with_supplier(conn, number)  # 404 for an unknown number
    if PrinterConfig.load(conn).backend == "none":
        return render_template(
            "pos/print_view.html",
            pdf_url=url_for("api_purchases.purchase_slip", number=number),
            back=safe_next(request.form.get("back"), url_for("buying.purchase", number=number)))
    print_queue.enqueue(conn, "report", printouts.PURCHASE_PREFIX + str(number))
    flash(_("Slip sent to the printer."))
    return redirect(url_for("buying.purchase", number=number))


@bp.get("/stock/")
@login_required
def stock() -> Any:
    """What is in stock: tracked goods with their figure, low and short ones marked."""
    return render_template("pos/stock.html", stock=purchases.stock(get_db()),
                           can_count=is_owner_now())


def _count_request(form: Any, product_ids: list[int]) -> dict[str, Any]:
    """The count form as the API's request: the products whose field was filled in."""
    lines = [{"product_id": pid, "counted": _quantity(form.get(f"n{pid}"))}
             for pid in product_ids if (form.get(f"n{pid}") or "").strip()]
    return {"lines": lines, "reason": form.get("reason", "")}


@bp.route("/stock/count", methods=["GET", "POST"])
@owner_required
def count() -> Any:
    """Kiểm kho: what is really there becomes the stock; the difference is written down with
    its reason (spoilage, drying loss...)."""
    conn = get_db()
    items = sorted(purchases.stock(conn), key=lambda item: not item["tracked"])  # kept ones first
    error, status = None, 200
    if request.method == "POST":
        body = _count_request(request.form, [item["product_id"] for item in items])
        try:
            if not body["lines"]:
                raise InvalidInput(_("Weigh or count at least one item."), field="lines")
            done = purchases.record_count(conn, current_app.config["DEVICE_ID"], body, _role())
        except AppError as exc:
            error, status = str(exc.message), exc.status
        else:
            flash(_("Count saved: %(count)s items.", count=len(done["lines"])))
            return redirect(url_for("buying.stock"))
    return render_template("pos/stock_count.html", items=items, form=request.form,
                           error=error), status
