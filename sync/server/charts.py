"""Charts drawn on the server as inline SVG: no script, no CDN, readable when printed."""
from __future__ import annotations

from html import escape
from typing import Any

from markupsafe import Markup

from sync.money import format_number

WIDTH, HEIGHT = 720, 240
LEFT, RIGHT, TOP, BOTTOM = 72, 8, 12, 46


def _nice_ceiling(value: int) -> int:
    """A round axis maximum at or above `value` (1, 2 or 5 times a power of ten)."""
    if value <= 0:
        return 1
    scale = 1
    while scale * 10 <= value:
        scale *= 10
    for step in (1, 2, 5, 10):
        if step * scale >= value:
            return step * scale
    return 10 * scale


def trend_svg(days: list[dict[str, Any]], title: str, cash_label: str, qr_label: str) -> Markup:
    """Daily revenue as bars, the QR part of each bar in a second colour.

    `days` holds {"day": "2026-11-22", "revenue": int, "qr": int}; amounts are whole đồng and
    only scaled to pixels here.
    """
    top = _nice_ceiling(max((d["revenue"] for d in days), default=0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(len(days), 1)
    bar = max(slot * 0.7, 1.0)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="trend" role="img" '
             f'viewBox="0 0 {WIDTH} {HEIGHT}" aria-labelledby="trend-title">',
             f'<title id="trend-title">{escape(title)}</title>']
    for fraction in (0, 0.5, 1):
        y = TOP + plot_h * (1 - fraction)
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
                     'class="grid"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" class="axis" text-anchor="end">'
                     f'{escape(format_number(int(top * fraction)))}</text>')
    label_every = max(1, len(days) // 8)
    for index, day in enumerate(days):
        x = LEFT + index * slot + (slot - bar) / 2
        height = plot_h * day["revenue"] / top
        qr_height = plot_h * day["qr"] / top
        tip = escape(f'{day["day"]}: {format_number(day["revenue"])} ₫ '
                     f'(QR {format_number(day["qr"])} ₫)')
        parts.append(f'<g data-day="{escape(day["day"])}" data-revenue="{day["revenue"]}">'
                     f'<title>{tip}</title>'
                     f'<rect x="{x:.1f}" y="{TOP + plot_h - height:.1f}" width="{bar:.1f}" '
                     f'height="{height:.1f}" class="cash"/>'
                     f'<rect x="{x:.1f}" y="{TOP + plot_h - qr_height:.1f}" width="{bar:.1f}" '
                     f'height="{qr_height:.1f}" class="qr"/></g>')
        if index % label_every == 0:
            label = f'{day["day"][8:10]}/{day["day"][5:7]}'
            parts.append(f'<text x="{x + bar / 2:.1f}" y="{TOP + plot_h + 16}" class="axis" '
                         f'text-anchor="middle">{label}</text>')
    parts.append(f'<g class="legend"><rect x="{LEFT}" y="{HEIGHT - 12}" width="9" height="9" '
                 f'class="cash"/><text x="{LEFT + 13}" y="{HEIGHT - 3}" class="axis">'
                 f'{escape(cash_label)}</text><rect x="{LEFT + 150}" y="{HEIGHT - 12}" width="9" '
                 f'height="9" class="qr"/><text x="{LEFT + 163}" y="{HEIGHT - 3}" class="axis">'
                 f'{escape(qr_label)}</text></g>')
    parts.append("</svg>")
    return Markup("".join(parts))
