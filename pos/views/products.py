"""The product catalogue pages: list, add and change products (prices are the owner's)."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, redirect, render_template, request, url_for

from .. import catalog, purchases
from ..db import get_db
from sync.errors import AppError
from .guards import is_owner_now, login_required, owner_required

bp = Blueprint("products", __name__, url_prefix="/products")
FORM_FIELDS = ("name", "unit", "price", "category", "barcode", "ocop_stars", "trace_url",
               "low_stock")


@bp.route("/")
@login_required
def index() -> Any:
    """List every product, inactive ones last, with the stock of tracked ones."""
    conn = get_db()
    products = catalog.list_products(conn)
    products.sort(key=lambda p: not p["active"])
    stock = {item["product_id"]: item for item in purchases.stock(conn) if item["tracked"]}
    return render_template("pos/products.html", products=products, stock=stock,
                           can_edit=is_owner_now())


def _form_data() -> dict[str, Any]:
    data: dict[str, Any] = {key: request.form.get(key, "") for key in FORM_FIELDS}
    data["price"] = data["price"].replace(".", "").replace(" ", "")
    data["active"] = "1" if request.form.get("active") else "0"
    return data


def _scanned_code() -> str:
    """The barcode the sell screen scanned and did not know (`?barcode=`), to fill in."""
    code = request.args.get("barcode", "")
    return code if catalog.BARCODE.match(code) else ""


@bp.route("/new", methods=["GET", "POST"])
@bp.route("/<int:product_id>", methods=["GET", "POST"])
@owner_required
def edit(product_id: int | None = None) -> Any:
    """Add a product, or change one."""
    conn = get_db()
    product = catalog.get_product(conn, product_id) if product_id is not None else {
        "name": "", "unit": "kg", "price": "", "category": "",
        "barcode": _scanned_code(), "ocop_stars": None, "trace_url": "", "active": True,
        "low_stock": None}
    error, status = None, 200
    if request.method == "POST":
        data = _form_data()
        try:
            catalog.save_product(conn, current_app.config["DEVICE_ID"], data, product_id)
        except AppError as exc:
            error, status = str(exc.message), exc.status
            product = {**product, **data, "active": data["active"] == "1"}
        else:
            return redirect(url_for("products.index"))
    return render_template("pos/product_form.html", product=product, product_id=product_id,
                           units=catalog.SUGGESTED_UNITS, error=error), status
