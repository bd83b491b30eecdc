"""Receipts and reports as the vendor gets them: PDFs over HTTP, the print queue, the printer page."""
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from pos import business_days, daybook, sales
from pos.printing import queue as print_queue
from pos.printing.backends import Rendered
from pos.printing.config import PrinterConfig
from pos.printing.status import printer_status
from pos.printing.worker import PrintWorker
from pos.printouts import render_job
from tests.conftest import csrf_token
from tests.harness.usb_printer import PtyPrinter

POPPLER = shutil.which("pdfinfo") and shutil.which("pdftotext")
needs_poppler = pytest.mark.skipif(not POPPLER, reason="poppler-utils (pdfinfo, pdftotext) is not"
                                   " installed; .ci/run installs it")
CASH_SALE = {"lines": [{"product_id": 1, "quantity": "1"}, {"product_id": 4, "quantity": "0.25"}],
             "payments": [{"method": "cash", "amount": 345000, "tendered": 400000}]}


def pdf_text(data: bytes, tmp_path: Path) -> str:
    path = tmp_path / "doc.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


def page_width_mm(data: bytes, tmp_path: Path) -> float:
    path = tmp_path / "doc.pdf"
    path.write_bytes(data)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True,
                          check=True).stdout
    width_pt = float(info.split("Page size:")[1].split()[0])
    return width_pt * 25.4 / 72


@needs_poppler
@pytest.mark.parametrize("width", ["58", "80"])
def test_api_receipt_pdf(api, tmp_path, width):
    sale = api.post("/api/sales", json=CASH_SALE).get_json()
    response = api.get(f"/api/sales/{sale['id']}/receipt.pdf?width={width}")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    # As wide as the printer prints on that roll (pos/paper.py ROLLS), not as the paper.
    assert abs(page_width_mm(response.data, tmp_path) - {"58": 48, "80": 72}[width]) < 0.2
    text = pdf_text(response.data, tmp_path)
    assert "Chè Shan tuyết Bắc Hà" in text and "345.000 ₫" in text
    assert "BẢN SAO" not in text
    copy = api.get(f"/api/sales/{sale['id']}/receipt.pdf?width={width}&copy=1")
    assert "BẢN SAO" in pdf_text(copy.data, tmp_path)


def test_receipt_pdf_bad_requests(api):
    sale = api.post("/api/sales", json=CASH_SALE).get_json()
    assert api.get(f"/api/sales/{sale['id']}/receipt.pdf?width=57").status_code == 400
    assert api.get(f"/api/sales/{sale['id']}/receipt.pdf?lang=fr").status_code == 400
    assert api.get("/api/sales/nope/receipt.pdf").status_code == 404


def test_reprinting_never_touches_the_journal(api, conn):
    sale = api.post("/api/sales", json=CASH_SALE).get_json()
    before = conn.execute("SELECT COUNT(*), MAX(hash) FROM journal").fetchone()[:]
    for _ in range(3):
        api.get(f"/api/sales/{sale['id']}/receipt.pdf?copy=1")
    assert conn.execute("SELECT COUNT(*), MAX(hash) FROM journal").fetchone()[:] == before


def test_auto_print_queues_a_receipt_after_the_sale(api, conn):
    PrinterConfig.save(conn, {"backend": "cups", "cups_queue": "POS58",
                                       "auto_print": True})
    sale = api.post("/api/sales", json=CASH_SALE).get_json()
    jobs = print_queue.list_jobs(conn)
    assert [(j.kind, j.ref, j.copy, j.state) for j in jobs] == [("receipt", sale["id"], False,
                                                                 "queued")]
    PrinterConfig.save(conn, {"auto_print": False})
    api.post("/api/sales", json=CASH_SALE)
    assert len(print_queue.list_jobs(conn)) == 1


