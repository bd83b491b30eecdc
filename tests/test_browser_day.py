"""Real-browser tests of the business day: cash float and cash out, closing the day (Z), printing.

Same set-up as tests/test_browser.py (whose browser and page fixtures and helpers are reused):
Debian's Chromium driven by Playwright at 800×480, a fresh stall per test served by waitress.
Each test checks what the vendor sees and what the database holds. Every page visited is checked
for horizontal scrolling and JavaScript errors. Screenshots: test-output/screenshots/day-*.png.
"""
from __future__ import annotations

import re
import socket
import struct
import threading
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Iterator

import pytest

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
try:
    from playwright.sync_api import Page, expect
except ImportError:  # pragma: no cover - CI installs it
    pytest.skip("the playwright Python package is not installed (pip install playwright)",
                allow_module_level=True)
if not CHROMIUM.exists():  # pragma: no cover - CI installs it
    pytest.skip(f"{CHROMIUM} does not exist (apt-get install chromium)", allow_module_level=True)

from tests.conftest import OWNER_PIN, connect  # noqa: E402
from tests.test_browser import (  # noqa: E402,F401  (browser, dialogs, page are fixtures)
    BY_UNIT, HEIGHT, SCREENSHOTS, WIDTH, all_sales, browser, count_print_calls, dialogs, page,
    products_by_name, record_sale_in_db, unlock, vnd, wait_for_print_calls)
from pos import business_days, daybook, printouts, sales  # noqa: E402
from pos.printing import queue as print_queue  # noqa: E402
from pos.printing.config import PrinterConfig  # noqa: E402
from pos.printing.escpos import DLE_EOT_PAPER  # noqa: E402
from pos.printing.messages import NOT_CONNECTED  # noqa: E402
from pos.printing.status import printer_status  # noqa: E402
from pos.printing.worker import PrintWorker  # noqa: E402
from sync.protocol import utc_timestamp  # noqa: E402

MONEY = re.compile(r"^-?\d{1,3}(\.\d{3})* ₫$")
VOID_REFUSED = "Ngày này đã chốt (báo cáo Z); không thể hủy đơn của ngày này nữa."


# --- helpers ---------------------------------------------------------------------------------

@pytest.fixture
def js_errors(page: Page) -> list[str]:
    """Uncaught errors of the page, checked on every page visited (the page fixture checks
    them again when the test ends)."""
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def check(page: Page, errors: list[str], name: str) -> None:
    """Screenshot the page as day-<name>.png; it must not scroll sideways nor have thrown."""
    page.wait_for_load_state()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"day-{name}.png"))
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= WIDTH, f"{page.url} scrolls sideways at {WIDTH}×{HEIGHT}: scrollWidth {width}"
    assert not errors, f"JavaScript errors on {page.url}: {errors}"


def on_screen(page: Page, selector: str) -> None:
    """The element is inside the 800×480 window without scrolling."""
    assert page.evaluate("window.scrollY") == 0
    box = page.locator(selector).bounding_box()
    assert box is not None, f"{selector} is not displayed"
    assert box["x"] >= 0 and box["y"] >= 0 and box["x"] + box["width"] <= WIDTH \
        and box["y"] + box["height"] <= HEIGHT, f"{selector} is off screen: {box}"


def day_text(day: str) -> str:
    return date.fromisoformat(day).strftime("%d/%m/%Y")


def current_day(app: Any) -> str:
    conn = connect(app)
    try:
        return business_days.current_business_day(conn, utc_timestamp())
    finally:
        conn.close()


def go_today(page: Page) -> None:
    page.click(".bar-nav a[href='/sales/']")
    expect(page.locator("h1")).to_contain_text(re.compile(r"Hôm nay|Today"))


