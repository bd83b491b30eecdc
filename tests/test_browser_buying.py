"""Buying from a grower on the kiosk (issue 19): Debian's Chromium at 800×480, driven by
Playwright, on a fresh stall served by waitress (the fixtures of tests/test_browser.py).

The vendor buys 12,5 kg from a grower for cash (numbers from the app's keypad), prints the
grower's slip (no printer: the PDF opens, read back with pdftotext), sells 0,75 kg on the sell
screen, and sees what is left on the tile and the stock page, and the margin on the margin page,
figures checked against a hand computation. Screenshots: test-output/screenshots/buying-*.
"""
from __future__ import annotations

import re
import shutil
import subprocess
from typing import Any

import pytest

from tests.conftest import OWNER_PIN, connect
from tests.test_browser import (BY_KG, browser, count_print_calls, dialogs,  # noqa: F401
                                page, products_by_name, shot, tap_quantity, unlock, vnd,
                                wait_for_print_calls)
from tests.test_browser_whole_day import tap_number

pytestmark = pytest.mark.slow
playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

BOUGHT_MILLI, COST = 12_500, 300_000      # 12,5 kg at 300.000 ₫/kg
SOLD_MILLI = 750                          # 0,75 kg


def line_amount(milli: int, price: int) -> int:
    return (milli * price + 500) // 1000


def test_buy_12_5_kg_for_cash_print_the_slip_sell_0_75_kg_see_stock_and_margin(
        app: Any, live_server: str, page: Any, tmp_path: Any) -> None:
    shrimp = products_by_name(app)[BY_KG]
    paid = line_amount(BOUGHT_MILLI, COST)
    unlock(page, live_server, OWNER_PIN)

    # Goods → Nhập hàng: the grower's name on the keyboard, the numbers on the app's keypad.
    page.click(".bar-nav a[href='/products/']")
    page.click("#buy-goods")
    expect(page.locator("h1")).to_have_text("Nhập hàng")
    page.fill("#grower_name", "Giàng Thị Mỷ")
    page.click(".grower-more summary")
    page.fill("#grower_address", "Thôn Mã Hồng, xã Nghĩa Thuận")
    page.select_option("#p1", str(shrimp["id"]))
    tap_number(page, "#q1", "12,5")
    expect(page.locator("#q1")).to_have_value("12,5")
    tap_number(page, "#c1", "300000")
    expect(page.locator("#amount1")).to_have_text("= " + vnd(paid))
    expect(page.locator("#buy-total")).to_have_text(vnd(paid))
    expect(page.locator("#buy-method input[value='cash']")).to_be_checked()
    shot(page, "buying-form")
    page.click("#save-purchase")
    expect(page).to_have_url(live_server + "/purchases/1")
    expect(page.locator("#purchase-total")).to_have_text(vnd(paid))
    expect(page.locator(".flash").first).to_contain_text("Đã lưu phiếu nhập số 1")
    shot(page, "buying-purchase")

    # The grower's slip: no printer here, so the print view opens the PDF and asks to print it.
    count_print_calls(page)
    page.click("#print-slip")
    expect(page.locator("#receipt-frame")).to_have_attribute(
        "src", re.compile(r"^/api/purchases/1/slip\.pdf"))
    wait_for_print_calls(page, 1)
    pdf = page.request.get(live_server + "/api/purchases/1/slip.pdf")
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext is not installed (apt-get install poppler-utils)")
    path = tmp_path / "slip.pdf"
    path.write_bytes(pdf.body())
    slip = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                          text=True, check=True).stdout
    assert "PHIẾU THU MUA" in slip and "Giàng Thị Mỷ" in slip and "Thôn Mã Hồng" in slip
    assert "12,5" in slip and f"{paid:,}".replace(",", ".") in slip, slip

    # The sell screen: the tile says what is left; 0,75 kg sold for cash.
    page.goto(live_server + "/")
    tile = page.locator(f".tile[data-id='{shrimp['id']}']")
    expect(tile.locator(".tile-stock")).to_have_text("Còn 12,5")
    tile.click()
    tap_quantity(page, "0,75")
    page.click("#qty-ok")
    page.click("#pay")
    page.click("#pay-exact")
    page.click("#record")
    expect(page.locator("#done-dialog")).to_be_visible()
    page.click("#done-new")
    expect(tile.locator(".tile-stock")).to_have_text("Còn 11,75")   # fetched after the sale
    shot(page, "buying-sell")

    # Selling more than is left warns on the cart line and blocks nothing.
    tile.click()
    tap_quantity(page, "20")
    page.click("#qty-ok")
    expect(page.locator("#cart-lines .short-note")).to_have_text(
        "Kho chỉ còn 11,75 kg: kiểm kho sau")
    expect(page.locator("#pay")).to_be_enabled()
    page.click("#clear-cart")
    page.click("#clear-confirm")

    # The stock page and the margin.
    page.click(".bar-nav a[href='/products/']")
    page.click("#see-stock")
    expect(page.locator(f"#stock-table tr[data-product='{shrimp['id']}'] td.num")).to_contain_text(
        "11,75")
    shot(page, "buying-stock")
    page.click("#see-margin")
    revenue = line_amount(SOLD_MILLI, shrimp["price"])
    cost = line_amount(SOLD_MILLI, COST)
    row = page.locator(f"#margin-{shrimp['id']}")
    expect(row).to_contain_text("12,5 kg")
    expect(row).to_contain_text(vnd(paid))
    expect(row).to_contain_text("0,75 kg")
    expect(row).to_contain_text(vnd(revenue))
    expect(row).to_contain_text("11,75 kg")
    expect(row).to_contain_text(vnd(COST))
    expect(page.locator("#total-margin")).to_contain_text(vnd(revenue - cost))
    shot(page, "buying-margin")

    # What the screens said is what the stall holds.
    conn = connect(app)
    try:
        assert conn.execute("SELECT on_hand_milli FROM stock WHERE product_id = ?",
                            (shrimp["id"],)).fetchone()[0] == BOUGHT_MILLI - SOLD_MILLI
        assert conn.execute("SELECT cash FROM purchases WHERE number = 1").fetchone()[0] == paid
    finally:
        conn.close()
