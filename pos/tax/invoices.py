"""MTT e-invoices on the stall: the invoice fields of a sale entry, corrections, and look-ups.

An invoice is not a separate document that could drift from the sale: it is the `invoice` object
inside the sale's own journal entry (code, form, symbol, seller, buyer), frozen at the moment of
sale, and `tax_invoices` is its projection (written by a trigger from that entry). Decree 70/2025
removed cancellation: a wrong invoice is corrected by an `invoice_correction` entry, an adjustment
or a replacement, that references the original and gets its own code.
"""
from __future__ import annotations

import re
import sqlite3
from typing import Any

from flask_babel import lazy_gettext as _l

from .. import journal, limits
from .. import settings as stall_settings
from ..business_days import current_business_day
from ..db import write_transaction
from sync.errors import Conflict, InvalidInput, NotFound
from sync.money import line_amount, parse_amount, parse_quantity
from ..text import clean_text
from . import mtt, rates
from .settings import TAX_CODE, TaxSettings, load
from sync.numbers import MAX_AMOUNT
from sync.localtime import business_day as issue_day
from sync.protocol import utc_timestamp

CORRECTION_KIND = "invoice_correction"
CORRECTION_TYPES = ("adjustment", "replacement")
_BUYER_KEYS = {"tax_code", "id_number", "name", "address"}
ID_NUMBER = re.compile(r"^\d{9}$|^\d{12}$|^[A-Z]\d{7,8}$")   # CMND, CCCD, passport


def seller_address(stall: dict[str, str]) -> str:
    """The seller's address as invoices print it: stall, market, commune, province."""
    number = f"Sạp {stall['stall_number']}" if stall.get("stall_number") else ""
    return ", ".join(filter(None, [number, stall.get("market", ""), stall.get("commune", ""),
                                   stall.get("province", "")]))


def clean_buyer(raw: Any) -> dict[str, str]:
    """A buyer who asked for her tax code or ID number on the invoice; InvalidInput otherwise."""
    if not isinstance(raw, dict):
        raise InvalidInput(_l("buyer must be an object with a tax code or an ID number."),
                           field="buyer")
    unknown = sorted(set(raw) - _BUYER_KEYS)
    if unknown:
        raise InvalidInput(_l("Unknown field: %(name)s", name=unknown[0]),
                           field=f"buyer.{unknown[0]}")
    buyer = {}
    for key, label, max_length in (("tax_code", _l("Buyer's tax code"), limits.BUYER_TAX_CODE_CHARS),
                                   ("id_number", _l("Buyer's ID number"), limits.BUYER_ID_CHARS),
                                   ("name", _l("Buyer's name"), limits.BUYER_NAME_CHARS),
                                   ("address", _l("Buyer's address"), limits.BUYER_ADDRESS_CHARS)):
        value = clean_text(raw.get(key), field=f"buyer.{key}", label=label,
                           max_length=max_length, required=False)
        if value:
            buyer[key] = value.upper() if key == "id_number" else value
    if not buyer.get("tax_code") and not buyer.get("id_number"):
        raise InvalidInput(_l("Give the buyer's tax code or ID number (or leave the buyer out)."),
                           field="buyer", code="buyer_incomplete")
    if buyer.get("tax_code") and not TAX_CODE.match(buyer["tax_code"]):
        raise InvalidInput(_l("A tax code has 10 digits (or 10-3 for a branch, or 12 for a"
                              " citizen ID)."), field="buyer.tax_code")
    if buyer.get("id_number") and not ID_NUMBER.match(buyer["id_number"]):
        raise InvalidInput(_l("An ID number has 12 digits (CCCD), 9 (old ID card), or is a"
                              " passport number."), field="buyer.id_number")
    return buyer