def sell_one_packet(page: Page, app: Any, note: int | None = None) -> dict[str, Any]:
    """On the sell screen: tap one packet, pay with a banknote (or the exact amount), record.
    Returns the new sale from the database; the done sheet is left open."""
    product = products_by_name(app)[BY_UNIT]
    before = {s["id"] for s in all_sales(app)}
    page.click(f".tile[data-id='{product['id']}']")
    expect(page.locator("#total")).to_have_text(vnd(product["price"]))
    page.click("#pay")
    expect(page.locator("#pay-dialog")).to_be_visible()
    if note is None:
        page.click("#pay-exact")
        change = 0
    else:
        page.click(f".note[data-note='{note}']")
        change = note - product["price"]
    expect(page.locator("#pay-change")).to_have_text(vnd(change))
    started = time.monotonic()
    page.click("#record")
    expect(page.locator("#done-dialog")).to_be_visible()
    elapsed = time.monotonic() - started
    assert elapsed < 3, f"the done sheet took {elapsed:.1f} s"
    expect(page.locator("#done-change")).to_have_text(vnd(change))
    new = [s for s in all_sales(app) if s["id"] not in before]
    assert len(new) == 1, f"expected one new sale, found {len(new)}"
    sale = new[0]
    assert sale["total"] == product["price"] and sale["status"] == "completed"
    assert sale["payments"][0]["method"] == "cash"
    return sale


def report(app: Any, day: str) -> dict[str, Any]:
    conn = connect(app)
    try:
        return daybook.day_report(conn, day)
    finally:
        conn.close()


# --- (a) opening float, cash out and a cash sale ---------------------------------------------

def test_float_cash_out_and_sale_make_the_drawer(app: Any, live_server: str, page: Page,
                                                 js_errors: list[str]) -> None:
    day = current_day(app)
    unlock(page, live_server, OWNER_PIN)
    go_today(page)
    expect(page.locator("h1")).to_have_text(f"Hôm nay · {day_text(day)}")
    expect(page.locator("#expected-cash")).to_have_text("0 ₫")
    check(page, js_errors, "today-empty")

    page.click("#cash-float")
    expect(page).to_have_url(f"{live_server}/day/cash?type=float")
    expect(page.locator("input[name=type][value=float]")).to_be_checked()
    page.fill("#amount", "200.000")            # as the vendor reads it: dots group thousands
    check(page, js_errors, "cash-float")
    page.click("#save-cash")
    expect(page).to_have_url(f"{live_server}/sales/")
    expect(page.locator("#expected-cash")).to_have_text("200.000 ₫")

    page.click("#cash-move")
    expect(page).to_have_url(re.compile(r"/day/cash\?type="))
    expect(page.locator("main table.list")).to_contain_text("Tiền lẻ đầu ngày")  # today's moves
    expect(page.locator("main table.list")).to_contain_text("200.000 ₫")
    page.locator("label.choice-item", has_text="Rút tiền ra").click()
    expect(page.locator("input[name=type][value=out]")).to_be_checked()
    page.fill("#amount", "20.000")
    page.fill("#reason", "Mua túi nilon")
    check(page, js_errors, "cash-out")
    page.click("#save-cash")
    expect(page).to_have_url(f"{live_server}/sales/")
    expect(page.locator("#expected-cash")).to_have_text("180.000 ₫")

    page.click(".bar-nav a[href='/']")
    sale = sell_one_packet(page, app, note=200_000)
    check(page, js_errors, "sale-done")
    page.click("#done-new")
    go_today(page)
    expected = 200_000 - 20_000 + sale["total"]
    expect(page.locator("#expected-cash")).to_have_text(vnd(expected))
    expect(page.locator("#expected-cash")).to_have_text(MONEY)
    expect(page.locator("table.list tbody tr", has_text=f"#{sale['number']}")).to_have_count(1)
    check(page, js_errors, "today-drawer")

    drawer = report(app, day)["cash_drawer"]
    assert drawer == {"opening_float": 200_000, "cash_in": 0, "cash_out": 20_000,
                      "tendered": 200_000, "change": 200_000 - sale["total"],
                      "refunded_cash": 0, "cash_sales": sale["total"], "repaid_cash": 0,
                      "purchases_cash": 0,
                      "expected": expected}
    conn = connect(app)
    try:
        moves = daybook.cash_moves(conn, day)
    finally:
        conn.close()
    assert [(m["type"], m["amount"], m["reason"]) for m in moves] == [
        ("float", 200_000, ""), ("out", 20_000, "Mua túi nilon")]


# --- (b) closing the day ---------------------------------------------------------------------

