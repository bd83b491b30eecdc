"""Receipts on paper: real sales printed as PDFs (rolls and sheets) and as 1-bit raster images,
read back with poppler (pdfinfo, pdffonts, pdftotext, pdftoppm) and zbar, as a buyer's phone or
an auditor would. PNGs land in test-output/receipts/ to be looked at."""
from __future__ import annotations

import re
import shutil
import subprocess
import unicodedata
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from pos import catalog, paper, sales, settings, vietqr
from sync import checkcode
from sync.money import format_vnd
from pos.receipts import (check_code, receipt_document, receipt_pdf, receipt_raster,
                          typed_check_code)

OUTPUT = Path(__file__).resolve().parent.parent / "test-output" / "receipts"
LONG_NAME = "Lá thuốc tắm người Dao đỏ Sa Pa loại đặc biệt đóng gói 500 gam"
OPEN_ITEM = "Túi vải thổ cẩm"
ROLL_WIDTH_PT = {"58": 136.06, "80": 204.09}   # 48 and 72 mm: what the printers' drivers print
SHEET_PT = {"A5": (419.53, 595.28), "A4": (595.28, 841.89)}

needs_poppler = pytest.mark.skipif(
    not all(shutil.which(t) for t in ("pdfinfo", "pdffonts", "pdftotext", "pdftoppm")),
    reason="poppler-utils is not installed (apt-get install poppler-utils; CI installs it)")
needs_zbar = pytest.mark.skipif(not shutil.which("zbarimg"),
                                reason="zbarimg is not installed (apt-get install zbar-tools; CI"
                                       " installs it)")


def run(*args: str) -> str:
    return subprocess.run(args, capture_output=True, check=True, timeout=60).stdout.decode()


def write(tmp_path: Path, pdf: bytes, name: str = "receipt.pdf") -> Path:
    path = tmp_path / name
    path.write_bytes(pdf)
    return path


def page_sizes(path: Path) -> list[tuple[float, float]]:
    info = run("pdfinfo", "-f", "1", "-l", "999", str(path))
    return [(float(w), float(h)) for w, h in
            re.findall(r"Page\s+\d+ size:\s+([\d.]+) x ([\d.]+) pts", info)]


def pdf_text(path: Path, layout: bool = True) -> str:
    return run("pdftotext", *(["-layout"] if layout else []), "-enc", "UTF-8", str(path), "-")


def collapse(text: str) -> str:
    return " ".join(text.split())


def zbar(png: Path) -> list[str]:
    return run("zbarimg", "--raw", "-q", str(png)).splitlines()


def pdf_png(pdf: Path, name: str) -> Path:
    """Rasterise page 1 at a thermal head's 203 dpi and keep a copy to look at."""
    prefix = pdf.parent / name
    subprocess.run(["pdftoppm", "-r", "203", "-png", "-f", "1", "-l", "1", "-singlefile", str(pdf),
                    str(prefix)], check=True, timeout=60)
    png = prefix.with_suffix(".png")
    OUTPUT.mkdir(parents=True, exist_ok=True)
    shutil.copy(png, OUTPUT / png.name)
    return png


@pytest.fixture
def device_id(app: Any) -> str:
    return str(app.config["DEVICE_ID"])


@pytest.fixture
def stall(conn: Any) -> dict[str, str]:
    return settings.stall_settings(conn)


@pytest.fixture
def sale(conn: Any, device_id: str) -> dict[str, Any]:
    """A real sale on the demo stall: tea by the packet, shrimp and cardamom by weight, a product
    with a long name, an item typed at the till, paid partly by transfer and partly in cash."""
    long_product = catalog.save_product(conn, device_id, {"name": LONG_NAME, "unit": "gói",
                                                          "price": 85000})
    lines = [{"product_id": 1, "quantity": "2"}, {"product_id": 4, "quantity": "0.25"},
             {"product_id": 13, "quantity": "1.5"}, {"product_id": long_product["id"],
                                                     "quantity": "1"},
             {"name": OPEN_ITEM, "unit_price": 35000, "quantity": "1"}]
    total = 240000 + 225000 + 90000 + 85000 + 35000
    return sales.record_sale(conn, device_id, {"lines": lines, "payments": [
        {"method": "qr", "amount": 200000},
        {"method": "cash", "amount": total - 200000, "tendered": 500000}]}, sold_by="owner")


