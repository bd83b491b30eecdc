"""A market day on the kiosk with taps only, and the queue that never blocks (issue 17).

Debian's Chromium at 800×480, driven by Playwright, on a fresh stall served by waitress (the
fixtures of tests/test_browser.py). The first test opens the day with a float, sells, haggles a
price, parks a cart while the next customer pays, gives back half a kilo and closes the day with
the counted cash: every number comes from the app's own keypads, and typing is forbidden (the
keyboard and fill methods raise). The second parks two carts and a QR code that the bank then
pays while the next customer's cart is on screen. Screenshots: test-output/screenshots/whole-*.
"""
from __future__ import annotations

import re
from typing import Any

import pytest

from tests.conftest import OWNER_PIN, connect
from tests.test_browser import (BY_KG, BY_UNIT, all_sales, browser, dialogs,  # noqa: F401
                                page, products_by_name, shot, unlock, vnd)
from tests.test_browser_day import current_day, go_today, report
from pos import bank_accounts, bankcheck
from pos.bankcheck import BankTransaction

pytestmark = pytest.mark.slow
playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect


@pytest.fixture
def taps_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to type, in the page or on one of its elements, fails the test."""
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("this test taps only: nothing may be typed")
    for cls, names in ((playwright_api.Keyboard, ("type", "press", "insert_text", "down")),
                       (playwright_api.Page, ("fill", "type", "press")),
                       (playwright_api.Locator, ("fill", "type", "press", "press_sequentially"))):
        for name in names:
            monkeypatch.setattr(cls, name, refuse)


def tap_number(page: Any, field: str, digits: str) -> None:
    """Tap a form field, then its digits on the app's number pad, then OK."""
    page.click(field)
    expect(page.locator("#numpad-dialog")).to_be_visible()
    for key in digits:
        page.click(f"#numpad-keys button[data-key='{key}']")
    page.click("#numpad-ok")
    expect(page.locator("#numpad-dialog")).to_be_hidden()


def tap_keys(page: Any, pad: str, keys: list[str]) -> None:
    for key in keys:
        page.click(f"#{pad} button[data-key='{key}']")


def pay_exact(page: Any) -> None:
    page.click("#pay")
    page.click("#pay-exact")
    page.click("#record")
    expect(page.locator("#done-dialog")).to_be_visible()
    page.click("#done-new")


