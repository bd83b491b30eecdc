"""The margin (issue 19, "buying from growers"): per product and period, what was bought and
paid, what was sold and earned, what is left, the average purchase price and the gross margin.
The vendor sees whether the herbs paid.

A period is a range of the stall's business days (pos/business_days.py), both ends included,
at most `MAX_DAYS` long. Everything is read from the projections of the journal (sales, refunds,
purchases, stock), never from the journal itself, through their business-day indexes.

Definitions (money in whole đồng, quantities in thousandths of the product's unit, `*_milli`):

- **Bought / paid**: the purchase lines of the period's purchases: their quantities and their
  amounts (what the grower was paid).
- **Sold / revenue**: the X/Z reports' revenue, split by product. A sale of the period counts
  unless it was voided (a void takes its sale off the sale's own day, as `day_totals` does; a
  closed day cannot be voided any more, so its Z and this agree); a sale's discount is shared
  out over its lines exactly as refunds and the tax books share it
  (`sync.money.net_line_amounts`); a refund of the period takes its lines' quantities and
  amounts off, on the refund's day, whichever day the sale was (as X/Z count it). So the total
  revenue of a period is the sum of its days' X/Z revenue, to the đồng.
- **On hand**: the stock now (not at the end of the period), `None` for a product whose stock
  is not tracked (pos/purchases.py).
- **Average purchase price**: the unit prices of the period's purchase lines of the product,
  weighted by their quantities (per unit of the product). The unit prices, not the paid line
  amounts, are averaged, so that a line's rounding to the đồng (0,003 kg at 1.500 ₫ is paid
  5 ₫) does not move the price.
  *No purchase in the period*: goods sold today were mostly bought on earlier days (a stall buys
  at dawn for the week), so the price falls back to the same average over **all purchases
  before the period** (`cost_basis` "earlier"); with none before either, the cost is unknown
  (`cost_basis` "unknown"). Purchases after the period are never used.
- **Cost of goods sold** (`cogs`) = quantity sold × average purchase price, computed from the
  exact average and rounded once; **gross margin** = revenue − cogs; **margin %** = margin /
  revenue, in tenths of a per cent as a decimal string ("23.5"), `None` when the revenue is not
  above zero.
- **Unknown cost**: goods sold but never bought (a product only ever sold, an item typed at the
  till) show their revenue, and `None` for average price, cogs, margin and margin % ("unknown",
  not 100 %). The total's margin is the margin of the goods whose cost is known; the revenue it
  leaves out is `revenue_uncosted`.

Rounding: every division is rounded to the nearest whole đồng (or tenth of a per cent), halves
away from zero (half-up for the positive amounts of a normal day; a loss rounds the same as the
gain it mirrors). No floats anywhere.
"""
from __future__ import annotations

import re
import sqlite3
from datetime import date, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l

from sync.errors import InvalidInput
from sync.localtime import parse_day
from sync.money import net_line_amounts
from sync.protocol import utc_timestamp

from .business_days import current_business_day

MAX_DAYS = 366          # a year, leap years included
_ISO_DAY = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_VN_DAY = re.compile(r"^[0-9]{1,2}/[0-9]{1,2}/[0-9]{4}$")


def divide(numerator: int, denominator: int) -> int:
    """numerator / denominator (denominator > 0) to the nearest whole number, halves away from
    zero: divide(5, 2) == 3, divide(-5, 2) == -3. Integers only."""
    if denominator <= 0:
        raise ValueError("the denominator must be above zero")
    whole = (2 * abs(numerator) + denominator) // (2 * denominator)
    return whole if numerator >= 0 else -whole


def percent_text(part: int, whole: int) -> str | None:
    """part / whole as a per cent with one decimal ("23.5", "-4.2"), or None if whole <= 0."""
    if whole <= 0:
        return None
    tenths = divide(part * 1000, whole)
    sign = "-" if tenths < 0 else ""
    return f"{sign}{abs(tenths) // 10}.{abs(tenths) % 10}"


# --- the period --------------------------------------------------------------------------------

def _day(raw: Any, field: str) -> str:
    text = raw.strip() if isinstance(raw, str) else ""
    if not (_ISO_DAY.match(text) or _VN_DAY.match(text)):
        raise InvalidInput(_l("A day is written yyyy-mm-dd (or dd/mm/yyyy)."), field=field,
                           code="bad_day")
    try:
        return parse_day(text)
    except ValueError:
        raise InvalidInput(_l("This day does not exist in the calendar."), field=field,
                           code="bad_day") from None


def parse_period(raw_first: Any, raw_last: Any, today: str) -> tuple[str, str]:
    """The period asked for, as two ISO days, or InvalidInput (400) with a clear message.

    Each end is yyyy-mm-dd (links, the API) or dd/mm/yyyy (the keypad). A missing or empty end
    is `today` (the current business day); so no period at all is today. The first day may not
    be after the last, and the period covers at most MAX_DAYS days."""
    first = _day(raw_first, "from") if raw_first not in (None, "") else today
    last = _day(raw_last, "to") if raw_last not in (None, "") else today
    if first > last:
        raise InvalidInput(_l("The first day is after the last day."), field="from",
                           code="bad_period")
    if (date.fromisoformat(last) - date.fromisoformat(first)).days + 1 > MAX_DAYS:
        raise InvalidInput(_l("A period covers at most %(days)d days.", days=MAX_DAYS),
                           field="to", code="period_too_long")
    return first, last


