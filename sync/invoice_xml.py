"""An MTT invoice as the tax authority's XML: HDon / DLHDon { TTChung, NDHDon } / DLQRCode / MCCQT.

Built only from the invoice's journal entry (never from today's settings), so the XML of an
invoice is the same whenever it is asked for. The layout is the cash-register invoice's as the
e-invoice providers model the format's tables (Decision 1450/QĐ-TCT part II section II.2,
huyvq8899/pmbk_bill_dn_be folders i (form 2) and h (form 1); TTChung and the order of the form-1
totals as WeTax's MTT generator writes them): TTChung holds PBan, THDon, KHMSHDon, KHHDon, SHDon,
NLap, TTHDLQuan and TTKhac, and what the general form keeps in TTChung (currency, payment method)
goes into TTKhac. sync/data/mtt_invoice_1.xsd and mtt_invoice_2.xsd state the format per form;
docs/TAX.md gives the source of each rule. An MTT invoice needs no seller signature (Decree 123
Art. 10 cl. 14): DSCKS is left out.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET
from importlib import resources
from typing import Any
from urllib.parse import urlencode

from sync.localtime import to_local
from sync.money import line_amount, quantity_text, share_out
from sync.amount_words import amount_in_words

SPEC_VERSION = "2.1.0"           # PBan in Decision 1306/QĐ-CT (2025); 1450/1510 had 2.0.1
LOOKUP_URL = "https://hoadondientu.gdt.gov.vn"
TITLES = {1: "Hóa đơn giá trị gia tăng khởi tạo từ máy tính tiền",
          2: "Hóa đơn bán hàng khởi tạo từ máy tính tiền"}
PAYMENT_WORDS = {"cash": "Tiền mặt", "qr": "Chuyển khoản", "credit": "Ghi nợ"}
CORRECTION_NATURE = {"replacement": "1", "adjustment": "2"}   # TCHDon
ORIGINAL_IS_DECREE_123_EINVOICE = "1"                          # LHDCLQuan (Appendix VI)
# Item nature (TChat, Appendix IV).
GOODS, TRADE_DISCOUNT = 1, 3
# An adjustment line is a signed amount ({name, amount} in the journal). TChat 1 needs DVTinh,
# SLuong and DGia: a line that adjusts goods by quantity (a refund's: {unit, quantity_milli,
# unit_price} too) carries its own, the quantity signed as its amount ("điều chỉnh giảm ghi dấu
# âm", as the providers write a decrease of quantity: docs/TAX.md); a line of value alone (the
# owner's, and entries written before lines had a quantity) is one "lần" (occurrence, the unit
# Decree 123 Art. 10 cl. 6 a.2 gives services) at the amount's size, quantity -1 when it lowers
# the invoice.
ADJUSTMENT_UNIT = "lần"
# DLQRCode (Decision 1306/QĐ-CT part I, IV.7): EMVCo data objects (2-digit ID, 2-digit length,
# value): 00 the QR version "01"; the fields for paying the invoice only if there are any (a
# stall's invoice carries no bank account, so none); for looking it up, template 99 (00 GUID,
# 01 the seller's tax code without "-", 02 form, 03 symbol, 04 number, 05 date YYYYMMDD, 06 total);
# 63 the CRC. The GUID is the one in the real invoice that has template 99 (tests/data/einvoice).
QR_INVOICE_TEMPLATE = "99"
QR_INVOICE_GUID = "A000000775"
SCHEMAS = {None: "mtt_invoice.xsd", 1: "mtt_invoice_1.xsd", 2: "mtt_invoice_2.xsd"}


def schema_path(form: int | None = None) -> Any:
    """The XSD of an MTT invoice of `form` (1 VAT invoice, 2 sales invoice), or, without a form,
    the one that accepts either (for a reader that does not know the form in advance)."""
    return resources.files("sync.data").joinpath(SCHEMAS[form])


def schema_for(xml: bytes) -> Any:
    """The XSD of the form an invoice says it is (its KHMSHDon), or the either-form one."""
    form = ET.fromstring(xml).findtext("DLHDon/TTChung/KHMSHDon")
    return schema_path(int(form) if form in ("1", "2") else None)


def invoice_number(invoice: dict[str, Any]) -> int:
    """SHDon: the till's count for its symbol and year, 1, 2, 3 … (Decree 123 Art. 10 cl. 3:
    one continuous series per symbol and form, from 1 each year)."""
    return int(invoice["number"])


def document_id(entry_id: str) -> str:
    """DLHDon's Id: one per invoice (its journal entry), so that invoices batched in one message
    never share an Id."""
    return f"Id-{entry_id}"


def lookup_qr(invoice: dict[str, Any], issued_on: str, total: int) -> str:
    """The portal's address with the seller, code, date and total (a provider convention for the
    printed paper; the XML's DLQRCode is qr_data())."""
    query = urlencode({"mst": invoice["seller"]["tax_code"], "mccqt": invoice["code"],
                       "nlap": issued_on, "tong": total})
    return f"{LOOKUP_URL}/?{query}"