def test_sale_fixture_is_what_the_receipt_prints(sale: dict[str, Any]) -> None:
    assert sale["total"] == 675000
    assert [line["name"] for line in sale["lines"]] == [
        "Chè Shan tuyết Bắc Hà", "Tôm khô Cà Mau", "Thảo quả khô", LONG_NAME, OPEN_ITEM]


def test_check_code_names_the_journal_entry(sale: dict[str, Any], device_id: str) -> None:
    code = check_code(sale, device_id)
    assert code == (f"MP1;{sale['id']};{device_id};{sale['seq']};{sale['hash'][:16]};675000")
    assert re.fullmatch(r"MP1;[^;]+;[^;]+;\d+;[0-9a-f]{16};\d+", code)


@needs_poppler
@pytest.mark.parametrize("roll", ["58", "80"])
def test_roll_is_exactly_the_printable_width_and_fitted_to_content(
        roll: str, sale: dict[str, Any], stall: dict[str, str], device_id: str, conn: Any,
        tmp_path: Path) -> None:
    """A page as wide as the driver's (the ZJ-58's is 136 pt), so that CUPS does not shrink it."""
    sizes = page_sizes(write(tmp_path, receipt_pdf(sale, stall, device_id, roll)))
    assert len(sizes) == 1
    width, height = sizes[0]
    assert abs(width - ROLL_WIDTH_PT[roll]) <= 0.5
    one_line = sales.record_sale(conn, device_id, {
        "lines": [{"product_id": 6, "quantity": "1"}],
        "payments": [{"method": "cash", "amount": 10000}]}, sold_by="owner")
    (short_width, short_height), = page_sizes(write(tmp_path, receipt_pdf(
        one_line, stall, device_id, roll), "short.pdf"))
    assert abs(short_width - ROLL_WIDTH_PT[roll]) <= 0.5
    assert 250 < short_height < height  # fitted: fewer lines, shorter paper


@needs_poppler
@pytest.mark.parametrize("roll, printable", [("58", 46), ("58", 58), ("80", 70), ("80", 80)])
def test_roll_takes_the_printable_width_the_stall_set(roll: str, printable: int,
                                                      sale: dict[str, Any], stall: dict[str, str],
                                                      device_id: str, tmp_path: Path) -> None:
    pdf = write(tmp_path, receipt_pdf(sale, stall, device_id, roll, printable_mm=printable))
    (width, _), = page_sizes(pdf)
    assert width == pytest.approx(printable * 72 / 25.4, abs=0.05)
    assert collapse(pdf_text(pdf)).count(format_vnd(sale["total"])) >= 1


@needs_poppler
@pytest.mark.parametrize("sheet", ["A5", "A4"])
def test_sheets_have_their_standard_size(sheet: str, sale: dict[str, Any],
                                         stall: dict[str, str], device_id: str,
                                         tmp_path: Path) -> None:
    sizes = page_sizes(write(tmp_path, receipt_pdf(sale, stall, device_id, sheet)))
    assert len(sizes) == 1
    assert sizes[0] == pytest.approx(SHEET_PT[sheet], abs=0.5)


@needs_poppler
def test_a_long_document_runs_onto_more_sheets_but_stays_one_roll(tmp_path: Path) -> None:
    doc = paper.Document([paper.Item(f"Hàng số {n}", "1 cái × 1.000 ₫", "1.000 ₫")
                          for n in range(1, 121)])
    a5 = write(tmp_path, paper.render_pdf(doc, "A5"), "a5.pdf")
    assert len(page_sizes(a5)) > 2
    assert "Hàng số 120" in pdf_text(a5)
    roll = write(tmp_path, paper.render_pdf(doc, "80"), "roll.pdf")
    (_, height), = page_sizes(roll)
    assert height > 3 * 842


def test_unknown_paper_is_refused() -> None:
    with pytest.raises(ValueError):
        paper.render_pdf(paper.Document([paper.Text("x")]), "letter")


@needs_poppler
@pytest.mark.parametrize("size", ["58", "80", "A5", "A4"])
def test_dejavu_is_embedded_and_nothing_else(size: str, sale: dict[str, Any],
                                             stall: dict[str, str], device_id: str,
                                             tmp_path: Path) -> None:
    fonts = run("pdffonts", str(write(tmp_path, receipt_pdf(sale, stall, device_id, size))))
    rows = fonts.splitlines()[2:]
    assert {row.split()[0].split("+")[-1] for row in rows} == {"DejaVuSans", "DejaVuSans-Bold"}
    for row in rows:
        assert row.split()[-5] == "yes", row  # emb column
    assert "Helvetica" not in fonts


