"""The household's sales books, straight from the journal: S1a-HKD and S2a-HKD (Circular
152/2025/TT-BTC), as an A4 PDF in Vietnamese and as CSV.

S1a-HKD is the sales book of households up to 500 million a year: one line per business day
(sales net of voids) and one per invoice adjustment. S2a-HKD is for households taxed on revenue:
the same lines split by tax group (each sale line carries its group since the sale was made),
with the group's rates and an estimate of the tax. The books read `sale`, `void` and
`invoice_correction` entries, never the projections, so they show what the journal proves.
"""
from __future__ import annotations

import csv
import io
import json
import sqlite3
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sync.localtime import format_day
from sync.money import format_number, net_line_amounts
from sync.typefaces import FONTS, register_fonts
from .. import journal
from .. import settings as stall_settings
from . import rates
from .invoices import seller_address
from .settings import TaxSettings

BOOK_KINDS = ("s1a", "s2a")
TITLES = {"s1a": "SỔ CHI TIẾT DOANH THU BÁN HÀNG HÓA, DỊCH VỤ",
          "s2a": "SỔ DOANH THU BÁN HÀNG HÓA, DỊCH VỤ"}
FORM_NAMES = {"s1a": "S1a-HKD", "s2a": "S2a-HKD"}
MAX_DAYS = 5 * 366 + 1


@dataclass(frozen=True)
class BookLine:
    """One line of a book: the day, the voucher reference, what it is, how much, its group."""

    day: str
    reference: str
    description: str
    amount: int
    group: str


