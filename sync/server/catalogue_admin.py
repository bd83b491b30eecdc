"""The administrator's page of the reference catalogue that flows down to stalls.

A product belongs to a province, or to one commune/ward or one market of it; saving a product
with the same name in the same scope changes it (a new catalogue version, so stalls pull it).
A binding price is one the market board sets: stalls take it even over their own price.
Products are withdrawn (inactive), never deleted, so that a stall's catalogue version only grows.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from sync.money import parse_amount
from sync.numbers import whole_number

from .admin import admin_required
from .db import get_engine
from .catalogue import set_catalogue_product
from .db import catalogue_products, communes, markets, provinces, read_transaction
from .db import write_transaction
from sync.errors import InvalidInput

bp = Blueprint("catalogue_admin", __name__, url_prefix="/admin")

FIELDS = ("province", "commune", "market", "name", "unit", "price", "category", "ocop_stars")


def _products(conn: Any) -> list[dict[str, Any]]:
    t = catalogue_products
    return [dict(row) for row in conn.execute(
        select(t, provinces.c.name.label("province"), communes.c.name.label("commune"),
               markets.c.name.label("market"))
        .select_from(t.join(provinces, provinces.c.id == t.c.province_id)
                     .outerjoin(communes, communes.c.id == t.c.commune_id)
                     .outerjoin(markets, markets.c.id == t.c.market_id))
        .order_by(provinces.c.name, communes.c.name.is_not(None), communes.c.name,
                  markets.c.name.is_not(None), markets.c.name, t.c.name)).mappings()]


def _page(form: dict[str, Any], error: str | None = None, status: int = 200) -> Any:
    with read_transaction(get_engine()) as conn:
        rows = _products(conn)
    return render_template("server/catalogue.html", products=rows, form=form,
                           error=error), status


@bp.get("/catalogue")
@admin_required
def reference_catalogue() -> Any:
    """List the reference catalogue and a form to add or change a product."""
    return _page({"active": True})


@bp.post("/catalogue")
@admin_required
def save_reference_product() -> Any:
    """Add a product, or change the one with this name in this scope."""
    form: dict[str, Any] = {key: " ".join(request.form.get(key, "").split()) for key in FIELDS}
    form["binding"] = request.form.get("binding") == "1"
    form["active"] = request.form.get("active") == "1"
    try:
        price = parse_amount(form["price"].replace(".", ""), field="price")
        stars = whole_number(form["ocop_stars"]) if form["ocop_stars"] else None
        with write_transaction(get_engine()) as conn:
            product = set_catalogue_product(
                conn, province=form["province"], commune=form["commune"] or None,
                market=form["market"] or None, name=form["name"], unit=form["unit"],
                price=price, category=form["category"] or None, binding=form["binding"],
                active=form["active"], ocop_stars=stars)
    except InvalidInput as exc:  # the stall's lazy messages and the server's plain ones alike
        return _page(form, _(str(exc.message)), 400)
    except ValueError:
        return _page(form, _("OCOP rating is 3, 4 or 5 stars."), 400)
    flash(_("Saved: %(name)s (catalogue version %(version)d).", name=product["name"],
            version=product["version"]))
    return redirect(url_for("catalogue_admin.reference_catalogue"))
