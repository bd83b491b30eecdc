"""The household's sales books, straight from the journal: S1a-HKD and S2a-HKD (Circular
152/2025/TT-BTC), as an A4 PDF in Vietnamese and as CSV.

S1a-HKD is the sales book of households up to 500 million a year: one line per business day
(sales net of voids) and one per invoice adjustment. S2a-HKD is for households taxed on revenue:
the same lines split by tax group (each sale line carries its group since the sale was made),
with the group's rates and an estimate of the tax. The books read `sale`, `void` and
`invoice_correction` entries, never the projections, so they show what the journal proves.

The layout follows the forms as docs/TAX.md ("Sổ S1a/S2a và phiếu bán hàng") describes them:
S1a-HKD has three columns (A Ngày tháng, B Diễn giải, 1 Số tiền), S2a-HKD four (Chứng từ: A Số
hiệu, B Ngày, tháng; C Diễn giải; 1 Số tiền) with each tax group's total and taxes; both have the
household's name, address and tax code, the business location, the period, the circular's number
and date, and one signer.
"""
from __future__ import annotations

import calendar
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
# Both forms of Circular 152/2025 carry the same title (see docs/TAX.md for the sources that
# call S1a-HKD a "SỔ CHI TIẾT DOANH THU…", the title of Circular 88/2021's S1-HKD).
TITLES = {"s1a": "SỔ DOANH THU BÁN HÀNG HÓA, DỊCH VỤ",
          "s2a": "SỔ DOANH THU BÁN HÀNG HÓA, DỊCH VỤ"}
FORM_NAMES = {"s1a": "S1a-HKD", "s2a": "S2a-HKD"}
CIRCULAR = ("(Kèm theo Thông tư số 152/2025/TT-BTC", "ngày 31 tháng 12 năm 2025",
            "của Bộ trưởng Bộ Tài chính)")
SIGNER = ("NGƯỜI ĐẠI DIỆN HỘ KINH DOANH/", "CÁ NHÂN KINH DOANH")
SIGNER_NOTE = "(Ký, ghi rõ họ tên, đóng dấu (nếu có))"
NO_REVENUE = "Không phát sinh doanh thu trong kỳ"
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


@dataclass(frozen=True)
class GroupTax:
    """One tax group's share of the estimate (rates.estimate, split by group): VAT from `vat_low`
    to `vat_high` while the VAT base is an open question, and PIT."""

    vat_low: int
    vat_high: int
    pit: int


def check_period(first_day: str, last_day: str) -> None:
    """ValueError unless both are ISO days, in order, at most five years apart."""
    first, last = date.fromisoformat(first_day), date.fromisoformat(last_day)
    if last < first or (last - first).days > MAX_DAYS:
        raise ValueError("the period must end after it starts and cover at most five years")


def period_label(first_day: str, last_day: str) -> str:
    """The "Kỳ kê khai" line: a month, a quarter or a year by name, any other period by its days."""
    first, last = date.fromisoformat(first_day), date.fromisoformat(last_day)
    ends_month = last.day == calendar.monthrange(last.year, last.month)[1]
    if first.day == 1 and ends_month and first.year == last.year:
        if first.month == last.month:
            return f"Tháng {first.month:02d} năm {first.year}"
        if first.month % 3 == 1 and last.month == first.month + 2:
            return f"Quý {first.month // 3 + 1} năm {first.year}"
        if (first.month, last.month) == (1, 12):
            return f"Năm {first.year}"
    return f"Từ ngày {format_day(first_day)} đến ngày {format_day(last_day)}"


