"""The JSON API of the credit book (sổ nợ): customers, their balances and histories, repayments.

The same authentication as the rest of /api (api_base.authenticate). Anyone who may sell may
find and add a customer, sell on credit (within her limit) and take a repayment; changing a
customer (her limit, hiding her) is the owner's.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, g, jsonify, request

from .. import credit_book, qrpay
from ..db import get_db
from .api_base import authenticate, json_object, require_owner

bp = Blueprint("api_credit", __name__, url_prefix="/api")
bp.before_request(authenticate)


@bp.post("/customers")
def create_customer() -> Any:
    """A new customer: `{"name", "phone"?, "note"?, "credit_limit"?}`."""
    return jsonify(credit_book.create_customer(get_db(), current_app.config["DEVICE_ID"],
                                               json_object())), 201


@bp.get("/customers")
def list_customers() -> Any:
    """Customers found by name (without diacritics) or phone; `?owing=1`: everyone who owes,
    the oldest debt first."""
    conn = get_db()
    if request.args.get("owing") == "1":
        return jsonify({"customers": credit_book.debtors(conn)})
    return jsonify({"customers": credit_book.find_customers(conn, request.args.get("q"))})


@bp.get("/customers/<int:customer_id>")
def get_customer(customer_id: int) -> Any:
    """A customer, her balance and her history (credit sales, repayments, voids, refunds)."""
    return jsonify(credit_book.get_customer(get_db(), customer_id))


@bp.patch("/customers/<int:customer_id>")
def update_customer(customer_id: int) -> Any:
    """Change a customer's name, phone, note, credit limit or `active` (the owner's)."""
    require_owner()
    return jsonify(credit_book.update_customer(get_db(), current_app.config["DEVICE_ID"],
                                               customer_id, json_object()))


@bp.post("/customers/<int:customer_id>/payments")
def repay(customer_id: int) -> Any:
    """A repayment: in cash, recorded now; by transfer (`"method": "qr"`), a VietQR code with a
    reference, recorded when the vendor or the bank confirms it (/api/qr-payments/<id>)."""
    body, conn = json_object(), get_db()
    if body.get("method") == "qr":
        return jsonify(qrpay.create_repayment(conn, customer_id, body, g.api_role)), 201
    return jsonify(credit_book.repay(conn, current_app.config["DEVICE_ID"], customer_id, body,
                                     g.api_role)), 201