def line_taxes(conn: sqlite3.Connection, lines: list[dict[str, Any]],
               ts: TaxSettings) -> tuple[list[dict[str, str]], bool]:
    """Each line's tax group and VAT applicability, and whether any came from a product's own
    setting (otherwise every line has the stall's default group)."""
    ids = sorted({line["product_id"] for line in lines if line.get("product_id") is not None})
    own_rows = {row["product_id"]: row for row in conn.execute(
        "SELECT product_id, tax_group, vat FROM product_tax WHERE product_id IN"
        f" ({', '.join('?' * len(ids))})", ids)} if ids else {}
    taxes, own = [], False
    for line in lines:
        row = own_rows.get(line.get("product_id"))
        own = own or row is not None
        taxes.append({"group": row["tax_group"], "vat": row["vat"]} if row
                     else {"group": ts.default_group, "vat": "applies"})
    return taxes, own


def _invoice_object(conn: sqlite3.Connection, ts: TaxSettings, at: str,
                    buyer: dict[str, str] | None) -> dict[str, Any]:
    """The invoice of an entry made at `at`. Its year (in the code, the symbol and the counter)
    is the year of its date of issue, the calendar day in Vietnam that the XML's NLap gives, and
    not the business day's: after a Z on 31 December sales count for 1 January, but an invoice
    made that evening is dated 31 December and belongs to that year's series."""
    year = int(issue_day(at)[:4])
    code = mtt.next_code(conn, ts.invoice_form, year, ts.mtt_range, ts.device_block)
    stall = stall_settings.stall_settings(conn)
    invoice: dict[str, Any] = {
        "code": str(code), "form": ts.invoice_form,
        "symbol": mtt.symbol_for_year(ts.symbol, year), "range": ts.mtt_range, "year": year,
        "block": ts.device_block, "number": code.number,
        "seller": {"name": stall.get("vendor_name", ""), "tax_code": ts.tax_code,
                   "address": seller_address(stall), "phone": stall.get("phone", ""),
                   "store": stall.get("stall_name", ""), "location_code": ts.location_code}}
    if buyer:
        invoice["buyer"] = buyer
    return invoice


def fields_for_sale(conn: sqlite3.Connection, day: str, lines: list[dict[str, Any]], total: int,
                    buyer: Any = None, *, at: str | None = None) -> dict[str, Any]:
    """What a sale entry's payload gains from the tax settings, inside the sale's transaction.

    In MTT mode: `invoice` (code from this till's block, seller, buyer if she asked) and
    `tax_lines`. In receipt mode: `tax_lines` only if a product has its own tax group, and a
    buyer is refused (a plain receipt carries no buyer). `day` is the sale's business day; `at`
    its time (the entry's `at`; now when not given), whose calendar year the invoice takes.
    """
    ts = load(conn)
    taxes, own = line_taxes(conn, lines, ts)
    if not ts.mtt:
        if buyer is not None:
            raise InvalidInput(_l("A buyer's tax code goes on an e-invoice only: switch on MTT"
                                  " e-invoices in the tax settings."), field="buyer",
                               code="not_mtt")
        return {"tax_lines": taxes} if own else {}
    buyer_fields = clean_buyer(buyer) if buyer is not None else None
    return {"invoice": _invoice_object(conn, ts, at or utc_timestamp(), buyer_fields),
            "tax_lines": taxes}


# --- reading invoices back -------------------------------------------------------------------

def invoice_for_sale(conn: sqlite3.Connection, sale_id: str) -> dict[str, Any] | None:
    """The original invoice of a sale (its projection row), or None for a plain receipt."""
    row = conn.execute("SELECT * FROM tax_invoices WHERE sale_id = ? AND kind = 'original'",
                       (sale_id,)).fetchone()
    return dict(row) if row else None


def invoice_code(conn: sqlite3.Connection, sale_id: str) -> str | None:
    """The sale's MTT code, if it has one (the `invoice_code` of the sale's JSON)."""
    row = invoice_for_sale(conn, sale_id)
    return row["code"] if row else None


