"""The stall's JSON API (DESIGN.md): sales, voids, products, settings and sync status."""
from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, request
from flask_babel import gettext as _

from .. import (business_days, catalog, daybook, haggling, limits, openapi, printouts, refunds,
               sales, settings)
from ..printing import queue as print_queue
from ..printing.config import PrinterConfig
from ..printing.messages import message_text
from ..printing.status import printer_status
from ..tax import invoices as tax_invoices
from ..tax import settings as tax_settings
from ..sync.state import read_state
from sync.numbers import NumberRefused, whole_number
from sync.protocol import utc_timestamp
from ..db import get_db
from ..db import write_transaction
from sync.errors import Conflict, Forbidden, InvalidInput
from .api_base import authenticate, json_object, read_json, require_owner
from .sync import trigger as trigger_sync

bp = Blueprint("api", __name__, url_prefix="/api")
bp.before_request(authenticate)


def _device_id() -> str:
    return current_app.config["DEVICE_ID"]


@bp.get("/openapi.json")
def openapi_document() -> Any:
    """Serve the OpenAPI document of this API."""
    return jsonify(openapi.document())


@bp.post("/sales")
def create_sale() -> Any:
    """Record a sale."""
    conn = get_db()
    sale = sales.record_sale(conn, _device_id(), read_json(), sold_by=g.api_role,
                             owner=g.api_owner)
    print_queue.enqueue_receipt_if_auto(conn, sale["id"])  # after the commit; never fails the sale
    return jsonify(sale), 201


@bp.get("/sales")
def list_sales() -> Any:
    """List sales after a sequence number, oldest first."""
    try:
        since_seq = whole_number(request.args.get("since_seq", "0"))
        limit = whole_number(request.args.get("limit", "100"))
    except NumberRefused:
        raise InvalidInput(_("since_seq and limit must be whole numbers."))
    if since_seq < 0 or not 1 <= limit <= limits.MAX_PAGE:
        raise InvalidInput(_("since_seq must be 0 or more and limit between 1 and %(most)d.",
                             most=limits.MAX_PAGE))
    return jsonify({"sales": sales.list_sales(get_db(), since_seq=since_seq, limit=limit)})


@bp.get("/sales/<sale_id>")
def get_sale(sale_id: str) -> Any:
    """Show one sale."""
    return jsonify(sales.get_sale(get_db(), sale_id))


@bp.get("/sales/<sale_id>/invoice.xml")
def invoice_xml(sale_id: str) -> Any:
    """The sale's MTT e-invoice in the tax authority's XML structure (404 for a plain receipt)."""
    conn = get_db()
    sales.get_sale(conn, sale_id)  # 404 for an unknown sale first
    return Response(tax_invoices.sale_invoice_xml(conn, sale_id), mimetype="application/xml")