@needs_poppler
@pytest.mark.parametrize("layout", [True, False])
@pytest.mark.parametrize("size", ["58", "80", "A5"])
def test_every_vietnamese_string_reads_back_exactly(
        size: str, layout: bool, sale: dict[str, Any], stall: dict[str, str], device_id: str,
        tmp_path: Path) -> None:
    text = pdf_text(write(tmp_path, receipt_pdf(sale, stall, device_id, size)), layout)
    assert unicodedata.normalize("NFC", text) == text
    flat = collapse(text)
    expected = [stall["stall_name"], stall["vendor_name"], stall["market"], stall["commune"],
                stall["province"], "PHIẾU BÁN HÀNG", "Chè Shan tuyết Bắc Hà", "Tôm khô Cà Mau",
                "Thảo quả khô", LONG_NAME, OPEN_ITEM, "2 gói × 120.000 ₫", "0,25 kg × 900.000 ₫",
                "1,5 lạng × 60.000 ₫", "225.000 ₫", "TỔNG CỘNG", format_vnd(sale["total"]),
                "Chuyển khoản", "Tiền mặt", "Khách đưa", "500.000 ₫", "Tiền trả lại", "25.000 ₫",
                "Mã kiểm tra:", typed_check_code(sale, device_id), "Cảm ơn quý khách!"]
    for string in expected:
        assert string in flat, string
    for string in ("BẢN SAO", "ĐÃ HỦY"):
        assert string not in flat


@needs_poppler
@pytest.mark.parametrize("roll", ["58", "80"])
def test_a_plain_receipt_is_a_sales_slip_and_never_calls_itself_an_invoice(
        roll: str, sale: dict[str, Any], stall: dict[str, str], device_id: str,
        tmp_path: Path) -> None:
    """A stall that does not issue MTT e-invoices hands over a PHIẾU BÁN HÀNG: the word "hóa
    đơn" (invoice) appears nowhere on it, in either language, copy or not; its check code is a
    "Mã kiểm tra" (issue 20). Looked at as a PNG in test-output/receipts/."""
    pdf = write(tmp_path, receipt_pdf(sale, stall, device_id, roll), f"slip-{roll}.pdf")
    lines = [line.strip() for line in pdf_text(pdf).splitlines()]
    flat = collapse(" ".join(lines))
    assert "PHIẾU BÁN HÀNG" in lines
    assert "Quét mã để kiểm tra phiếu" in flat and "Mã kiểm tra:" in lines
    assert "hóa đơn" not in flat.lower() and "hoá đơn" not in flat.lower()
    subprocess.run(["pdftoppm", "-png", "-r", "200", "-singlefile", str(pdf),
                    str(tmp_path / f"plain-slip-{roll}mm")], check=True, timeout=60)
    OUTPUT.mkdir(parents=True, exist_ok=True)
    shutil.copy(tmp_path / f"plain-slip-{roll}mm.png", OUTPUT / f"plain-slip-{roll}mm.png")
    for lang, copy in (("vi", True), ("en", False), ("en", True)):
        text = collapse(pdf_text(write(tmp_path, receipt_pdf(sale, stall, device_id, roll,
                                                             lang=lang, copy=copy))))
        assert "hóa đơn" not in text.lower() and "invoice" not in text.lower()
        assert ("SALES SLIP" if lang == "en" else "PHIẾU BÁN HÀNG") in text


@needs_poppler
def test_copy_says_so(sale: dict[str, Any], stall: dict[str, str], device_id: str,
                      tmp_path: Path) -> None:
    text = pdf_text(write(tmp_path, receipt_pdf(sale, stall, device_id, "58", copy=True)))
    assert "BẢN SAO" in text
    assert "Cảm ơn quý khách!" in text


@needs_poppler
@pytest.mark.parametrize("lang, banner, reason_label", [("vi", "ĐÃ HỦY", "Lý do:"),
                                                       ("en", "VOIDED", "Reason:")])
def test_voided_sale_says_so_with_its_reason(lang: str, banner: str, reason_label: str,
                                             sale: dict[str, Any], stall: dict[str, str],
                                             device_id: str, conn: Any, tmp_path: Path) -> None:
    voided = sales.void_sale(conn, device_id, sale["id"], "Khách đổi ý, trả lại hàng", "owner")
    text = collapse(pdf_text(write(tmp_path, receipt_pdf(voided, stall, device_id, "80",
                                                         lang=lang))))
    assert banner in text
    assert f"{reason_label} Khách đổi ý, trả lại hàng" in text


