"""The sell screen: product tiles, cart, keypad and cash payment (the sale is posted to the API)."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template

from .. import bankcheck, business_days, catalog, sales
from sync.localtime import business_day
from sync.protocol import utc_timestamp
from ..db import get_db
from . import credit
from . import printer as printer_view
from . import sync as sync_view
from .guards import login_required

bp = Blueprint("sell", __name__)
# The credit book's pages (/credit/…): selling on credit starts on this screen.
bp.register_blueprint(credit.bp)
# 5.000 đ too: herbs sell at 5.000 a bunch.
BANKNOTES = (5_000, 10_000, 20_000, 50_000, 100_000, 200_000, 500_000)


@bp.route("/")
@login_required
def index() -> Any:
    """Show the sell screen."""
    conn = get_db()
    products = catalog.list_products(conn, active_only=True)
    categories = sorted({p["category"] for p in products if p["category"]})
    now = utc_timestamp()
    day = business_days.current_business_day(conn, now)
    # After the Z close, sales count for the next business day: the screen says so.
    after_close = day if day != business_day(now) else None
    # Tracked goods show what is left (issue 19); selling more than that only warns.
    stock = {row[0]: {"milli": row[1], "low": row[2] is not None and row[1] <= row[2]}
             for row in conn.execute("SELECT product_id, on_hand_milli, low_milli FROM stock"
                                     " WHERE tracked = 1")}
    return render_template("pos/sell.html", products=products, categories=categories, stock=stock,
                           banknotes=BANKNOTES, printer=printer_view.status_for_screen(),
                           sync=sync_view.current_screen_state(),
                           totals=sales.day_totals(conn, day),
                           bank_mismatches=bankcheck.mismatches_on(conn, day),
                           after_close=after_close)