def test_print_endpoint(api, conn):
    sale = api.post("/api/sales", json=CASH_SALE).get_json()
    off = api.post(f"/api/sales/{sale['id']}/print")
    assert off.status_code == 409 and off.get_json()["error"]["code"] == "printing_off"
    PrinterConfig.save(conn, {"backend": "cups", "cups_queue": "POS58"})
    queued = api.post(f"/api/sales/{sale['id']}/print", json={"copy": True})
    assert queued.status_code == 202
    job = print_queue.get_job(conn, queued.get_json()["job_id"])
    assert job.copy and job.kind == "receipt"
    assert api.post(f"/api/sales/{sale['id']}/print", json={"copy": "yes"}).status_code == 400
    status = api.get("/api/printer").get_json()
    assert status["queued"] == 1 and status["backend"] == "cups"


FAKE_LP = """#!/bin/sh
cat > "$LP_OUT/job-$$.pdf"
echo "$@" > "$LP_OUT/args-$$"
"""


def test_worker_prints_a_real_receipt_through_lp(app, conn, tmp_path, monkeypatch):
    bin_dir, out = tmp_path / "bin", tmp_path / "out"
    bin_dir.mkdir(), out.mkdir()
    (bin_dir / "lp").write_text(FAKE_LP)
    (bin_dir / "lp").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{Path(sys.executable).parent}:/usr/bin:/bin")
    monkeypatch.setenv("LP_OUT", str(out))
    PrinterConfig.save(conn, {"backend": "cups", "cups_queue": "POS80", "paper": "80"})
    sale = sales.record_sale(conn, app.config["DEVICE_ID"], CASH_SALE, "owner")
    print_queue.enqueue(conn, "receipt", sale["id"])
    print_queue.enqueue(conn, "selftest")
    day = business_days.current_business_day(conn, sale["at"])
    print_queue.enqueue(conn, "report", f"x:{day}")
    worker = PrintWorker(app.config["DATABASE"], render_job)
    try:
        assert worker.run_once() == 3
    finally:
        worker.close()
    assert [j.state for j in print_queue.list_jobs(conn)] == ["done"] * 3
    pdfs = sorted(out.glob("job-*.pdf"))
    assert len(pdfs) == 3 and all(p.read_bytes().startswith(b"%PDF") for p in pdfs)
    assert all("-d POS80" in a.read_text() for a in out.glob("args-*"))
    assert printer_status(conn)["state"] == "ok"
    if POPPLER:
        texts = [pdf_text(p.read_bytes(), tmp_path) for p in pdfs]
        assert any("Tôm khô Cà Mau" in t for t in texts)
        assert any("Đơn giá • Thành tiền • Cảm ơn quý khách" in " ".join(t.split())
                   for t in texts)
        assert any("BÁO CÁO X" in t for t in texts)


@needs_poppler
def test_report_pdfs(owner, app, conn, tmp_path):
    device = app.config["DEVICE_ID"]
    sales.record_sale(conn, device, CASH_SALE, "owner")
    daybook.record_cash_move(conn, device, "float", 100000, "", "owner")
    x = owner.get("/day/report.pdf?paper=80")
    assert x.status_code == 200 and abs(page_width_mm(x.data, tmp_path) - 72) < 0.2
    text = pdf_text(x.data, tmp_path)
    assert "BÁO CÁO X" in text and "Tiền lẻ đầu ngày" in text and "445.000 ₫" in text
    day = business_days.current_business_day(conn, sales.list_sales(conn, since_seq=0)[0]["at"])
    z = daybook.close_day(conn, device, day, 440000, "owner")
    a4 = owner.get(f"/day/report.pdf?z={z['z_number']}&paper=A4&lang=en")
    assert abs(page_width_mm(a4.data, tmp_path) - 210) < 0.5
    english = pdf_text(a4.data, tmp_path)
    assert "Z REPORT NO. 1" in english and "Difference" in english and "-5.000 ₫" in english
    assert owner.get("/day/report.pdf?z=99").status_code == 404
    assert owner.get("/day/report.pdf?paper=A3").status_code == 400


