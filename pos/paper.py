"""Documents for paper: one small layout model, drawn by two backends.

A receipt must look the same as a PDF (thermal roll, A5 or A4 sheet) and as a 1-bit raster image
sent to a cheap ESC/POS printer whose code pages garble Vietnamese. So the document is a list of
blocks, `layout` turns it into positioned bands with the metrics of the backend's own font engine,
and each renderer only draws those bands. Units are PDF points (1/72 inch), y downwards.
"""
from __future__ import annotations

import io
import math
import unicodedata
from dataclasses import dataclass, field, fields
from functools import lru_cache
from typing import TYPE_CHECKING, Callable, Literal, Union

from PIL import Image, ImageDraw, ImageFont

from sync.typefaces import FONTS, font_dir, register_fonts

if TYPE_CHECKING:
    from reportlab.pdfgen.canvas import Canvas

Align = Literal["left", "center", "right"]
MM = 72 / 25.4                      # points per millimetre
BODY, SMALL, LARGE, HUGE = 8.5, 7.0, 10.0, 13.0   # font sizes (pt) on a roll
LEADING, ASCENT = 1.3, 1.05        # line height and baseline offset, in ems (fits "Ổ" and "g")
# A roll's PDF page is as wide as the printer prints, not as the paper: CUPS drivers of these
# printers define the page as the printable width, and a page wider than the driver's is shrunk
# to fit (a 58 mm page on a 48 mm driver page comes out at 83 %) or cut. The Zijiang ZJ-58 PPD
# (github.com/klirichek/zj-58, ZJ-58.ppd) has `*PageSize X48MMY210MM/58mm x 210mm:
# "<</PageSize[136 595]…>>"` with `*ImageableArea … "0 0 136 595"` and `*HWMargins: 0 0 0 0`:
# 136 pt = 48 mm, all of it printed; its ZJ-80 PPD (ppd/zj80.ppd) has `PageSize[198 …]`, 70 mm.
# ESC/POS printer profiles (github.com/receipt-print-hq/escpos-printer-db, data/profile/
# ZJ-5870.yml: 48 mm, 384 pixels; TM-T20II.yml: 72 mm, 576 pixels) give the same widths for the
# heads. So the defaults are 48 and 72 mm, and the stall sets its own printer's
# (pos/printing/config.py, `printable_58` and `printable_80`).
ROLLS = {"58": 48.0, "80": 72.0}   # the printable width (mm) of each roll unless the stall says
ROLL_PRINTABLE_MM = {"58": (40, 58), "80": (60, 80)}     # the widths a stall may set, in mm
# sheet: width, height, margin (mm), and how much larger the type is than on a roll
SHEETS = {"A6": (105.0, 148.0, 8.0, 1.3), "A5": (148.0, 210.0, 12.0, 1.1),
          "A4": (210.0, 297.0, 18.0, 1.25)}
ROLL_MARGIN_Y = 4.0                # mm above and below the content of a roll
DOTS_PER_MM = 8.0                  # thermal heads print 203 dpi: 384 dots = 48 mm, 576 dots = 72 mm
EDGE_MM = 1.0                      # keep ink off the outermost dots of the head (PDF and raster)
_GLUED = {"₫", "đ", "VND", "%"}
QR_MASK = 2                        # see qr_matrix


class _Normalised:
    """Stores every text field in NFC: a decomposed "ế" would print as "e" plus two loose marks."""

    def __post_init__(self) -> None:
        for f in fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            if isinstance(value, str) and f.name != "payload":  # a QR payload stays byte-exact
                object.__setattr__(self, f.name, unicodedata.normalize("NFC", value))


@dataclass(frozen=True)
class Text(_Normalised):
    """A paragraph, wrapped to the width; `boxed` frames it (for COPY and VOIDED banners).

    `one_line` never wraps: the type is made smaller until the text fits the width, for codes
    that must be read or typed whole (an MTT invoice code, a receipt's check code)."""
    text: str
    size: float = BODY
    bold: bool = False
    align: Align = "left"
    boxed: bool = False
    one_line: bool = False


