"""The printed MTT e-invoice: what the rules ask the buyer's paper to show.

Decree 123/2020 Art. 11 as replaced by Decree 70/2025 (Art. 1 cl. 8), and Circular 78/2021
Art. 8 cl. 3: the seller's name, address and tax code (and the business-location code); the
buyer's name, address, tax code, ID number or phone only when she asks; each item's name, unit
price, quantity and amount; the time of issue; the tax authority's code, or the data to look the
invoice up (a lookup QR, as providers print it). Recognisable as printed from a cash register
(Art. 11 cl. 2 a), with the form and symbol (Circular 78 Art. 4 cl. 1 b), the total in figures
and in Vietnamese words (Decree 123 Art. 10 cl. 6 d). The invoice code is printed whole on one
line, however narrow the roll. Everything comes from the invoice's journal entry, frozen when it
was issued.

An invoice is written in Vietnamese (Decree 123 Art. 10 cl. 13): an English copy for a buyer
who asks is the Vietnamese invoice with each label's English just below it in smaller type,
and numbers keep the Vietnamese separators (1.500,5), never "1.5 kg × 120.000 ₫".
"""
from __future__ import annotations

import sqlite3
from typing import Any

from ..journal import get as get_entry
from sync.localtime import to_local
from sync.money import format_quantity, format_vnd
from ..paper_language import decimal_mark, paper_translations
from ..paper import (BODY, HUGE, LARGE, QR, SMALL, Align, Block, Document, Item, Row, Rule,
                     Space, Text, Total, small)
from sync.invoice_xml import invoice_number, lookup_qr
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
        "buyer_phone": pgettext("paper", "Tel: {}"),
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


class _Say:
    """Labels of the invoice: Vietnamese, and on an English copy the English just below each in
    smaller type (Decree 123 Art. 10 cl. 13)."""

    def __init__(self, lang: str) -> None:
        self.vi = words("vi")
        self.en = words("en") if lang == "en" else None

    def __call__(self, key: str, *args: str, size: float = BODY, bold: bool = False,
                 align: Align = "left", boxed: bool = False) -> list[Block]:
        blocks: list[Block] = [Text(self.vi[key].format(*args), size, bold=bold, align=align,
                                    boxed=boxed)]
        if self.en is not None:
            blocks.append(Text(self.english(key, *args), SMALL, align=align))
        return blocks

    def english(self, key: str, *args: str) -> str:
        """The English of a label, without the values the Vietnamese line above already shows
        ("Tax code (MST)", not the tax code twice), except where the words run around them."""
        assert self.en is not None
        if key == "related" or not args:
            return self.en[key].format(*args)
        label = " ".join(self.en[key].replace("{}", "").split()).replace(": ·", " ·")
        return label.rstrip(":").rstrip()

    def title(self, form: int) -> list[Block]:
        blocks: list[Block] = [Text(self.vi["title"].get(form, self.vi["title"][2]), LARGE,
                                    bold=True, align="center")]
        if self.en is not None:
            blocks.append(Text(self.en["title"].get(form, self.en["title"][2]), SMALL,
                               align="center"))
        return blocks

    def row(self, key: str, value: str, bold: bool = False) -> list[Block]:
        """A label and its amount on one row; the English label below it."""
        label = self.vi.get(key, key)
        blocks: list[Block] = [Row(label, value, bold=bold)]
        if self.en is not None:
            blocks.append(small(self.en.get(key, key), align="left"))
        return blocks

    def total(self, value: str) -> list[Block]:
        blocks: list[Block] = [Total(self.vi["total"], value)]
        if self.en is not None:
            blocks.append(small(self.en["total"], align="left"))
        return blocks


