"""The JSON API of carts set aside ("Giữ đơn"), with the same authentication as the rest of /api.

Anyone who may sell may park and take back a cart; whether a haggled price needs the owner is
judged when the cart is sold (pos/parked_carts.py).
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, g, jsonify

from .. import parked_carts
from ..db import get_db
from .api_base import authenticate, read_json

bp = Blueprint("api_parked", __name__, url_prefix="/api")
bp.before_request(authenticate)


@bp.get("/parked-carts")
def list_parked_carts() -> Any:
    """The carts waiting, oldest first."""
    return jsonify({"parked_carts": parked_carts.list_parked(get_db())})


@bp.post("/parked-carts")
def park_cart() -> Any:
    """Set a cart aside: `{"label"?, "lines", "discount"?}`, checked as a sale's lines are."""
    return jsonify(parked_carts.park(get_db(), read_json(), created_by=g.api_role)), 201


@bp.post("/parked-carts/<cart_id>/take")
def take_parked_cart(cart_id: str) -> Any:
    """Take a cart back to the till: it is no longer waiting (a second take gets 404)."""
    return jsonify(parked_carts.take(get_db(), cart_id))