@needs_poppler
def test_english_receipt(sale: dict[str, Any], stall: dict[str, str], device_id: str,
                         tmp_path: Path) -> None:
    text = collapse(pdf_text(write(tmp_path, receipt_pdf(sale, stall, device_id, "80",
                                                         lang="en"))))
    for string in ("SALES SLIP", "TOTAL", "675.000 ₫", "Thank you!", "0.25 kg × 900.000 ₫",
                   "1.5 lạng × 60.000 ₫", "Bank transfer", "Tendered", "Change",
                   "Chè Shan tuyết Bắc Hà", stall["market"]):
        assert string in text, string
    assert "Cảm ơn" not in text and "TỔNG CỘNG" not in text


@needs_poppler
def test_decomposed_text_prints_as_one_glyph_per_letter(sale: dict[str, Any],
                                                        stall: dict[str, str], device_id: str,
                                                        conn: Any, tmp_path: Path) -> None:
    nfd = unicodedata.normalize("NFD", "Rượu ngô men lá Bắc Hà, chè tuyết")
    assert nfd != unicodedata.normalize("NFC", nfd)
    # The app stores NFC whatever is typed ...
    saved = catalog.save_product(conn, device_id, {"name": nfd, "unit": "chai", "price": 1000})
    assert saved["name"] == unicodedata.normalize("NFC", nfd)
    # ... and paper normalises whatever it is given (a sale synced from elsewhere, a caller).
    doc = paper.Document([paper.Text(nfd, bold=True), paper.Row(nfd, "1.000 ₫"),
                          paper.Item(nfd, "1 chai × 1.000 ₫", "1.000 ₫")])
    text = pdf_text(write(tmp_path, paper.render_pdf(doc, "58")))
    assert not any(unicodedata.combining(ch) for ch in text)
    assert collapse(text).count(unicodedata.normalize("NFC", nfd)) == 3
    raw = dict(sale, lines=[dict(line, name=unicodedata.normalize("NFD", line["name"]))
                            for line in sale["lines"]])
    text = collapse(pdf_text(write(tmp_path, receipt_pdf(raw, stall, device_id, "80"), "r.pdf")))
    assert "Chè Shan tuyết Bắc Hà" in text and LONG_NAME in text


@needs_poppler
@needs_zbar
@pytest.mark.parametrize("roll", ["58", "80"])
def test_pdf_qr_decodes_to_the_check_code(roll: str, sale: dict[str, Any],
                                          stall: dict[str, str], device_id: str,
                                          tmp_path: Path) -> None:
    pdf = write(tmp_path, receipt_pdf(sale, stall, device_id, roll))
    assert zbar(pdf_png(pdf, f"receipt-{roll}mm")) == [check_code(sale, device_id)]


@needs_poppler
@needs_zbar
def test_pdf_qr_carries_a_given_payload(sale: dict[str, Any], stall: dict[str, str],
                                        device_id: str, tmp_path: Path) -> None:
    payload = vietqr.encode("970436", "0011001932418", 150000, "Sap ba Hoa hoa don 12")
    pdf = write(tmp_path, receipt_pdf(sale, stall, device_id, "58", qr_payload=payload))
    assert zbar(pdf_png(pdf, "receipt-58mm-vietqr")) == [payload]
    assert "Quét mã để chuyển khoản" in pdf_text(pdf)


@needs_poppler
@needs_zbar
def test_pdf_qr_decodes_on_a_sheet(sale: dict[str, Any], stall: dict[str, str], device_id: str,
                                   tmp_path: Path) -> None:
    pdf = write(tmp_path, receipt_pdf(sale, stall, device_id, "A5"))
    assert zbar(pdf_png(pdf, "receipt-a5")) == [check_code(sale, device_id)]


@pytest.mark.parametrize("dots", [384, 576])
def test_raster_is_one_bit_at_the_head_width(dots: int, sale: dict[str, Any],
                                             stall: dict[str, str], device_id: str) -> None:
    image = receipt_raster(sale, stall, device_id, dots)
    assert image.mode == "1"
    assert image.width == dots
    assert image.height > image.width
    bare = receipt_raster(dict(sale, lines=sale["lines"][:1]), stall, device_id, dots)
    assert bare.height < image.height  # fitted to content


