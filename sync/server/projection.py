"""Rebuild the server's tables (sales, lines, payments, voids, cash moves, day closes, the stall's
own products, the credit book's repayments and customer numbers, the lines of goods bought from
growers) from entries.

The journal is the truth; these rows are derived from it in the same transaction that stores the
entries, with one multi-row INSERT per table. An entry is stored even when its payload cannot be
projected (it does not match its kind's schema in sync/payloads, or breaks a bound here): a
stall bug must not block that stall's sync for ever. It is logged and skipped here, and can be
projected again later from the journal.

Personal data (docs/SYNC.md, "Personal data"): a `customer` entry carries a buyer's name, phone
and note sealed with the vendor's key, which the server does not hold. Nothing here reads them:
the projection of a customer is her number at the stall, and when such an entry cannot be
projected the log names the field at fault, never its value (`_reason`).
"""
from __future__ import annotations

import logging
from bisect import bisect_left
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, bindparam, select, tuple_
from sqlalchemy.engine import Connection

from sync.numbers import MAX_AMOUNT
from sync.payloads import PayloadError, validate_payload
from sync.protocol import Entry

from . import rollups
from .einvoice import queue as einvoice_queue
from .db import (cash_moves, catalogue_products, communes, credit_customers, credit_payments,
                 day_closes, devices, insert_ignoring_duplicates, markets, payments,
                 product_entries, purchase_lines, qr_checks, refund_lines, refunds, sale_lines,
                 sales, stalls, voids)
from .personal_data import SEALED_FIELDS

logger = logging.getLogger(__name__)


class _Unprojectable(ValueError):
    pass


def _int(value: Any, *, optional: bool = False) -> int | None:
    """A whole number within the business bound (±MAX_AMOUNT).

    The bound is what keeps the shared rollups safe: a 64-bit SUM over one market's amounts
    cannot overflow before millions of sales at the largest amount, whereas a single pushed
    amount near 2**63 would make every later push in that market fail (issue 15).
    """
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not -MAX_AMOUNT <= value <= MAX_AMOUNT:
        raise _Unprojectable(f"expected a whole number within ±{MAX_AMOUNT}, found {value!r}")
    return value


def _number(value: Any, *, optional: bool = False) -> int | None:
    """A stall's own number of something (a customer): a whole number from 1, within 64 bits."""
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value < 2**63:
        raise _Unprojectable(f"expected a number from 1, found {value!r}")
    return value


def _text(value: Any, max_length: int, *, optional: bool = False) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str) or "\x00" in value:
        raise _Unprojectable(f"expected text, found {value!r}")
    return value[:max_length]


@dataclass
class Projection:
    """The rows that a run of entries adds, table by table."""

    sales: list[dict[str, Any]] = field(default_factory=list)
    sale_lines: list[dict[str, Any]] = field(default_factory=list)
    payments: list[dict[str, Any]] = field(default_factory=list)
    voids: list[dict[str, Any]] = field(default_factory=list)
    refunds: list[dict[str, Any]] = field(default_factory=list)
    refund_lines: list[dict[str, Any]] = field(default_factory=list)
    cash_moves: list[dict[str, Any]] = field(default_factory=list)
    day_closes: list[dict[str, Any]] = field(default_factory=list)
    qr_checks: list[dict[str, Any]] = field(default_factory=list)
    product_entries: list[dict[str, Any]] = field(default_factory=list)
    credit_payments: list[dict[str, Any]] = field(default_factory=list)
    credit_customers: list[dict[str, Any]] = field(default_factory=list)
    purchase_lines: list[dict[str, Any]] = field(default_factory=list)
    payment_marks: list[dict[str, Any]] = field(default_factory=list)
    einvoices: list[dict[str, Any]] = field(default_factory=list)


