"""The printed MTT e-invoice: what Circular 78/2021 Art. 8 asks the buyer's paper to show.

Seller name, address, tax code and business-location code; each item's name, unit, quantity,
unit price and amount; the total (and in words); the time of issue; the tax authority's code;
the buyer's tax code or ID number only when she asked; and, as providers print it, a lookup QR.
Everything comes from the invoice's journal entry, frozen when it was issued. Like receipts, the
paper is in the buyer's language, not the vendor's (pos/paper_language.py).
"""
from __future__ import annotations

import sqlite3
from typing import Any

from ..journal import get as get_entry
from sync.localtime import to_local
from sync.money import format_quantity, format_vnd
from ..paper_language import decimal_mark, paper_translations
from ..paper import HUGE, LARGE, QR, Block, Document, Item, Row, Rule, Space, Text, Total, small
from sync.invoice_xml import lookup_qr
from sync.amount_words import amount_in_words

def words(lang: str) -> dict[str, Any]:
    """The words of a printed e-invoice in `lang` (en, else Vietnamese), from the stall's catalogue."""
    pgettext = paper_translations(lang).pgettext
    return {
        "title": {1: pgettext("paper", "VAT INVOICE"), 2: pgettext("paper", "SALES INVOICE")},
        "subtitle": pgettext("paper", "(generated from a cash register)"),
        "form": pgettext("paper", "Form: {} · Symbol: {}"),
        "number": pgettext("paper", "No. {}"),
        "issued": pgettext("paper", "Issued: {}"),
        "tax": pgettext("paper", "Tax code (MST): {}"),
        "location": pgettext("paper", "Business location: {}"),
        "phone": pgettext("paper", "Tel: {}"),
        "buyer": pgettext("paper", "Buyer: {}"),
        "buyer_tax": pgettext("paper", "Buyer's tax code: {}"),
        "buyer_id": pgettext("paper", "Buyer's ID number: {}"),
        "buyer_address": pgettext("paper", "Address: {}"),
        "total": pgettext("paper", "TOTAL"),
        "in_words": pgettext("paper", "In words: {}"),
        "cash": pgettext("paper", "Cash"),
        "qr": pgettext("paper", "Bank transfer"),
        "credit": pgettext("paper", "On credit"),
        "code": pgettext("paper", "Tax authority code:"),
        "lookup": pgettext("paper", "Look the invoice up at hoadondientu.gdt.gov.vn"),
        "copy": pgettext("paper", "COPY"),
        "voided": pgettext("paper", "SALE VOIDED AT THE STALL"),
        "adjustment": pgettext("paper", "ADJUSTMENT INVOICE"),
        "replacement": pgettext("paper", "REPLACEMENT INVOICE"),
        "related": pgettext("paper", "for invoice {} of {}"),
        "reason": pgettext("paper", "Reason: {}"),
        "thanks": pgettext("paper", "Thank you!"),
        "decimal": decimal_mark(lang),
    }