# --- DLQRCode: EMVCo TLV -----------------------------------------------------------------------

def crc16(data: str) -> str:
    """CRC-16/CCITT-FALSE of the UTF-8 bytes, 4 upper-case hex digits (EMVCo tag 63)."""
    crc = 0xFFFF
    for byte in data.encode("utf-8"):
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) & 0xFFFF if crc & 0x8000 else (crc << 1) & 0xFFFF
    return format(crc, "04X")


def tlv(tag: str, value: str) -> str:
    """One EMVCo data object: 2-digit tag, 2-digit length, value (1 to 99 characters)."""
    if not 1 <= len(value) <= 99:
        raise ValueError(f"EMVCo field {tag} must hold 1 to 99 characters")
    return f"{tag}{len(value):02d}{value}"


def parse_tlv(data: str) -> dict[str, str]:
    """{tag: value} of an EMVCo TLV string; ValueError on a broken or repeated object."""
    found: dict[str, str] = {}
    pos = 0
    while pos < len(data):
        header = data[pos:pos + 4]
        if len(header) < 4 or not header.isdecimal():
            raise ValueError(f"broken tag or length at {pos}")
        tag, length = header[:2], int(header[2:])
        value = data[pos + 4:pos + 4 + length]
        if length == 0 or len(value) != length or tag in found:
            raise ValueError(f"bad data object {tag} at {pos}")
        found[tag] = value
        pos += 4 + length
    return found


def qr_data(invoice: dict[str, Any], issued_on: str, total: int) -> str:
    """DLQRCode: the invoice's lookup data as EMVCo data objects (version 01, template 99, CRC),
    as Decision 1306/QĐ-CT part I, IV.7 describes them; well under 512 characters."""
    template = "".join([
        tlv("00", QR_INVOICE_GUID), tlv("01", invoice["seller"]["tax_code"].replace("-", "")),
        tlv("02", str(invoice["form"])), tlv("03", invoice["symbol"]),
        tlv("04", str(invoice_number(invoice))), tlv("05", issued_on.replace("-", "")),
        tlv("06", str(total))])
    body = tlv("00", "01") + tlv(QR_INVOICE_TEMPLATE, template) + "6304"
    return body + crc16(body)


# --- the XML -----------------------------------------------------------------------------------

def _sub(parent: ET.Element, tag: str, text: Any = None) -> ET.Element:
    element = ET.SubElement(parent, tag)
    if text is not None:
        element.text = str(text)
    return element


def _optional(parent: ET.Element, tag: str, text: Any) -> None:
    if text not in (None, ""):
        _sub(parent, tag, text)


def _other(parent: ET.Element, fields: list[tuple[str, Any]]) -> None:
    """TTKhac with one TTin per field that has a value (nothing when none has)."""
    fields = [(name, value) for name, value in fields if value not in (None, "")]
    if not fields:
        return
    extra = _sub(parent, "TTKhac")
    for name, value in fields:
        info = _sub(extra, "TTin")
        _sub(info, "TTruong", name)
        _sub(info, "KDLieu", "string")
        _sub(info, "DLieu", value)


def _payment_method(payments: list[dict[str, Any]]) -> str | None:
    methods = sorted({p.get("method") for p in payments}, key=lambda m: m != "cash")
    words = [PAYMENT_WORDS.get(m or "", m or "") for m in methods]
    return "/".join(words) or None