def test_a_whole_day_with_taps_only(app: Any, live_server: str, page: Any, taps_only: None
                                    ) -> None:
    goods = products_by_name(app)
    packet, shrimp = goods[BY_UNIT], goods[BY_KG]
    other = next(p for p in goods.values() if not p["weighed"] and p["id"] != packet["id"])
    day = current_day(app)
    unlock(page, live_server, OWNER_PIN)

    # The opening float, from the number pad.
    go_today(page)
    page.click("#cash-float")
    tap_number(page, "#amount", "200000")
    expect(page.locator("#amount")).to_have_value("200000")
    shot(page, "whole-float")
    page.click("#save-cash")
    expect(page.locator("#expected-cash")).to_have_text(vnd(200_000))

    # A cash sale with a banknote.
    page.click(".bar-nav a[href='/']")
    page.click(f".tile[data-id='{packet['id']}']")
    page.click("#pay")
    page.click(".note[data-note='500000']")
    expect(page.locator("#pay-change")).to_have_text(vnd(500_000 - packet["price"]))
    page.click("#record")
    expect(page.locator("#done-change")).to_have_text(vnd(500_000 - packet["price"]))
    page.click("#done-new")

    # A haggled price: 1 kg of dried shrimp at 850.000 instead of the listed price.
    page.click(f".tile[data-id='{shrimp['id']}']")
    tap_keys(page, "qty-keypad", ["1"])
    page.click("#qty-mode-price")
    tap_keys(page, "qty-keypad", ["8", "5", "0", "0", "0", "0"])
    page.click("#qty-ok")
    expect(page.locator("#cart-lines .cart-line .q")).to_contain_text(
        f"1 kg × 850.000 niêm yết {shrimp['price']:,}".replace(",", "."))
    shot(page, "whole-haggled")
    pay_exact(page)

    # A cart parked with a label while the next customer pays, then taken back and paid.
    page.click(f".tile[data-id='{packet['id']}']")
    page.click("#park-open")
    page.click("#park-labels .chip[data-label='Áo xanh']")
    page.click("#park-ok")
    parked = page.locator("#parked .parked-cart")
    expect(parked).to_have_text(f"Áo xanh · {vnd(packet['price'])}")
    expect(page.locator("#cart-empty")).to_be_visible()
    page.click(f".tile[data-id='{other['id']}']")
    shot(page, "whole-parked")
    pay_exact(page)
    parked.click()
    expect(page.locator("#cart-lines .cart-line .n")).to_have_text(packet["name"])
    expect(page.locator("#parked")).to_be_hidden()
    pay_exact(page)

    # Half a kilo of the haggled shrimp comes back: a partial refund, in cash.
    sold = sorted(all_sales(app), key=lambda s: s["number"])
    haggled = next(s for s in sold if s["lines"][0]["product_id"] == shrimp["id"])
    go_today(page)
    page.click(f"a.row-link[href='/sales/{haggled['id']}']")
    page.click("#refund-link")
    tap_number(page, "#q1", "0,5")
    page.click("#reason-chips .chip >> nth=0")
    shot(page, "whole-refund")
    page.click("#refund-confirm")
    expect(page.locator(".flash")).to_have_text(f"Đã trả lại: {vnd(425_000)}.")
    expect(page.locator(".refund-row")).to_contain_text("Tôm khô")

    # Chốt ngày with the cash counted, from the number pad.
    drawer = report(app, day)["cash_drawer"]
    assert drawer["expected"] == 200_000 + 2 * packet["price"] + 850_000 + other["price"] \
        - 425_000
    assert drawer["refunded_cash"] == 425_000
    go_today(page)
    page.click("#close-day")
    tap_number(page, "#counted-cash", str(drawer["expected"]))
    shot(page, "whole-close")
    page.click("#close-confirm")
    expect(page.locator("body")).to_contain_text(vnd(drawer["expected"]))

    conn = connect(app)
    try:
        close = conn.execute("SELECT * FROM day_closes WHERE business_day = ?", (day,)).fetchone()
        refunds = conn.execute("SELECT total, refunded_by FROM refunds").fetchall()
    finally:
        conn.close()
    assert close["counted_cash"] == drawer["expected"]
    assert [tuple(r) for r in refunds] == [(425_000, "owner")]
    assert [s["total"] for s in sorted(all_sales(app), key=lambda s: s["number"])] == [
        packet["price"], 850_000, other["price"], packet["price"]]
    # After the Z, the sell screen says whose day new sales count for.
    page.click(".bar-nav a[href='/']")
    expect(page.locator("#after-z")).to_be_visible()
    shot(page, "whole-after-z")