def _sale(entry: Entry, out: Projection) -> None:
    p = entry.payload
    key = {"device_id": entry.device_id, "seq": entry.seq}
    lines = [{**key, "line_no": no, "product_id": _int(line.get("product_id"), optional=True),
              "name": _text(line["name"], 200), "unit": _text(line["unit"], 32),
              "quantity_milli": _int(line["quantity_milli"]),
              "unit_price": _int(line["unit_price"]), "amount": _int(line["amount"])}
             for no, line in enumerate(p["lines"], start=1)]
    pays = [{**key, "line_no": no, "method": _text(pay["method"], 16),
             "amount": _int(pay["amount"]), "tendered": _int(pay.get("tendered"), optional=True),
             "change": _int(pay.get("change"), optional=True),
             "reference": _text(pay.get("reference"), 16, optional=True),
             "state": "vendor_confirmed" if pay["method"] == "qr" else None,
             # a credit part (issue 18): owed by the stall's customer of that number
             "customer_id": _number(pay["customer_id"]) if pay["method"] == "credit" else None}
            for no, pay in enumerate(p["payments"], start=1)]
    cash = _int(sum(pay["amount"] for pay in pays if pay["method"] == "cash"))
    qr = _int(sum(pay["amount"] for pay in pays if pay["method"] == "qr"))
    out.sales.append({**key, "sale_id": entry.id, "number": _int(p["number"]), "at": entry.at,
                      "business_day": _text(p["business_day"], 10), "total": _int(p["total"]),
                      "cash": cash, "qr": qr, "sold_by": _text(p.get("sold_by"), 40, optional=True),
                      "voided_seq": None})
    out.sale_lines.extend(lines)
    out.payments.extend(pays)


def _void(entry: Entry, out: Projection) -> None:
    p = entry.payload
    out.voids.append({"device_id": entry.device_id, "seq": entry.seq,
                      "sale_id": _text(p["sale_id"], 36), "sale_seq": _int(p["sale_seq"]),
                      "reason": _text(p.get("reason") or "", 400),
                      "amount": _int(p["amount"]),
                      "business_day": _text(p.get("business_day"), 10, optional=True),
                      "at": entry.at})


def _cash_move(entry: Entry, out: Projection) -> None:
    p = entry.payload
    out.cash_moves.append({"device_id": entry.device_id, "seq": entry.seq,
                           "business_day": _text(p["business_day"], 10),
                           "type": _text(p["type"], 16), "amount": _int(p["amount"]),
                           "reason": _text(p.get("reason"), 400, optional=True), "at": entry.at})


def _day_close(entry: Entry, out: Projection) -> None:
    p = entry.payload
    expected = _int(p["cash_drawer"]["expected"])
    counted = _int(p["counted_cash"])
    out.day_closes.append({"device_id": entry.device_id, "seq": entry.seq,
                           "business_day": _text(p["business_day"], 10),
                           "z_number": _int(p["z_number"]), "expected_cash": expected,
                           "counted_cash": counted,
                           "difference": _int(p.get("difference", counted - expected)),
                           "at": entry.at})


def _payment_check(entry: Entry, out: Projection) -> None:
    """What the bank said about a QR payment (pos/bankcheck.py made the decision at the stall)."""
    p = entry.payload
    state = _text(p["state"], 16)
    if state not in ("bank_confirmed", "mismatch"):
        raise _Unprojectable(f"unknown payment check state {state!r}")
    out.qr_checks.append({"device_id": entry.device_id, "seq": entry.seq,
                          "reference": _text(p.get("reference"), 16, optional=True),
                          "sale_id": _text(p.get("sale_id"), 36, optional=True),
                          "state": state, "reason": _text(p.get("reason"), 32, optional=True),
                          "bank_txn": _text(p.get("bank_txn"), 64, optional=True),
                          "bank_amount": _int(p.get("bank_amount"), optional=True),
                          "expected": _int(p.get("expected"), optional=True),
                          "source": _text(p.get("source") or "server", 16),
                          "business_day": _text(p.get("business_day"), 10, optional=True),
                          "at": entry.at})
    if p.get("sale_seq") is not None and p.get("reference") is not None:
        out.payment_marks.append({"b_device": entry.device_id, "b_sale_seq": _int(p["sale_seq"]),
                                  "b_ref": _text(p["reference"], 16), "b_state": state})