def invoice_document(kind: str, payload: dict[str, Any], at: str, *, lang: str = "vi",
                     copy: bool = False, void: dict[str, Any] | None = None) -> Document:
    """The printed invoice of a `sale` or `invoice_correction` entry's payload."""
    w = words(lang)
    invoice, seller = payload["invoice"], payload["invoice"]["seller"]
    blocks: list[Block] = [Text(seller["store"] or seller["name"], HUGE, bold=True,
                                align="center")]
    if seller.get("store") and seller["store"] != seller["name"]:
        blocks.append(Text(seller["name"], align="center"))
    for text in (seller.get("address"), w["tax"].format(seller["tax_code"]),
                 w["location"].format(seller["location_code"]) if seller.get("location_code")
                 else "", w["phone"].format(seller["phone"]) if seller.get("phone") else ""):
        if text:
            blocks.append(Text(text, align="center"))
    blocks += [Space(1.5), Text(w["title"].get(invoice["form"], w["title"][2]), LARGE, bold=True,
                                align="center"),
               Text(w["subtitle"], align="center"),
               Text(w["form"].format(invoice["form"], invoice["symbol"]), align="center")]
    if kind == "invoice_correction":
        original = payload["original"]
        blocks += [Space(1), Text(w[payload["type"]], LARGE, bold=True, align="center",
                                  boxed=True),
                   Text(w["related"].format(original["code"],
                                            "/".join(reversed(original["day"].split("-")))),
                        align="center"),
                   Text(w["reason"].format(payload.get("reason", "")), align="center")]
    if copy:
        blocks += [Space(1), Text(w["copy"], LARGE, bold=True, align="center", boxed=True)]
    if void:
        blocks += [Space(1), Text(w["voided"], LARGE, bold=True, align="center", boxed=True),
                   Text(w["reason"].format(void.get("reason") or ""), align="center")]
    number = invoice["block"] * 1_000_000 + invoice["number"]
    blocks += [Space(1), Row(w["number"].format(f"{number:08d}"), ""),
               Text(w["issued"].format(to_local(at).strftime("%d/%m/%Y %H:%M:%S"))), Rule()]
    buyer = invoice.get("buyer")
    if buyer:
        for key, label in (("name", "buyer"), ("tax_code", "buyer_tax"),
                           ("id_number", "buyer_id"), ("address", "buyer_address")):
            if buyer.get(key):
                blocks.append(Text(w[label].format(buyer[key])))
        blocks.append(Rule())
    for line in payload["lines"]:
        if "quantity_milli" in line:
            quantity = format_quantity(line["quantity_milli"], w["decimal"])
            detail = f"{quantity} {line['unit']} × {format_vnd(line['unit_price'])}"
        else:
            detail = ""
        blocks.append(Item(line["name"], detail, format_vnd(line["amount"])))
    blocks += [Rule(dashed=False), Total(w["total"], format_vnd(payload["total"])),
               small(w["in_words"].format(amount_in_words(payload["total"])), align="left"),
               Rule()]
    for payment in payload.get("payments", []):
        blocks.append(Row(w.get(payment.get("method", ""), payment.get("method", "")),
                          format_vnd(payment["amount"])))
    issued_on = to_local(at).date().isoformat()
    blocks += [Space(2), Text(w["code"], align="center"),
               # Never wrapped (it is typed into the tax authority's look-up whole): smaller
               # type on a narrow roll instead.
               Text(invoice["code"], LARGE, bold=True, align="center", one_line=True), Space(1),
               QR(lookup_qr(invoice, issued_on, payload["total"]), caption=w["lookup"]),
               Space(2), Text(w["thanks"], LARGE, bold=True, align="center")]
    title = f"{w['title'].get(invoice['form'], w['title'][2]).capitalize()} {invoice['code']}"
    return Document(blocks, title=title)


def document_for_sale(conn: sqlite3.Connection, sale: dict[str, Any], *, lang: str = "vi",
                      copy: bool = False) -> Document | None:
    """The e-invoice of a sale that has one (MTT mode when it was sold), else None: the caller
    then prints the plain receipt."""
    row = conn.execute("SELECT seq FROM tax_invoices WHERE sale_id = ? AND kind = 'original'",
                       (sale["id"],)).fetchone()
    if row is None:
        return None
    entry = get_entry(conn, row["seq"])
    assert entry is not None
    return invoice_document(entry.kind, entry.payload, entry.at, lang=lang, copy=copy,
                            void=sale.get("void"))


def document_for_invoice(conn: sqlite3.Connection, code: str, *, lang: str = "vi",
                         copy: bool = False) -> Document:
    """The printed invoice of any invoice (an original or a correction) by its code."""
    from .invoices import get_invoice
    invoice = get_invoice(conn, code)
    return invoice_document("invoice_correction" if invoice["kind"] != "original" else "sale",
                            invoice["payload"], invoice["at"], lang=lang, copy=copy)