@dataclass
class Book:
    """A book for a period: its lines in order, and totals overall and by tax group."""

    kind: str
    first_day: str
    last_day: str
    lines: list[BookLine] = field(default_factory=list)
    by_group: dict[str, int] = field(default_factory=dict)
    by_group_vat: dict[tuple[str, str], int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(line.amount for line in self.lines)


def check_period(first_day: str, last_day: str) -> None:
    """ValueError unless both are ISO days, in order, at most five years apart."""
    first, last = date.fromisoformat(first_day), date.fromisoformat(last_day)
    if last < first or (last - first).days > MAX_DAYS:
        raise ValueError("the period must end after it starts and cover at most five years")


def _line_groups(payload: dict[str, Any], default_group: str) -> list[tuple[str, str]]:
    taxes = payload.get("tax_lines") or []
    return [(taxes[i]["group"], taxes[i]["vat"]) if i < len(taxes) else (default_group, "applies")
            for i in range(len(payload["lines"]))]


def build(conn: sqlite3.Connection, kind: str, first_day: str, last_day: str,
          ts: TaxSettings) -> Book:
    """The book of a period, read from the journal."""
    check_period(first_day, last_day)
    book = Book(kind, first_day, last_day)
    day_groups: dict[tuple[str, str], int] = defaultdict(int)     # (day, group) → net revenue
    day_numbers: dict[str, list[int]] = defaultdict(list)
    group_vat: dict[tuple[str, str], int] = defaultdict(int)
    sale_split: dict[str, list[tuple[str, str, int]]] = {}
    voided: set[str] = set()
    corrections: list[tuple[str, dict[str, Any]]] = []
    rows = conn.execute(
        "SELECT id, kind, payload FROM journal WHERE kind IN ('sale', 'void', 'refund',"
        " 'invoice_correction') AND json_extract(payload, '$.business_day') BETWEEN ? AND ?"
        " ORDER BY seq", (first_day, last_day))
    for row in rows:
        payload = json.loads(row["payload"])
        day = payload["business_day"]
        if row["kind"] == "sale":
            # A discount is shared out over the lines: revenue is what the buyer paid.
            split = [(group, vat, amount) for (group, vat), amount
                     in zip(_line_groups(payload, ts.default_group), net_line_amounts(payload))]
            sale_split[row["id"]] = split
            day_numbers[day].append(payload["number"])
            for group, vat, amount in split:
                day_groups[(day, group)] += amount
                group_vat[(group, vat)] += amount
        elif row["kind"] == "refund":
            # Revenue given back, on the refund's day, in the groups of the lines it came from.
            # A sale with an MTT invoice is corrected by the adjustment invoice the refund
            # issued (an invoice_correction below), which the book counts instead.
            sale = journal.get(conn, payload["sale_seq"]).payload
            if sale.get("invoice"):
                continue
            groups = _line_groups(sale, ts.default_group)
            for line in payload["lines"]:
                group, vat = groups[line["line"] - 1]
                day_groups[(day, group)] -= line["amount"]
                group_vat[(group, vat)] -= line["amount"]
        elif row["kind"] == "void":
            voided.add(payload["sale_id"])
            for group, vat, amount in sale_split.get(payload["sale_id"], []):
                day_groups[(day, group)] -= amount
                group_vat[(group, vat)] -= amount
        else:
            corrections.append((row["id"], payload))
    z_numbers = dict(conn.execute("SELECT business_day, z_number FROM day_closes WHERE"
                                  " business_day BETWEEN ? AND ?", (first_day, last_day)))
    for (day, group), amount in sorted(day_groups.items()):
        numbers = day_numbers[day]
        reference = f"Z{z_numbers[day]}" if day in z_numbers else \
            f"{min(numbers)}–{max(numbers)}" if numbers else ""
        book.lines.append(BookLine(day, reference, f"Doanh thu bán hàng ngày {format_day(day)}"
                                   f" ({len(numbers)} đơn)", amount, group))
    for _, payload in corrections:
        if payload.get("sale_id") in voided or not payload.get("delta"):
            continue
        split = sale_split.get(payload["sale_id"])
        group = max(split, key=lambda s: s[2])[0] if split else ts.default_group
        what = "Điều chỉnh" if payload["type"] == "adjustment" else "Thay thế"
        book.lines.append(BookLine(payload["business_day"], payload["invoice"]["code"],
                                   f"{what} hóa đơn {payload['original']['code']}",
                                   payload["delta"], group))
        group_vat[(group, "applies")] += payload["delta"]
    book.lines.sort(key=lambda line: (line.group if kind == "s2a" else "", line.day))
    for line in book.lines:
        book.by_group[line.group] = book.by_group.get(line.group, 0) + line.amount
    book.by_group_vat = dict(group_vat)
    return book


def to_csv(book: Book) -> bytes:
    """The book as CSV (UTF-8 with a byte-order mark, so spreadsheet programs read Vietnamese)."""
    out = io.StringIO()
    writer = csv.writer(out)
    group_column = book.kind == "s2a"
    writer.writerow((["Nhóm ngành nghề"] if group_column else [])
                    + ["Ngày", "Số hiệu chứng từ", "Diễn giải", "Doanh thu (đồng)"])
    for line in book.lines:
        writer.writerow(([rates.group_label(line.group)] if group_column else [])
                        + [line.day, line.reference, line.description, line.amount])
    writer.writerow(([""] if group_column else []) + ["", "", "Tổng cộng", book.total])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_pdf(conn: sqlite3.Connection, book: Book, ts: TaxSettings, today: str) -> bytes:
    """The book as an A4 PDF in Vietnamese, with the form's heading and the signature block."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    register_fonts()
    regular, bold = FONTS[False][0], FONTS[True][0]
    body = ParagraphStyle("body", fontName=regular, fontSize=9, leading=11.5)
    centre = ParagraphStyle("centre", parent=body, alignment=1)
    title = ParagraphStyle("title", parent=centre, fontName=bold, fontSize=13, leading=17)
    stall = stall_settings.stall_settings(conn)
    form = FORM_NAMES[book.kind]
    story: list[Any] = []
    heading = Table([[Paragraph(f"<b>HỘ, CÁ NHÂN KINH DOANH:</b> {_esc(stall['vendor_name'])}"
                                f"<br/>Địa chỉ: {_esc(seller_address(stall))}<br/>"
                                f"Mã số thuế: {_esc(ts.tax_code) or '…'}"
                                + (f"<br/>Mã điểm kinh doanh: {_esc(ts.location_code)}"
                                   if ts.location_code else ""), body),
                      Paragraph(f"<b>Mẫu số {form}</b><br/>(Kèm theo Thông tư số 152/2025/TT-BTC"
                                " của Bộ trưởng Bộ Tài chính)", centre)]],
                    colWidths=[110 * mm, 64 * mm])
    heading.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    story += [heading, Spacer(1, 6 * mm), Paragraph(TITLES[book.kind], title),
              Paragraph(f"Kỳ: từ ngày {format_day(book.first_day)} đến ngày"
                        f" {format_day(book.last_day)}", centre),
              Paragraph("Đơn vị tính: đồng", centre), Spacer(1, 4 * mm)]
    header = ["Ngày tháng", "Số hiệu chứng từ", "Diễn giải", "Doanh thu"]
    widths = [24 * mm, 28 * mm, 88 * mm, 34 * mm]
    data: list[list[Any]] = [header, ["A", "B", "C", "1"]]
    subtotal_rows: list[int] = []
    groups = sorted(book.by_group) if book.kind == "s2a" else [None]
    period = rates.period(book.last_day)
    for group in groups:
        if group is not None:
            rate = period["rates"].get(group, period["rates"]["other"])
            data.append(["", "", Paragraph(
                f"<b>{_esc(rates.group_label(group))}</b> (GTGT {_pct(rate['vat_bp'])},"
                f" TNCN {_pct(rate['pit_bp'])})", body), ""])
        for line in book.lines:
            if group is not None and line.group != group:
                continue
            data.append([format_day(line.day), line.reference,
                         Paragraph(_esc(line.description), body), format_number(line.amount)])
        if group is not None:
            subtotal_rows.append(len(data))
            data.append(["", "", "Cộng nhóm", format_number(book.by_group[group])])
    total_row = len(data)
    data.append(["", "", "Tổng cộng", format_number(book.total)])
    table = Table(data, colWidths=widths, repeatRows=2)
    style = [("FONT", (0, 0), (-1, -1), regular, 9),
             ("FONT", (0, 0), (-1, 1), bold, 9), ("ALIGN", (0, 0), (-1, 1), "CENTER"),
             ("ALIGN", (3, 2), (3, -1), "RIGHT"), ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
             ("GRID", (0, 0), (-1, -1), 0.4, colors.black),
             ("FONT", (0, total_row), (-1, total_row), bold, 9)]
    style += [("FONT", (0, r), (-1, r), bold, 9) for r in subtotal_rows]
    table.setStyle(TableStyle(style))
    story += [table, Spacer(1, 5 * mm)]
    if book.kind == "s2a":
        estimate = rates.estimate(book.last_day, book.by_group_vat)
        vat = (format_number(estimate.vat_low) if not estimate.vat_base_open else
               f"từ {format_number(estimate.vat_low)} đến {format_number(estimate.vat_high)}")
        story.append(Paragraph(
            f"<b>Thuế ước tính</b> trên doanh thu của kỳ, sau khi trừ mức không chịu thuế"
            f" {format_number(estimate.exempt_up_to)} đồng/năm: thuế TNCN"
            f" {format_number(estimate.pit)} đồng; thuế GTGT {vat} đồng."
            + (" Căn cứ tính thuế GTGT trên mức 500 triệu chưa được xác định rõ (toàn bộ doanh"
               " thu hay phần vượt): đây chỉ là ước tính, không phải số thuế phải nộp."
               if estimate.vat_base_open else ""), body))
        story.append(Spacer(1, 5 * mm))
    local = date.fromisoformat(today)
    signatures = Table([[Paragraph("<b>NGƯỜI LẬP SỔ</b><br/>(Ký, họ tên)", centre),
                         Paragraph(f"Ngày {local.day:02d} tháng {local.month:02d} năm"
                                   f" {local.year}<br/><b>NGƯỜI ĐẠI DIỆN HỘ KINH DOANH</b><br/>"
                                   "(Ký, họ tên, đóng dấu nếu có)", centre)]],
                       colWidths=[87 * mm, 87 * mm])
    story.append(signatures)
    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm,
                            topMargin=15 * mm, bottomMargin=15 * mm,
                            title=f"{form} {book.first_day} – {book.last_day}",
                            author=stall.get("vendor_name", ""))
    doc.build(story)
    return out.getvalue()


def _pct(basis_points: int) -> str:
    whole, frac = divmod(basis_points, 100)
    return f"{whole},{frac:02d}".rstrip("0").rstrip(",") + "%"


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
