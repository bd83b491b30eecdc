"""The credit book in a real browser at 800×480 (issue 18): a sale on credit for a new customer
from the cash sheet (the name typed with the keyboard, the phone and every amount tapped on the
app's own pads), a second one for her in one tap, the Sổ nợ list and her page, a part payment in
cash from the number pad (and one over her debt refused), the reminder on screen and on paper
(the PDF read back with pdftotext, its code decoded with zbar: the amount is her balance), paying
the rest by transfer, a helper past a customer's limit, and the header fitting 800 px.

What is asserted are numbers, names and element ids, never the new words themselves, so that
this passes before and after the catalogue has their Vietnamese; screenshots go to
test-output/screenshots/credit-*.png to be looked at.
"""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import HELPER_PIN, OWNER_PIN, connect
from tests.test_browser import (BY_UNIT, HEIGHT, SCREENSHOTS, WIDTH, all_sales,  # noqa: F401
                                browser, dialogs, page, products_by_name, shot, tap_pin, unlock,
                                vnd)
from pos import bank_accounts, credit_book, vietqr

pytestmark = pytest.mark.slow
expect = pytest.importorskip("playwright.sync_api").expect

NAME = "Nguyễn Thị Lân"
PHONE = "0978123456"


def _account(app: Any) -> None:
    conn = connect(app)
    try:
        bank_accounts.add_account(conn, "970436", "0011001932418", "Nguyễn Thị Đào")
    finally:
        conn.close()


def _customer(app: Any, customer_id: int) -> dict[str, Any]:
    conn = connect(app)
    try:
        return credit_book.get_customer(conn, customer_id)
    finally:
        conn.close()


def _snapshot(app: Any) -> dict[str, list[tuple]]:
    conn = connect(app)
    try:
        return {t: [tuple(r) for r in conn.execute(f"SELECT * FROM {t} ORDER BY 1")]
                for t in ("journal", "sales", "payments", "customers", "credit_moves")}
    finally:
        conn.close()


def tap_numpad(page: Any, field: str, keys: list[str]) -> None:
    """Tap a number field, C, its digits on the app's pad, then OK."""
    page.click(field)
    expect(page.locator("#numpad-dialog")).to_be_visible()
    page.click("#numpad-clear")
    for key in keys:
        page.click(f"#numpad-keys button[data-key='{key}']")
    page.click("#numpad-ok")
    expect(page.locator("#numpad-dialog")).to_be_hidden()


def on_screen(page: Any, selector: str) -> None:
    box = page.locator(selector).bounding_box()
    assert box is not None, f"{selector} is not displayed"
    assert box["x"] >= 0 and box["y"] >= 0 and box["x"] + box["width"] <= WIDTH \
        and box["y"] + box["height"] <= HEIGHT, f"{selector} is off screen: {box}"


def no_sideways_scroll(page: Any) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= WIDTH, f"{page.url} scrolls sideways: scrollWidth {width}"


