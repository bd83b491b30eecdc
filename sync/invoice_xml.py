"""An MTT invoice as the tax authority's XML: HDon / DLHDon { TTChung, NDHDon } / MCCQT.

Built only from the invoice's journal entry (never from today's settings), so the XML of an
invoice is the same whenever it is asked for. Element names, order, lengths and number formats
follow the specification tables (Decisions 1450/QĐ-TCT and 1510/QĐ-TCT, Decree 70/2025 fields);
sync/data/mtt_invoice.xsd states them and the tests validate every invoice against it. An MTT
invoice needs no seller signature (Decree 123 Art. 11 cl. 2): DSCKS is left out.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET
from importlib import resources
from typing import Any
from urllib.parse import urlencode

from sync.localtime import to_local
from sync.money import quantity_text
from sync.amount_words import amount_in_words

SPEC_VERSION = "2.1.0"
LOOKUP_URL = "https://hoadondientu.gdt.gov.vn"
TITLES = {1: "Hóa đơn giá trị gia tăng khởi tạo từ máy tính tiền",
          2: "Hóa đơn bán hàng khởi tạo từ máy tính tiền"}
PAYMENT_WORDS = {"cash": "Tiền mặt", "qr": "Chuyển khoản"}
CORRECTION_NATURE = {"replacement": "1", "adjustment": "2"}   # TCHDon
ORIGINAL_IS_DECREE_123_EINVOICE = "1"                          # LHDCLQuan


def schema_path() -> Any:
    """The XSD written from the specification tables (sync/data/mtt_invoice.xsd)."""
    return resources.files("sync.data").joinpath("mtt_invoice.xsd")


def lookup_qr(invoice: dict[str, Any], issued_on: str, total: int) -> str:
    """The lookup QR's text: the tax authority's portal with the seller, code, date and total (a
    provider convention, not a legal format; the portal itself asks for these fields)."""
    query = urlencode({"mst": invoice["seller"]["tax_code"], "mccqt": invoice["code"],
                       "nlap": issued_on, "tong": total})
    return f"{LOOKUP_URL}/?{query}"


def _sub(parent: ET.Element, tag: str, text: Any = None) -> ET.Element:
    element = ET.SubElement(parent, tag)
    if text is not None:
        element.text = str(text)
    return element


def _optional(parent: ET.Element, tag: str, text: Any) -> None:
    if text not in (None, ""):
        _sub(parent, tag, text)


def _payment_method(payments: list[dict[str, Any]]) -> str | None:
    methods = sorted({p.get("method") for p in payments}, key=lambda m: m != "cash")
    words = [PAYMENT_WORDS.get(m or "", m or "") for m in methods]
    return "/".join(words) or None


def _line(parent: ET.Element, no: int, line: dict[str, Any], tax: dict[str, str] | None,
          form: int) -> None:
    item = _sub(parent, "HHDVu")
    _sub(item, "TChat", 1)
    _sub(item, "STT", no)
    if line.get("product_id") is not None:
        _sub(item, "MHHDVu", line["product_id"])
    _sub(item, "THHDVu", line["name"])
    if "quantity_milli" in line:
        _sub(item, "DVTinh", line["unit"])
        _sub(item, "SLuong", quantity_text(line["quantity_milli"]))
        _sub(item, "DGia", line["unit_price"])
    _sub(item, "ThTien", line["amount"])
    if form == 1:
        _sub(item, "TSuat", "KCT" if tax and tax.get("vat") == "KCT" else "KKKNT")


def build(kind: str, payload: dict[str, Any], at: str, entry_id: str) -> bytes:
    """The invoice XML (UTF-8, with declaration) of a `sale` or `invoice_correction` entry."""
    invoice = payload["invoice"]
    local = to_local(at)
    issued_on = local.date().isoformat()
    root = ET.Element("HDon")
    data = _sub(root, "DLHDon")
    data.set("Id", "data")
    general = _sub(data, "TTChung")
    _sub(general, "PBan", SPEC_VERSION)
    _sub(general, "THDon", TITLES.get(invoice["form"], TITLES[2]))
    _sub(general, "KHMSHDon", invoice["form"])
    _sub(general, "KHHDon", invoice["symbol"])
    _sub(general, "SHDon", invoice["block"] * 1_000_000 + invoice["number"])
    _sub(general, "NLap", issued_on)
    _sub(general, "DVTTe", "VND")
    _optional(general, "HTTToan", _payment_method(payload.get("payments", [])))
    if kind == "invoice_correction":
        original = payload["original"]
        related = _sub(general, "TTHDLQuan")
        _sub(related, "TCHDon", CORRECTION_NATURE[payload["type"]])
        _sub(related, "LHDCLQuan", ORIGINAL_IS_DECREE_123_EINVOICE)
        _sub(related, "KHMSHDCLQuan", original["form"])
        _sub(related, "KHHDCLQuan", original["symbol"])
        _sub(related, "SHDCLQuan", original["number"])
        _sub(related, "NLHDCLQuan", original["day"])
        _sub(related, "GChu", payload.get("reason", "")[:255])
    extra = _sub(general, "TTKhac")
    for field, value in (("MCCQTCLQuan", payload.get("original", {}).get("code")),
                         ("ThoiDiemLap", local.strftime("%Y-%m-%dT%H:%M:%S%z")),
                         ("MaGiaoDich", entry_id)):
        if value:
            info = _sub(extra, "TTin")
            _sub(info, "TTruong", field)
            _sub(info, "KDLieu", "string")
            _sub(info, "DLieu", value)
    content = _sub(data, "NDHDon")
    seller = invoice["seller"]
    nban = _sub(content, "NBan")
    _sub(nban, "Ten", seller["name"])
    _sub(nban, "MST", seller["tax_code"])
    _sub(nban, "DChi", seller["address"] or seller["name"])
    _optional(nban, "MCHang", seller.get("location_code"))
    _optional(nban, "TCHang", seller.get("store"))
    _optional(nban, "SDThoai", seller.get("phone"))
    buyer = invoice.get("buyer")
    if buyer:
        nmua = _sub(content, "NMua")
        _optional(nmua, "Ten", buyer.get("name"))
        _optional(nmua, "MST", buyer.get("tax_code"))
        _optional(nmua, "DChi", buyer.get("address"))
        _optional(nmua, "CCCDan", buyer.get("id_number"))
    items = _sub(content, "DSHHDVu")
    taxes = payload.get("tax_lines") or []
    for no, line in enumerate(payload["lines"], start=1):
        _line(items, no, line, taxes[no - 1] if no <= len(taxes) else None, invoice["form"])
    discount = payload.get("discount")
    if discount:   # a discount on the whole sale: a commercial-discount item (TChat 3)
        item = _sub(items, "HHDVu")
        _sub(item, "TChat", 3)
        _sub(item, "STT", len(payload["lines"]) + 1)
        _sub(item, "THHDVu", f"Chiết khấu thương mại ({discount['reason']})"[:500])
        _sub(item, "ThTien", discount["amount"])
    totals = _sub(content, "TToan")
    if discount:
        _sub(totals, "TTCKTMai", discount["amount"])
    _sub(totals, "TgTTTBSo", payload["total"])
    _sub(totals, "TgTTTBChu", amount_in_words(payload["total"]))
    _sub(root, "DLQRCode", lookup_qr(invoice, issued_on, payload["total"]))
    _sub(root, "MCCQT", invoice["code"])
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def build_for_entry(entry: Any) -> bytes:
    """The XML of a journal entry (pos.journal or sync.protocol Entry) that carries an invoice."""
    return build(entry.kind, entry.payload, entry.at, entry.id)