def get_invoice(conn: sqlite3.Connection, code: str) -> dict[str, Any]:
    """One invoice: its row and its journal entry's payload and time."""
    row = conn.execute("SELECT * FROM tax_invoices WHERE code = ?", (code,)).fetchone()
    if row is None:
        raise NotFound(_l("No invoice with this code."), code="unknown_invoice")
    entry = journal.get(conn, row["seq"])
    assert entry is not None  # the foreign key guarantees it
    return {**dict(row), "entry_id": entry.id, "payload": entry.payload, "at": entry.at,
            "device_id": entry.device_id}


def corrections_of(conn: sqlite3.Connection, code: str) -> list[dict[str, Any]]:
    """Invoices that adjust or replace this one, oldest first."""
    return [dict(r) for r in conn.execute("SELECT * FROM tax_invoices WHERE related_code = ?"
                                          " ORDER BY seq", (code,))]


def list_invoices(conn: sqlite3.Connection, *, since_day: str | None = None,
                  limit: int = 200) -> list[dict[str, Any]]:
    """Invoices, newest first."""
    return [dict(r) for r in conn.execute(
        "SELECT * FROM tax_invoices WHERE business_day >= ? ORDER BY seq DESC LIMIT ?",
        (since_day or "0000-00-00", limit))]


def not_sent(conn: sqlite3.Connection, acked_seq: int) -> list[dict[str, Any]]:
    """Invoices whose entries have not reached the provincial server yet (seq > acked_seq), so
    cannot have reached the tax authority either."""
    return [dict(r) for r in conn.execute(
        "SELECT * FROM tax_invoices WHERE seq > ? ORDER BY seq", (acked_seq,))]


# --- corrections ------------------------------------------------------------------------------

_GOODS_KEYS = ("unit", "quantity", "unit_price")


def _adjustment_lines(raw_lines: Any) -> list[dict[str, Any]]:
    """Adjustment lines: a name and a signed amount (negative lowers the invoice), and, for a
    line that adjusts goods by quantity (a refund's), their unit, quantity and unit price, all
    three or none. The quantity is written as a sale's ("0.5", never signed: the line's sign is
    its amount's); the amount stays what the invoice changes by (a refund's share of what the
    buyer paid), so it need not be quantity × price (sync/invoice_xml.py writes the difference
    as the line's discount)."""
    if not isinstance(raw_lines, list) or not 1 <= len(raw_lines) <= 50:
        raise InvalidInput(_l("An adjustment needs 1 to 50 lines."), field="lines")
    lines = []
    for index, raw in enumerate(raw_lines):
        field = f"lines[{index}]"
        if not isinstance(raw, dict) or set(raw) - {"name", "amount", *_GOODS_KEYS}:
            raise InvalidInput(_l("An adjustment line has a name and an amount."), field=field)
        name = clean_text(raw.get("name"), field=f"{field}.name", label=_l("Item name"),
                          max_length=limits.NAME_CHARS)
        amount = raw.get("amount")
        negative = isinstance(amount, int) and not isinstance(amount, bool) and amount < 0
        value = parse_amount(-amount if negative else amount, field=f"{field}.amount",
                             allow_zero=False)
        line: dict[str, Any] = {"name": name, "amount": -value if negative else value}
        given = [key for key in _GOODS_KEYS if raw.get(key) is not None]
        if given and len(given) < len(_GOODS_KEYS):
            missing = next(key for key in _GOODS_KEYS if key not in given)
            raise InvalidInput(_l("A line has a name, unit, quantity and unit price."),
                               field=f"{field}.{missing}")
        if given:
            line |= {"unit": clean_text(raw["unit"], field=f"{field}.unit", label=_l("Unit"),
                                        max_length=limits.UNIT_CHARS),
                     "quantity_milli": parse_quantity(raw["quantity"],
                                                      field=f"{field}.quantity"),
                     "unit_price": parse_amount(raw["unit_price"],
                                                field=f"{field}.unit_price")}
        lines.append(line)
    return lines


