"""The dashboard's rollup tables, kept up to date as entries are projected, or rebuilt from the
projections. Reading a month of a province is then a few thousand rows, never a scan of sales.

Figures are net of voids: a void takes its sale out of the sale's own business day (sales,
revenue, cash, QR, QR sales; products) and counts it under `voids`/`voided`. A refund takes
what it gave back out of revenue, cash and QR (and the products' quantities and revenue) of the
refund's own day, and counts under `refunds`/`refunded`; the sale still counts.

The credit book (issue 18): `credit` is the part of sales put on the buyers' accounts, revenue
that is neither cash nor a transfer (so never in `qr` nor in the cashless share); net of voids
(on the sale's day) and of refunds given back off the debt (on the refund's day). `repaid` is
what buyers paid back on a day (`repaid_cash` into the drawer, `repaid_qr` by transfer): money
received, but not revenue, which was counted when the goods were sold. Products are
counted by name, unit, category and OCOP stars: the sale line's (sync/server/projection.py
mark_lines), which a refund line shares with the sale line it gives back. Both ways of filling
the tables (`apply` per push, `rebuild` from the projections) give the same rows; a test holds
them to that.

Buying from growers (issue 19): `purchases` counts the `purchase` entries of a business day and
`purchased` what they paid (the sum of their lines), a cost that is never revenue;
`purchase_periods` holds per market and product (name and unit of the lines) the quantity
bought, its amount and the number of purchases it was in. A stall has no way to void a purchase
(pos/purchases.py: a mistake is corrected by a stock count, which moves stock, not money), so a
purchase, once pushed, always counts; the grower is never read.
"""
from __future__ import annotations

import logging
from collections import defaultdict
from datetime import date
from typing import Any, Iterable

from sqlalchemy import (Column, MetaData, String, Table, and_, case, delete, func, select,
                        tuple_)
from sqlalchemy.engine import Connection

from .db import (communes, credit_payments, devices, market_periods, markets, payments,
                 product_periods, purchase_lines, purchase_periods, refund_lines, refunds,
                 sale_lines, sales, stall_periods, stalls)

logger = logging.getLogger(__name__)

FIGURES = ("sales", "revenue", "cash", "qr", "qr_sales", "voids", "voided", "refunds",
           "refunded", "credit", "repaid", "repaid_cash", "repaid_qr", "purchases", "purchased")
MARKET_FIGURES = FIGURES + ("active",)   # active: stalls with at least one sale (not voided)
PRODUCT_FIGURES = ("quantity_milli", "revenue", "lines")
PRODUCT_KEYS = ("market_id", "kind", "period", "name", "unit", "category", "ocop_stars")
PURCHASE_FIGURES = ("quantity_milli", "amount", "purchases")
PURCHASE_KEYS = ("market_id", "kind", "period", "name", "unit")
KINDS = ("d", "w", "m")
ROLLUP_TABLES = (stall_periods, market_periods, product_periods, purchase_periods)


def periods_of(day: str) -> list[tuple[str, str]]:
    """The day, ISO week and month a business day belongs to; [] if it is not a date."""
    try:
        parsed = date.fromisoformat(day)
    except (TypeError, ValueError):
        return []
    year, week, _ = parsed.isocalendar()
    return [("d", parsed.isoformat()), ("w", f"{year}-W{week:02d}"), ("m", parsed.isoformat()[:7])]


def _places(conn: Connection, device_ids: Iterable[str]) -> dict[str, dict[str, int]]:
    ids = sorted(set(device_ids))
    if not ids:
        return {}
    rows = conn.execute(
        select(devices.c.device_id, stalls.c.market_id, markets.c.commune_id,
               communes.c.province_id)
        .select_from(devices.join(stalls, stalls.c.id == devices.c.stall_id)
                     .join(markets, markets.c.id == stalls.c.market_id)
                     .join(communes, communes.c.id == markets.c.commune_id))
        .where(devices.c.device_id.in_(ids))).mappings()
    return {row["device_id"]: dict(row) for row in rows}