@dataclass(frozen=True)
class Row(_Normalised):
    """Label left and value right; on narrow paper the value goes below, right-aligned."""
    left: str
    right: str
    size: float = BODY
    bold: bool = False


@dataclass(frozen=True)
class Item(_Normalised):
    """A sale line: the name over the full width, then "2 kg × 45.000 ₫" left, amount right."""
    name: str
    detail: str
    amount: str
    size: float = BODY


@dataclass(frozen=True)
class Total(_Normalised):
    """The big bold total row, the one figure the buyer must read at a glance."""
    label: str
    amount: str
    size: float = HUGE


@dataclass(frozen=True)
class Rule:
    """A horizontal rule across the width."""
    dashed: bool = True


@dataclass(frozen=True)
class Space:
    """Vertical space."""
    mm: float = 2.0


@dataclass(frozen=True)
class QR(_Normalised):
    """A QR code of `payload`, `size_mm` wide with its quiet zone, centred; a small caption."""
    payload: str
    size_mm: float = 34.0
    caption: str = ""


def small(text: str, align: Align = "center") -> Text:
    """Small print: references and hashes nobody reads unless there is a dispute."""
    return Text(text, SMALL, align=align)


Block = Union[Text, Row, Item, Total, Rule, Space, QR]


@dataclass
class Document:
    """What to print, independent of the paper: a title (PDF metadata) and blocks in order."""
    blocks: list[Block] = field(default_factory=list)
    title: str = ""


# Positioned drawing operations, relative to the top of their band.
@dataclass(frozen=True)
class _Glyphs:
    x: float
    baseline: float
    text: str
    bold: bool
    size: float
    align: Align


@dataclass(frozen=True)
class _Line:
    x0: float
    x1: float
    y: float
    dashed: bool


@dataclass(frozen=True)
class _Frame:
    x: float
    y: float
    w: float
    h: float


@dataclass(frozen=True)
class _Code:
    x: float
    y: float
    size: float
    matrix: tuple[tuple[bool, ...], ...]


_Op = Union[_Glyphs, _Line, _Frame, _Code]
Band = tuple[float, list[_Op]]                 # height, operations: never split across pages
Measure = Callable[[str, bool, float], float]  # width in points of text, bold, size


@lru_cache(maxsize=64)
def qr_matrix(payload: str) -> tuple[tuple[bool, ...], ...]:
    """Modules of the QR code with its 4-module quiet zone (cached: a receipt is drawn twice).

    The mask is fixed to pattern 2 instead of trying all eight: the trial took a receipt's
    render from about 9 to 18 ms of CPU (issue 8), and on the payloads paper carries (check
    codes, check links, VietQR, e-invoice look-ups) pattern 2 scores within a few percent of
    the best mask by the standard's own penalty (benchmarks/stall/findings.md).
    """
    import qrcode

    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4,
                         mask_pattern=QR_MASK)
    code.add_data(payload)
    code.make(fit=True)
    return tuple(tuple(bool(m) for m in row) for row in code.get_matrix())


def wrap(text: str, width: float, measure: Measure, bold: bool, size: float) -> list[str]:
    """Greedy word wrap; a word wider than the line is cut between characters."""
    lines: list[str] = []
    current = ""
    tokens: list[str] = []
    for word in text.split():  # keep "120.000 ₫" together: never a lone currency sign
        if tokens and word in _GLUED:
            tokens[-1] += f" {word}"
        else:
            tokens.append(word)
    for word in tokens:
        candidate = f"{current} {word}" if current else word
        if measure(candidate, bold, size) <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
        while len(word) > 1 and measure(word, bold, size) > width:
            cut = 1
            while measure(word[:cut + 1], bold, size) <= width:
                cut += 1
            lines.append(word[:cut])
            word = word[cut:]
        current = word
    return lines + [current] if current or not lines else lines