def _refund(entry: Entry, out: Projection) -> None:
    """Part of a sale given back: in cash, by transfer, or off the buyer's debt (`credit`:
    never a transfer, so not in `qr`); the transfer part is what the rest is, as the stall
    counts it."""
    p = entry.payload
    key = {"device_id": entry.device_id, "seq": entry.seq}
    cash = _int(sum(pay["amount"] for pay in p["payments"] if pay["method"] == "cash"))
    credit = _int(sum(pay["amount"] for pay in p["payments"] if pay["method"] == "credit"))
    total = _int(p["total"])
    out.refunds.append({**key, "sale_id": _text(p["sale_id"], 36), "sale_seq": _int(p["sale_seq"]),
                        "business_day": _text(p["business_day"], 10), "total": total,
                        "cash": cash, "qr": _int(total - cash - credit), "credit": credit,
                        "reason": _text(p.get("reason") or "", 400), "at": entry.at})
    out.refund_lines.extend({**key, "line_no": _int(line["line"]),
                             "name": _text(line["name"], 200), "unit": _text(line["unit"], 32),
                             "quantity_milli": _int(line["quantity_milli"]),
                             "amount": _int(line["amount"])} for line in p["lines"])


def _product(entry: Entry, out: Projection) -> None:
    """A product of the stall's own catalogue as this entry describes it (created or changed)."""
    p = entry.payload
    stars = p.get("ocop_stars")
    if stars not in (None, 3, 4, 5):
        raise _Unprojectable(f"OCOP stars are 3, 4 or 5, found {stars!r}")
    out.product_entries.append({"device_id": entry.device_id, "seq": entry.seq,
                                "product_id": _int(p["product_id"]),
                                "name": _text(p["name"], 200), "unit": _text(p["unit"], 32),
                                "category": _text(p.get("category") or "", 40),
                                "ocop_stars": stars or 0})


def _credit_payment(entry: Entry, out: Projection) -> None:
    """A buyer paid back (part of) her debt, in cash or by transfer: counted on its business
    day, apart from sales (it was revenue when it was sold on credit)."""
    p = entry.payload
    method = _text(p["method"], 16)
    if method not in ("cash", "qr"):
        raise _Unprojectable(f"a repayment is in cash or qr, found {method!r}")
    amount = _int(p["amount"])
    if amount <= 0:
        raise _Unprojectable(f"a repayment is more than 0, found {amount!r}")
    out.credit_payments.append({"device_id": entry.device_id, "seq": entry.seq,
                                "customer_id": _number(p["customer_id"]), "amount": amount,
                                "method": method, "business_day": _text(p["business_day"], 10),
                                "at": entry.at})


def _customer(entry: Entry, out: Projection) -> None:
    """Only that the stall has a customer of this number. Her name, phone and note are sealed
    with the vendor's key (the server has none): they are not read, here or anywhere."""
    out.credit_customers.append({"device_id": entry.device_id, "seq": entry.seq,
                                 "customer_id": _number(entry.payload["customer_id"])})


def _purchase(entry: Entry, out: Projection) -> None:
    """Goods a stall bought from a grower: its lines (product, quantity, amount) on the business
    day, for the dashboard's produce bought from growers. The grower's name, ID number, address
    and phone are sealed with the vendor's key: they are not read, here or anywhere."""
    p = entry.payload
    day = _text(p["business_day"], 10)
    out.purchase_lines.extend({"device_id": entry.device_id, "seq": entry.seq,
                               "line_no": line_no, "product_id": _number(line["product_id"]),
                               "name": _text(line["name"], 120), "unit": _text(line["unit"], 16),
                               "quantity_milli": _int(line["quantity_milli"]),
                               "amount": _int(line["amount"]), "business_day": day}
                              for line_no, line in enumerate(p["lines"], start=1))


# `stock_count` entries are stored in the journal and projected nowhere (a stall's own stock).
_PROJECTORS = {"sale": _sale, "void": _void, "cash_move": _cash_move, "day_close": _day_close,
               "payment_check": _payment_check, "refund": _refund, "product": _product,
               "credit_payment": _credit_payment, "customer": _customer,
               "purchase": _purchase}


