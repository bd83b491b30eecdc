"""The list of goods bought without an invoice from people who issue none (issue 19): form
02/TNDN, "Bảng kê thu mua hàng hóa, dịch vụ không có hóa đơn", of Circular 20/2026/TT-BTC, which
replaced form 01/TNDN of Circular 78/2014/TT-BTC. The layout and its sources are in
docs/research/purchase_list.md: ten numbered columns, the seller's group (2-5) and the goods'
group (6-9); a household business, not an enterprise, so "Tên hộ, cá nhân kinh doanh" and the
owner's signature without a seal (our adaptation, said in the research note).

Read from the stall's projections (purchases, purchase_lines, suppliers: the grower's details
in clear exist only on the stall), one row per goods line, in the order of purchase.
"""
from __future__ import annotations

import csv
import io
import sqlite3
from dataclasses import dataclass
from datetime import date
from typing import Any

from sync.localtime import format_day
from sync.money import format_number, quantity_text
from sync.typefaces import FONTS, register_fonts
from .. import settings as stall_settings
from .invoices import seller_address
from .settings import TaxSettings

FORM = "02/TNDN"
TITLE = "BẢNG KÊ THU MUA HÀNG HÓA, DỊCH VỤ KHÔNG CÓ HÓA ĐƠN"
COLUMNS = ("Ngày tháng năm mua hàng", "Tên người bán", "Địa chỉ", "Số căn cước",
           "Số điện thoại (nếu có)", "Tên hàng hóa, dịch vụ", "Số lượng, trọng lượng", "Đơn giá",
           "Tổng giá thanh toán", "Ghi chú")


@dataclass(frozen=True)
class Row:
    day: str
    seller: str
    address: str
    id_number: str
    phone: str
    goods: str
    quantity: str
    unit: str
    unit_price: int
    amount: int
    note: str


def build(conn: sqlite3.Connection, first_day: str, last_day: str) -> list[Row]:
    """The period's purchase lines, oldest first, with the seller's details as the stall has them."""
    rows = conn.execute(
        "SELECT p.business_day, p.number, p.cash, p.qr, s.name, s.address, s.id_number, s.phone,"
        " l.name AS goods, l.unit, l.quantity_milli, l.unit_price, l.amount"
        " FROM purchases p JOIN suppliers s ON s.id = p.supplier_id"
        " JOIN purchase_lines l ON l.purchase_seq = p.seq"
        " WHERE p.business_day BETWEEN ? AND ? ORDER BY p.seq, l.line_no",
        (first_day, last_day))
    out = []
    for r in rows:
        paid = "tiền mặt" if not r["qr"] else ("chuyển khoản" if not r["cash"] else
                                                 "tiền mặt và chuyển khoản")
        out.append(Row(r["business_day"], r["name"], r["address"] or "", r["id_number"] or "",
                       r["phone"] or "", r["goods"], quantity_text(r["quantity_milli"]), r["unit"],
                       r["unit_price"], r["amount"], f"Phiếu thu mua số {r['number']}, {paid}"))
    return out