def business_location(stall: dict[str, str], ts: TaxSettings) -> str:
    """The "Địa điểm kinh doanh" line: the stall in its market, and the business-location code
    when the household has several places (one book per place)."""
    number = f"Sạp {stall['stall_number']}" if stall.get("stall_number") else ""
    place = ", ".join(filter(None, [number, stall.get("market", "")])) or seller_address(stall)
    if ts.location_code:
        place = f"{place} (mã địa điểm: {ts.location_code})" if place else ts.location_code
    return place


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
    if kind == "s1a":           # one line a day: S1a-HKD does not split revenue by group
        by_day: dict[tuple[str, str], int] = defaultdict(int)
        for (day, _), amount in day_groups.items():
            by_day[(day, "")] += amount
        day_groups = by_day
    for (day, group), amount in sorted(day_groups.items()):
        numbers = day_numbers[day]
        if day in z_numbers:
            reference, source = f"Z{z_numbers[day]}", f"báo cáo Z số {z_numbers[day]}"
        elif numbers:
            reference = f"{min(numbers)}–{max(numbers)}"
            source = f"đơn số {reference}" if len(numbers) > 1 else f"đơn số {numbers[0]}"
        else:
            reference, source = "", ""
        counted = ", ".join(filter(None, [f"{len(numbers)} đơn", source]))
        book.lines.append(BookLine(day, reference, f"Doanh thu bán hàng ngày {format_day(day)}"
                                   f" ({counted})", amount, group))
    for _, payload in corrections:
        if payload.get("sale_id") in voided or not payload.get("delta"):
            continue
        split = sale_split.get(payload["sale_id"])
        group = max(split, key=lambda s: s[2])[0] if split else ts.default_group
        what = "Điều chỉnh" if payload["type"] == "adjustment" else "Thay thế"
        book.lines.append(BookLine(payload["business_day"], payload["invoice"]["code"],
                                   f"{what} hóa đơn {payload['original']['code']} bằng hóa đơn"
                                   f" {payload['invoice']['code']}", payload["delta"], group))
        group_vat[(group, "applies")] += payload["delta"]
    book.lines.sort(key=lambda line: (line.group if kind == "s2a" else "", line.day))
    for (group, _), amount in sorted(group_vat.items()):
        book.by_group[group] = book.by_group.get(group, 0) + amount
    book.by_group_vat = dict(group_vat)
    return book


def group_taxes(book: Book) -> dict[str, GroupTax]:
    """Each group's VAT and PIT, the terms rates.estimate adds up (the same rounding, item by
    item, so the groups add up to the estimate's totals)."""
    p = rates.period(book.last_day)
    revenue = sum(book.by_group_vat.values())
    exempt = p["exempt_up_to"]
    taxes: dict[str, list[int]] = {}           # group → [vat_above, vat_all, pit]
    for (group, vat_kind), amount in book.by_group_vat.items():
        taxes.setdefault(group, [0, 0, 0])      # every group has a row, taxed or not
        if revenue <= exempt:
            continue
        rate = p["rates"].get(group, p["rates"]["other"])
        above = amount * (revenue - exempt) // revenue
        pit_base = above if p["pit_base"] == "above_exempt" else amount
        taxes[group][2] += _apply(pit_base, rate["pit_bp"])
        if vat_kind != rates.KCT:
            taxes[group][0] += _apply(above, rate["vat_bp"])
            taxes[group][1] += _apply(amount, rate["vat_bp"])
    whole = p["vat_base"] == "all"
    return {group: GroupTax(vat_all if whole else vat_above, vat_all, pit)
            for group, (vat_above, vat_all, pit) in taxes.items()}


def _apply(amount: int, basis_points: int) -> int:
    """amount × rate, rounded half up to whole đồng (as pos/tax/rates.py does)."""
    return (amount * basis_points + 5000) // 10000


