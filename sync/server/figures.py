"""The dashboard's figures for a place and a period, read from the rollups (no Flask).

The headline figures are the province's: revenue, number of sales, average ticket, cashless
share (QR value and QR count over the totals), active stalls, stalls silent for more than three
days and open alerts; and the stalls' credit books as totals only (issue 18): sales put on
credit and repayments (in cash, by transfer), never a customer, her number included. And the
produce the stalls bought from local growers (issue 19): what they paid, in how many purchases,
and per product the quantity bought, never a grower. Money is integer đồng; a share is integer
basis points (1 % = 100), so no figure ever passes through a float.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.engine import Connection

from sync.localtime import VIETNAM

from .db import (bank_notifications, communes, day_closes, devices,
                 einvoice_queue, integrity_alerts, market_periods, markets, payments,
                 product_periods, purchase_lines, purchase_periods, qr_checks, sale_lines, sales,
                 stall_periods, stalls, voids)
from .einvoice.queue import OUTSTANDING as EINVOICE_OUTSTANDING
from .rollups import FIGURES, periods_of
from .scope import Place

PERIOD_KINDS = {"day": "d", "week": "w", "month": "m"}
SILENT_AFTER = timedelta(days=3)
DAY_TREND = 14   # a day's page shows the two weeks up to it


class BadPeriod(ValueError):
    """A period or date in a URL that does not make sense (shown to the person as a 400)."""


@dataclass(frozen=True)
class Period:
    """A business day, ISO week or month, with the days it covers."""

    kind: str       # day | week | month
    start: date
    end: date       # inclusive

    @property
    def key(self) -> str:
        """The rollup period: 2026-11-22, 2026-W47 or 2026-11."""
        return dict(periods_of(self.start.isoformat()))[PERIOD_KINDS[self.kind]]

    @property
    def code(self) -> str:
        return PERIOD_KINDS[self.kind]

    def days(self) -> list[date]:
        return [self.start + timedelta(days=n) for n in range((self.end - self.start).days + 1)]

    def trend_days(self) -> list[date]:
        """The days of the trend chart: the period's own, or the two weeks up to a day."""
        if self.kind == "day":
            return [self.end - timedelta(days=n) for n in range(DAY_TREND - 1, -1, -1)]
        return self.days()

    def shifted(self, step: int) -> "Period":
        """The previous (-1) or next (+1) period of the same kind."""
        if self.kind == "month":
            month = self.start.month - 1 + step
            return period_of("month", date(self.start.year + month // 12, month % 12 + 1, 1))
        return period_of(self.kind, self.start + timedelta(days=step * (self.end - self.start
                                                                        ).days + step))


def today() -> date:
    """Today in Vietnam (business days are Vietnamese days)."""
    return datetime.now(VIETNAM).date()


def period_of(kind: str, day: date) -> Period:
    """The day, week (Monday to Sunday) or month that contains `day`."""
    if kind == "day":
        return Period("day", day, day)
    if kind == "week":
        start = day - timedelta(days=day.weekday())
        return Period("week", start, start + timedelta(days=6))
    if kind == "month":
        start = day.replace(day=1)
        following = (start + timedelta(days=32)).replace(day=1)
        return Period("month", start, following - timedelta(days=1))
    raise BadPeriod(_l("The period is day, week or month."))


def parse_period(kind: str | None, day: str | None) -> Period:
    """The period a request asks for (`period=day|week|month`, `date=YYYY-MM-DD`)."""
    kind = kind or "day"
    if kind not in PERIOD_KINDS:
        raise BadPeriod(_l("The period is day, week or month."))
    if not day:
        return period_of(kind, today())
    try:
        parsed = date.fromisoformat(day)
    except ValueError:
        raise BadPeriod(_l("The date is written YYYY-MM-DD, e.g. 2026-11-22.")) from None
    if not 2000 <= parsed.year <= 2100:
        raise BadPeriod(_l("The date must be between the years 2000 and 2100."))
    return period_of(kind, parsed)


# --- derived figures --------------------------------------------------------------------------

def share(part: int, whole: int) -> int | None:
    """part/whole in basis points, rounded half up; None when there is no whole."""
    if whole <= 0:
        return None
    return (part * 10_000 * 2 + whole) // (whole * 2)


def with_ratios(row: dict[str, Any]) -> dict[str, Any]:
    """Add the average ticket and the cashless shares (by value and by count) to raw sums."""
    out = dict(row)
    count, revenue = out.get("sales") or 0, out.get("revenue") or 0
    out["average"] = (revenue * 2 + count) // (count * 2) if count > 0 else None
    out["qr_share"] = share(out.get("qr") or 0, revenue)
    out["qr_count_share"] = share(out.get("qr_sales") or 0, count)
    return out


def _conditions(place: Place, *, device: Any, province: Any, commune: Any,
                market: Any) -> list[Any]:
    """The WHERE conditions that keep rows of `place`, given the columns that name each level."""
    if place.level == "stall":
        return [device == place.device_id]
    conditions = [province == place.province_id]
    if place.commune_id is not None:
        conditions.append(commune == place.commune_id)
    if place.market_id is not None:
        conditions.append(market == place.market_id)
    return conditions


def _filters(table: Any, place: Place) -> list[Any]:
    """For a rollup table, which carries the place's ids on its rows (market_periods has no
    device_id: it is never asked for a stall)."""
    return _conditions(place, device=table.c.get("device_id"), province=table.c.province_id,
                       commune=table.c.commune_id, market=table.c.market_id)


def _sums(table: Any) -> list[Any]:
    return [func.coalesce(func.sum(table.c[name]), 0).label(name) for name in FIGURES]


def _rollup(place: Place) -> Any:
    """Stall rows for a stall, else market rows (a province's page sums a few hundred rows)."""
    return stall_periods if place.level == "stall" else market_periods


def totals(conn: Connection, place: Place, period: Period) -> dict[str, Any]:
    """The headline figures of a place for a period."""
    table = _rollup(place)
    active = (func.coalesce(func.sum(table.c.active), 0) if place.level != "stall"
              else func.coalesce(func.sum(case((table.c.sales > 0, 1), else_=0)), 0))
    row = conn.execute(
        select(*_sums(table), active.label("active"))
        .where(table.c.kind == period.code, table.c.period == period.key,
               *_filters(table, place))).mappings().one()
    return with_ratios({name: int(value) for name, value in row.items()})


def breakdown(conn: Connection, place: Place, period: Period) -> list[dict[str, Any]]:
    """The same figures for each commune, market or stall of the place (with its name)."""
    if place.level == "market":
        table, group_column = stall_periods, stall_periods.c.device_id
        names = conn.execute(
            select(devices.c.device_id, stalls.c.name)
            .select_from(devices.join(stalls, stalls.c.id == devices.c.stall_id))
            .where(stalls.c.market_id == place.market_id)).all()
    elif place.level == "commune":
        table, group_column = market_periods, market_periods.c.market_id
        names = conn.execute(select(markets.c.id, markets.c.name)
                             .where(markets.c.commune_id == place.commune_id)).all()
    else:
        table, group_column = market_periods, market_periods.c.commune_id
        names = conn.execute(select(communes.c.id, communes.c.name)
                             .where(communes.c.province_id == place.province_id)).all()
    rows = conn.execute(
        select(group_column.label("key"), *_sums(table))
        .where(table.c.kind == period.code, table.c.period == period.key,
               *_filters(table, place))
        .group_by(group_column)).mappings().all()
    figures = {row["key"]: {name: int(row[name]) for name in FIGURES} for row in rows}
    empty = dict.fromkeys(FIGURES, 0)
    out = [with_ratios({"key": key, "name": name, **figures.get(key, empty)})
           for key, name in names]
    return sorted(out, key=lambda row: (-row["revenue"], row["name"]))


def trend(conn: Connection, place: Place, period: Period) -> list[dict[str, Any]]:
    """Revenue, sales and QR value for each day of the trend (zero on days without sales)."""
    days = [day.isoformat() for day in period.trend_days()]
    table = _rollup(place)
    query = (select(table.c.period.label("day"), *_sums(table))
             .where(table.c.kind == "d", table.c.period.between(days[0], days[-1]),
                    *_filters(table, place)).group_by(table.c.period))
    found = {row["day"]: row for row in conn.execute(query).mappings()}
    return [with_ratios({"day": day, **{name: int(found[day][name]) if day in found else 0
                                        for name in FIGURES}}) for day in days]


# --- products and categories ---------------------------------------------------------------

def products(conn: Connection, place: Place, period: Period, limit: int = 20
             ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Products by revenue (the top `limit`) and categories by revenue, net of voids.

    A product's category and OCOP stars are those of its sale lines: the product as the stall
    had it when it sold (its own product, or the reference catalogue's; see
    projection.mark_lines). The same name sold under two categories or ratings (two stalls, or
    a product changed during the period) is two rows. `category` and `ocop_stars` are None when
    the lines had none."""
    if place.level == "stall":
        sl = sale_lines
        query = (select(sl.c.name, sl.c.unit, sl.c.category, sl.c.ocop_stars,
                        func.sum(sl.c.quantity_milli).label("quantity_milli"),
                        func.sum(sl.c.amount).label("revenue"), func.count().label("lines"))
                 .select_from(sl.join(sales, and_(sales.c.device_id == sl.c.device_id,
                                                  sales.c.seq == sl.c.seq,
                                                  # one month's partition (stored together)
                                                  sales.c.month == sl.c.month)))
                 .where(sales.c.device_id == place.device_id, sales.c.voided_seq.is_(None),
                        sales.c.business_day.between(period.start.isoformat(),
                                                     period.end.isoformat()))
                 .group_by(sl.c.name, sl.c.unit, sl.c.category, sl.c.ocop_stars))
    else:
        pp = product_periods
        query = (select(pp.c.name, pp.c.unit, pp.c.category, pp.c.ocop_stars,
                        func.sum(pp.c.quantity_milli).label("quantity_milli"),
                        func.sum(pp.c.revenue).label("revenue"),
                        func.sum(pp.c.lines).label("lines"))
                 .where(pp.c.kind == period.code, pp.c.period == period.key,
                        *_filters(pp, place))
                 .group_by(pp.c.name, pp.c.unit, pp.c.category, pp.c.ocop_stars))
    rows = []
    for row in conn.execute(query).mappings():
        if not row["lines"]:
            continue  # every line of it was voided
        rows.append({"name": row["name"], "unit": row["unit"],
                     "quantity_milli": int(row["quantity_milli"]),
                     "revenue": int(row["revenue"]), "lines": int(row["lines"]),
                     "category": row["category"] or None,
                     "ocop_stars": row["ocop_stars"] or None})
    rows.sort(key=lambda r: (-r["revenue"], r["name"], r["unit"], r["category"] or "",
                             r["ocop_stars"] or 0))
    categories: dict[str | None, dict[str, Any]] = {}
    for row in rows:
        entry = categories.setdefault(row["category"], {"category": row["category"],
                                                        "revenue": 0, "lines": 0, "ocop": 0})
        entry["revenue"] += row["revenue"]
        entry["lines"] += row["lines"]
        entry["ocop"] += row["revenue"] if row["ocop_stars"] else 0
    total = sum(row["revenue"] for row in rows)
    for entry in categories.values():
        entry["share"] = share(entry["revenue"], total)
    ordered = sorted(categories.values(), key=lambda c: (-c["revenue"], c["category"] or ""))
    return rows[:limit], ordered


# --- produce bought from growers (issue 19) ---------------------------------------------------

TOP_PURCHASED = 4   # products by amount that the breakdown by place shows one by one


def _purchased_query(place: Place, period: Period, by: Any = None) -> Any:
    """Quantity, amount and purchases per product (name and unit) of the place and period,
    and per `by` (a place column) if given: from the lines for a stall or a market's stalls,
    else from the rollup (`by` is then a column of purchase_periods)."""
    if place.level == "stall" or (by is not None and place.level == "market"):
        pl = purchase_lines
        group = [pl.c.name, pl.c.unit] + ([pl.c.device_id] if by is not None else [])
        query = (select(*group, func.sum(pl.c.quantity_milli).label("quantity_milli"),
                        func.sum(pl.c.amount).label("amount"),
                        func.count(pl.c.seq.distinct()).label("purchases"))
                 .where(_day_range(pl.c.business_day, period)).group_by(*group))
        if place.level == "stall":
            return query.where(pl.c.device_id == place.device_id)
        return (query.select_from(pl.join(devices, devices.c.device_id == pl.c.device_id)
                                  .join(stalls, stalls.c.id == devices.c.stall_id))
                .where(stalls.c.market_id == place.market_id))
    pp = purchase_periods
    group = [pp.c.name, pp.c.unit] + ([by] if by is not None else [])
    return (select(*group, func.sum(pp.c.quantity_milli).label("quantity_milli"),
                   func.sum(pp.c.amount).label("amount"),
                   func.sum(pp.c.purchases).label("purchases"))
            .where(pp.c.kind == period.code, pp.c.period == period.key, *_filters(pp, place))
            .group_by(*group))


def _unit_price(amount: int, quantity_milli: int) -> int | None:
    """The average price paid per unit, in whole đồng (rounded half up)."""
    if quantity_milli <= 0:
        return None
    return (amount * 1000 * 2 + quantity_milli) // (quantity_milli * 2)


def purchased_products(conn: Connection, place: Place, period: Period, limit: int = 50
                       ) -> list[dict[str, Any]]:
    """What the stalls of the place bought from growers, per product (name and unit as the
    purchase lines froze them), the largest amount first: the quantity, what it cost, the
    average price per unit and in how many purchases it was bought."""
    rows = [{"name": row.name, "unit": row.unit, "quantity_milli": int(row.quantity_milli),
             "amount": int(row.amount), "purchases": int(row.purchases),
             "unit_price": _unit_price(int(row.amount), int(row.quantity_milli))}
            for row in conn.execute(_purchased_query(place, period))]
    rows.sort(key=lambda r: (-r["amount"], r["name"], r["unit"]))
    return rows[:limit]


def purchase_breakdown(conn: Connection, place: Place, period: Period,
                       children: list[dict[str, Any]], top: int = TOP_PURCHASED
                       ) -> tuple[list[tuple[str, str]], list[dict[str, Any]]]:
    """The produce bought from growers in each commune, market or stall of the place (the rows
    of `breakdown`, which carry `purchased` and `purchases`): the products bought for the most
    money in the whole place (at most `top`, as (name, unit)), and for each child its quantity
    and amount of each of them (`quantity_0`, `amount_0`, ...) and the amount of the others
    (`other`). The children bought for the most money first."""
    by = {"province": purchase_periods.c.commune_id, "commune": purchase_periods.c.market_id,
          "market": purchase_lines.c.device_id}[place.level]
    cells: dict[Any, dict[tuple[str, str], tuple[int, int]]] = {}
    totals: dict[tuple[str, str], int] = {}
    for row in conn.execute(_purchased_query(place, period, by)).mappings():
        product = (row["name"], row["unit"])
        key = row[by.name]
        cells.setdefault(key, {})[product] = (int(row["quantity_milli"]), int(row["amount"]))
        totals[product] = totals.get(product, 0) + int(row["amount"])
    products = sorted(totals, key=lambda p: (-totals[p], p))[:top]
    out = []
    for child in children:
        bought = cells.get(child["key"], {})
        row = {"key": child["key"], "name": child["name"], "purchased": child["purchased"],
               "purchases": child["purchases"]}
        for index, product in enumerate(products):
            quantity, amount = bought.get(product, (0, 0))
            row[f"quantity_{index}"], row[f"amount_{index}"] = quantity, amount
        row["other"] = child["purchased"] - sum(row[f"amount_{i}"] for i in range(len(products)))
        out.append(row)
    out.sort(key=lambda r: (-r["purchased"], -r["purchases"], r["name"]))
    return products, out


# --- stall health and alerts -----------------------------------------------------------------

def _stall_places() -> Any:
    return (devices.join(stalls, stalls.c.id == devices.c.stall_id)
            .join(markets, markets.c.id == stalls.c.market_id)
            .join(communes, communes.c.id == markets.c.commune_id))


def _place_filters(place: Place) -> list[Any]:
    """For the join of devices, stalls, markets and communes (_stall_places)."""
    return _conditions(place, device=devices.c.device_id, province=communes.c.province_id,
                       commune=communes.c.id, market=markets.c.id)


def _silent_condition(now: datetime) -> Any:
    limit = now - SILENT_AFTER
    return and_(stalls.c.revoked_at.is_(None),
                or_(devices.c.last_sync_at < limit,
                    and_(devices.c.last_sync_at.is_(None), stalls.c.created_at < limit)))


def silent_count(conn: Connection, place: Place, now: datetime) -> int:
    """Stalls (not revoked) that have not synced for more than three days."""
    return conn.execute(select(func.count()).select_from(_stall_places())
                        .where(_silent_condition(now), *_place_filters(place))).scalar_one()


def silent_stalls(conn: Connection, place: Place, now: datetime, limit: int = 200
                  ) -> list[dict[str, Any]]:
    """The silent stalls themselves (for pages that may show single stalls), oldest first."""
    rows = conn.execute(
        select(devices.c.device_id, stalls.c.name, markets.c.name.label("market"),
               devices.c.last_sync_at, devices.c.acked_seq)
        .select_from(_stall_places()).where(_silent_condition(now), *_place_filters(place))
        .order_by(devices.c.last_sync_at.is_not(None), devices.c.last_sync_at, stalls.c.name)
        .limit(limit)).mappings().all()
    return [dict(row) for row in rows]


def _stalls_in_place(conn: Connection, place: Place, device_ids: set[str]
                     ) -> dict[str, dict[str, Any]]:
    """Of these devices, those inside the place, with their stall's and commune's names."""
    found: dict[str, dict[str, Any]] = {}
    ids = sorted(device_ids)
    for start in range(0, len(ids), 500):
        found.update({row.device_id: {"stall": row.name, "commune": row.commune}
                      for row in conn.execute(
                          select(devices.c.device_id, stalls.c.name,
                                 communes.c.name.label("commune"))
                          .select_from(_stall_places())
                          .where(devices.c.device_id.in_(ids[start:start + 500]),
                                 *_place_filters(place)))})
    return found


def _alerts(conn: Connection, place: Place, period: Period, include_unrouted: bool
            ) -> list[dict[str, Any]]:
    """Open integrity alerts, QR mismatches of the period and (if asked) unrouted bank
    payments, newest first. The alert tables are read first and small; the place is checked
    on their few devices, rather than joining every stall of a province to them."""
    ia, qc = integrity_alerts, qr_checks
    rows = [{"kind": row.kind, "device_id": row.device_id, "seq": row.seq,
             "message": row.message, "at": row.created_at}
            for row in conn.execute(select(ia.c.kind, ia.c.device_id, ia.c.seq, ia.c.message,
                                           ia.c.created_at).where(ia.c.resolved_at.is_(None)))]
    for row in conn.execute(
            select(qc.c.device_id, qc.c.seq, qc.c.reason, qc.c.reference, qc.c.expected,
                   qc.c.bank_amount, qc.c.at)
            .where(qc.c.state == "mismatch", qc.c.business_day.between(
                period.start.isoformat(), period.end.isoformat()))):
        rows.append({"kind": "qr_mismatch", "device_id": row.device_id, "seq": row.seq,
                     "message": " · ".join(str(part) for part in (
                         row.reason, row.reference,
                         f"{row.expected} ≠ {row.bank_amount}" if row.bank_amount is not None
                         else None) if part),
                     "at": _parse_at(row.at)})
    # E-invoices the tax authority has not received yet (one row per stall), and invoice codes
    # that another device of the same seller had used already (a till left on another's block).
    # A range used by two sellers is an integrity alert (`einvoice_range`), read above.
    eq = einvoice_queue
    for row in conn.execute(
            select(eq.c.device_id, eq.c.state, func.count().label("n"),
                   func.min(eq.c.queued_at).label("since"))
            .where(eq.c.state.in_(EINVOICE_OUTSTANDING + ("duplicate",)))
            .group_by(eq.c.device_id, eq.c.state)):
        kind = "einvoice_duplicate" if row.state == "duplicate" else "einvoice_pending"
        rows.append({"kind": kind, "device_id": row.device_id, "seq": None, "count": row.n,
                     "message": f"{row.n} × {row.state}", "at": row.since})
    places = _stalls_in_place(conn, place, {row["device_id"] for row in rows})
    rows = [{**row, **places[row["device_id"]]} for row in rows if row["device_id"] in places]
    if include_unrouted:
        bn = bank_notifications
        for row in conn.execute(
                select(bn.c.txn_id, bn.c.amount, bn.c.description, bn.c.received_at)
                .where(bn.c.device_id.is_(None), bn.c.acknowledged_at.is_(None))):
            rows.append({"kind": "unrouted", "stall": "", "commune": "", "device_id": None,
                         "seq": None,
                         "message": f"{row.txn_id} · {row.amount} · {row.description}",
                         "at": row.received_at})
    oldest = datetime.min.replace(tzinfo=VIETNAM)
    rows.sort(key=lambda r: r["at"] or oldest, reverse=True)
    return rows


def alert_counts(conn: Connection, place: Place, period: Period, *,
                 include_unrouted: bool) -> dict[str, int]:
    """Open integrity alerts by kind, QR mismatches of the period, unrouted bank payments."""
    counts: dict[str, int] = {"qr_mismatch": 0, "einvoice_pending": 0}
    if include_unrouted:
        counts["unrouted"] = 0
    for row in _alerts(conn, place, period, include_unrouted):
        counts[row["kind"]] = counts.get(row["kind"], 0) + row.get("count", 1)
    return counts


def alert_rows(conn: Connection, place: Place, period: Period, *, include_unrouted: bool,
               limit: int = 100) -> list[dict[str, Any]]:
    """The alerts themselves, newest first (at most `limit`)."""
    return _alerts(conn, place, period, include_unrouted)[:limit]


def _parse_at(value: str) -> datetime | None:
    from sync.protocol import parse_timestamp
    try:
        return parse_timestamp(value)
    except Exception:  # a stall's odd `at` must not break the page
        return None


# --- one stall -------------------------------------------------------------------------------

def stall_details(conn: Connection, place: Place) -> dict[str, Any]:
    """The stall's vendor, sync state and revocation."""
    row = conn.execute(
        select(stalls.c.vendor_name, stalls.c.created_at, stalls.c.revoked_at,
               devices.c.acked_seq, devices.c.last_sync_at, devices.c.paired_at,
               devices.c.clock_offset_ms)
        .select_from(devices.join(stalls, stalls.c.id == devices.c.stall_id))
        .where(devices.c.device_id == place.device_id)).mappings().one()
    return dict(row)


def _day_range(column: Any, period: Period) -> Any:
    return column.between(period.start.isoformat(), period.end.isoformat())


def stall_sales(conn: Connection, place: Place, period: Period, limit: int = 1000
                ) -> list[dict[str, Any]]:
    """The stall's sales of the period, newest first, with the part put on credit (not whose)."""
    # The stall's credit payments (few), summed per sale and joined once: a subquery per sale
    # would open every month's partition for each row (0.1 s a page with three years kept).
    # A sale's payments were stored with it, in its month, so the join also matches `month`.
    credit = (select(payments.c.seq, payments.c.month,
                     func.sum(payments.c.amount).label("amount"))
              .where(payments.c.device_id == place.device_id, payments.c.method == "credit")
              .group_by(payments.c.seq, payments.c.month).subquery("credit_parts"))
    rows = conn.execute(
        select(sales.c.number, sales.c.seq, sales.c.at, sales.c.business_day, sales.c.total,
               sales.c.cash, sales.c.qr, func.coalesce(credit.c.amount, 0).label("credit"),
               sales.c.voided_seq)
        .select_from(sales.outerjoin(credit, and_(credit.c.seq == sales.c.seq,
                                                  credit.c.month == sales.c.month)))
        .where(sales.c.device_id == place.device_id, _day_range(sales.c.business_day, period))
        .order_by(sales.c.seq.desc()).limit(limit)).mappings().all()
    return [{**row, "at": _parse_at(row["at"]), "voided": row["voided_seq"] is not None}
            for row in rows]


def stall_voids(conn: Connection, place: Place, period: Period) -> list[dict[str, Any]]:
    """The stall's voids of sales of the period."""
    rows = conn.execute(
        select(voids.c.seq, voids.c.at, voids.c.sale_seq, sales.c.number, voids.c.amount,
               voids.c.reason)
        .select_from(voids.join(sales, and_(sales.c.device_id == voids.c.device_id,
                                            sales.c.seq == voids.c.sale_seq)))
        .where(voids.c.device_id == place.device_id, _day_range(sales.c.business_day, period))
        .order_by(voids.c.seq.desc())).mappings().all()
    return [{**row, "at": _parse_at(row["at"])} for row in rows]


def stall_day_closes(conn: Connection, place: Place, period: Period) -> list[dict[str, Any]]:
    """The stall's Z closes of the period."""
    dc = day_closes
    rows = conn.execute(
        select(dc.c.z_number, dc.c.business_day, dc.c.expected_cash, dc.c.counted_cash,
               dc.c.difference, dc.c.at)
        .where(dc.c.device_id == place.device_id, _day_range(dc.c.business_day, period))
        .order_by(dc.c.seq.desc())).mappings().all()
    return [{**row, "at": _parse_at(row["at"])} for row in rows]