def _replacement_lines(raw_lines: Any) -> list[dict[str, Any]]:
    """Replacement lines: the whole corrected invoice, like a sale's free lines."""
    if not isinstance(raw_lines, list) or not 1 <= len(raw_lines) <= 200:
        raise InvalidInput(_l("A replacement needs 1 to 200 lines."), field="lines")
    lines = []
    for index, raw in enumerate(raw_lines):
        field = f"lines[{index}]"
        if not isinstance(raw, dict) or set(raw) - {"name", "unit", "quantity", "unit_price"}:
            raise InvalidInput(_l("A line has a name, unit, quantity and unit price."),
                               field=field)
        quantity_milli = parse_quantity(raw.get("quantity"), field=f"{field}.quantity")
        unit_price = parse_amount(raw.get("unit_price"), field=f"{field}.unit_price")
        lines.append({"name": clean_text(raw.get("name"), field=f"{field}.name",
                                         label=_l("Item name"),
                                         max_length=limits.NAME_CHARS),
                      "unit": clean_text(raw.get("unit", "cái"), field=f"{field}.unit",
                                         label=_l("Unit"),
                                         max_length=limits.UNIT_CHARS),
                      "quantity_milli": quantity_milli, "unit_price": unit_price,
                      "amount": line_amount(quantity_milli, unit_price), "product_id": None})
    return lines


def check_correction(request: Any) -> dict[str, Any]:
    """Check a correction request before any write: its type, reason, lines, buyer and total.

    `request`: {"type": "adjustment"|"replacement", "reason": "...", "lines": [...],
    "buyer": {...}?}. Adjustment lines are {name, amount} with a signed amount, and may carry
    {unit, quantity, unit_price} of the goods they adjust; replacement lines are the whole
    corrected invoice.
    """
    if not isinstance(request, dict):
        raise InvalidInput(_l("The correction must be a JSON object."))
    unknown = sorted(set(request) - {"type", "reason", "lines", "buyer"})
    if unknown:
        raise InvalidInput(_l("Unknown field: %(name)s", name=unknown[0]), field=unknown[0])
    kind = request.get("type")
    if kind not in CORRECTION_TYPES:
        raise InvalidInput(_l("The correction type is adjustment or replacement."), field="type")
    reason = clean_text(request.get("reason"), field="reason", label=_l("Reason"),
                        max_length=limits.REASON_CHARS)
    lines = (_adjustment_lines if kind == "adjustment" else _replacement_lines)(
        request.get("lines"))
    buyer = clean_buyer(request["buyer"]) if request.get("buyer") is not None else None
    total = sum(line["amount"] for line in lines)
    if abs(total) > MAX_AMOUNT:  # the payload contract's bound (sync/payloads)
        raise InvalidInput(_l("The amount is too large."), field="lines", code="total_too_large")
    return {"type": kind, "reason": reason, "lines": lines, "buyer": buyer, "total": total}


def write_correction(conn: sqlite3.Connection, device_id: str, code: str,
                     checked: dict[str, Any], issued_by: str) -> str:
    """Write a checked correction of invoice `code` inside the caller's write transaction;
    returns the new invoice's code. An invoice already replaced cannot be replaced again
    (replace its replacement)."""
    kind, lines, total = checked["type"], checked["lines"], checked["total"]
    at = utc_timestamp()
    business_day = current_business_day(conn, at)
    ts = load(conn)
    if not ts.mtt:
        raise Conflict(_l("Invoices can be corrected only in MTT e-invoice mode."),
                       code="not_mtt")
    original = get_invoice(conn, code)
    if kind == "replacement" and any(c["kind"] == "replacement"
                                     for c in corrections_of(conn, code)):
        raise Conflict(_l("This invoice has been replaced already: correct its"
                          " replacement."), code="already_replaced")
    if kind == "adjustment" and original["total"] + total < 0:
        raise InvalidInput(_l("An adjustment cannot take the invoice below zero."),
                           field="lines", code="adjustment_too_large")
    delta = total if kind == "adjustment" else total - original["total"]
    original_buyer = original["payload"].get("invoice", {}).get("buyer")
    invoice = _invoice_object(conn, ts, at, checked["buyer"] or original_buyer)
    # The original as its own XML gives it: its number (SHDon) and its date of issue (NLap, the
    # calendar day of its entry), which TTHDLQuan repeats as SHDCLQuan and NLHDCLQuan.
    payload = {"type": kind, "sale_id": original["sale_id"], "business_day": business_day,
               "original": {"code": code, "form": original["form"],
                            "symbol": original["symbol"],
                            "number": mtt.parse_code(code).invoice_number,
                            "day": issue_day(original["at"])},
               "invoice": invoice, "lines": lines, "total": total, "delta": delta,
               "reason": checked["reason"], "issued_by": issued_by}
    journal.append(conn, device_id, CORRECTION_KIND, payload, at=at)
    return invoice["code"]