def to_csv(rows: list[Row]) -> bytes:
    """CSV as the sales books write it: UTF-8 with a byte-order mark, ISO days, whole đồng."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["STT"] + [f"{name} ({n})" for n, name in enumerate(COLUMNS, start=1)]
                    + ["Đơn vị tính"])
    for n, r in enumerate(rows, start=1):
        writer.writerow([n, r.day, r.seller, r.address, r.id_number, r.phone, r.goods,
                         r.quantity, r.unit_price, r.amount, r.note, r.unit])
    writer.writerow(["", "", "", "", "", "", "", "", "Tổng cộng", sum(r.amount for r in rows),
                     "", ""])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_pdf(conn: sqlite3.Connection, rows: list[Row], first_day: str, last_day: str,
           ts: TaxSettings, today: str) -> bytes:
    """The list as an A4 landscape PDF in Vietnamese, with the form's heading and signatures."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    register_fonts()
    regular, bold = FONTS[False][0], FONTS[True][0]
    body = ParagraphStyle("body", fontName=regular, fontSize=8.5, leading=10.5)
    centre = ParagraphStyle("centre", parent=body, alignment=1)
    head = ParagraphStyle("head", parent=centre, fontName=bold)
    title = ParagraphStyle("title", parent=centre, fontName=bold, fontSize=13, leading=17)
    stall = stall_settings.stall_settings(conn)
    market = ", ".join(x for x in (stall.get("market", ""), stall.get("commune", "")) if x)
    heading = Table([[
        Paragraph(f"- Tên hộ, cá nhân kinh doanh: {_esc(stall.get('vendor_name', ''))}<br/>"
                  f"- Mã số thuế: {_esc(ts.tax_code) or '…'}<br/>"
                  f"- Địa chỉ: {_esc(seller_address(stall))}<br/>"
                  f"- Số điện thoại: {_esc(stall.get('phone', '')) or '…'}<br/>"
                  f"- Địa chỉ nơi tổ chức thu mua: {_esc(market) or '…'}", body),
        Paragraph(f"<b>Mẫu số: {FORM}</b><br/>(Ban hành kèm theo Thông tư số 20/2026/TT-BTC"
                  " của Bộ trưởng Bộ Tài chính)", centre)]], colWidths=[190 * mm, 72 * mm])
    heading.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    story: list[Any] = [
        Paragraph(TITLE, title),
        Paragraph(f"(Từ ngày {format_day(first_day)} đến ngày {format_day(last_day)})", centre),
        Spacer(1, 4 * mm), heading, Spacer(1, 4 * mm)]
    widths = [mm * w for w in (20, 30, 34, 28, 22, 34, 24, 22, 26, 37)]
    data: list[list[Any]] = [
        [Paragraph(COLUMNS[0], head), Paragraph("Người bán", head), "", "", "",
         Paragraph("Hàng hóa, dịch vụ mua vào", head), "", "", "", Paragraph(COLUMNS[9], head)],
        ["", *[Paragraph(name, head) for name in COLUMNS[1:9]], ""],
        [str(n) for n in range(1, 11)]]
    for r in rows:
        data.append([format_day(r.day), Paragraph(_esc(r.seller), body),
                     Paragraph(_esc(r.address), body), r.id_number, r.phone,
                     Paragraph(_esc(r.goods), body),
                     f"{r.quantity.replace('.', ',')} {r.unit}", format_number(r.unit_price),
                     format_number(r.amount), Paragraph(_esc(r.note), body)])
    total = sum(r.amount for r in rows)
    total_row = len(data)
    data.append(["", Paragraph("<b>Cộng</b>", body), "", "", "", "", "", "",
                 format_number(total), ""])
    table = Table(data, colWidths=widths, repeatRows=3)
    table.setStyle(TableStyle([
        ("FONT", (0, 0), (-1, -1), regular, 8.5), ("FONT", (0, 2), (-1, 2), bold, 8.5),
        ("SPAN", (0, 0), (0, 1)), ("SPAN", (1, 0), (4, 0)), ("SPAN", (5, 0), (8, 0)),
        ("SPAN", (9, 0), (9, 1)), ("ALIGN", (0, 0), (-1, 2), "CENTER"),
        ("ALIGN", (6, 3), (8, -1), "RIGHT"), ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("GRID", (0, 0), (-1, -1), 0.4, colors.black),
        ("FONT", (0, total_row), (-1, total_row), bold, 8.5)]))
    local = date.fromisoformat(today)
    story += [table, Spacer(1, 3 * mm),
              Paragraph(f"- Tổng giá trị hàng hóa, dịch vụ mua vào: {format_number(total)} đồng",
                        body), Spacer(1, 5 * mm),
              Table([[Paragraph("<b>Người lập bảng kê</b><br/>(Ký, ghi rõ họ tên)", centre),
                      Paragraph(f"Ngày {local.day:02d} tháng {local.month:02d} năm {local.year}"
                                "<br/><b>Chủ hộ kinh doanh hoặc người được ủy quyền</b><br/>"
                                "(Ký, ghi rõ họ tên)", centre)]],
                    colWidths=[131 * mm, 131 * mm])]
    out = io.BytesIO()
    SimpleDocTemplate(out, pagesize=landscape(A4), leftMargin=10 * mm, rightMargin=10 * mm,
                      topMargin=12 * mm, bottomMargin=12 * mm,
                      title=f"{FORM} {first_day} – {last_day}",
                      author=stall.get("vendor_name", "")).build(story)
    return out.getvalue()