def fitted_size(text: str, width: float, measure: Measure, bold: bool, size: float) -> float:
    """`size`, or the largest size below it (in steps of 0.05 pt) at which `text` fits `width`."""
    needed = measure(text, bold, size)
    if needed <= width or not text:
        return size
    fitted = math.floor(size * width / needed * 20) / 20   # text width grows with the size
    while fitted > 0.05 and measure(text, bold, fitted) > width:
        fitted -= 0.05
    return max(fitted, 0.05)


def _text_lines(lines: list[str], x: float, width: float, top: float, size: float, bold: bool,
                align: Align) -> list[_Op]:
    anchor = {"left": x, "center": x + width / 2, "right": x + width}[align]
    return [_Glyphs(anchor, top + i * size * LEADING + size * ASCENT, line, bold, size, align)
            for i, line in enumerate(lines)]


def _row(left: str, right: str, width: float, measure: Measure, size: float, bold: bool,
         indent: float = 0.0) -> Band:
    room = width - indent - measure(right, bold, size) - 0.6 * size
    needed = measure(left, bold, size)
    if needed <= room:
        lines = [left]
    elif needed > width - indent and room >= 0.45 * width:  # long label: wrap beside the value
        lines = wrap(left, room, measure, bold, size)
    else:  # narrow paper: label on its own line(s), value right-aligned below
        lines = wrap(left, width - indent, measure, bold, size) + [""]
    ops = _text_lines(lines, indent, width - indent, 0.0, size, bold, "left")
    ops += _text_lines([right], 0.0, width, (len(lines) - 1) * size * LEADING, size, bold, "right")
    return len(lines) * size * LEADING, [op for op in ops if not (isinstance(op, _Glyphs)
                                                                  and not op.text)]


def layout(doc: Document, width: float, measure: Measure, scale: float = 1.0) -> list[Band]:
    """Place every block for a content `width` (pt); sizes are multiplied by `scale` (sheets)."""
    bands: list[Band] = []
    for block in doc.blocks:
        if isinstance(block, Text):
            size, pad = block.size * scale, (3.0 * scale if block.boxed else 0.0)
            if block.one_line:
                size = fitted_size(block.text, width - 2 * pad, measure, block.bold, size)
                lines = [block.text]
            else:
                lines = wrap(block.text, width - 2 * pad, measure, block.bold, size)
            ops: list[_Op] = _text_lines(lines, pad, width - 2 * pad, pad, size, block.bold,
                                         block.align)
            height = len(lines) * size * LEADING + 2 * pad
            if block.boxed:
                ops.append(_Frame(0.0, 0.0, width, height))
                height += 1.5 * scale
            bands.append((height, ops))
        elif isinstance(block, Row):
            bands.append(_row(block.left, block.right, width, measure, block.size * scale,
                              block.bold))
        elif isinstance(block, Total):
            size = block.size * scale
            height, ops = _row(block.label, block.amount, width, measure, size, True)
            bands.append((height + size * 0.4, ops))
        elif isinstance(block, Item):
            size = block.size * scale
            lines = wrap(block.name, width, measure, False, size)
            name_height = len(lines) * size * LEADING
            height, row_ops = _row(block.detail, block.amount, width, measure, size, False,
                                   indent=2.5 * MM * scale)
            ops = _text_lines(lines, 0.0, width, 0.0, size, False, "left")
            ops += [_Glyphs(op.x, op.baseline + name_height, op.text, op.bold, op.size, op.align)
                    for op in row_ops if isinstance(op, _Glyphs)]
            bands.append((name_height + height + size * 0.25, ops))
        elif isinstance(block, Rule):
            bands.append((2.5 * MM * scale, [_Line(0.0, width, 1.25 * MM * scale, block.dashed)]))
        elif isinstance(block, Space):
            bands.append((block.mm * MM * scale, []))
        elif isinstance(block, QR):
            side = min(block.size_mm * MM, width)
            ops = [_Code((width - side) / 2, 0.0, side, qr_matrix(block.payload))]
            height = side
            if block.caption:
                lines = wrap(block.caption, width, measure, False, SMALL * scale)
                ops += _text_lines(lines, 0.0, width, side, SMALL * scale, False, "center")
                height += len(lines) * SMALL * scale * LEADING
            bands.append((height + 1.0 * MM, ops))
    return bands