def _sale_figures(sale: dict[str, Any], credit: int, sign: int) -> dict[str, int]:
    figures = dict.fromkeys(FIGURES, 0)
    figures.update(sales=sign, revenue=sign * sale["total"], cash=sign * sale["cash"],
                   qr=sign * sale["qr"], qr_sales=sign * (1 if sale["qr"] > 0 else 0),
                   credit=sign * credit)
    if sign < 0:
        figures.update(voids=1, voided=sale["total"])
    return figures


class _Deltas:
    """What a batch adds to each rollup row, summed per key before one upsert per table."""

    def __init__(self) -> None:
        self.stalls: dict[tuple[Any, ...], dict[str, int]] = defaultdict(
            lambda: dict.fromkeys(FIGURES, 0))
        self.markets: dict[tuple[Any, ...], dict[str, int]] = defaultdict(
            lambda: dict.fromkeys(MARKET_FIGURES, 0))
        self.products: dict[tuple[Any, ...], dict[str, int]] = defaultdict(
            lambda: dict.fromkeys(PRODUCT_FIGURES, 0))
        self.purchased: dict[tuple[Any, ...], dict[str, int]] = defaultdict(
            lambda: dict.fromkeys(PURCHASE_FIGURES, 0))
        self.places: dict[tuple[Any, ...], dict[str, int]] = {}

    def add_sale(self, sale: dict[str, Any], lines: list[dict[str, Any]], credit: int,
                 place: dict[str, int], sign: int) -> None:
        figures = _sale_figures(sale, credit, sign)
        for kind, period in periods_of(sale["business_day"]):
            key = (sale["device_id"], kind, period)
            self.places[key] = place
            for name, value in figures.items():
                self.stalls[key][name] += value
            for name, value in figures.items():
                self.markets[(place["market_id"], kind, period)][name] += value
            for line in lines:
                pkey = (place["market_id"], kind, period, line["name"], line["unit"],
                        line["category"], line["ocop_stars"])
                self.places[pkey] = place
                totals = self.products[pkey]
                totals["quantity_milli"] += sign * line["quantity_milli"]
                totals["revenue"] += sign * line["amount"]
                totals["lines"] += sign


    def add_refund(self, refund: dict[str, Any], lines: list[dict[str, Any]],
                   place: dict[str, int]) -> None:
        figures = dict.fromkeys(FIGURES, 0)
        figures.update(revenue=-refund["total"], cash=-refund["cash"], qr=-refund["qr"],
                       credit=-refund.get("credit", 0), refunds=1, refunded=refund["total"])
        for kind, period in periods_of(refund["business_day"]):
            key = (refund["device_id"], kind, period)
            self.places[key] = place
            for name, value in figures.items():
                self.stalls[key][name] += value
                self.markets[(place["market_id"], kind, period)][name] += value
            for line in lines:
                pkey = (place["market_id"], kind, period, line["name"], line["unit"],
                        line["category"], line["ocop_stars"])
                self.places[pkey] = place
                self.products[pkey]["quantity_milli"] -= line["quantity_milli"]
                self.products[pkey]["revenue"] -= line["amount"]

    def add_purchase(self, lines: list[dict[str, Any]], place: dict[str, int]) -> None:
        """One purchase (its projected lines, all of one entry and business day)."""
        figures = dict.fromkeys(FIGURES, 0)
        figures.update(purchases=1, purchased=sum(line["amount"] for line in lines))
        for kind, period in periods_of(lines[0]["business_day"]):
            key = (lines[0]["device_id"], kind, period)
            self.places[key] = place
            for name, value in figures.items():
                self.stalls[key][name] += value
                self.markets[(place["market_id"], kind, period)][name] += value
            seen = set()
            for line in lines:
                pkey = (place["market_id"], kind, period, line["name"], line["unit"])
                self.places[pkey] = place
                totals = self.purchased[pkey]
                totals["quantity_milli"] += line["quantity_milli"]
                totals["amount"] += line["amount"]
                if pkey not in seen:   # two lines of one product: one purchase of it
                    seen.add(pkey)
                    totals["purchases"] += 1

    def add_repayment(self, repayment: dict[str, Any], place: dict[str, int]) -> None:
        figures = dict.fromkeys(FIGURES, 0)
        figures.update(repaid=repayment["amount"],
                       **{f"repaid_{repayment['method']}": repayment["amount"]})
        for kind, period in periods_of(repayment["business_day"]):
            key = (repayment["device_id"], kind, period)
            self.places[key] = place
            for name, value in figures.items():
                self.stalls[key][name] += value
                self.markets[(place["market_id"], kind, period)][name] += value