def invoice_document(kind: str, payload: dict[str, Any], at: str, *, lang: str = "vi",
                     copy: bool = False, void: dict[str, Any] | None = None) -> Document:
    """The printed invoice of a `sale` or `invoice_correction` entry's payload: Vietnamese, with
    the English under each label when `lang` is "en"."""
    say = _Say(lang)
    invoice, seller = payload["invoice"], payload["invoice"]["seller"]
    blocks: list[Block] = [Text(seller["store"] or seller["name"], HUGE, bold=True,
                                align="center")]
    if seller.get("store") and seller["store"] != seller["name"]:
        blocks.append(Text(seller["name"], align="center"))
    if seller.get("address"):
        blocks.append(Text(seller["address"], align="center"))
    blocks += say("tax", seller["tax_code"], align="center")
    if seller.get("location_code"):
        blocks += say("location", seller["location_code"], align="center")
    if seller.get("phone"):
        blocks += say("phone", seller["phone"], align="center")
    blocks += [Space(1.5), *say.title(invoice["form"]), *say("subtitle", align="center"),
               *say("form", str(invoice["form"]), invoice["symbol"], align="center")]
    if kind == "invoice_correction":
        original = payload["original"]
        blocks += [Space(1), *say(payload["type"], size=LARGE, bold=True, align="center",
                                  boxed=True),
                   *say("related", original["code"],
                        "/".join(reversed(original["day"].split("-"))), align="center"),
                   *say("reason", payload.get("reason", ""), align="center")]
    if copy:
        blocks += [Space(1), *say("copy", size=LARGE, bold=True, align="center", boxed=True)]
    if void:
        blocks += [Space(1), *say("voided", size=LARGE, bold=True, align="center", boxed=True),
                   *say("reason", void.get("reason") or "", align="center")]
    number = invoice_number(invoice)   # SHDon: one series per symbol (Decree 123 Art. 10 cl. 3)
    blocks += [Space(1), *say("number", f"{number:08d}"),
               *say("issued", to_local(at).strftime("%d/%m/%Y %H:%M:%S")), Rule()]
    buyer = invoice.get("buyer")
    if buyer:
        for key, label in (("name", "buyer"), ("tax_code", "buyer_tax"),
                           ("id_number", "buyer_id"), ("address", "buyer_address"),
                           ("phone", "buyer_phone")):
            if buyer.get(key):
                blocks += say(label, buyer[key])
        blocks.append(Rule())
    decimal = decimal_mark("vi")        # the invoice's separators, whatever the language
    adjustment = kind == "invoice_correction" and payload.get("type") == "adjustment"
    for line in payload["lines"]:
        if "quantity_milli" in line:
            # An adjustment's goods (a refund's) show the quantity with the line's sign, as the
            # XML's SLuong: "-0,5 kg × 900.000 ₫"; an adjustment of value alone shows none.
            sign = "-" if adjustment and line["amount"] < 0 else ""
            quantity = sign + format_quantity(line["quantity_milli"], decimal)
            detail = f"{quantity} {line['unit']} × {format_vnd(line['unit_price'])}"
        else:
            detail = ""
        blocks.append(Item(line["name"], detail, format_vnd(line["amount"])))
    blocks += [Rule(dashed=False), *say.total(format_vnd(payload["total"]))]
    blocks.append(small(say.vi["in_words"].format(amount_in_words(payload["total"])),
                        align="left"))
    if say.en is not None:
        blocks.append(small(say.english("in_words", ""), align="left"))
    blocks.append(Rule())
    for payment in payload.get("payments", []):
        blocks += say.row(payment.get("method", ""), format_vnd(payment["amount"]))
    issued_on = to_local(at).date().isoformat()
    blocks += [Space(2), *say("code", align="center"),
               # Never wrapped (it is typed into the tax authority's look-up whole): smaller
               # type on a narrow roll instead.
               Text(invoice["code"], LARGE, bold=True, align="center", one_line=True), Space(1),
               QR(lookup_qr(invoice, issued_on, payload["total"]), caption=say.vi["lookup"])]
    if say.en is not None:
        blocks.append(small(say.en["lookup"]))
    blocks += [Space(2), *say("thanks", size=LARGE, bold=True, align="center")]
    w = say.en or say.vi
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