def test_two_parked_carts_and_a_parked_qr_paid_by_the_bank(app: Any, live_server: str,
                                                          page: Any) -> None:
    goods = products_by_name(app)
    packet = goods[BY_UNIT]
    others = [p for p in goods.values() if not p["weighed"] and p["id"] != packet["id"]]
    conn = connect(app)
    try:
        bank_accounts.add_account(conn, "970436", "0011001932418", "Nguyễn Thị Đào")
    finally:
        conn.close()
    unlock(page, live_server, OWNER_PIN)

    page.click(f".tile[data-id='{others[0]['id']}']")       # cart A, labelled
    page.click("#park-open")
    page.click("#park-labels .chip[data-label='Áo đỏ']")
    page.click("#park-ok")
    page.click(f".tile[data-id='{others[1]['id']}']")       # cart B, the first free number
    page.click("#park-open")
    page.click("#park-ok")
    page.click(f".tile[data-id='{packet['id']}']")          # cart C pays by transfer, later
    page.click("#pay-qr")
    expect(page.locator("#qr-ref")).to_have_text("SAP0 0001")
    page.click("#qr-park")
    expect(page.locator("#qr-dialog")).to_be_hidden()
    chips = page.locator("#parked .parked-chip")
    expect(chips).to_have_text([f"Áo đỏ · {vnd(others[0]['price'])}",
                                f"#1 · {vnd(others[1]['price'])}",
                                f"QR SAP0 0001 · {vnd(packet['price'])}"])
    page.click(f".tile[data-id='{others[2]['id']}']")       # the next customer: cart D
    shot(page, "whole-three-waiting")

    # The reload the vendor fears: everything still waits, and no code takes the screen.
    page.reload()
    expect(chips).to_have_count(3)
    expect(page.locator("#qr-dialog")).to_be_hidden()
    expect(page.locator("#cart-lines .cart-line .n")).to_have_text(others[2]["name"])

    conn = connect(app)
    try:   # the bank's notification, as the provincial server relays it
        bankcheck.apply(conn, app.config["DEVICE_ID"],
                        BankTransaction("FT77", packet["price"], "MBVCB.1.SAP0 0001.CT"), "server")
    finally:
        conn.close()
    notice = page.locator("#parked-notice")
    expect(notice).to_be_visible(timeout=10_000)
    expect(notice).to_contain_text("SAP0 0001")
    expect(notice).to_contain_text("đơn số 1")
    expect(chips).to_have_count(2)
    expect(page.locator("#cart-lines .cart-line .n")).to_have_text(others[2]["name"])  # untouched
    shot(page, "whole-qr-paid")
    [sale] = all_sales(app)
    assert sale["total"] == packet["price"]
    assert sale["payments"][0]["state"] == "bank_confirmed"

    # Taking cart A back parks cart D in its place: no customer's goods are lost.
    page.locator("#parked .parked-cart", has_text="Áo đỏ").click()
    expect(page.locator("#cart-lines .cart-line .n")).to_have_text(others[0]["name"])
    expect(chips).to_have_text([f"#1 · {vnd(others[1]['price'])}",
                                re.compile(r"^#2 · ")])
    pay_exact(page)
    conn = connect(app)
    try:
        waiting = sorted(row[0] for row in conn.execute("SELECT label FROM parked_carts"))
    finally:
        conn.close()
    assert waiting == ["#1", "#2"]


def test_vietnamese_marks_over_any_keyboard(app: Any, live_server: str, page: Any) -> None:
    """The fallback of docs/KIOSK.md: with a keyboard that has no Vietnamese letters, the bar
    adds them and puts the tone on the right vowel, without taking the field's focus."""
    unlock(page, live_server, OWNER_PIN)
    cases = {("hoa", "huyen"): "hòa", ("toan", "sac"): "toán", ("người", "nga"): "ngưỡi",
             ("nguơi", "huyen"): "nguời", ("ngươi", "huyen"): "người", ("quy", "sac"): "quý",
             ("gi", "huyen"): "gì", ("gia", "sac"): "giá", ("mua", "huyen"): "mùa",
             ("thuy", "hoi"): "thủy", ("ngoai", "sac"): "ngoái", ("tuyêt", "sac"): "tuyết",
             ("Đông", "nang"): "Động", ("cá", "sac"): "ca", ("nhth", "sac"): "nhth"}
    got = page.evaluate("cases => cases.map(c => window.VnMarks.withTone(c[0], c[1]))",
                        [list(k) for k in cases])
    assert dict(zip(cases, got)) == cases
    page.click("#other-open")
    expect(page.locator("#vn-marks")).to_be_hidden()
    page.click("#other-name")
    bar = page.locator("#vn-marks")
    expect(bar).to_be_visible()
    page.keyboard.type("Rau th")               # a Latin on-screen keyboard types these
    bar.locator("button[data-letter='ơ']").click()
    page.keyboard.type("m la")
    bar.locator("button[data-tone='sac']").click()
    expect(page.locator("#other-name")).to_have_value("Rau thơm lá")
    shot(page, "whole-vn-marks")
    assert page.evaluate("document.activeElement.id") == "other-name"
    for key in "2000":
        page.click(f"#other-keypad button[data-key='{key}']")
    page.click("#other-ok")
    expect(page.locator("#cart-lines .cart-line .n")).to_have_text("Rau thơm lá")
    expect(bar).to_be_hidden()