def _rate(tax: dict[str, str] | None) -> str:
    """A line's TSuat on a VAT invoice: KCT (not subject to VAT) or KKKNT (prices as they are,
    no VAT declared: the household on the direct method, docs/TAX.md)."""
    return "KCT" if tax and tax.get("vat") == "KCT" else "KKKNT"


def signed_quantity_text(quantity_milli: int, negative: bool) -> str:
    """SLuong of an adjustment line: the quantity with its amount's sign ("-0.5")."""
    return ("-" if negative else "") + quantity_text(quantity_milli)


def _adjustment_item(line: dict[str, Any]) -> dict[str, Any]:
    """An adjustment line as TChat 1 with the unit, quantity and unit price the format requires.

    With its goods (unit, quantity_milli, unit_price): SLuong carries the amount's sign and DGia
    the unit price, so a refund of 0.5 kg at 900.000 is SLuong -0.5, DGia 900000, ThTien -450000.
    When the amount is not quantity × price (the sale's discount shared onto the goods given
    back, or the rounding of a line refunded in parts), STCKhau holds the difference, signed
    like the line, so that ThTien = SLuong × DGia - STCKhau as on the format's lines. Without
    them: one "lần" at the amount's size.
    """
    amount = line["amount"]
    if "quantity_milli" not in line:
        return {"TChat": GOODS, "THHDVu": line["name"], "DVTinh": ADJUSTMENT_UNIT,
                "SLuong": 1 if amount > 0 else -1, "DGia": abs(amount), "ThTien": amount}
    sign = -1 if amount < 0 else 1
    gross = sign * line_amount(line["quantity_milli"], line["unit_price"])
    item = {"TChat": GOODS, "THHDVu": line["name"], "DVTinh": line["unit"],
            "SLuong": signed_quantity_text(line["quantity_milli"], amount < 0),
            "DGia": line["unit_price"], "ThTien": amount}
    if gross != amount:
        item["STCKhau"] = gross - amount
    return item


def _items(payload: dict[str, Any], form: int) -> list[dict[str, Any]]:
    """The invoice's lines as the format's fields, in order, with their VAT rate on form 1."""
    taxes = payload.get("tax_lines") or []
    adjustment = payload.get("type") == "adjustment"
    items = []
    for no, line in enumerate(payload["lines"]):
        rate = _rate(taxes[no] if no < len(taxes) else None)
        if adjustment:                      # a signed amount, with or without its goods
            items.append(_adjustment_item(line) | {"rate": rate})
        else:                               # a sale's or a replacement's line
            items.append({"TChat": GOODS, "MHHDVu": line.get("product_id"),
                          "THHDVu": line["name"], "DVTinh": line["unit"],
                          "SLuong": quantity_text(line["quantity_milli"]),
                          "DGia": line["unit_price"], "ThTien": line["amount"], "rate": rate})
    discount = payload.get("discount")
    if discount:   # a discount on the whole sale: a trade-discount item (TChat 3) per VAT rate
        rates = sorted({item["rate"] for item in items})
        weights = [sum(i["ThTien"] for i in items if i["rate"] == r) for r in rates]
        shares = share_out(discount["amount"], weights) if form == 1 else [discount["amount"]]
        for rate, share in zip(rates if form == 1 else [None], shares):
            if share:
                items.append({"TChat": TRADE_DISCOUNT, "ThTien": share, "rate": rate,
                              "THHDVu": f"Chiết khấu thương mại ({discount['reason']})"[:500]})
    return items


def _line(parent: ET.Element, no: int, item: dict[str, Any], form: int) -> None:
    element = _sub(parent, "HHDVu")
    _sub(element, "TChat", item["TChat"])
    _sub(element, "STT", no)
    for tag in ("MHHDVu", "THHDVu", "DVTinh", "SLuong", "DGia", "STCKhau"):
        _optional(element, tag, item.get(tag))
    _sub(element, "ThTien", item["ThTien"])
    if form == 1:
        _sub(element, "TSuat", item["rate"])