# --- PDF -----------------------------------------------------------------------------------

def _pdf_measure(text: str, bold: bool, size: float) -> float:
    from reportlab.pdfbase.pdfmetrics import stringWidth
    return stringWidth(text, FONTS[bold][0], size)


def _draw_pdf(c: Canvas, ops: list[_Op], left: float, top: float) -> None:
    """Draw one band whose top is at `top` (reportlab's y grows upwards, ours downwards)."""
    for op in ops:
        if isinstance(op, _Glyphs):
            c.setFont(FONTS[op.bold][0], op.size)
            draw = {"left": c.drawString, "center": c.drawCentredString,
                    "right": c.drawRightString}[op.align]
            draw(left + op.x, top - op.baseline, op.text)
        elif isinstance(op, _Line):
            c.setLineWidth(0.6)
            c.setDash(*([2, 1.5] if op.dashed else []))
            c.line(left + op.x0, top - op.y, left + op.x1, top - op.y)
            c.setDash()
        elif isinstance(op, _Frame):
            c.setLineWidth(1.0)
            c.rect(left + op.x + 0.5, top - op.y - op.h + 0.5, op.w - 1, op.h - 1)
        elif isinstance(op, _Code):
            # One pixel per module, scaled up by the PDF (images are not smoothed unless they
            # ask to be): one operation instead of hundreds of rectangles, each a few floats
            # formatted in Python.
            from reportlab.lib.utils import ImageReader
            c.drawImage(ImageReader(_code_image(op.matrix)), left + op.x,
                        top - op.y - op.size, op.size, op.size)


def _code_image(matrix: tuple[tuple[bool, ...], ...]) -> Image.Image:
    """A QR matrix as a grey image, one pixel per module, dark on white."""
    image = Image.new("L", (len(matrix[0]), len(matrix)), 255)
    image.putdata([0 if dark else 255 for row in matrix for dark in row])
    return image


def _runs(row: tuple[bool, ...]) -> list[tuple[int, int]]:
    """(start, length) of each run of dark modules: a few hundred shapes instead of thousands."""
    runs: list[tuple[int, int]] = []
    start: int | None = None
    for i, dark in enumerate(row + (False,)):
        if dark and start is None:
            start = i
        elif not dark and start is not None:
            runs.append((start, i - start))
            start = None
    return runs