def _reason(entry: Entry, exc: Exception) -> str:
    """Why an entry is not projected, for the log. For a kind that carries sealed personal data
    only the field at fault is named: a schema's message quotes the value it refused, and a
    stall that broke the contract might have put a name in clear anywhere in the payload."""
    if entry.kind not in SEALED_FIELDS:
        return str(exc)
    if isinstance(exc, PayloadError):
        return f"{entry.kind} payload at {exc.path or '(payload)'} does not match its schema"
    return f"{type(exc).__name__} (the value is not logged)"


def project(entries: list[Entry]) -> Projection:
    """The rows that `entries` add; entries whose payload does not fit are logged and skipped."""
    out = Projection()
    for entry in entries:
        out.einvoices.extend(einvoice_queue.rows_for(entry))  # MTT invoices to transmit
        projector = _PROJECTORS.get(entry.kind)
        if projector is None:
            continue
        staged = Projection()
        try:
            # The written contract first (docs/SYNC.md "Payloads", the server's lenient reading),
            # then the projector's own bounds.
            validate_payload(entry.kind, entry.payload, lenient=True)
            projector(entry, staged)
        except (PayloadError, _Unprojectable, KeyError, TypeError, AttributeError,
                ValueError) as exc:
            logger.warning("entry %s/%s (%s) stored but not projected: %s", entry.device_id,
                           entry.seq, entry.kind, _reason(entry, exc))
            continue
        for name in ("sales", "sale_lines", "payments", "voids", "refunds", "refund_lines",
                     "cash_moves", "day_closes", "qr_checks", "product_entries",
                     "credit_payments", "credit_customers", "purchase_lines",
                     "payment_marks"):
            getattr(out, name).extend(getattr(staged, name))
    return out


_MARK_VOIDED = (sales.update()
                .where(and_(sales.c.device_id == bindparam("b_device"),
                            sales.c.seq == bindparam("b_sale_seq"),
                            sales.c.voided_seq.is_(None)))
                .values(voided_seq=bindparam("b_void_seq")))


# The QR payment with reference `b_ref` of the sale at `b_sale_seq` takes the bank's verdict.
_MARK_PAYMENT = (payments.update()
                 .where(and_(payments.c.device_id == bindparam("b_device"),
                             payments.c.seq == bindparam("b_sale_seq"),
                             payments.c.method == "qr",
                             payments.c.reference == bindparam("b_ref")))
                 .values(state=bindparam("b_state")))


# --- a sale line's category and OCOP stars ------------------------------------------------------

def _chunks(items: list[Any], size: int = 500) -> Any:
    return (items[start:start + size] for start in range(0, len(items), size))


def mark_lines(conn: Connection, lines: list[dict[str, Any]]) -> None:
    """Give each sale line (in place) the category and OCOP stars of its product as the stall
    had it when it sold, frozen so that a later change of the product rewrites no past figure:

    - the latest `product` entry of that product (device, product_id) before the sale;
    - else the product is one of the province's reference catalogue (stalls do not journal
      those): the catalogue's product of the line's name in the stall's scope, the same unit
      and the narrowest scope (market, commune, province) first;
    - a line typed without a product has neither ('' and 0): a typed name certifies nothing.

    The product entries of the same push must be stored first (`write` does)."""
    wanted = sorted({(line["device_id"], line["product_id"]) for line in lines
                     if line["product_id"] is not None})
    history: dict[tuple[str, int], list[tuple[int, str, int]]] = defaultdict(list)
    pe = product_entries
    for chunk in _chunks(wanted):
        for row in conn.execute(
                select(pe.c.device_id, pe.c.product_id, pe.c.seq, pe.c.category, pe.c.ocop_stars)
                .where(tuple_(pe.c.device_id, pe.c.product_id).in_(chunk))):
            history[(row.device_id, row.product_id)].append(
                (row.seq, row.category, row.ocop_stars))
    for versions in history.values():
        versions.sort()
    from_catalogue = []
    for line in lines:
        line["category"], line["ocop_stars"] = "", 0
        if line["product_id"] is None:
            continue
        versions = history.get((line["device_id"], line["product_id"]), [])
        before = bisect_left(versions, (line["seq"],))
        if before:
            _, line["category"], line["ocop_stars"] = versions[before - 1]
        else:
            from_catalogue.append(line)
    if from_catalogue:
        _mark_from_catalogue(conn, from_catalogue)