def _totals(parent: ET.Element, items: list[dict[str, Any]], payload: dict[str, Any],
            form: int) -> None:
    totals = _sub(parent, "TToan")
    total = payload["total"]
    discount = payload.get("discount")
    if form == 1:   # by VAT rate, before VAT, VAT: required on a VAT invoice
        by_rate = _sub(totals, "THTTLTSuat")
        for rate in sorted({item["rate"] for item in items}):
            net = sum(i["ThTien"] * (-1 if i["TChat"] == TRADE_DISCOUNT else 1)
                      for i in items if i["rate"] == rate)
            group = _sub(by_rate, "LTSuat")
            _sub(group, "TSuat", rate)
            _sub(group, "ThTien", net)
            _sub(group, "TThue", 0)
        _sub(totals, "TgTCThue", total)
        _sub(totals, "TgTThue", 0)
    if discount:
        _sub(totals, "TTCKTMai", discount["amount"])
    _sub(totals, "TgTTTBSo", total)
    _sub(totals, "TgTTTBChu", amount_in_words(total))


def build(kind: str, payload: dict[str, Any], at: str, entry_id: str) -> bytes:
    """The invoice XML (UTF-8, with declaration) of a `sale` or `invoice_correction` entry."""
    invoice = payload["invoice"]
    form = int(invoice["form"])
    local = to_local(at)
    issued_on = local.date().isoformat()       # NLap: the calendar day of issue in Vietnam
    root = ET.Element("HDon")
    data = _sub(root, "DLHDon")
    data.set("Id", document_id(entry_id))
    general = _sub(data, "TTChung")
    _sub(general, "PBan", SPEC_VERSION)
    _sub(general, "THDon", TITLES.get(form, TITLES[2]))
    _sub(general, "KHMSHDon", form)
    _sub(general, "KHHDon", invoice["symbol"])
    _sub(general, "SHDon", invoice_number(invoice))
    _sub(general, "NLap", issued_on)
    original = payload.get("original") or {}
    if kind == "invoice_correction":
        related = _sub(general, "TTHDLQuan")
        _sub(related, "TCHDon", CORRECTION_NATURE[payload["type"]])
        _sub(related, "LHDCLQuan", ORIGINAL_IS_DECREE_123_EINVOICE)
        _sub(related, "KHMSHDCLQuan", original["form"])
        _sub(related, "KHHDCLQuan", original["symbol"])
        _sub(related, "SHDCLQuan", original["number"])
        _sub(related, "NLHDCLQuan", original["day"])
        _optional(related, "GChu", payload.get("reason", "")[:255])
    _other(general, [("DVTTe", "VND"), ("HTTToan", _payment_method(payload.get("payments", []))),
                     ("MCCQTCLQuan", original.get("code")),
                     ("ThoiDiemLap", local.strftime("%Y-%m-%dT%H:%M:%S%z")),
                     ("MaGiaoDich", entry_id)])
    content = _sub(data, "NDHDon")
    seller = invoice["seller"]
    nban = _sub(content, "NBan")
    _sub(nban, "Ten", seller["name"])
    _sub(nban, "MST", seller["tax_code"])
    _sub(nban, "DChi", seller["address"] or seller["name"])
    phone = seller.get("phone") or ""
    _optional(nban, "SDThoai", phone if len(phone) <= 20 else None)
    # Decree 70/2025's store code and name: in TTKhac, the place the MTT layout gives them.
    _other(nban, [("MCHang", seller.get("location_code")), ("TCHang", seller.get("store")),
                  ("SDThoai", phone if len(phone) > 20 else None)])
    buyer = invoice.get("buyer")
    if buyer:
        nmua = _sub(content, "NMua")
        _optional(nmua, "Ten", buyer.get("name"))
        _optional(nmua, "MST", buyer.get("tax_code"))
        _optional(nmua, "DChi", buyer.get("address"))
        id_number = buyer.get("id_number") or ""
        passport = id_number[:1].isalpha()
        _optional(nmua, "CCCDan", None if passport else id_number)
        _other(nmua, [("SHChieu", id_number if passport else None)])
    items = _items(payload, form)
    lines = _sub(content, "DSHHDVu")
    for no, item in enumerate(items, start=1):
        _line(lines, no, item, form)
    _totals(content, items, payload, form)
    _sub(root, "DLQRCode", qr_data(invoice, issued_on, payload["total"]))
    _sub(root, "MCCQT", invoice["code"])
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def build_for_entry(entry: Any) -> bytes:
    """The XML of a journal entry (pos.journal or sync.protocol Entry) that carries an invoice."""
    return build(entry.kind, entry.payload, entry.at, entry.id)