@needs_zbar
@pytest.mark.parametrize("dots", [384, 576])
def test_raster_qr_decodes(dots: int, sale: dict[str, Any], stall: dict[str, str],
                           device_id: str, tmp_path: Path) -> None:
    image = receipt_raster(sale, stall, device_id, dots)
    OUTPUT.mkdir(parents=True, exist_ok=True)
    image.save(OUTPUT / f"raster-{dots}.png")
    assert zbar(OUTPUT / f"raster-{dots}.png") == [check_code(sale, device_id)]
    payload = vietqr.encode("970436", "0011001932418", 150000, "Hoa don 12")
    receipt_raster(sale, stall, device_id, dots, qr_payload=payload).save(tmp_path / "v.png")
    assert zbar(tmp_path / "v.png") == [payload]


@needs_poppler
@pytest.mark.parametrize("roll, dots", [("58", 384), ("80", 576)])
def test_pdf_and_raster_share_one_layout(roll: str, dots: int, sale: dict[str, Any],
                                         stall: dict[str, str], device_id: str,
                                         tmp_path: Path) -> None:
    """Same blocks, same fonts, same scale: the paper comes out about the same length."""
    (_, height_pt), = page_sizes(write(tmp_path, receipt_pdf(sale, stall, device_id, roll)))
    raster = receipt_raster(sale, stall, device_id, dots)
    assert raster.height / (height_pt / 72 * 203) == pytest.approx(1.0, abs=0.15)


@pytest.mark.parametrize("dots", [384, 576])
def test_qr_is_sized_for_the_roll(dots: int, sale: dict[str, Any], stall: dict[str, str],
                                  device_id: str) -> None:
    """About 30-40 mm with its quiet zone: big enough for an old phone, small enough for 58 mm."""
    doc = receipt_document(sale, stall, device_id)
    code = next(b for b in doc.blocks if isinstance(b, paper.QR))
    assert 30 <= code.size_mm <= 40
    image = paper.render_raster(paper.Document([code]), dots)
    left, _, right, _ = Image.eval(image.convert("L"), lambda v: 255 - v).getbbox() or (0, 0, 0, 0)
    modules = len(paper.qr_matrix(code.payload))
    with_quiet_zone_mm = (right - left) * modules / (modules - 8) / paper.DOTS_PER_MM
    assert 30 <= with_quiet_zone_mm <= 40


def test_wrap_keeps_currency_with_its_number_and_cuts_long_words() -> None:
    def measure(text: str, bold: bool, size: float) -> float:
        return len(text) * size * 0.6

    lines = paper.wrap("1,5 lạng × 60.000 ₫", 17 * 8.5 * 0.6, measure, False, 8.5)
    assert lines == ["1,5 lạng ×", "60.000 ₫"]  # not "1,5 lạng × 60.000" then a lone "₫"
    lines = paper.wrap("x" * 50, 10 * 6, measure, False, 10)
    assert "".join(lines) == "x" * 50 and all(len(line) <= 10 for line in lines)
    assert paper.wrap("", 100, measure, False, 10) == [""]


def test_every_text_block_is_stored_in_nfc() -> None:
    nfd = unicodedata.normalize("NFD", "Cảm ơn quý khách! Rượu, chè, tiết canh")
    nfc = unicodedata.normalize("NFC", nfd)
    text, row, item = paper.Text(nfd), paper.Row(nfd, nfd), paper.Item(nfd, nfd, nfd)
    total, code = paper.Total(nfd, nfd), paper.QR("MP1;x", caption=nfd)
    assert [text.text, row.left, row.right, item.name, item.detail, item.amount, total.label,
            total.amount, code.caption] == [nfc] * 9
    assert paper.QR(nfd).payload == nfd  # a QR payload is data: printed byte for byte


def test_raster_of_an_nfd_document_matches_the_nfc_one() -> None:
    text = "Cảm ơn quý khách! Rượu, chè, tiết canh"
    nfc = paper.render_raster(paper.Document([paper.Text(text)]), 384)
    nfd = paper.render_raster(paper.Document([paper.Text(unicodedata.normalize("NFD", text))]),
                              384)
    assert nfc.tobytes() == nfd.tobytes()