def to_csv(book: Book) -> bytes:
    """The book as CSV (UTF-8 with a byte-order mark, so spreadsheet programs read Vietnamese):
    the form's columns, days as ISO dates, amounts in whole đồng, the total last."""
    out = io.StringIO()
    writer = csv.writer(out)
    if book.kind == "s2a":
        writer.writerow(["Nhóm ngành nghề", "Số hiệu", "Ngày, tháng", "Diễn giải", "Số tiền"])
        for line in book.lines:
            writer.writerow([rates.group_label(line.group), line.reference, line.day,
                             line.description, line.amount])
        writer.writerow(["", "", "", "Tổng cộng", book.total])
    else:
        writer.writerow(["Ngày tháng", "Diễn giải", "Số tiền"])
        for line in book.lines:
            writer.writerow([line.day, line.description, line.amount])
        writer.writerow(["", "Tổng cộng", book.total])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_pdf(conn: sqlite3.Connection, book: Book, ts: TaxSettings, today: str) -> bytes:
    """The book as an A4 PDF in Vietnamese, laid out as the form of Circular 152/2025."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    register_fonts()
    regular, bold = FONTS[False][0], FONTS[True][0]
    body = ParagraphStyle("body", fontName=regular, fontSize=9, leading=11.5)
    centre = ParagraphStyle("centre", parent=body, alignment=1)
    right = ParagraphStyle("right", parent=body, alignment=2)
    title = ParagraphStyle("title", parent=centre, fontName=bold, fontSize=13, leading=17)
    stall = stall_settings.stall_settings(conn)
    form = FORM_NAMES[book.kind]
    story: list[Any] = []
    heading = Table([[Paragraph(f"<b>HỘ, CÁ NHÂN KINH DOANH:</b> {_esc(stall['vendor_name'])}"
                                f"<br/>Địa chỉ: {_esc(seller_address(stall)) or '…'}<br/>"
                                f"Mã số thuế: {_esc(ts.tax_code) or '…'}", body),
                      Paragraph(f"<b>Mẫu số {form}</b><br/>{'<br/>'.join(CIRCULAR)}", centre)]],
                    colWidths=[104 * mm, 70 * mm])
    heading.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"),
                                 ("LEFTPADDING", (0, 0), (0, 0), 0)]))
    story += [heading, Spacer(1, 6 * mm), Paragraph(TITLES[book.kind], title),
              Paragraph(f"Địa điểm kinh doanh: {_esc(business_location(stall, ts)) or '…'}",
                        centre),
              Paragraph(f"Kỳ kê khai: {period_label(book.first_day, book.last_day)}", centre),
              Spacer(1, 2 * mm), Paragraph("Đơn vị tính: đồng", right), Spacer(1, 1 * mm)]
    if book.kind == "s2a":
        table = _s2a_table(book, body, regular, bold, mm, colors, Paragraph, Table, TableStyle)
    else:
        table = _s1a_table(book, body, regular, bold, mm, colors, Paragraph, Table, TableStyle)
    story += [table, Spacer(1, 4 * mm)]
    if book.kind == "s2a":
        estimate = rates.estimate(book.last_day, book.by_group_vat)
        story += [Paragraph(
            f"<b>Thuế ước tính</b> trên doanh thu của kỳ, sau khi trừ mức không chịu thuế"
            f" {format_number(estimate.exempt_up_to)} đồng/năm (chia theo tỷ lệ doanh thu của"
            " các nhóm ngành nghề)."
            + (" Căn cứ tính thuế GTGT trên mức 500 triệu chưa được xác định rõ (toàn bộ doanh"
               " thu hay phần vượt): số thuế GTGT ghi là khoảng giữa hai cách tính."
               if estimate.vat_base_open else "")
            + " Đây chỉ là ước tính, không phải số thuế cơ quan thuế thông báo.", body),
                  Spacer(1, 4 * mm)]
    local = date.fromisoformat(today)
    signature = Paragraph(f"Ngày {local.day:02d} tháng {local.month:02d} năm {local.year}<br/>"
                          f"<b>{SIGNER[0]}<br/>{SIGNER[1]}</b><br/>{SIGNER_NOTE}", centre)
    signatures = Table([["", signature]], colWidths=[84 * mm, 90 * mm])
    signatures.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    story.append(signatures)
    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm,
                            topMargin=15 * mm, bottomMargin=15 * mm,
                            title=f"{form} {book.first_day} – {book.last_day}",
                            author=stall.get("vendor_name", ""))
    doc.build(story)
    return out.getvalue()


def _grid(regular: str, bold: str, header_rows: int, colors: Any) -> list[tuple[Any, ...]]:
    return [("FONT", (0, 0), (-1, -1), regular, 9),
            ("FONT", (0, 0), (-1, header_rows - 1), bold, 9),
            ("ALIGN", (0, 0), (-1, header_rows), "CENTER"),
            ("ALIGN", (-1, header_rows + 1), (-1, -1), "RIGHT"),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ("GRID", (0, 0), (-1, -1), 0.4, colors.black)]


def _s1a_table(book: Book, body: Any, regular: str, bold: str, mm: float, colors: Any,
               Paragraph: Any, Table: Any, TableStyle: Any) -> Any:
    """Three columns: A Ngày tháng, B Diễn giải, 1 Số tiền; the total last."""
    data: list[list[Any]] = [["Ngày tháng", "Diễn giải", "Số tiền"], ["A", "B", "1"]]
    for line in book.lines:
        data.append([format_day(line.day), Paragraph(_esc(line.description), body),
                     format_number(line.amount)])
    if not book.lines:
        data.append(["", NO_REVENUE, format_number(0)])
    data.append(["", "Tổng cộng", format_number(book.total)])
    table = Table(data, colWidths=[26 * mm, 110 * mm, 38 * mm], repeatRows=2)
    table.setStyle(TableStyle(_grid(regular, bold, 1, colors)
                              + [("FONT", (0, -1), (-1, -1), bold, 9)]))
    return table


def _s2a_table(book: Book, body: Any, regular: str, bold: str, mm: float, colors: Any,
               Paragraph: Any, Table: Any, TableStyle: Any) -> Any:
    """Chứng từ (A Số hiệu, B Ngày, tháng), C Diễn giải, 1 Số tiền; each tax group under its
    number with its total, VAT and PIT; the household's total VAT and PIT last."""
    from reportlab.lib.styles import ParagraphStyle
    money = ParagraphStyle("money", parent=body, alignment=2)     # a VAT range wraps at its dash
    period = rates.period(book.last_day)
    taxes = group_taxes(book)
    data: list[list[Any]] = [["Chứng từ", "", "Diễn giải", "Số tiền"],
                             ["Số hiệu", "Ngày, tháng", "", ""], ["A", "B", "C", "1"]]
    bold_rows: list[int] = []
    groups = sorted(book.by_group)
    for index, group in enumerate(groups, start=1):
        rate = period["rates"].get(group, period["rates"]["other"])
        bold_rows.append(len(data))
        data.append(["", "", Paragraph(f"<b>{index}. Ngành nghề: {_esc(rates.group_label(group))}"
                                       "</b>", body), ""])
        for line in book.lines:
            if line.group == group:
                data.append([line.reference, format_day(line.day),
                             Paragraph(_esc(line.description), body),
                             format_number(line.amount)])
        tax = taxes.get(group, GroupTax(0, 0, 0))
        not_subject = book.by_group_vat.get((group, rates.KCT), 0)
        vat_label = f"Thuế GTGT ({_pct(rate['vat_bp'])})"
        if not_subject and not_subject == book.by_group[group]:
            vat_label = "Thuế GTGT (không chịu thuế GTGT)"
        elif not_subject:
            vat_label += f", trừ {format_number(not_subject)} đồng không chịu thuế GTGT"
        bold_rows.append(len(data))
        data += [["", "", f"Tổng cộng ({index})", format_number(book.by_group[group])],
                 ["", "", Paragraph(vat_label, body),
                  Paragraph(_range(tax.vat_low, tax.vat_high), money)],
                 ["", "", f"Thuế TNCN ({_pct(rate['pit_bp'])})", format_number(tax.pit)]]
    if not groups:
        data.append(["", "", NO_REVENUE, format_number(0)])
    vat_low = sum(t.vat_low for t in taxes.values())
    vat_high = sum(t.vat_high for t in taxes.values())
    total_rows = [len(data), len(data) + 1, len(data) + 2]
    data += [["", "", "Tổng cộng", format_number(book.total)],
             ["", "", "Tổng số thuế GTGT phải nộp",
              Paragraph(f"<b>{_range(vat_low, vat_high)}</b>", money)],
             ["", "", "Tổng số thuế TNCN phải nộp",
              format_number(sum(t.pit for t in taxes.values()))]]
    table = Table(data, colWidths=[30 * mm, 24 * mm, 86 * mm, 34 * mm], repeatRows=3)
    style = _grid(regular, bold, 2, colors) + [
        ("SPAN", (0, 0), (1, 0)), ("SPAN", (2, 0), (2, 1)), ("SPAN", (3, 0), (3, 1)),
        ("ALIGN", (0, 3), (1, -1), "CENTER")]
    style += [("FONT", (0, r), (-1, r), bold, 9) for r in bold_rows + total_rows]
    table.setStyle(TableStyle(style))
    return table


def _range(low: int, high: int) -> str:
    return format_number(low) if low == high else f"{format_number(low)} – {format_number(high)}"


def _pct(basis_points: int) -> str:
    whole, frac = divmod(basis_points, 100)
    return f"{whole},{frac:02d}".rstrip("0").rstrip(",") + "%"


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