def zbar(png: Path) -> str:
    out = subprocess.run(["zbarimg", "--raw", "-q", str(png)], capture_output=True, text=True,
                         timeout=30)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_a_credit_sale_for_a_new_customer_then_a_repayment_and_a_reminder(
        app: Any, live_server: str, page: Any, tmp_path: Path) -> None:
    _account(app)
    price = products_by_name(app)[BY_UNIT]["price"]           # 120.000 ₫ a packet
    unlock(page, live_server, OWNER_PIN)

    # 1. One packet; the buyer gives 20.000 and owes the rest: Tiền mặt → 20.000 → Ghi nợ.
    page.locator(".tile", has_text=BY_UNIT).click()
    page.click("#pay")
    page.click(".note[data-note='20000']")
    expect(page.locator("#pay-credit")).to_be_visible()
    on_screen(page, "#pay-credit")
    on_screen(page, "#record")
    shot(page, "credit-pay-sheet")
    page.click("#pay-credit")
    expect(page.locator("#credit-dialog")).to_be_visible()
    expect(page.locator("#credit-title")).to_contain_text(vnd(price - 20000))
    expect(page.locator("#credit-title")).to_contain_text(vnd(20000))
    expect(page.locator("#credit-none")).to_be_visible()       # nobody in the book yet
    shot(page, "credit-picker-empty")

    # 2. + Khách mới: the name from the keyboard (the marks bar comes up), the phone from the pad.
    page.click("#credit-new")
    expect(page.locator("#credit-name")).to_be_focused()
    expect(page.locator("#vn-marks")).to_be_visible()
    page.click("#credit-form-ok")                               # no name yet: said, nothing kept
    expect(page.locator("#credit-error")).to_be_visible()
    assert all_sales(app) == [] and _snapshot(app)["customers"] == []
    expect(page.locator("#credit-name")).to_be_focused()
    page.keyboard.type(NAME)
    tap_numpad(page, "#credit-phone", list(PHONE))
    expect(page.locator("#credit-phone")).to_have_value(PHONE)
    shot(page, "credit-new-customer")
    page.click("#credit-form-ok")
    expect(page.locator("#done-dialog")).to_be_visible()
    expect(page.locator("#done-credit")).to_contain_text(vnd(price - 20000))
    expect(page.locator("#done-credit")).to_contain_text(NAME)
    expect(page.locator("#done-change-row")).to_be_hidden()    # nothing to give back
    shot(page, "credit-done")
    [sale] = all_sales(app)
    customer_id = sale["payments"][1]["customer_id"]
    assert sale["payments"] == [
        {"method": "cash", "amount": 20000, "tendered": 20000, "change": 0},
        {"method": "credit", "amount": price - 20000, "customer_id": customer_id}]
    lan = _customer(app, customer_id)
    assert (lan["name"], lan["phone"], lan["balance"]) == (NAME, PHONE, price - 20000)

    # 3. A second packet on her account: Tiền mặt → Ghi nợ → her name, three taps.
    page.click("#done-new")
    page.locator(".tile", has_text=BY_UNIT).click()
    page.click("#pay")
    page.click("#pay-credit")
    button = page.locator(f"#credit-customers .customer-btn[data-id='{customer_id}']")
    expect(button).to_contain_text(NAME)
    expect(button).to_contain_text(vnd(price - 20000))
    shot(page, "credit-picker")
    page.locator("#credit-search").fill("lan")                  # found without diacritics
    expect(page.locator("#credit-customers .customer-btn")).to_have_count(1)
    page.locator("#credit-search").fill("zzz")
    expect(page.locator("#credit-customers .customer-btn")).to_have_count(0)
    expect(page.locator("#credit-none")).to_be_visible()
    page.locator("#credit-search").fill("0978")
    expect(page.locator("#credit-customers .customer-btn")).to_have_count(1)
    page.locator("#credit-customers .customer-btn").click()
    expect(page.locator("#done-dialog")).to_be_visible()
    owed = 2 * price - 20000
    expect(page.locator("#done-credit")).to_contain_text(vnd(owed))
    assert _customer(app, customer_id)["balance"] == owed
    page.click("#done-new")

    # 4. Sổ nợ: she is listed with what she owes; her page shows it large.
    page.click("#nav-credit")
    row = page.locator(f"tr[data-customer='{customer_id}']")
    expect(row).to_contain_text(NAME)
    expect(row).to_contain_text(vnd(owed))
    expect(page.locator("#owing-total")).to_have_text(vnd(owed))
    no_sideways_scroll(page)
    shot(page, "credit-list")
    row.locator("a").click()
    expect(page).to_have_url(f"{live_server}/credit/{customer_id}")
    expect(page.locator("#customer-balance")).to_have_text(vnd(owed))
    expect(page.locator(".credit-history tbody tr")).to_have_count(2)
    expect(page.locator(".credit-history a").first).to_have_attribute(
        "href", re.compile(r"^/sales/"))
    on_screen(page, "#repay-cash")
    no_sideways_scroll(page)
    shot(page, "credit-customer")

    # 5. More than she owes is refused with the app's message, and nothing changes.
    before = _snapshot(app)
    tap_numpad(page, "#repay-amount", ["9", "9", "9", "000"])
    page.click("#repay-cash")
    expect(page.locator("main .error[role=alert]")).to_contain_text(vnd(owed).replace(" ₫", ""))
    assert _snapshot(app) == before
    shot(page, "credit-over-payment")

    # 6. She pays 50.000 in cash, tapped on the number pad.
    tap_numpad(page, "#repay-amount", ["5", "0", "000"])
    expect(page.locator("#repay-amount")).to_have_value("50000")
    page.click("#repay-cash")
    owed -= 50000
    expect(page.locator("#customer-balance")).to_have_text(vnd(owed))
    expect(page.locator(".flash")).to_contain_text(vnd(owed).replace(" ₫", ""))
    expect(page.locator(".credit-history tbody tr")).to_have_count(3)
    assert _customer(app, customer_id)["balance"] == owed
    shot(page, "credit-repaid")

    # 7. The reminder on screen: her balance and a code for it (read as a phone would).
    page.click("#reminder-open")
    expect(page).to_have_url(re.compile(rf"/credit/{customer_id}/reminder\?code="))
    expect(page.locator("#reminder-name")).to_have_text(NAME)
    expect(page.locator("#reminder-balance")).to_have_text(vnd(owed))
    expect(page.locator("#qr-img")).to_be_visible()
    page.wait_for_function("document.getElementById('qr-img').naturalWidth > 0")
    no_sideways_scroll(page)
    shot(page, "credit-reminder")
    reference = page.locator("#reminder-ref").inner_text()
    if shutil.which("zbarimg"):
        png = SCREENSHOTS / "credit-reminder-code.png"
        page.locator("#qr-img").screenshot(path=str(png))
        decoded = vietqr.decode(zbar(png))
        assert (decoded.amount, decoded.account, decoded.message) == (owed, "0011001932418",
                                                                       reference)

    # 8. The slip as a PDF: her name and balance in its text, its code for the balance.
    href = page.locator("#reminder-pdf").get_attribute("href")
    answer = page.request.get(live_server + href + "&width=58")
    assert answer.status == 200 and answer.headers["content-type"] == "application/pdf"
    pdf = tmp_path / "reminder.pdf"
    pdf.write_bytes(answer.body())
    if not shutil.which("pdftotext"):
        pytest.skip("poppler-utils is not installed")
    text = " ".join(subprocess.run(["pdftotext", "-layout", "-enc", "UTF-8", str(pdf), "-"],
                                   capture_output=True, text=True, check=True).stdout.split())
    assert NAME in text and vnd(owed) in text and reference in text, text
    assert PHONE not in text                       # her phone never leaves the stall on paper
    if shutil.which("zbarimg") and shutil.which("pdftoppm"):
        subprocess.run(["pdftoppm", "-r", "203", "-png", "-singlefile", str(pdf),
                        str(tmp_path / "reminder")], check=True, timeout=60)
        shutil.copy(tmp_path / "reminder.png", SCREENSHOTS / "credit-reminder-slip.png")
        decoded = vietqr.decode(zbar(tmp_path / "reminder.png"))
        assert (decoded.amount, decoded.message) == (owed, reference)

    # 9. The rest by transfer: the code full-screen, then "Đã nhận tiền".
    page.goto(f"{live_server}/credit/{customer_id}")
    page.click("#repay-qr")                                     # no amount: her whole debt
    expect(page).to_have_url(re.compile(rf"/credit/{customer_id}/qr/"))
    expect(page.locator("#qr-amount")).to_have_text(vnd(owed))
    expect(page.locator("#qr-who")).to_contain_text(NAME)
    page.wait_for_function("document.getElementById('qr-img').naturalWidth > 0")
    on_screen(page, "#qr-received")
    on_screen(page, "#qr-img")
    shot(page, "credit-qr")
    page.click("#qr-received")
    expect(page).to_have_url(f"{live_server}/credit/{customer_id}")
    expect(page.locator("#customer-balance")).to_have_text(vnd(0))
    assert _customer(app, customer_id)["balance"] == 0
    shot(page, "credit-paid")

    # 10. The day's X figures: sold on credit, repaid in cash and by transfer, the drawer.
    page.goto(f"{live_server}/day/x")
    expect(page.locator("#x-credit-sales")).to_contain_text(vnd(2 * price - 20000))
    expect(page.locator("#x-credit-repaid")).to_contain_text(vnd(2 * price - 20000))
    expect(page.locator("#x-repaid-cash")).to_contain_text(vnd(50000))
    shot(page, "credit-x-report")

    # 11. Hôm nay tags the sales on credit; a sale's page names whose account it went on.
    page.goto(f"{live_server}/sales/")
    expect(page.locator("#day-credit")).to_have_text(vnd(2 * price - 20000))
    expect(page.locator("tr .tag.credit")).to_have_count(2)
    no_sideways_scroll(page)
    shot(page, "credit-today")
    page.goto(f"{live_server}/sales/{sale['id']}")
    expect(page.locator("#sale-customer")).to_have_text(NAME)
    page.click("#sale-customer")
    expect(page).to_have_url(f"{live_server}/credit/{customer_id}")