def test_close_day_with_shortfall_then_next_day(app: Any, live_server: str,
                                                page: Page, js_errors: list[str]) -> None:
    day = current_day(app)
    next_day = (date.fromisoformat(day) + timedelta(days=1)).isoformat()
    old_sale = record_sale_in_db(app, products_by_name(app)[BY_UNIT])
    conn = connect(app)
    try:
        daybook.record_cash_move(conn, app.config["DEVICE_ID"], "float", 100_000, "", "owner")
    finally:
        conn.close()
    expected = 100_000 + old_sale["total"]

    unlock(page, live_server, OWNER_PIN)
    go_today(page)
    expect(page.locator("#expected-cash")).to_have_text(vnd(expected))
    page.click("#close-day")
    expect(page).to_have_url(f"{live_server}/day/close")
    expect(page.locator("h1")).to_have_text(f"Chốt ngày (Z) · {day_text(day)}")
    top = page.locator("form > p.fig").first
    expect(top).to_contain_text("Két phải có")
    expect(top.locator("strong")).to_have_text(vnd(expected))
    on_screen(page, "form > p.fig strong")
    on_screen(page, "#counted-cash")
    on_screen(page, "#close-confirm")
    check(page, js_errors, "close")

    counted = expected - 5_000
    page.fill("#counted-cash", vnd(counted)[:-2])  # typed with dots, e.g. 215.000
    page.click("#close-confirm")
    expect(page).to_have_url(f"{live_server}/day/z/1")
    expect(page.locator("h1")).to_have_text(f"Báo cáo Z #1 · {day_text(day)}")
    figures = page.locator("table.report")
    expect(figures.locator("tr", has_text="Két phải có").first.locator("td")).to_have_text(vnd(expected))
    expect(figures.locator("tr", has_text="Đếm được").locator("td")).to_have_text(vnd(counted))
    difference = figures.locator("tr", has_text="Chênh lệch").locator("td")
    expect(difference).to_have_text("-5.000 ₫")
    expect(difference).to_have_class(re.compile(r"\bneg\b"))
    check(page, js_errors, "z-report")

    conn = connect(app)
    try:
        z = daybook.z_report(conn, 1)
        assert (z["business_day"], z["z_number"], z["counted_cash"], z["difference"]) == (
            day, 1, counted, -5_000)
        assert z["cash_drawer"]["expected"] == expected and z["closed_by"] == "owner"
        assert business_days.current_business_day(conn, utc_timestamp()) == next_day
    finally:
        conn.close()

    # The next business day is now current: the today page shows it, empty, with its own close.
    go_today(page)
    expect(page.locator("h1")).to_have_text(f"Hôm nay · {day_text(next_day)}")
    expect(page.locator("#expected-cash")).to_have_text("0 ₫")
    expect(page.locator("#close-day")).to_be_visible()
    expect(page.locator("table.list tbody")).to_have_text("Chưa có đơn nào.")
    check(page, js_errors, "next-day-empty")

    page.click(".bar-nav a[href='/']")
    new_sale = sell_one_packet(page, app)
    assert new_sale["business_day"] == next_day
    page.click("#done-new")
    go_today(page)
    rows = page.locator("table.list tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(f"#{new_sale['number']}")
    expect(page.locator("#day-revenue")).to_have_text(vnd(new_sale["total"]))
    check(page, js_errors, "next-day-sale")

    # The closed day, reached through the Z list: its button says it is closed.
    page.click("a.btn[href='/day/z']")
    expect(page.locator("h1")).to_have_text("Các báo cáo Z")
    expect(page.locator("table.list tbody tr")).to_have_count(1)
    expect(page.locator("table.list tbody tr").first).to_contain_text("-5.000 ₫")
    check(page, js_errors, "z-list")
    page.click("a.row-link[href='/day/z/1']")
    expect(page.locator("h1")).to_have_text(f"Báo cáo Z #1 · {day_text(day)}")
    page.locator(".sheet-actions a.btn", has_text="Quay lại").click()
    expect(page).to_have_url(f"{live_server}/sales/?day={day}")
    expect(page.locator("h1")).to_have_text(f"Đơn bán · {day_text(day)}")
    closed_button = page.locator(".actions-row a.btn", has_text="Đã chốt ngày")
    expect(closed_button).to_have_text("Đã chốt ngày · Z1")
    expect(closed_button).to_have_attribute("href", "/day/z/1")
    expect(page.locator("#close-day, #cash-float, #cash-move")).to_have_count(0)
    expect(page.locator("table.list tbody tr")).to_have_count(1)
    check(page, js_errors, "closed-day")

    # Voiding a sale of the closed day is refused in Vietnamese, and nothing changes.
    conn = connect(app)
    try:
        journal_before = conn.execute("SELECT MAX(seq) FROM journal").fetchone()[0]
    finally:
        conn.close()
    page.click(f"a.row-link:has-text('#{old_sale['number']}')")
    expect(page).to_have_url(f"{live_server}/sales/{old_sale['id']}")
    # A closed day's sale offers no void button; typing the address is refused all the same.
    expect(page.locator("#void-link")).to_have_count(0)
    page.goto(f"{live_server}/sales/{old_sale['id']}/void")
    page.fill("#reason", "Nhập hai lần")
    with page.expect_response(lambda r: r.request.method == "POST"
                              and r.url.endswith(f"/sales/{old_sale['id']}/void")) as answer:
        page.click("#void-confirm")
    assert answer.value.status == 409
    expect(page.locator("main .error[role=alert]")).to_have_text(VOID_REFUSED)
    check(page, js_errors, "void-refused")
    conn = connect(app)
    try:
        assert conn.execute("SELECT MAX(seq) FROM journal").fetchone()[0] == journal_before
        stored = sales.get_sale(conn, old_sale["id"])
        assert stored["status"] == "completed" and stored["void"] is None
        assert daybook.day_report(conn, day)["revenue"] == old_sale["total"]
    finally:
        conn.close()


# --- (c) printing without a printer ----------------------------------------------------------

def test_receipt_pdf_without_printer(app: Any, live_server: str, page: Page,
                                     js_errors: list[str]) -> None:
    unlock(page, live_server, OWNER_PIN)
    sale = sell_one_packet(page, app, note=500_000)
    pdf_path = f"/sales/{sale['id']}/receipt.pdf"

    # No printer: "Print receipt" opens, in the same tab (a kiosk has no tab bar), a print view
    # that shows the receipt PDF in a frame and opens the browser's print dialog on it.
    responses: list[tuple[str, int, str]] = []
    page.context.on("response", lambda r: responses.append(
        (r.url, r.status, r.headers.get("content-type", ""))))
    count_print_calls(page)
    page.click("#done-print")
    page.wait_for_url(f"{live_server}/sales/{sale['id']}/print-view?back=/")
    frame = page.locator("#receipt-frame")
    expect(frame).to_have_attribute("src", f"{pdf_path}?copy=0#navpanes=0&view=FitH")
    expect(page.locator("#print-now")).to_be_visible()
    wait_for_print_calls(page, 1)   # once the PDF has loaded
    pdf_answers = [r for r in responses if r[0] == f"{live_server}{pdf_path}?copy=0"]
    # (The PDF viewer fetches the file a second time, without headers shown to Playwright.)
    assert pdf_answers and all(status == 200 for _u, status, _t in pdf_answers), responses
    assert pdf_answers[0][2] == "application/pdf", pdf_answers
    page.wait_for_timeout(1500)   # let the PDF viewer draw the receipt for the screenshot
    check(page, js_errors, "print-view")
    page.click("text=Quay lại")   # back to the sell screen
    expect(page).to_have_url(f"{live_server}/")

    page.goto(f"{live_server}/sales/{sale['id']}")
    expect(page).to_have_url(f"{live_server}/sales/{sale['id']}")
    link = page.locator("#receipt-pdf")
    expect(link).to_have_attribute("target", "_blank")
    href = link.get_attribute("href")
    assert href is not None and href.startswith(pdf_path)
    answer = page.request.get(live_server + href)   # with the session's cookies
    assert answer.status == 200
    assert answer.headers["content-type"] == "application/pdf"
    assert answer.body().startswith(b"%PDF")
    check(page, js_errors, "sale-page")

    conn = connect(app)
    try:
        assert print_queue.list_jobs(conn, 10) == [], "nothing is queued without a printer"
    finally:
        conn.close()


# --- (d) a network receipt printer -----------------------------------------------------------

class FakePrinter:
    """A raw-TCP ESC/POS printer on a loopback port: answers the paper-sensor query with
    'paper present' and records every connection's bytes."""

    def __init__(self) -> None:
        self.server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(4)
        self.server.settimeout(0.1)
        self.port = self.server.getsockname()[1]
        self.received: list[bytes] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _addr = self.server.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with conn:
                conn.settimeout(5)
                data = bytearray()
                answered = False
                try:
                    while chunk := conn.recv(65536):
                        data += chunk
                        if not answered and data.startswith(DLE_EOT_PAPER):
                            conn.sendall(b"\x12")   # paper present, no error
                            answered = True
                except OSError:
                    pass
                self.received.append(bytes(data))

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.server.close()


@pytest.fixture
def fake_printer() -> Iterator[FakePrinter]:
    printer = FakePrinter()
    yield printer
    printer.close()


def run_print_worker(app: Any) -> int:
    """The print worker that `market-pos serve` runs beside the server, for one round."""
    worker = PrintWorker(app.config["DATABASE"], printouts.render_job)
    try:
        return worker.run_once()
    finally:
        worker.close()


def test_network_printer_self_test_and_alert(app: Any, live_server: str,
                                             page: Page, js_errors: list[str],
                                             fake_printer: FakePrinter) -> None:
    page.clock.install()   # lets the sell screen's 20-second printer poll be fast-forwarded
    unlock(page, live_server, OWNER_PIN)
    page.click(".bar-nav a[href='/settings']")
    page.click("#printer-link")
    expect(page).to_have_url(f"{live_server}/printer")
    check(page, js_errors, "printer-none")
    page.select_option("#backend", label="Máy in phiếu qua mạng")
    page.fill("input[name=host]", "127.0.0.1")
    page.fill("input[name=port]", str(fake_printer.port))
    page.select_option("select[name=paper]", "58")
    page.check("input[name=auto_print]")
    page.click("#save-printer")

    expect(page).to_have_url(f"{live_server}/printer")
    expect(page.locator("main .flash")).to_have_text("Đã lưu cài đặt máy in.")
    expect(page.locator("#backend")).to_have_value("escpos-net")
    expect(page.locator("input[name=host]")).to_have_value("127.0.0.1")
    expect(page.locator("input[name=port]")).to_have_value(str(fake_printer.port))
    expect(page.locator("select[name=paper]")).to_have_value("58")
    expect(page.locator("input[name=auto_print]")).to_be_checked()
    expect(page.locator("#printer-state")).to_have_text("Chưa thử máy in")
    check(page, js_errors, "printer-saved")
    conn = connect(app)
    try:
        config = PrinterConfig.load(conn)
    finally:
        conn.close()
    assert (config.backend, config.host, config.port, config.paper, config.auto_print) == (
        "escpos-net", "127.0.0.1", fake_printer.port, "58", True)

    page.click("#self-test")
    expect(page.locator("main .flash")).to_have_text("Đã gửi trang thử tới máy in.")
    job_row = page.locator("main table.list tbody tr").first
    expect(job_row).to_contain_text("Trang thử")
    expect(job_row).to_contain_text("đang chờ")

    assert run_print_worker(app) == 1
    assert len(fake_printer.received) == 1
    sent = fake_printer.received[0]
    # The backend first asks the paper sensor (DLE EOT 4), then sends the raster page.
    assert sent.startswith(DLE_EOT_PAPER)
    page_bytes = sent[len(DLE_EOT_PAPER):]
    assert page_bytes.startswith(b"\x1b@"), page_bytes[:8]
    assert b"\x1dv0\x00" + struct.pack("<H", 48) in page_bytes   # 384 dots = 48 bytes a row
    assert b"\x1dv0\x00" + struct.pack("<H", 72) not in page_bytes

    page.reload()
    expect(job_row).to_contain_text("đã in")
    expect(page.locator("#printer-state")).to_have_text("Máy in sẵn sàng")
    expect(page.locator("#printer-state")).to_have_class(re.compile(r"\bstate-ok\b"))
    check(page, js_errors, "printer-ready")

    # The printer goes away; a sale is still recorded at once, and the sell screen says so.
    fake_printer.close()
    page.click(".bar-nav a[href='/']")
    expect(page.locator("#printer-alert")).to_be_hidden()
    sale = sell_one_packet(page, app, note=200_000)
    conn = connect(app)
    try:
        (job,) = [j for j in print_queue.list_jobs(conn, 10) if j.kind == "receipt"]
        assert (job.ref, job.state, job.copy) == (sale["id"], "queued", False)
    finally:
        conn.close()
    page.click("#done-new")

    assert run_print_worker(app) == 0
    conn = connect(app)
    try:
        status = printer_status(conn)
        assert (status["state"], status["message"]) == ("error", NOT_CONNECTED)
        (job,) = [j for j in print_queue.list_jobs(conn, 10) if j.kind == "receipt"]
        assert (job.state, job.last_error, job.attempts) == (
            "queued", NOT_CONNECTED, 1)
        assert sales.get_sale(conn, sale["id"])["status"] == "completed"
    finally:
        conn.close()

    expect(page.locator("#printer-alert")).to_be_hidden()
    page.clock.fast_forward(20_000)            # the screen's next poll of /api/printer
    alert = page.locator("#printer-alert")
    expect(alert).to_be_visible()
    expect(alert).to_have_text("Máy in chưa được kết nối")
    expect(alert).to_have_attribute("href", "/printer")
    check(page, js_errors, "printer-alert")


def test_printer_page_labels_only_copies(app: Any, live_server: str, page: Page,
                                         js_errors: list[str]) -> None:
    sale = record_sale_in_db(app, products_by_name(app)[BY_UNIT])
    conn = connect(app)
    try:
        PrinterConfig.save(conn, {"backend": "escpos-net", "host": "127.0.0.1"})
        original = print_queue.enqueue(conn, "receipt", sale["id"])
        reprint = print_queue.enqueue(conn, "receipt", sale["id"], copy=True)
        assert [(j.id, j.copy) for j in print_queue.list_jobs(conn, 10)
                if j.kind == "receipt"] in ([(original, False), (reprint, True)],
                                            [(reprint, True), (original, False)])
    finally:
        conn.close()
    unlock(page, live_server, OWNER_PIN)
    page.goto(live_server + "/printer")
    expect(page.locator("main table.list tbody tr")).to_have_count(2)
    check(page, js_errors, "printer-jobs")
    rows = {int(re.match(r"#(\d+)", text).group(1)): text  # type: ignore[union-attr]
            for text in page.locator("main table.list tbody tr td:first-child").all_inner_texts()}
    assert "bản sao" in rows[reprint]
    assert "bản sao" not in rows[original], rows[original]


# --- (e) English ---------------------------------------------------------------------------------

def test_close_and_z_report_in_english(app: Any, live_server: str, page: Page,
                                       js_errors: list[str]) -> None:
    day = current_day(app)
    sale = record_sale_in_db(app, products_by_name(app)[BY_UNIT])
    unlock(page, live_server, OWNER_PIN)
    go_today(page)
    page.click("#lang-switch")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("h1")).to_contain_text("Today")
    expect(page.locator("#close-day")).to_have_text("Close the day (Z)")
    page.click("#close-day")
    expect(page.locator("h1")).to_have_text(f"Close the day (Z) · {day_text(day)}")
    expected = page.locator("form > p.fig")
    expect(expected).to_contain_text("Expected in the drawer")
    expect(expected.locator("strong")).to_have_text(vnd(sale["total"]))
    expect(expected.locator("strong")).to_have_text(MONEY)
    expect(page.locator("#close-confirm")).to_have_text("Close the day")
    check(page, js_errors, "close-en")

    page.fill("#counted-cash", str(sale["total"]))   # plain digits work too
    page.click("#close-confirm")
    expect(page).to_have_url(f"{live_server}/day/z/1")
    expect(page.locator("h1")).to_have_text(f"Z report #1 · {day_text(day)}")
    figures = page.locator("table.report")
    expect(figures.locator("tr", has_text="Revenue").locator("td")).to_have_text(
        vnd(sale["total"]))
    expect(figures.locator("tr", has_text="Difference").locator("td")).to_have_text("0 ₫")
    for cell in figures.locator("td.num").all():
        text = cell.inner_text()
        assert MONEY.match(text) or re.fullmatch(r"\d+( · -?\d{1,3}(\.\d{3})* ₫)?", text), text
    check(page, js_errors, "z-report-en")
    conn = connect(app)
    try:
        assert daybook.z_report(conn, 1)["difference"] == 0
    finally:
        conn.close()
