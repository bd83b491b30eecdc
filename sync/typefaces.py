"""The TrueType fonts of everything printed (receipts, reports, the tax book, the monthly
report): DejaVu Sans, whose Vietnamese glyphs print right on cheap thermal printers.

The files ship as the core's package data (`sync.fonts`, from the repository's static/fonts).
"""
from __future__ import annotations

from functools import cache
from pathlib import Path

FONTS = {False: ("DejaVuSans", "DejaVuSans.ttf"), True: ("DejaVuSans-Bold", "DejaVuSans-Bold.ttf")}


def font_dir() -> Path:
    """The installed sync/fonts if present, else the repository's static/fonts."""
    package = Path(__file__).resolve().parent
    installed = package / "fonts"
    return installed if installed.is_dir() else package.parent / "static" / "fonts"


@cache
def register_fonts() -> None:
    """Load and register the fonts with reportlab once per process (parsing costs ms)."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    for name, filename in FONTS.values():
        pdfmetrics.registerFont(TTFont(name, str(font_dir() / filename)))