def test_printer_page_saves_settings_and_shows_state(owner, conn):
    page = owner.get("/printer")
    assert page.status_code == 200 and "Đã tắt in" in page.get_data(as_text=True)
    saved = owner.post("/printer", data={
        "backend": "escpos-net", "host": "127.0.0.1", "port": "9", "paper": "58",
        "stale_minutes": "30", "cups_queue": "", "device": "/dev/usb/lp0", "print_lang": "vi",
        "auto_print": "1", "csrf_token": csrf_token(owner, "/printer")})
    assert saved.status_code == 302
    config = PrinterConfig.load(conn)
    assert (config.backend, config.host, config.port, config.auto_print) == \
        ("escpos-net", "127.0.0.1", 9, True)
    bad = owner.post("/printer", data={"backend": "escpos-net", "host": "bad host!",
                                       "port": "9", "paper": "58", "stale_minutes": "30",
                                       "print_lang": "vi",
                                       "csrf_token": csrf_token(owner, "/printer")})
    assert bad.status_code == 400 and "Địa chỉ máy in" in bad.get_data(as_text=True)
    assert PrinterConfig.load(conn).host == "127.0.0.1"


@needs_poppler
def test_the_printable_width_set_on_the_printer_page_makes_the_pdfs(owner, app, conn, tmp_path):
    """The width a stall sets is the page width of every roll PDF, downloaded or sent to CUPS,
    and the raster's; a width out of bounds is refused whole, with nothing changed."""
    page = owner.get("/printer").get_data(as_text=True)
    for roll, width in (("58", 48), ("80", 72)):
        assert (f'<input name="printable_{roll}" value="{width}" inputmode="none"'
                f' data-keypad="digits">') in page
    form = {"backend": "none", "paper": "58", "stale_minutes": "30", "print_lang": "vi",
            "port": "9100", "device": "/dev/usb/lp0", "printable_58": "46", "printable_80": "70",
            "csrf_token": csrf_token(owner, "/printer")}
    assert owner.post("/printer", data=form).status_code == 302
    config = PrinterConfig.load(conn)
    assert (config.printable_58, config.printable_80, config.dots) == (46, 70, 368)
    sale = sales.record_sale(conn, app.config["DEVICE_ID"], CASH_SALE, "owner")
    for width, mm in (("58", 46), ("80", 70)):
        pdf = owner.get(f"/sales/{sale['id']}/receipt.pdf?width={width}").data
        assert abs(page_width_mm(pdf, tmp_path) - mm) < 0.2
    assert abs(page_width_mm(owner.get("/printer/test.pdf").data, tmp_path) - 46) < 0.2
    job = print_queue.enqueue(conn, "receipt", sale["id"])
    rendered = render_job(conn, print_queue.get_job(conn, job))
    assert abs(page_width_mm(rendered.pdf, tmp_path) - 46) < 0.2
    assert rendered.raster.width == 368

    before = conn.execute("SELECT key, value FROM settings WHERE key LIKE 'printer_%'"
                          " ORDER BY key").fetchall()
    bad = owner.post("/printer", data={**form, "printable_58": "30", "paper": "80",
                                       "csrf_token": csrf_token(owner, "/printer")})
    html = bad.get_data(as_text=True)
    assert bad.status_code == 400
    assert 'role="alert"' in html and "58" in html and "40" in html
    assert '<details class="more" open>' in html        # the field is in sight
    assert '<input name="printable_58" value="30"' in html  # what she typed, to correct it
    assert conn.execute("SELECT key, value FROM settings WHERE key LIKE 'printer_%'"
                        " ORDER BY key").fetchall() == before


