"""The tax pages in Chromium at 800×480: switch on MTT e-invoices, see a sale's invoice, issue an
adjustment, download the sales book."""
from __future__ import annotations

import re
from typing import Any

import pytest

from tests.test_browser import browser, dialogs, page, unlock  # noqa: F401  (fixtures)
from tests.conftest import OWNER_PIN, connect

pytestmark = pytest.mark.slow

try:
    from playwright.sync_api import Page, expect
except ImportError:  # pragma: no cover
    pytest.skip("playwright is not installed", allow_module_level=True)


def test_mtt_settings_invoice_and_adjustment(app: Any, live_server: str, page: Page) -> None:
    unlock(page, live_server, OWNER_PIN)
    page.goto(live_server + "/tax/settings")
    page.select_option("#tax-mode-select", "mtt")
    page.fill("input[name=tax_code]", "0101234567")
    page.fill("input[name=symbol]", "c26mab")
    page.fill("input[name=mtt_range]", "A1B2")                 # one character short
    page.click("#tax-save")
    expect(page.locator("[role=alert]")).to_contain_text("5")
    page.fill("input[name=mtt_range]", "a1b2c")
    page.click("#tax-save")
    expect(page).to_have_url(re.compile(r"/tax/$"))
    expect(page.locator("#tax-mode")).not_to_have_text("")
    conn = connect(app)
    try:
        assert conn.execute("SELECT value FROM settings WHERE key = 'tax.mode'").fetchone()[0] \
            == "mtt"
    finally:
        conn.close()
    # a sale from the sell screen gets its invoice code
    page.goto(live_server + "/")
    page.locator("#tiles .tile").first.click()
    if page.locator("#qty-dialog").is_visible():
        page.click("#qty-keypad button[data-key='1']")
        page.locator("#qty-dialog button.primary").click()
    page.click("#pay")
    page.click("#pay-exact")
    page.click("#record")
    expect(page.locator("#done-dialog")).to_be_visible()
    conn = connect(app)
    try:
        code = conn.execute("SELECT code FROM tax_invoices").fetchone()[0]
    finally:
        conn.close()
    page.goto(live_server + "/tax/")
    page.click(f"text={code}")
    expect(page.locator("#invoice-code")).to_have_text(code)
    page.fill("#adjust-form input[name=reason]", "Cân thiếu")
    page.fill("#adjust-form input[name=amount]", "-5000")
    page.locator("#adjust-form button").click()
    expect(page.locator("#invoice-code")).to_have_text(re.compile(r"-00000000002$"))
    expect(page.locator("main")).to_contain_text(code)
    page.screenshot(path="test-output/screenshots/tax-adjustment.png")
    with page.expect_download() as download:
        page.goto(live_server + "/tax/")
        page.locator("#book-form button").nth(1).click()        # S1a-HKD CSV
    assert download.value.suggested_filename.startswith("S1a-HKD_")
