"""QR transfers in a real browser at 800×480: the code on screen (decoded back with zbar), the
vendor's "Money received", a split with cash, cancelling, a reload, and the bank confirming."""
from __future__ import annotations

import shutil
import subprocess
from typing import Any

import pytest

from tests.test_browser import (BY_UNIT, SCREENSHOTS, all_sales, browser, dialogs,  # noqa: F401
                                page, products_by_name, shot, unlock, vnd)
from tests.conftest import OWNER_PIN, connect
from pos import bank_accounts, bankcheck, vietqr
from pos.bankcheck import BankTransaction

pytestmark = pytest.mark.slow
expect = pytest.importorskip("playwright.sync_api").expect


def _account(app: Any) -> None:
    conn = connect(app)
    try:
        bank_accounts.add_account(conn, "970436", "0011001932418", "Nguyễn Thị Đào")
    finally:
        conn.close()


def _decode_code(page: Any, name: str) -> str:
    """Read the code off the screen as a phone would."""
    if shutil.which("zbarimg") is None:
        pytest.skip("zbarimg is not installed (apt-get install zbar-tools)")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.locator("#qr-img").screenshot(path=str(path))
    out = subprocess.run(["zbarimg", "--raw", "-q", str(path)], capture_output=True, text=True,
                         timeout=30)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_transfer_then_money_received(app: Any, live_server: str, page: Any) -> None:
    _account(app)
    price = products_by_name(app)[BY_UNIT]["price"]
    unlock(page, live_server, OWNER_PIN)
    page.locator(".tile", has_text=BY_UNIT).click()
    page.locator(".tile", has_text=BY_UNIT).click()
    page.click("#pay-qr")
    expect(page.locator("#qr-dialog")).to_be_visible()
    expect(page.locator("#qr-amount")).to_have_text(vnd(2 * price))
    reference = page.locator("#qr-ref").inner_text()
    assert reference == "SAP0 0001"
    expect(page.locator("#qr-holder")).to_contain_text("NGUYEN THI DAO")
    shot(page, "qr-code-800x480")
    decoded = vietqr.decode(_decode_code(page, "qr-code-only"))
    assert (decoded.amount, decoded.account, decoded.message) == (2 * price, "0011001932418",
                                                                   reference)
    assert all_sales(app) == []

    page.reload()                                    # the code is still there after a reload
    expect(page.locator("#qr-dialog")).to_be_visible()
    expect(page.locator("#qr-ref")).to_have_text(reference)
    page.click("#qr-received")
    expect(page.locator("#done-dialog")).to_be_visible()
    expect(page.locator("#done-qr")).to_contain_text(vnd(2 * price))
    expect(page.locator("#done-change-row")).to_be_hidden()
    shot(page, "qr-done-800x480")
    [sale] = all_sales(app)
    assert sale["payments"] == [{"method": "qr", "amount": 2 * price, "reference": reference,
                                 "bank_bin": "970436", "account": "0011001932418",
                                 "state": "vendor_confirmed"}]


def test_split_with_cash_and_cancel(app: Any, live_server: str, page: Any) -> None:
    _account(app)
    price = products_by_name(app)[BY_UNIT]["price"]
    unlock(page, live_server, OWNER_PIN)
    for _ in range(3):
        page.locator(".tile", has_text=BY_UNIT).click()
    due = 3 * price
    page.click("#pay")
    expect(page.locator("#split-qr")).to_have_text("Chuyển khoản")  # nothing given: all by QR
    page.click(".note[data-note='10000']")
    expect(page.locator("#split-qr")).to_have_text("Còn lại chuyển khoản")
    page.click("#split-qr")
    expect(page.locator("#qr-amount")).to_have_text(vnd(due - 10000))
    page.click("#qr-cancel")
    expect(page.locator("#qr-dialog")).to_be_hidden()
    assert all_sales(app) == []
    expect(page.locator("#total")).to_have_text(vnd(due))   # the cart is kept
    page.click("#pay")
    page.click(".note[data-note='10000']")
    page.click("#split-qr")
    page.click("#qr-received")
    expect(page.locator("#done-dialog")).to_be_visible()
    [sale] = all_sales(app)
    assert [(p["method"], p["amount"]) for p in sale["payments"]] == [("cash", 10000),
                                                                      ("qr", due - 10000)]


def test_the_bank_confirms_by_itself(app: Any, live_server: str, page: Any) -> None:
    _account(app)
    price = products_by_name(app)[BY_UNIT]["price"]
    unlock(page, live_server, OWNER_PIN)
    page.locator(".tile", has_text=BY_UNIT).click()
    page.click("#pay-qr")
    expect(page.locator("#qr-ref")).to_have_text("SAP0 0001")
    reference = page.locator("#qr-ref").inner_text()
    conn = connect(app)
    try:  # the under-payment trick first: shown, nothing recorded
        bankcheck.apply(conn, app.config["DEVICE_ID"],
                        BankTransaction("FT1", 200, f"{reference} ck"), "server")
        expect(page.locator("#qr-problem")).to_contain_text(vnd(200), timeout=8000)
        shot(page, "qr-underpaid-800x480")
        assert all_sales(app) == []
        bankcheck.apply(conn, app.config["DEVICE_ID"],
                        BankTransaction("FT2", price, f"MBVCB.{reference}.CT"), "server")
    finally:
        conn.close()
    expect(page.locator("#done-dialog")).to_be_visible(timeout=8000)
    expect(page.locator("#done-qr")).to_contain_text("Ngân hàng")
    [sale] = all_sales(app)
    assert sale["payments"][0]["state"] == "bank_confirmed"


def test_without_an_account_the_vendor_is_told(app: Any, live_server: str, page: Any) -> None:
    unlock(page, live_server, OWNER_PIN)
    page.locator(".tile", has_text=BY_UNIT).click()
    page.click("#pay-qr")
    expect(page.locator("#pay-error")).to_be_visible()
    expect(page.locator("#pay-error")).to_contain_text("tài khoản")
    assert all_sales(app) == []
