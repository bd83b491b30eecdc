"""The commune's monthly report as an A4 PDF (reportlab, DejaVu Sans so Vietnamese prints right).

Same figures as the commune's dashboard page for the month, from the same functions: headline
figures (with the stalls' credit books as totals: sales on credit, repayments), the markets,
categories, top products, the produce bought from growers by product (no grower named) and the
month day by day.
"""
from __future__ import annotations

import io
from datetime import datetime
from typing import Any
from xml.sax.saxutils import escape

from flask_babel import gettext as _
from sqlalchemy.engine import Connection

from sync.localtime import VIETNAM
from sync.money import format_number, format_quantity, format_vnd
from sync.typefaces import FONTS, register_fonts

from . import figures
from .scope import Place


def _share(value: int | None) -> str:
    return "–" if value is None else f"{value // 100},{value % 100:02d} %"


def _money(value: int | None) -> str:
    return "–" if value is None else format_vnd(value)


def render_monthly_report(conn: Connection, place: Place, period: figures.Period,
                          now: datetime) -> bytes:
    """The PDF bytes of a commune's report for the month `period`."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    register_fonts()
    regular, bold = FONTS[False][0], FONTS[True][0]
    body = ParagraphStyle("body", fontName=regular, fontSize=9, leading=12)
    heading = ParagraphStyle("heading", fontName=bold, fontSize=12, leading=16, spaceBefore=8,
                             spaceAfter=4)
    title = ParagraphStyle("title", fontName=bold, fontSize=16, leading=20)

    totals = figures.totals(conn, place, period)
    silent = figures.silent_count(conn, place, now)
    alerts = figures.alert_counts(conn, place, period, include_unrouted=False)
    markets = figures.breakdown(conn, place, period)
    products, categories = figures.products(conn, place, period, limit=15)
    days = figures.trend(conn, place, period)
    bought = figures.purchased_products(conn, place, period, limit=20)

    width = A4[0] - 36 * mm          # the page less its margins
    head_left = ParagraphStyle("head_left", fontName=bold, fontSize=8, leading=10)
    head_right = ParagraphStyle("head_right", parent=head_left, alignment=2)
    cell = ParagraphStyle("cell", fontName=regular, fontSize=8, leading=10)

    def table(header: list[str], rows: list[list[str]], numeric_from: int = 1) -> Table:
        """Every table spans the page and its headers and names wrap, so that long Vietnamese
        headers never run off the edge (Paragraph reads markup: the text is escaped)."""
        heads = [Paragraph(escape(h), head_right if i >= numeric_from else head_left)
                 for i, h in enumerate(header)]
        body = [[Paragraph(escape(c), cell) if i < numeric_from else c
                 for i, c in enumerate(row)] for row in rows]
        columns = len(header)
        if columns < 4:
            text_widths = [width * 0.45]
        else:   # a name column, then (produce) a narrow unit column
            text_widths = [width / 3] if numeric_from == 1 else [width / 4, width / 12]
        number_width = (width - sum(text_widths)) / (columns - len(text_widths))
        widths = text_widths + [number_width] * (columns - len(text_widths))
        grid = Table([heads] + body, repeatRows=1, hAlign="LEFT", colWidths=widths)
        grid.setStyle(TableStyle([
            ("FONT", (0, 0), (-1, -1), regular, 8), ("FONT", (0, 0), (-1, 0), bold, 8),
            ("ALIGN", (numeric_from, 0), (-1, -1), "RIGHT"),
            ("LINEBELOW", (0, 0), (-1, 0), 0.6, colors.black),
            ("LINEBELOW", (0, 1), (-1, -1), 0.2, colors.grey),
            ("VALIGN", (0, 0), (-1, -1), "TOP")]))
        return grid

    month = period.start.strftime("%m/%Y")
    story: list[Any] = [
        Paragraph(_("Monthly market report %(month)s", month=month), title),
        Paragraph(f"{place.commune}, {place.province}", heading),
        Paragraph(_("Made on %(time)s from the stalls' journals as synced by then.",
                    time=now.astimezone(VIETNAM).strftime("%d/%m/%Y %H:%M")), body),
        Spacer(1, 4 * mm),
        table([_("Figure"), _("Value")], [
            [_("Revenue"), _money(totals["revenue"])],
            [_("Sales"), format_number(totals["sales"])],
            [_("Average ticket"), _money(totals["average"])],
            [_("Cashless share (value)"), _share(totals["qr_share"])],
            [_("Cashless share (count)"), _share(totals["qr_count_share"])],
            [_("QR value"), _money(totals["qr"])],
            [_("Active stalls"), format_number(totals["active"])],
            [_("Stalls silent for more than 3 days"), format_number(silent)],
            [_("Voids"), f'{format_number(totals["voids"])} ({_money(totals["voided"])})'],
            [_("Credit sales"), _money(totals["credit"])],
            [_("Repayments"), f'{_money(totals["repaid"])} ({_("Cash")}'
                              f' {_money(totals["repaid_cash"])} · {_("QR")}'
                              f' {_money(totals["repaid_qr"])})'],
            [_("Open alerts"), format_number(sum(alerts.values()))],
        ]),
        Paragraph(_("Markets"), heading),
        table([_("Market"), _("Revenue"), _("Sales"), _("Cashless share (value)"),
               _("Cashless share (count)")],
              [[m["name"], _money(m["revenue"]), format_number(m["sales"]),
                _share(m["qr_share"]), _share(m["qr_count_share"])] for m in markets]),
        Paragraph(_("Categories by revenue"), heading),
        table([_("Category"), _("Revenue"), _("Share of revenue"), _("of which OCOP")],
              [[c["category"] or _("Other"), _money(c["revenue"]), _share(c["share"]),
                _money(c["ocop"])] for c in categories]),
        Paragraph(_("Products by revenue"), heading),
        table([_("Product"), _("OCOP stars"), _("Revenue")],
              [[p["name"], "★" * (p["ocop_stars"] or 0), _money(p["revenue"])]
               for p in products]),
        *([Paragraph(_("Produce bought, by product"), heading),
           table([_("Product"), _("Unit"), _("Quantity bought"), _("Paid to growers"),
                  _("Average price per unit"), _("Purchases")],
                 [[p["name"], p["unit"], format_quantity(p["quantity_milli"]),
                   _money(p["amount"]), _money(p["unit_price"]), format_number(p["purchases"])]
                  for p in bought], numeric_from=2)] if bought else []),
        Paragraph(_("Day by day"), heading),
        table([_("Day"), _("Revenue"), _("Sales"), _("Cashless share (value)")],
              [[f'{d["day"][8:10]}/{d["day"][5:7]}', _money(d["revenue"]),
                format_number(d["sales"]), _share(d["qr_share"])] for d in days]),
    ]
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=16 * mm,
        bottomMargin=16 * mm, title=_("Monthly market report %(month)s", month=month),
        author=place.province)
    document.build(story)
    return buffer.getvalue()