def periods(today: str) -> list[dict[str, str]]:
    """The quick choices of the margin page, ending on the business day `today`: today, the
    last seven days, this month so far, last month."""
    day = date.fromisoformat(today)
    first_of_month = day.replace(day=1)
    last_month_end = first_of_month - timedelta(days=1)
    return [
        {"key": "today", "from": today, "to": today},
        {"key": "week", "from": (day - timedelta(days=6)).isoformat(), "to": today},
        {"key": "month", "from": first_of_month.isoformat(), "to": today},
        {"key": "last_month", "from": last_month_end.replace(day=1).isoformat(),
         "to": last_month_end.isoformat()},
    ]


# --- the figures -------------------------------------------------------------------------------

def _row(key: tuple[Any, ...]) -> dict[str, Any]:
    return {"key": key, "bought_milli": 0, "paid": 0, "price_weight": 0, "sold_milli": 0,
            "revenue": 0}


def margin(conn: sqlite3.Connection, first_day: str, last_day: str) -> dict[str, Any]:
    """The margin of each product over the business days first_day … last_day (ISO, included),
    with a total; see the module's docstring for every definition.

    Answer: {"from", "to", "days", "products": [row, …], "total": {…}}; a row is
    {"product_id" (None for an item typed at the till), "name", "unit", "bought_milli", "paid",
    "sold_milli", "revenue", "on_hand_milli" (None: not tracked), "average_price" (đồng per
    unit, None: unknown), "cost_basis" ("period" | "earlier" | "unknown"), "cogs", "margin",
    "margin_percent" (None: unknown)}. Rows: every product bought or sold (or given back) in the
    period, and, when the period reaches the current business day, every tracked product with
    stock on hand; the biggest revenue first."""
    rows: dict[tuple[Any, ...], dict[str, Any]] = {}

    def row(product_id: int | None, name: str, unit: str) -> dict[str, Any]:
        key = ("p", product_id) if product_id is not None else ("item", name, unit)
        if key not in rows:
            rows[key] = _row(key)
            rows[key].update(product_id=product_id, name=name, unit=unit)
        return rows[key]

    # Bought: the period's purchase lines (Σ quantity × unit price weighs the average price).
    for r in conn.execute(
            "SELECT l.product_id, MIN(l.name), MIN(l.unit), SUM(l.quantity_milli),"
            " SUM(l.amount), SUM(l.quantity_milli * l.unit_price)"
            " FROM purchases p JOIN purchase_lines l ON l.purchase_seq = p.seq"
            " WHERE p.business_day BETWEEN ? AND ?"
            " GROUP BY l.product_id, CASE WHEN l.product_id IS NULL THEN l.name END,"
            " CASE WHEN l.product_id IS NULL THEN l.unit END", (first_day, last_day)):
        target = row(r[0], r[1], r[2])
        target["bought_milli"] += r[3]
        target["paid"] += r[4]
        target["price_weight"] += r[5]

    # Sold: sales without a discount add up in SQL …
    for r in conn.execute(
            "SELECT l.product_id, MIN(l.name), MIN(l.unit), SUM(l.quantity_milli), SUM(l.amount)"
            " FROM sales s JOIN sale_lines l ON l.sale_seq = s.seq"
            " WHERE s.business_day BETWEEN ? AND ? AND s.voided_seq IS NULL AND s.discount = 0"
            " GROUP BY l.product_id, CASE WHEN l.product_id IS NULL THEN l.name END,"
            " CASE WHEN l.product_id IS NULL THEN l.unit END", (first_day, last_day)):
        target = row(r[0], r[1], r[2])
        target["sold_milli"] += r[3]
        target["revenue"] += r[4]
    # … a discounted sale's discount is shared out over its lines, as refunds share it.
    discounted: dict[int, tuple[int, list[tuple[Any, ...]]]] = {}
    for r in conn.execute(
            "SELECT s.seq, s.discount, l.product_id, l.name, l.unit, l.quantity_milli, l.amount"
            " FROM sales s JOIN sale_lines l ON l.sale_seq = s.seq"
            " WHERE s.business_day BETWEEN ? AND ? AND s.voided_seq IS NULL AND s.discount > 0"
            " ORDER BY s.seq, l.line_no", (first_day, last_day)):
        discounted.setdefault(r[0], (r[1], []))[1].append(r[2:])
    for discount, lines in discounted.values():
        net = net_line_amounts({"lines": [{"amount": line[4]} for line in lines],
                                "discount": {"amount": discount}})
        for line, amount in zip(lines, net):
            target = row(line[0], line[1], line[2])
            target["sold_milli"] += line[3]
            target["revenue"] += amount
    
    # Given back in the period (on the refund's day): the lines' quantities and amounts off.
    for r in conn.execute(
            "SELECT l.product_id, MIN(l.name), MIN(l.unit), SUM(b.quantity_milli), SUM(b.amount)"
            " FROM refunds f JOIN refund_lines b ON b.refund_seq = f.seq"
            " JOIN sale_lines l ON l.sale_seq = f.sale_seq AND l.line_no = b.line_no"
            " WHERE f.business_day BETWEEN ? AND ?"
            " GROUP BY l.product_id, CASE WHEN l.product_id IS NULL THEN l.name END,"
            " CASE WHEN l.product_id IS NULL THEN l.unit END", (first_day, last_day)):
        target = row(r[0], r[1], r[2])
        target["sold_milli"] -= r[3]
        target["revenue"] -= r[4]

    # On hand now: every tracked product. A period that reaches today also lists the goods
    # with stock left that did not move in it (what is not selling); a past one does not.
    reaches_today = last_day >= current_business_day(conn, utc_timestamp())
    on_hand: dict[int, int] = {}
    for r in conn.execute("SELECT s.product_id, s.on_hand_milli, p.name, p.unit FROM stock s"
                          " JOIN products p ON p.id = s.product_id WHERE s.tracked = 1"):
        on_hand[r[0]] = r[1]
        if r[1] != 0 and reaches_today:
            row(r[0], r[2], r[3])

    # The product's name and unit as the list has them now (a line keeps the name it had then).
    ids = [key[1] for key in rows if key[0] == "p"]
    for chunk in range(0, len(ids), 500):
        part = ids[chunk:chunk + 500]
        for r in conn.execute(f"SELECT id, name, unit FROM products WHERE id IN"
                              f" ({','.join('?' * len(part))})", part):
            rows[("p", r[0])].update(name=r[1], unit=r[2])

    # The price of goods not bought in the period: every purchase before it.
    earlier: dict[int, tuple[int, int]] = {}
    missing = [key[1] for key, r in rows.items() if key[0] == "p" and not r["bought_milli"]]
    for chunk in range(0, len(missing), 500):
        part = missing[chunk:chunk + 500]
        for r in conn.execute(
                f"SELECT l.product_id, SUM(l.quantity_milli), SUM(l.quantity_milli * l.unit_price)"
                f" FROM purchase_lines l JOIN purchases p ON p.seq = l.purchase_seq"
                f" WHERE l.product_id IN ({','.join('?' * len(part))}) AND p.business_day < ?"
                f" GROUP BY l.product_id", [*part, first_day]):
            earlier[r[0]] = (r[1], r[2])

    products = [_figures(r, on_hand, earlier) for r in rows.values()]
    products.sort(key=lambda p: (-p["revenue"], -p["paid"], p["name"], p["unit"]))
    return {"from": first_day, "to": last_day,
            "days": (date.fromisoformat(last_day) - date.fromisoformat(first_day)).days + 1,
            "products": products, "total": _total(products)}