def _upsert(conn: Connection, table: Table, keys: tuple[str, ...], rows: list[dict[str, Any]],
            figures: tuple[str, ...]) -> None:
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    statement = insert(table)
    statement = statement.on_conflict_do_update(
        index_elements=list(keys),
        set_={name: table.c[name] + statement.excluded[name] for name in figures})
    conn.execute(statement, rows)


def _count_active(conn: Connection, deltas: _Deltas) -> None:
    """Add to each market period the stalls that this batch makes active (first sale) or
    inactive (last sale voided), from the stall rows as they were before the batch."""
    keys = sorted(deltas.stalls)
    before: dict[tuple[Any, ...], int] = {}
    sp = stall_periods
    for start in range(0, len(keys), 500):
        before.update({(row.device_id, row.kind, row.period): row.sales for row in conn.execute(
            select(sp.c.device_id, sp.c.kind, sp.c.period, sp.c.sales).where(
                tuple_(sp.c.device_id, sp.c.kind, sp.c.period).in_(keys[start:start + 500])))})
    for key in keys:
        old = before.get(key, 0)
        change = (old + deltas.stalls[key]["sales"] > 0) - (old > 0)
        market_id = deltas.places[key]["market_id"]
        deltas.markets[(market_id, key[1], key[2])]["active"] += change


def _write(conn: Connection, deltas: _Deltas) -> None:
    _count_active(conn, deltas)
    stall_rows = [{"device_id": d, "kind": k, "period": p,
                   **{f: deltas.places[(d, k, p)][f]
                      for f in ("province_id", "commune_id", "market_id")}, **figures}
                  for (d, k, p), figures in sorted(deltas.stalls.items())]
    market_place = {place["market_id"]: place for place in deltas.places.values()}
    market_rows = [{"market_id": m, "kind": k, "period": p,
                    "province_id": market_place[m]["province_id"],
                    "commune_id": market_place[m]["commune_id"], **figures}
                   for (m, k, p), figures in sorted(deltas.markets.items())]
    product_rows = [{**dict(zip(PRODUCT_KEYS, key)),
                     "province_id": market_place[key[0]]["province_id"],
                     "commune_id": market_place[key[0]]["commune_id"], **figures}
                    for key, figures in sorted(deltas.products.items())]
    purchase_rows = [{**dict(zip(PURCHASE_KEYS, key)),
                      "province_id": market_place[key[0]]["province_id"],
                      "commune_id": market_place[key[0]]["commune_id"], **figures}
                     for key, figures in sorted(deltas.purchased.items())]
    # Sorted keys: two pushes touching the same market lock its rows in the same order.
    _upsert(conn, stall_periods, ("device_id", "kind", "period"), stall_rows, FIGURES)
    _upsert(conn, market_periods, ("market_id", "kind", "period"), market_rows, MARKET_FIGURES)
    _upsert(conn, product_periods, PRODUCT_KEYS, product_rows, PRODUCT_FIGURES)
    _upsert(conn, purchase_periods, PURCHASE_KEYS, purchase_rows, PURCHASE_FIGURES)
    # A product row left without lines (every line voided, a sale voided in its own push, or a
    # refund in a period without a sale of it) is removed, as rebuild never makes one.
    emptied = [tuple(row[k] for k in PRODUCT_KEYS) for row in product_rows if row["lines"] <= 0]
    pp = product_periods
    for start in range(0, len(emptied), 500):
        conn.execute(delete(pp).where(
            pp.c.lines == 0, tuple_(*(pp.c[k] for k in PRODUCT_KEYS)).in_(
                emptied[start:start + 500])))