def test_a_helper_past_her_limit_needs_the_owner(app: Any, live_server: str,
                                                  page: Any) -> None:
    price = products_by_name(app)[BY_UNIT]["price"]
    conn = connect(app)
    try:
        hoa = credit_book.create_customer(conn, app.config["DEVICE_ID"],
                                          {"name": "Bà Hoa", "credit_limit": 50000})
    finally:
        conn.close()
    unlock(page, live_server, HELPER_PIN)
    page.locator(".tile", has_text=BY_UNIT).click()
    page.click("#pay")
    page.click("#pay-credit")
    page.locator(f"#credit-customers .customer-btn[data-id='{hoa['id']}']").click()
    expect(page.locator("#credit-error")).to_be_visible()
    expect(page.locator("#credit-error")).to_contain_text("Bà Hoa")
    expect(page.locator("#credit-owner")).to_be_visible()
    shot(page, "credit-needs-owner")
    assert all_sales(app) == []

    page.click("#credit-owner")
    expect(page).to_have_url(re.compile(r"/owner\?next="))
    tap_pin(page, OWNER_PIN)
    expect(page).to_have_url(live_server + "/")
    expect(page.locator("#total")).to_have_text(vnd(price))      # the cart waited
    page.click("#pay")
    page.click("#pay-credit")
    page.locator(f"#credit-customers .customer-btn[data-id='{hoa['id']}']").click()
    expect(page.locator("#done-dialog")).to_be_visible()
    [sale] = all_sales(app)
    assert sale["sold_by"] == "helper"
    assert sale["payments"] == [{"method": "credit", "amount": price, "customer_id": hoa["id"]}]