def test_sell_screen_warns_about_the_printer(owner, app, conn):
    assert 'id="printer-alert" href="/printer" hidden' in owner.get("/").get_data(as_text=True)
    printer = PtyPrinter()
    PrinterConfig.save(conn, {"backend": "escpos-usb", "device": printer.path})
    printer.close()  # unplugged after it was set up
    job = print_queue.enqueue(conn, "selftest")
    worker = PrintWorker(app.config["DATABASE"],
                         lambda c, j: Rendered(b"%PDF", Image.new("1", (384, 10), 1)))
    try:
        worker.run_once()
    finally:
        worker.close()
    html = owner.get("/").get_data(as_text=True)
    assert 'id="printer-alert" href="/printer" hidden' not in html
    assert "Máy in chưa được kết nối" in html
    assert print_queue.get_job(conn, job).state == "queued"


def test_helper_can_reprint_but_not_change_the_printer(helper, app, conn):
    sale = sales.record_sale(conn, app.config["DEVICE_ID"], CASH_SALE, "helper")
    assert helper.get("/printer").status_code == 302
    PrinterConfig.save(conn, {"backend": "cups", "cups_queue": "POS58"})
    response = helper.post(f"/sales/{sale['id']}/print",
                           data={"copy": "1", "csrf_token": csrf_token(helper, "/")})
    assert response.status_code == 302
    assert print_queue.list_jobs(conn)[0].copy is True


def test_printer_status_matches_the_openapi_schema(api):
    from tests.test_api import schema_of
    schema_of("PrinterStatus").validate(api.get("/api/printer").get_json())


def test_without_a_printer_the_browser_prints(owner, app, conn):
    sale = sales.record_sale(conn, app.config["DEVICE_ID"], CASH_SALE, "owner")
    response = owner.post(f"/sales/{sale['id']}/print",
                          data={"copy": "1", "csrf_token": csrf_token(owner, "/")})
    assert response.location == f"/sales/{sale['id']}/print-view?copy=1"
    html = owner.get(response.location).get_data(as_text=True)
    assert f'src="/sales/{sale["id"]}/receipt.pdf?copy=1#navpanes=0' in html
    assert "print_view.js" in html
    pdf = owner.get(f"/sales/{sale['id']}/receipt.pdf?copy=1")
    assert pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")


HAGGLED_SALE = {"lines": [{"product_id": 1, "quantity": "2", "unit_price": 100000},
                          {"name": "Hàng khác", "unit_price": 15000, "quantity": "1"}],
                "discount": {"amount": 15000, "reason": "Khách quen"},
                "payments": [{"method": "cash", "amount": 200000}]}


@needs_poppler
def test_a_haggled_sale_on_its_receipt_and_in_the_x_and_z_reports(owner, app, conn, tmp_path):
    device = app.config["DEVICE_ID"]
    sale = sales.record_sale(conn, device, HAGGLED_SALE, "owner")
    receipt = pdf_text(owner.get(f"/sales/{sale['id']}/receipt.pdf?width=80").data, tmp_path)
    assert "giá niêm yết 120.000 ₫" in receipt
    assert "Tiền hàng" in receipt and "215.000 ₫" in receipt
    assert "Giảm giá (Khách quen)" in receipt and "−15.000 ₫" in receipt
    assert "200.000 ₫" in receipt
    x = owner.get("/api/reports/x").get_json()
    assert x["haggling"] == {"discounts": {"count": 1, "amount": 15000},
                             "price_changes": {"count": 1, "given": 40000}}
    assert x["revenue"] == 200000 == x["cash_drawer"]["cash_sales"]
    text = pdf_text(owner.get("/day/report.pdf?paper=80").data, tmp_path)
    assert "Giảm giá (1)" in text and "Bán dưới giá niêm yết (1)" in text
    assert "15.000 ₫" in text and "40.000 ₫" in text
    z = daybook.close_day(conn, device, sale["business_day"], 200000, "owner")
    assert z["haggling"] == x["haggling"]
    english = pdf_text(owner.get(f"/day/report.pdf?z={z['z_number']}&paper=80&lang=en").data,
                       tmp_path)
    assert "Discounts (1)" in english and "Below list price (1)" in english