def _figures(r: dict[str, Any], on_hand: dict[int, int],
             earlier: dict[int, tuple[int, int]]) -> dict[str, Any]:
    """One product's row from its sums."""
    product_id = r["product_id"]
    if r["bought_milli"] > 0:
        basis, quantity, weight = "period", r["bought_milli"], r["price_weight"]
    elif product_id in earlier:
        basis, (quantity, weight) = "earlier", earlier[product_id]
    else:
        basis, quantity, weight = "unknown", 0, 0
    out: dict[str, Any] = {
        "product_id": product_id, "name": r["name"], "unit": r["unit"],
        "bought_milli": r["bought_milli"], "paid": r["paid"],
        "sold_milli": r["sold_milli"], "revenue": r["revenue"],
        "on_hand_milli": on_hand.get(product_id) if product_id is not None else None,
        "average_price": None, "cost_basis": basis, "cogs": None, "margin": None,
        "margin_percent": None}
    if basis != "unknown":
        # Σ(q × price) / Σq is the price per unit; cost = sold (thousandths) × it / 1000.
        out["average_price"] = divide(weight, quantity)
        out["cogs"] = divide(r["sold_milli"] * weight, quantity * 1000)
        out["margin"] = r["revenue"] - out["cogs"]
        out["margin_percent"] = percent_text(out["margin"], r["revenue"])
    return out


def _total(products: list[dict[str, Any]]) -> dict[str, Any]:
    """The period's totals; quantities of different units are not added up."""
    costed = [p for p in products if p["cost_basis"] != "unknown"]
    revenue = sum(p["revenue"] for p in products)
    revenue_costed = sum(p["revenue"] for p in costed)
    cogs = sum(p["cogs"] for p in costed)
    return {"paid": sum(p["paid"] for p in products), "revenue": revenue,
            "revenue_costed": revenue_costed, "revenue_uncosted": revenue - revenue_costed,
            "uncosted": sum(1 for p in products
                            if p["cost_basis"] == "unknown" and (p["sold_milli"] or p["revenue"])),
            "cogs": cogs, "margin": revenue_costed - cogs,
            "margin_percent": percent_text(revenue_costed - cogs, revenue_costed)}