def test_the_header_and_the_credit_pages_fit_800_px(app: Any, live_server: str,
                                                     page: Any) -> None:
    conn = connect(app)
    try:
        customer = credit_book.create_customer(conn, app.config["DEVICE_ID"], {
            "name": "Trần Thị Bích Ngọc (quán phở đầu chợ Bắc Hà)", "phone": "0987654321",
            "note": "Trả cuối tuần", "credit_limit": 500000})
    finally:
        conn.close()
    unlock(page, live_server, OWNER_PIN)
    for lang in ("vi", "en"):
        if lang == "en":
            page.click("#lang-switch")
            expect(page.locator("html")).to_have_attribute("lang", "en")
        for name, path in (("sell", "/"), ("list", "/credit/"),
                           ("customer", f"/credit/{customer['id']}"),
                           ("edit", f"/credit/{customer['id']}/edit")):
            page.goto(live_server + path)
            no_sideways_scroll(page)
            # Every link of the header on one row, inside the screen.
            for link in page.locator(".bar-nav a, #lock, #lang-switch").all():
                box = link.bounding_box()
                assert box and box["x"] + box["width"] <= WIDTH and box["y"] + box["height"] <= 60, \
                    f"{link.inner_text()} on {path} ({lang}) is off the header: {box}"
            shot(page, f"credit-fit-{name}-{lang}")