def render_pdf(doc: Document, paper: str = "80", printable_mm: float | None = None) -> bytes:
    """A PDF for a roll ("58", "80") or a sheet ("A5", "A4": paged).

    A roll's page is `printable_mm` wide (by default the roll's usual printable width, ROLLS),
    the width the printer's driver prints, so that CUPS neither shrinks nor cuts it; its
    height is fitted to the content."""
    from reportlab.pdfgen.canvas import Canvas

    register_fonts()
    buffer = io.BytesIO()
    if paper in ROLLS:
        page_mm = float(printable_mm or ROLLS[paper])
        left, width = EDGE_MM * MM, (page_mm - 2 * EDGE_MM) * MM
        bands = layout(doc, width, _pdf_measure)
        height = sum(h for h, _ in bands) + 2 * ROLL_MARGIN_Y * MM
        pages = [(ROLL_MARGIN_Y * MM, bands)]
        size = (page_mm * MM, height)
    elif paper in SHEETS:
        w_mm, h_mm, margin_mm, scale = SHEETS[paper]
        left, width, size = margin_mm * MM, (w_mm - 2 * margin_mm) * MM, (w_mm * MM, h_mm * MM)
        pages, room = [], (h_mm - 2 * margin_mm) * MM
        for band in layout(doc, width, _pdf_measure, scale):
            if not pages or (sum(h for h, _ in pages[-1][1]) + band[0] > room and pages[-1][1]):
                pages.append((margin_mm * MM, []))
            pages[-1][1].append(band)
    else:
        raise ValueError(f"Unknown paper {paper!r}: use 58, 80, A5 or A4.")
    canvas = Canvas(buffer, pagesize=size, initialFontName=FONTS[False][0], pageCompression=1)
    canvas.setTitle(doc.title)
    for top_margin, page_bands in pages:
        y = size[1] - top_margin
        for height, ops in page_bands:
            _draw_pdf(canvas, ops, left, y)
            y -= height
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


# --- Raster --------------------------------------------------------------------------------

@lru_cache(maxsize=32)
def _pil_font(bold: bool, pixels: float) -> ImageFont.FreeTypeFont:
    """Basic layout, not raqm: NFC Vietnamese needs no shaping, and a Pi may lack libraqm."""
    return ImageFont.truetype(str(font_dir() / FONTS[bold][1]), pixels,
                              layout_engine=ImageFont.Layout.BASIC)


def render_raster(doc: Document, dots: int = 576) -> Image.Image:
    """The same document as a 1-bit image `dots` wide at 203 dpi, for printers that take images."""
    scale = DOTS_PER_MM / MM                       # pixels per point

    def measure(text: str, bold: bool, size: float) -> float:
        return _pil_font(bold, size * scale).getlength(text) / scale

    pad = round(EDGE_MM * DOTS_PER_MM)
    bands = layout(doc, (dots - 2 * pad) / scale, measure)
    margin = round(ROLL_MARGIN_Y * DOTS_PER_MM / 2)
    height = math.ceil(sum(h for h, _ in bands) * scale) + 2 * margin
    image = Image.new("L", (dots, height), 255)
    draw = ImageDraw.Draw(image)
    y = float(margin)
    for band_height, ops in bands:
        for op in ops:
            if isinstance(op, _Glyphs):
                anchor = {"left": "ls", "center": "ms", "right": "rs"}[op.align]
                draw.text((pad + op.x * scale, y + op.baseline * scale), op.text, fill=0,
                          font=_pil_font(op.bold, op.size * scale), anchor=anchor)
            elif isinstance(op, _Line):
                row, end = round(y + op.y * scale), pad + round(op.x1 * scale)
                step = (6, 4) if op.dashed else (dots, 0)
                for x in range(pad + round(op.x0 * scale), end, sum(step)):
                    draw.rectangle((x, row - 1, min(x + step[0], end) - 1, row), fill=0)
            elif isinstance(op, _Frame):
                draw.rectangle((pad + op.x * scale, y + op.y * scale,
                                pad + (op.x + op.w) * scale - 1, y + (op.y + op.h) * scale - 1),
                               outline=0, width=3)
            elif isinstance(op, _Code):
                n = len(op.matrix)
                module = max(1, int(op.size * scale) // n)   # whole dots: crisp modules
                x0 = pad + round((op.x + op.size / 2) * scale - module * n / 2)
                y0 = round(y + op.y * scale + (op.size * scale - module * n) / 2)
                for r, row_modules in enumerate(op.matrix):
                    for start, length in _runs(row_modules):
                        draw.rectangle((x0 + start * module, y0 + r * module,
                                        x0 + (start + length) * module - 1,
                                        y0 + (r + 1) * module - 1), fill=0)
        y += band_height * scale
    return image.point(lambda v: 255 if v > 150 else 0, mode="1")