def apply(conn: Connection, rows: Any) -> None:
    """Add a projected batch (sales, their lines, voids, refunds, repayments, purchase lines)
    to the rollups, in the caller's transaction and after the projection rows were written (a
    void's sale is read back)."""
    refunds_ = getattr(rows, "refunds", [])
    repayments = getattr(rows, "credit_payments", [])
    bought = getattr(rows, "purchase_lines", [])
    if not rows.sales and not rows.voids and not refunds_ and not repayments and not bought:
        return
    places = _places(conn, [s["device_id"] for s in rows.sales] +
                     [v["device_id"] for v in rows.voids] +
                     [r["device_id"] for r in refunds_] +
                     [r["device_id"] for r in repayments] +
                     [line["device_id"] for line in bought])
    lines: dict[tuple[str, int], list[dict[str, Any]]] = defaultdict(list)
    for line in rows.sale_lines:
        lines[(line["device_id"], line["seq"])].append(line)
    credit: dict[tuple[str, int], int] = defaultdict(int)
    for pay in rows.payments:
        if pay["method"] == "credit":
            credit[(pay["device_id"], pay["seq"])] += pay["amount"]
    deltas = _Deltas()
    for sale in rows.sales:
        place = places.get(sale["device_id"])
        key = (sale["device_id"], sale["seq"])
        if place is not None:
            deltas.add_sale(sale, lines[key], credit.get(key, 0), place, +1)
    voided = _voided_sales(conn, rows.voids)
    voided_credit = _credit_of(conn, [(s["device_id"], s["seq"]) for s, _ in voided])
    for sale, sale_lines_ in voided:
        place = places.get(sale["device_id"])
        if place is not None:
            deltas.add_sale(sale, sale_lines_, voided_credit.get(
                (sale["device_id"], sale["seq"]), 0), place, -1)
    given: dict[tuple[str, int], list[dict[str, Any]]] = defaultdict(list)
    for line in _with_sale_marks(conn, refunds_, getattr(rows, "refund_lines", [])):
        given[(line["device_id"], line["seq"])].append(line)
    for refund in refunds_:
        place = places.get(refund["device_id"])
        if place is not None:
            deltas.add_refund(refund, given[(refund["device_id"], refund["seq"])], place)
    for repayment in repayments:
        place = places.get(repayment["device_id"])
        if place is not None:
            deltas.add_repayment(repayment, place)
    purchases: dict[tuple[str, int], list[dict[str, Any]]] = defaultdict(list)
    for line in bought:
        purchases[(line["device_id"], line["seq"])].append(line)
    for (device_id, _seq), purchase in purchases.items():
        place = places.get(device_id)
        if place is not None:
            deltas.add_purchase(purchase, place)
    _write(conn, deltas)


def _credit_of(conn: Connection, keys: list[tuple[str, int]]) -> dict[tuple[str, int], int]:
    """The credit parts of these stored sales (device, seq), read back (few sales have one)."""
    found: dict[tuple[str, int], int] = defaultdict(int)
    keys = sorted(set(keys))
    for start in range(0, len(keys), 500):
        for row in conn.execute(
                select(payments.c.device_id, payments.c.seq, payments.c.amount)
                .where(payments.c.method == "credit",
                       tuple_(payments.c.device_id, payments.c.seq).in_(
                           keys[start:start + 500]))):
            found[(row.device_id, row.seq)] += row.amount
    return found


