"""The sync indicator, "Đồng bộ ngay" and the pairing form in chromium at 800×480, against the real
stall and the real provincial server (screenshots in test-output/screenshots/)."""
from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Iterator

import pytest

from pos import db, settings
from tests.conftest import OWNER_PIN
from tests.test_sync_client import (paired, sell, server_template,  # noqa: F401
                                    stall_hashes, sync_server)

pytestmark = pytest.mark.slow
playwright_api = pytest.importorskip("playwright.sync_api")
CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():  # pragma: no cover - CI installs it
    pytest.skip(f"{CHROMIUM} does not exist (apt-get install chromium)", allow_module_level=True)
SCREENSHOTS = Path(__file__).resolve().parents[1] / "test-output" / "screenshots"


@pytest.fixture
def page(live_server: str) -> Iterator[object]:
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM),
                                             args=["--no-sandbox", "--disable-gpu"])
        context = browser.new_context(viewport={"width": 800, "height": 480}, locale="vi-VN")
        context.set_default_timeout(10000)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(live_server + "/")
        for key in OWNER_PIN:
            page.click(f"button[data-key='{key}']")
        page.click("#pin-ok")
        page.wait_for_url(live_server + "/")
        yield page
        browser.close()
        assert not errors, errors


def _fits(page: object) -> None:
    """Nothing of the sell screen sticks out of the 800×480 window."""
    assert page.evaluate("document.documentElement.scrollWidth") <= 800
    box = page.locator("#sync-bar").bounding_box()
    assert box["x"] + box["width"] <= 800 and box["y"] + box["height"] <= 480
    button = page.locator("#sync-now").bounding_box()
    assert button["height"] >= 44 and button["width"] >= 80   # a finger's target


def test_sync_now_on_the_sell_screen(page, live_server, app, conn, paired, sync_server):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    sell(conn, 3)
    page.reload()
    pending = conn.execute("SELECT MAX(seq) FROM journal").fetchone()[0]
    assert page.inner_text("#sync-pending") == str(pending)
    _fits(page)
    page.screenshot(path=str(SCREENSHOTS / "sync-sell-waiting.png"))
    page.click("#sync-now")
    # (the page's CSP forbids eval, so no wait_for_function)
    playwright_api.expect(page.locator("#sync-pending")).to_have_text("0", timeout=10000)
    assert page.inner_text("#sync-ago") in ("vừa xong", "Đang đồng bộ…")
    assert sync_server.hashes(app.config["DEVICE_ID"]) == stall_hashes(conn)
    page.screenshot(path=str(SCREENSHOTS / "sync-sell-done.png"))
    with db.write_transaction(conn):
        settings.write(conn, "sync_needs_attention", json.dumps(
            {"seq": 7, "code": "bad_hash", "message": "hash of seq 7 does not match"}))
    page.reload()
    assert "level-attention" in page.get_attribute("#sync-bar", "class")
    assert page.inner_text("#sync-problem") == "Bản ghi 7 đã bị sửa sau khi ghi"
    _fits(page)
    page.screenshot(path=str(SCREENSHOTS / "sync-sell-attention.png"))
    page.click("#sync-info")
    page.wait_for_url(re.compile(r"/sync$"))
    assert "hash of seq 7 does not match" in page.inner_text("#sync-attention")
    page.screenshot(path=str(SCREENSHOTS / "sync-page.png"))


def test_pairing_in_settings(page, live_server, conn, sync_server):
    _, code = sync_server.add_stall("Sạp bà Hoa")
    page.goto(live_server + "/settings")
    page.fill("input[name=server_url]", sync_server.url)
    page.fill("input[name=code]", code.lower())
    page.screenshot(path=str(SCREENSHOTS / "sync-settings-pair.png"))
    page.click("#pair")
    page.wait_for_selector("#paired-with")
    assert sync_server.url in page.inner_text("#paired-with")
    for _ in range(50):   # pairing started a sync beside the request
        page.goto(live_server + "/")
        if page.inner_text("#sync-pending") == "0":
            break
        time.sleep(0.2)
    assert page.inner_text("#sync-pending") == "0"