def issue_correction(conn: sqlite3.Connection, device_id: str, code: str, request: Any,
                     issued_by: str) -> dict[str, Any]:
    """Adjust or replace an issued invoice with a new one that references it (one entry)."""
    checked = check_correction(request)
    with write_transaction(conn):
        new_code = write_correction(conn, device_id, code, checked, issued_by)
    invoice = get_invoice(conn, new_code)
    return invoice | {"entry_seq": invoice["seq"]}


def group_choices(lang: str = "vi") -> list[tuple[str, str]]:
    """(code, label) of the tax groups, for the product tax form."""
    return [(code, rates.group_label(code, lang)) for code in rates.group_codes()]


def set_product_taxes(conn: sqlite3.Connection, choices: dict[int, tuple[Any, Any]]) -> None:
    """Set products' tax group and VAT applicability, {product_id: (group, vat)}, all or none
    (used by the next sales)."""
    for product_id, (group, vat) in choices.items():
        if group not in rates.group_codes():
            raise InvalidInput(_l("Unknown tax group: %(name)s", name=group), field="tax_group")
        if vat not in rates.VAT_KINDS:
            raise InvalidInput(_l("VAT is applies or KCT (not subject to VAT)."), field="vat")
    with write_transaction(conn):
        for product_id in choices:
            if conn.execute("SELECT 1 FROM products WHERE id = ?",
                            (product_id,)).fetchone() is None:
                raise NotFound(_l("No product with this id."), code="unknown_product")
        conn.executemany(
            "INSERT INTO product_tax (product_id, tax_group, vat) VALUES (?, ?, ?)"
            " ON CONFLICT (product_id) DO UPDATE SET tax_group = excluded.tax_group,"
            " vat = excluded.vat", [(pid, g, v) for pid, (g, v) in choices.items()])


def set_product_tax(conn: sqlite3.Connection, product_id: int, group: Any, vat: Any) -> None:
    """Set one product's tax group and VAT applicability."""
    set_product_taxes(conn, {product_id: (group, vat)})


def sale_invoice_xml(conn: sqlite3.Connection, sale_id: str) -> bytes:
    """The XML of a sale's invoice; NotFound when the sale has none (sold in receipt mode)."""
    from sync.invoice_xml import build
    row = invoice_for_sale(conn, sale_id)
    if row is None:
        raise NotFound(_l("This sale has no e-invoice: it was sold with a plain receipt."),
                       code="no_invoice")
    found = get_invoice(conn, row["code"])
    return build("sale", found["payload"], found["at"], found["entry_id"])


def voided_without_correction(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    """Invoices of sales voided at the stall that no adjustment or replacement corrects yet: the
    tax authority still holds them at their full amount."""
    return [dict(r) for r in conn.execute(
        "SELECT t.code, t.sale_id, t.total, t.business_day FROM tax_invoices t"
        " JOIN sales s ON s.id = t.sale_id"
        " WHERE t.kind = 'original' AND s.voided_seq IS NOT NULL"
        " AND NOT EXISTS (SELECT 1 FROM tax_invoices c WHERE c.related_code = t.code)"
        " ORDER BY t.seq")]