@bp.get("/sales/<sale_id>/receipt.pdf")
def receipt_pdf(sale_id: str) -> Any:
    """The sale's receipt as a PDF (width 58, 80, A5 or A4; copy=1 marks a reprint)."""
    conn = get_db()
    sales.get_sale(conn, sale_id)  # 404 before any rendering
    paper, lang = printouts.pdf_response_args(request.args.get("width"), request.args.get("lang"),
                                              PrinterConfig.load(conn).paper)
    pdf = printouts.document_pdf(conn, "receipt", sale_id, copy=request.args.get("copy") == "1",
                                 lang=lang, paper=paper)
    return Response(pdf, mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="receipt-{sale_id}.pdf"'})


@bp.post("/sales/<sale_id>/print")
def print_receipt(sale_id: str) -> Any:
    """Queue the sale's receipt for the printer (copy=true for a reprint, marked BẢN SAO)."""
    conn = get_db()
    sales.get_sale(conn, sale_id)
    body = json_object() if request.content_length else {}
    copy = body.get("copy", False)
    if not isinstance(copy, bool):
        raise InvalidInput(_("copy must be true or false."), field="copy")
    if PrinterConfig.load(conn).backend == "none":
        raise Conflict(_("No printer is set up. Open the PDF and print it from the browser."),
                       code="printing_off")
    job_id = print_queue.enqueue(conn, "receipt", sale_id, copy=copy)
    return jsonify({"job_id": job_id, "printer": _printer_status(conn)}), 202


def _printer_status(conn: Any) -> dict[str, Any]:
    status = printer_status(conn)
    return {**status, "message": str(message_text(status["message"]))}


@bp.get("/printer")
def printer_state() -> Any:
    """The printer's state and its queue, for the screen's indicator."""
    return jsonify(_printer_status(get_db()))


@bp.post("/sales/<sale_id>/void")
def void_sale(sale_id: str) -> Any:
    """Void a sale with a reason."""
    require_owner()
    body = json_object()
    return jsonify(sales.void_sale(get_db(), _device_id(), sale_id, body.get("reason"),
                                   voided_by=g.api_role))


@bp.post("/sales/<sale_id>/refund")
def refund_sale(sale_id: str) -> Any:
    """Give back part of a sale (some lines, part of a quantity), in cash or by transfer."""
    require_owner()
    # A helper got here with the owner's PIN (require_owner): say so, as a void does.
    refunded_by = "helper+owner_pin" if g.api_role == "helper" else g.api_role
    return jsonify(refunds.refund_sale(get_db(), _device_id(), sale_id, json_object(),
                                       refunded_by)), 201


@bp.get("/products")
def list_products() -> Any:
    """List the catalogue, or with `?barcode=CODE` the products with exactly that barcode."""
    if "barcode" in request.args:
        return jsonify({"products": catalog.products_with_barcode(get_db(),
                                                                  request.args["barcode"])})
    return jsonify({"products": catalog.list_products(get_db())})


@bp.post("/products")
def create_product() -> Any:
    """Add a product."""
    require_owner()
    body = json_object()
    return jsonify(catalog.save_product(get_db(), _device_id(), body)), 201


@bp.get("/products/<int:product_id>")
def get_product(product_id: int) -> Any:
    """Show one product."""
    return jsonify(catalog.get_product(get_db(), product_id))


@bp.patch("/products/<int:product_id>")
def update_product(product_id: int) -> Any:
    """Change a product (price, name, active...)."""
    require_owner()
    body = json_object()
    return jsonify(catalog.save_product(get_db(), _device_id(), body, product_id))


@bp.get("/settings")
def get_settings() -> Any:
    """Show the stall settings."""
    return jsonify(_settings_answer(get_db()))


@bp.patch("/settings")
def patch_settings() -> Any:
    """Change some stall settings."""
    require_owner()
    body = json_object()
    tax_changes = body.pop("tax", None)
    limit = body.pop(haggling.LIMIT_KEY, None)
    clean = settings.validate_stall(body)
    if limit is not None:
        if g.api_role == "helper":   # the owner's PIN opens one task, not the helper's own limit
            raise Forbidden(_("Only the owner, unlocked with her own PIN, can change the"
                              " helper's limit."), code="owner_required")
        limit = haggling.clean_limit(limit)
    conn = get_db()
    new_tax = tax_settings.validate_with_stall(conn, clean, tax_changes)
    with write_transaction(conn):
        for key, value in clean.items():
            settings.write(conn, key, value)
        if limit is not None:
            settings.write(conn, haggling.LIMIT_KEY, str(limit))
        if tax_changes is not None:
            tax_settings.save(conn, new_tax)
    return jsonify(_settings_answer(conn))


def _settings_answer(conn: Any) -> dict[str, Any]:
    return {**settings.stall_settings(conn), "device_id": _device_id(),
            haggling.LIMIT_KEY: haggling.helper_limit(conn),
            "tax": tax_settings.load(conn).to_api()}


@bp.post("/cash-moves")
def create_cash_move() -> Any:
    """Record an opening float, cash in or cash out."""
    require_owner()
    body = json_object()
    move = daybook.record_cash_move(get_db(), _device_id(), body.get("type"), body.get("amount"),
                                    body.get("reason"), g.api_role)
    return jsonify(move), 201


@bp.get("/reports/x")
def x_report() -> Any:
    """The figures of a business day so far (today's by default)."""
    conn = get_db()
    day = request.args.get("day") or business_days.current_business_day(conn, utc_timestamp())
    try:
        date.fromisoformat(day)
    except ValueError:
        raise InvalidInput(_("day must be a date such as 2026-11-23."), field="day")
    return jsonify(daybook.day_report(conn, day))


@bp.post("/day-close")
def close_day() -> Any:
    """Close the current business day with the counted cash (Z report)."""
    require_owner()
    body = json_object()
    conn = get_db()
    day = business_days.current_business_day(conn, utc_timestamp())
    return jsonify(daybook.close_day(conn, _device_id(), day, body.get("counted_cash"),
                                     g.api_role)), 201


@bp.get("/reports/z/<int:z_number>")
def z_report(z_number: int) -> Any:
    """One frozen Z report."""
    return jsonify(daybook.z_report(get_db(), z_number))


@bp.get("/sync/status")
def sync_status() -> Any:
    """Say how much of the journal still waits to reach the provincial server."""
    return jsonify(read_state(get_db()).to_dict())


@bp.post("/sync")
def sync_now() -> Any:
    """Start a sync now (202); follow it with GET /api/sync/status."""
    started = trigger_sync(current_app.config["DATABASE"])
    return jsonify({"sync": started, **read_state(get_db()).to_dict()}), 202