def _with_sale_marks(conn: Connection, refunds_: list[dict[str, Any]],
                     lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The refund lines with the category and OCOP stars of the sale lines they give back
    ('' and 0 if that sale line is not projected); read back, as the sale may be older."""
    sale_seq = {(r["device_id"], r["seq"]): r["sale_seq"] for r in refunds_}
    keys = sorted({(line["device_id"], sale_seq[(line["device_id"], line["seq"])],
                    line["line_no"]) for line in lines
                   if (line["device_id"], line["seq"]) in sale_seq})
    marks: dict[tuple[str, int, int], tuple[str, int]] = {}
    sl = sale_lines
    for start in range(0, len(keys), 500):
        marks.update({(row.device_id, row.seq, row.line_no): (row.category, row.ocop_stars)
                      for row in conn.execute(
                          select(sl.c.device_id, sl.c.seq, sl.c.line_no, sl.c.category,
                                 sl.c.ocop_stars)
                          .where(tuple_(sl.c.device_id, sl.c.seq, sl.c.line_no).in_(
                              keys[start:start + 500])))})
    out = []
    for line in lines:
        seq = sale_seq.get((line["device_id"], line["seq"]))
        category, stars = marks.get((line["device_id"], seq, line["line_no"]), ("", 0))
        out.append({**line, "category": category, "ocop_stars": stars})
    return out


def _voided_sales(conn: Connection, voids: list[dict[str, Any]]
                  ) -> list[tuple[dict[str, Any], list[dict[str, Any]]]]:
    """The sales these voids took out (a second void of the same sale changes nothing)."""
    wanted: dict[tuple[str, int], set[int]] = defaultdict(set)
    for void in voids:
        wanted[(void["device_id"], void["sale_seq"])].add(void["seq"])
    if not wanted:
        return []
    keys = sorted(wanted)
    found = []
    for start in range(0, len(keys), 500):
        chunk = keys[start:start + 500]
        rows = conn.execute(select(sales).where(
            tuple_(sales.c.device_id, sales.c.seq).in_(chunk))).mappings().all()
        found += [dict(row) for row in rows
                  if row["voided_seq"] in wanted[(row["device_id"], row["seq"])]]
    if not found:
        return []
    lines: dict[tuple[str, int], list[dict[str, Any]]] = defaultdict(list)
    sale_keys = [(s["device_id"], s["seq"]) for s in found]
    for start in range(0, len(sale_keys), 500):
        for line in conn.execute(select(sale_lines).where(tuple_(
                sale_lines.c.device_id, sale_lines.c.seq).in_(sale_keys[start:start + 500]))
                ).mappings():
            lines[(line["device_id"], line["seq"])].append(dict(line))
    return [(sale, lines[(sale["device_id"], sale["seq"])]) for sale in found]


# --- rebuild from the projections -----------------------------------------------------------

def _period_map(conn: Connection) -> Table:
    """A temporary table day → (kind, period) for every business day that has sales.

    ISO weeks are computed here in Python, so the GROUP BY below is the same SQL on SQLite and
    PostgreSQL.
    """
    table = Table("dashboard_period_map", MetaData(),
                  Column("day", String(10), primary_key=True),
                  Column("kind", String(1), primary_key=True),
                  Column("period", String(10), nullable=False),
                  prefixes=["TEMPORARY"])
    table.drop(conn, checkfirst=True)
    table.create(conn)
    days = conn.execute(select(sales.c.business_day).union(
        select(refunds.c.business_day), select(credit_payments.c.business_day),
        select(purchase_lines.c.business_day))).scalars().all()
    rows = [{"day": day, "kind": kind, "period": period}
            for day in days for kind, period in periods_of(day)]
    if rows:
        conn.execute(table.insert(), rows)
    return table


def _count(condition: Any) -> Any:
    return func.sum(case((condition, 1), else_=0))


def _amount(condition: Any, column: Any) -> Any:
    return func.sum(case((condition, column), else_=0))


def _rebuild_refunds(conn: Connection, period_map: Table, place: Any) -> None:
    """Add the refunds to the stall rows just built (a period may have refunds only)."""
    rows = conn.execute(
        select(refunds.c.device_id, period_map.c.kind, period_map.c.period,
               communes.c.province_id, markets.c.commune_id, stalls.c.market_id,
               func.count(), func.sum(refunds.c.total), func.sum(refunds.c.cash),
               func.sum(refunds.c.qr), func.sum(refunds.c.credit))
        .select_from(refunds.join(period_map, period_map.c.day == refunds.c.business_day)
                     .join(place, devices.c.device_id == refunds.c.device_id))
        .group_by(refunds.c.device_id, period_map.c.kind, period_map.c.period,
                  communes.c.province_id, markets.c.commune_id, stalls.c.market_id)).all()
    _upsert(conn, stall_periods, ("device_id", "kind", "period"), [
        {"device_id": r[0], "kind": r[1], "period": r[2], "province_id": r[3],
         "commune_id": r[4], "market_id": r[5], **dict.fromkeys(FIGURES, 0),
         "revenue": -int(r[7]), "cash": -int(r[8]), "qr": -int(r[9]), "credit": -int(r[10]),
         "refunds": int(r[6]), "refunded": int(r[7])} for r in rows], FIGURES)


def _rebuild_repayments(conn: Connection, period_map: Table, place: Any) -> None:
    """Add the credit book's repayments to the stall rows just built (a period may have
    repayments only)."""
    cp = credit_payments
    rows = conn.execute(
        select(cp.c.device_id, period_map.c.kind, period_map.c.period,
               communes.c.province_id, markets.c.commune_id, stalls.c.market_id,
               func.sum(cp.c.amount), _amount(cp.c.method == "cash", cp.c.amount),
               _amount(cp.c.method == "qr", cp.c.amount))
        .select_from(cp.join(period_map, period_map.c.day == cp.c.business_day)
                     .join(place, devices.c.device_id == cp.c.device_id))
        .group_by(cp.c.device_id, period_map.c.kind, period_map.c.period,
                  communes.c.province_id, markets.c.commune_id, stalls.c.market_id)).all()
    _upsert(conn, stall_periods, ("device_id", "kind", "period"), [
        {"device_id": r[0], "kind": r[1], "period": r[2], "province_id": r[3],
         "commune_id": r[4], "market_id": r[5], **dict.fromkeys(FIGURES, 0),
         "repaid": int(r[6]), "repaid_cash": int(r[7]), "repaid_qr": int(r[8])} for r in rows],
        FIGURES)


def _rebuild_purchases(conn: Connection, period_map: Table, place: Any) -> None:
    """Add the purchases from growers to the stall rows just built (a period may have
    purchases only), and compute the produce bought per market and product."""
    pl = purchase_lines
    # One row per purchase entry first: its amount is the sum of its lines.
    entry = (select(pl.c.device_id, pl.c.seq, pl.c.business_day,
                    func.sum(pl.c.amount).label("amount"))
             .group_by(pl.c.device_id, pl.c.seq, pl.c.business_day).subquery("purchase_entries"))
    rows = conn.execute(
        select(entry.c.device_id, period_map.c.kind, period_map.c.period,
               communes.c.province_id, markets.c.commune_id, stalls.c.market_id,
               func.count(), func.sum(entry.c.amount))
        .select_from(entry.join(period_map, period_map.c.day == entry.c.business_day)
                     .join(place, devices.c.device_id == entry.c.device_id))
        .group_by(entry.c.device_id, period_map.c.kind, period_map.c.period,
                  communes.c.province_id, markets.c.commune_id, stalls.c.market_id)).all()
    _upsert(conn, stall_periods, ("device_id", "kind", "period"), [
        {"device_id": r[0], "kind": r[1], "period": r[2], "province_id": r[3],
         "commune_id": r[4], "market_id": r[5], **dict.fromkeys(FIGURES, 0),
         "purchases": int(r[6]), "purchased": int(r[7])} for r in rows], FIGURES)
    # One row per purchase and product (two lines of one product are one purchase of it).
    product = (select(pl.c.device_id, pl.c.seq, pl.c.business_day, pl.c.name, pl.c.unit,
                      func.sum(pl.c.quantity_milli).label("quantity_milli"),
                      func.sum(pl.c.amount).label("amount"))
               .group_by(pl.c.device_id, pl.c.seq, pl.c.business_day, pl.c.name, pl.c.unit)
               .subquery("purchase_products"))
    conn.execute(purchase_periods.insert().from_select(
        [*PURCHASE_KEYS, "province_id", "commune_id", *PURCHASE_FIGURES],
        select(stalls.c.market_id, period_map.c.kind, period_map.c.period, product.c.name,
               product.c.unit, communes.c.province_id, markets.c.commune_id,
               func.sum(product.c.quantity_milli), func.sum(product.c.amount), func.count())
        .select_from(product.join(period_map, period_map.c.day == product.c.business_day)
                     .join(place, devices.c.device_id == product.c.device_id))
        .group_by(stalls.c.market_id, period_map.c.kind, period_map.c.period,
                  product.c.name, product.c.unit, communes.c.province_id,
                  markets.c.commune_id)))


def _rebuild_refunded_products(conn: Connection, period_map: Table, place: Any) -> None:
    """Take the refunded quantities and amounts off the product rows just built (under the
    category and stars of the sale line each refund line gives back)."""
    category = func.coalesce(sale_lines.c.category, "")
    stars = func.coalesce(sale_lines.c.ocop_stars, 0)
    rows = conn.execute(
        select(stalls.c.market_id, period_map.c.kind, period_map.c.period, refund_lines.c.name,
               refund_lines.c.unit, category, stars, communes.c.province_id,
               markets.c.commune_id, func.sum(refund_lines.c.quantity_milli),
               func.sum(refund_lines.c.amount))
        .select_from(refund_lines.join(refunds, and_(
            refunds.c.device_id == refund_lines.c.device_id,
            refunds.c.seq == refund_lines.c.seq))
            .outerjoin(sale_lines, and_(sale_lines.c.device_id == refunds.c.device_id,
                                        sale_lines.c.seq == refunds.c.sale_seq,
                                        sale_lines.c.line_no == refund_lines.c.line_no))
            .join(period_map, period_map.c.day == refunds.c.business_day)
            .join(place, devices.c.device_id == refunds.c.device_id))
        .group_by(stalls.c.market_id, period_map.c.kind, period_map.c.period,
                  refund_lines.c.name, refund_lines.c.unit, category, stars,
                  communes.c.province_id, markets.c.commune_id)).all()
    _upsert(conn, product_periods, PRODUCT_KEYS, [
        {**dict(zip(PRODUCT_KEYS, r[:7])), "province_id": r[7], "commune_id": r[8],
         "quantity_milli": -int(r[9]), "revenue": -int(r[10]), "lines": 0} for r in rows],
        PRODUCT_FIGURES)


def rebuild(conn: Connection) -> dict[str, int]:
    """Empty the rollups and compute them again from sales, lines and voids (for an existing
    database, a repair, or a generated benchmark province). Returns the row counts."""
    for table in ROLLUP_TABLES:
        conn.execute(delete(table))
    period_map = _period_map(conn)
    place = (devices.join(stalls, stalls.c.id == devices.c.stall_id)
             .join(markets, markets.c.id == stalls.c.market_id)
             .join(communes, communes.c.id == markets.c.commune_id))
    live = sales.c.voided_seq.is_(None)
    voided = sales.c.voided_seq.is_not(None)
    # The credit parts of sales (a few): read through the partial index ix_payments_credit.
    credit = (select(payments.c.device_id, payments.c.seq,
                     func.sum(payments.c.amount).label("amount"))
              .where(payments.c.method == "credit")
              .group_by(payments.c.device_id, payments.c.seq).subquery("credit_parts"))
    stall_select = (
        select(sales.c.device_id, period_map.c.kind, period_map.c.period,
               communes.c.province_id, markets.c.commune_id, stalls.c.market_id,
               _count(live), _amount(live, sales.c.total), _amount(live, sales.c.cash),
               _amount(live, sales.c.qr), _count(and_(live, sales.c.qr > 0)),
               _count(voided), _amount(voided, sales.c.total),
               _amount(live, func.coalesce(credit.c.amount, 0)))
        .select_from(sales.join(period_map, period_map.c.day == sales.c.business_day)
                     .join(place, devices.c.device_id == sales.c.device_id)
                     .outerjoin(credit, and_(credit.c.device_id == sales.c.device_id,
                                             credit.c.seq == sales.c.seq)))
        .group_by(sales.c.device_id, period_map.c.kind, period_map.c.period,
                  communes.c.province_id, markets.c.commune_id, stalls.c.market_id))
    conn.execute(stall_periods.insert().from_select(
        ["device_id", "kind", "period", "province_id", "commune_id", "market_id",
         *FIGURES[:7], "credit"], stall_select))
    _rebuild_refunds(conn, period_map, place)
    _rebuild_repayments(conn, period_map, place)
    _rebuild_purchases(conn, period_map, place)
    sp = stall_periods
    conn.execute(market_periods.insert().from_select(
        ["market_id", "kind", "period", "province_id", "commune_id", *MARKET_FIGURES],
        select(sp.c.market_id, sp.c.kind, sp.c.period, sp.c.province_id, sp.c.commune_id,
               *[func.sum(sp.c[name]) for name in FIGURES], _count(sp.c.sales > 0))
        .group_by(sp.c.market_id, sp.c.kind, sp.c.period, sp.c.province_id, sp.c.commune_id)))
    product_select = (
        select(stalls.c.market_id, period_map.c.kind, period_map.c.period, sale_lines.c.name,
               sale_lines.c.unit, sale_lines.c.category, sale_lines.c.ocop_stars,
               communes.c.province_id, markets.c.commune_id,
               func.sum(sale_lines.c.quantity_milli), func.sum(sale_lines.c.amount),
               func.count())
        .select_from(sale_lines.join(sales, and_(sales.c.device_id == sale_lines.c.device_id,
                                                 sales.c.seq == sale_lines.c.seq))
                     .join(period_map, period_map.c.day == sales.c.business_day)
                     .join(place, devices.c.device_id == sales.c.device_id))
        .where(live)
        .group_by(stalls.c.market_id, period_map.c.kind, period_map.c.period,
                  sale_lines.c.name, sale_lines.c.unit, sale_lines.c.category,
                  sale_lines.c.ocop_stars, communes.c.province_id, markets.c.commune_id))
    conn.execute(product_periods.insert().from_select(
        [*PRODUCT_KEYS, "province_id", "commune_id", *PRODUCT_FIGURES], product_select))
    _rebuild_refunded_products(conn, period_map, place)
    conn.execute(delete(product_periods).where(product_periods.c.lines == 0))
    period_map.drop(conn)
    counts = {table.name: conn.execute(select(func.count()).select_from(table)).scalar_one()
              for table in ROLLUP_TABLES}
    logger.info("rollups rebuilt: %s", counts)
    return counts


__all__ = ["FIGURES", "KINDS", "MARKET_FIGURES", "PURCHASE_FIGURES", "ROLLUP_TABLES", "apply",
           "fill_if_missing", "periods_of", "rebuild"]


def fill_if_missing(conn: Connection) -> bool:
    """Rebuild the rollups of a database that has sales (or repayments, or purchases) but no
    rollups yet (one upgraded to revision 0004, or past a revision that empties them: 0011,
    0012, 0014); True if it did. Cheap otherwise: a few one-row queries."""
    if conn.execute(select(stall_periods.c.device_id).limit(1)).first() is not None:
        return False
    if all(conn.execute(select(table.c.device_id).limit(1)).first() is None
           for table in (sales, credit_payments, purchase_lines)):
        return False
    rebuild(conn)
    return True