@needs_poppler
@pytest.mark.parametrize("size, printable", [("58", None), ("58", 40), ("80", None), ("A5", None)])
def test_the_code_to_type_is_printed_whole_on_one_line(
        size: str, printable: int | None, sale: dict[str, Any], stall: dict[str, str],
        device_id: str, tmp_path: Path) -> None:
    """Under the QR: "Mã kiểm tra:", then the short code on a line of its own, however narrow
    the roll, and where to type it once the stall is paired. It names this sale's entry."""
    pdf = write(tmp_path, receipt_pdf(sale, stall, device_id, size, printable_mm=printable,
                                      server_url="https://hagiang.cho.example.vn/"))
    lines = [line.strip() for line in pdf_text(pdf).splitlines()]
    code = typed_check_code(sale, device_id)
    assert code is not None and 12 <= len(code.replace("-", "")) <= 15
    assert lines[lines.index("Mã kiểm tra:") + 1] == code
    assert lines[lines.index("hagiang.cho.example.vn/check") - 1] in ("Check it at",
                                                                      "Kiểm tra tại")
    typed = checkcode.parse(code.lower().replace("-", " "))
    assert typed.matches(device_id, sale["seq"], sale["hash"])
    assert not typed.matches(device_id, sale["seq"] + 1, sale["hash"])


def test_a_code_longer_than_the_line_is_made_smaller_never_wrapped() -> None:
    """`one_line` text keeps one line at the largest size that fits, in both back-ends' metrics."""
    code = "M2-26-A1B2C-00001234567"
    doc = paper.Document([paper.Text(code, paper.LARGE, bold=True, align="center",
                                     one_line=True)])
    for width_mm in (40, 46, 70):
        width = width_mm * paper.MM
        (_, ops), = paper.layout(doc, width, paper._pdf_measure)
        assert [op.text for op in ops] == [code]
        assert paper._pdf_measure(code, True, ops[0].size) <= width
        fitting = paper.LARGE * width / paper._pdf_measure(code, True, paper.LARGE)
        assert 0.97 * min(paper.LARGE, fitting) < ops[0].size <= paper.LARGE
    wide = paper.layout(doc, 100 * paper.MM, paper._pdf_measure)[0][1][0]
    assert wide.size == paper.LARGE   # room enough: not made smaller
    narrow = paper.render_raster(doc, 320)   # 40 mm: the raster's own fonts, one line of ink
    rows = [y for y in range(narrow.height)
            if narrow.crop((0, y, narrow.width, y + 1)).getextrema()[0] == 0]
    assert rows and rows[-1] - rows[0] < 12 * paper.DOTS_PER_MM / paper.MM * 1.5


@needs_poppler
@pytest.mark.parametrize("width, page_mm", [("58", 48), ("80", 72)])
def test_the_mtt_invoice_code_is_never_wrapped(width: str, page_mm: int, api: Any,
                                               tmp_path: Path) -> None:
    """The e-invoice of an MTT sale on a roll: the driver's page width, and its 23-character
    code read back on one line of its own (smaller type on 58 mm rather than two lines)."""
    registration = {"mode": "mtt", "tax_code": "0101234567", "invoice_form": 2,
                    "symbol": "C26MAB", "mtt_range": "A1B2C"}
    assert api.patch("/api/settings", json={"tax": registration}).status_code == 200
    sale = api.post("/api/sales", json={
        "lines": [{"name": LONG_NAME, "unit_price": 85000, "quantity": "1"}],
        "payments": [{"method": "cash", "amount": 85000}]}).get_json()
    code = sale["invoice_code"]
    assert re.fullmatch(r"M\d-\d\d-[0-9A-Z]{5}-\d{11}", code)
    response = api.get(f"/api/sales/{sale['id']}/receipt.pdf?width={width}")
    pdf = write(tmp_path, response.data, f"mtt-{width}.pdf")
    (page_width, _), = page_sizes(pdf)
    assert page_width == pytest.approx(page_mm * 72 / 25.4, abs=0.05)
    lines = [line.strip() for line in pdf_text(pdf).splitlines()]
    assert code in lines
    assert not any(line and line != code and (code.startswith(line) or code.endswith(line))
                   for line in lines)
    pdf_png(pdf, f"mtt-invoice-{width}mm")


def test_check_code_links_to_the_province_once_paired():
    from pos.receipts import check_code
    sale = {"id": "5f0c", "seq": 7, "hash": "ab" * 32, "total": 180000}
    assert check_code(sale, "dev") == f"MP1;5f0c;dev;7;{'ab' * 8};180000"
    assert check_code(sale, "dev", "https://tinh.example/") == \
        f"https://tinh.example/check?c=MP1;5f0c;dev;7;{'ab' * 8};180000"