def _mark_from_catalogue(conn: Connection, lines: list[dict[str, Any]]) -> None:
    ids = sorted({line["device_id"] for line in lines})
    places = {row.device_id: row for row in conn.execute(
        select(devices.c.device_id, stalls.c.market_id, markets.c.commune_id,
               communes.c.province_id)
        .select_from(devices.join(stalls, stalls.c.id == devices.c.stall_id)
                     .join(markets, markets.c.id == stalls.c.market_id)
                     .join(communes, communes.c.id == markets.c.commune_id))
        .where(devices.c.device_id.in_(ids)))}
    provinces = sorted({place.province_id for place in places.values()})
    names = sorted({line["name"] for line in lines})
    cp = catalogue_products
    found: dict[tuple[int, str], list[Any]] = defaultdict(list)
    for chunk in _chunks(names):
        for row in conn.execute(
                select(cp.c.id, cp.c.province_id, cp.c.commune_id, cp.c.market_id, cp.c.name,
                       cp.c.unit, cp.c.category, cp.c.ocop_stars, cp.c.version)
                .where(cp.c.province_id.in_(provinces), cp.c.name.in_(chunk))):
            found[(row.province_id, row.name)].append(row)
    for line in lines:
        place = places.get(line["device_id"])
        if place is None:
            continue
        in_scope = [row for row in found.get((place.province_id, line["name"]), [])
                    if row.market_id == place.market_id
                    or (row.market_id is None and row.commune_id in (None, place.commune_id))]
        if not in_scope:
            continue
        best = min(in_scope, key=lambda row: (
            row.unit != line["unit"],
            0 if row.market_id is not None else 1 if row.commune_id is not None else 2,
            -row.version, -row.id))
        line["category"], line["ocop_stars"] = best.category or "", best.ocop_stars or 0


def write(conn: Connection, rows: Projection) -> None:
    """Insert the rows, sales before the voids that point at them (they may share a batch)."""
    if rows.product_entries:
        conn.execute(product_entries.insert(), rows.product_entries)
    if rows.sale_lines:
        mark_lines(conn, rows.sale_lines)
    for table, batch in ((sales, rows.sales), (sale_lines, rows.sale_lines),
                         (payments, rows.payments), (cash_moves, rows.cash_moves),
                         (day_closes, rows.day_closes), (voids, rows.voids),
                         (refunds, rows.refunds), (refund_lines, rows.refund_lines),
                         (credit_payments, rows.credit_payments),
                         (purchase_lines, rows.purchase_lines)):
        if batch:
            conn.execute(table.insert(), batch)
    if rows.credit_customers:   # a customer changed later is the same customer: kept once
        first: dict[tuple[str, int], dict[str, Any]] = {}
        for row in rows.credit_customers:
            first.setdefault((row["device_id"], row["customer_id"]), row)
        conn.execute(insert_ignoring_duplicates(conn, credit_customers,
                                                ["device_id", "customer_id"]),
                     list(first.values()))
    if rows.voids:
        conn.execute(_MARK_VOIDED, [{"b_device": v["device_id"], "b_sale_seq": v["sale_seq"],
                                     "b_void_seq": v["seq"]} for v in rows.voids])
    if rows.qr_checks:
        conn.execute(qr_checks.insert(), rows.qr_checks)
    if rows.payment_marks:
        conn.execute(_MARK_PAYMENT, rows.payment_marks)
    rollups.apply(conn, rows)  # the dashboard's figures, in the same transaction
    einvoice_queue.insert(conn, rows.einvoices)  # the outbound queue to the e-invoice provider
