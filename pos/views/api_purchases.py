"""The JSON API of buying from growers (issue 19) and the stock it makes.

The same authentication as the rest of /api (api_base.authenticate). Anyone who may sell may
record a purchase (a grower comes to the stall when she comes, often while the owner is away;
the entry names who bought, and X/Z shows the cash paid as cash out, so the drawer still adds
up) and see the stock; a count replaces the stock figures and could hide a shortfall, so it is
the owner's, like voids and prices.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, request

from .. import printouts, purchases, receipts, settings
from ..paper import render_pdf
from ..printing.config import PrinterConfig
from ..db import get_db
from .api_base import authenticate, json_object, require_owner

bp = Blueprint("api_purchases", __name__, url_prefix="/api")
bp.before_request(authenticate)


@bp.post("/purchases")
def record_purchase() -> Any:
    """Goods bought from a grower: `{"supplier": {"name", "id_number"?, "address"?, "phone"?},
    "lines": [{"product_id", "quantity", "unit_price"} | {"name", "unit", "quantity",
    "unit_price", "price"?}], "payments": [{"method": "cash" | "qr", "amount"}]}`; a single payment may leave out its
    amount: it pays the whole purchase."""
    return jsonify(purchases.record_purchase(get_db(), current_app.config["DEVICE_ID"],
                                             json_object(), g.api_role)), 201


@bp.get("/stock")
def stock() -> Any:
    """Every product on sale or tracked, with its stock (null when not tracked)."""
    return jsonify(purchases.stock(get_db()))


@bp.post("/stock/counts")
def record_count() -> Any:
    """A count: `{"lines": [{"product_id", "counted": "10"}], "reason"}` (the owner's)."""
    require_owner()
    return jsonify(purchases.record_count(get_db(), current_app.config["DEVICE_ID"],
                                          json_object(), g.api_role)), 201


@bp.get("/purchases/<int:number>/slip.pdf")
def purchase_slip(number: int) -> Any:
    """The grower's slip (PHIẾU THU MUA) for a 58/80 mm roll, A5 or A4: what was bought, the
    amount, how it was paid, and lines to sign."""
    conn = get_db()
    purchase, supplier = purchases.purchase_with_supplier(conn, number)
    config = PrinterConfig.load(conn)
    paper, lang = printouts.pdf_response_args(request.args.get("width"), request.args.get("lang"),
                                              config.paper)
    document = receipts.purchase_document(purchase, supplier, settings.stall_settings(conn),
                                          lang=lang)
    return Response(render_pdf(document, paper, config.printable_for(paper)),
                    mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="thu-mua-{number}.pdf"'})
