"""Full disk: a sale that cannot be written is refused with a clear message (JSON and on the sell
screen), nothing partial is stored, and selling resumes once there is space again.

The disk is filled with SQLite's own page limit (PRAGMA max_page_count on every connection the
stall opens), which fails a write exactly as a full disk does (SQLITE_FULL). When the tests run as
root, a real tiny tmpfs is mounted as well and the stall process is filled up for real.
"""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any, Iterator

import pytest
import requests

from pos import access, db, stall
from tests.harness.stallproc import StallProcess, whole_database_problems

SALE = {"lines": [{"name": "Mật ong bạc hà", "unit_price": 250000, "quantity": "1"}],
        "payments": [{"method": "cash", "amount": 250000, "tendered": 300000}]}


class PageLimit:
    """Every connection the stall opens gets `PRAGMA max_page_count`: the disk is 'full' at the
    database's size when the limit was set; `free()` lifts the limit, also on the connections
    the app keeps open from request to request (as freeing space on a real disk would)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch):
        self.pages: int | None = None
        self.opened: list[Any] = []
        real_connect = db.connect

        def limited(path: Any) -> Any:
            conn = real_connect(path)
            if self.pages:
                conn.execute(f"PRAGMA max_page_count = {self.pages}")
            self.opened.append(conn)
            return conn
        monkeypatch.setattr(db, "connect", limited)

    def fill(self, db_path: Path, app: Any = None) -> None:
        conn = db.connect(db_path)
        self.pages = conn.execute("PRAGMA page_count").fetchone()[0]
        conn.close()
        for kept in app.extensions["market_pos_connections"].idle if app else []:
            # the app's pooled connections, opened before the limit
            kept.execute(f"PRAGMA max_page_count = {self.pages}")
            self.opened.append(kept)

    def free(self) -> None:
        self.pages = None
        for conn in self.opened:
            try:
                conn.execute("PRAGMA max_page_count = 1073741823")
            except Exception:  # closed since
                pass


@pytest.fixture
def full_disk(monkeypatch: pytest.MonkeyPatch) -> PageLimit:
    return PageLimit(monkeypatch)


def sell_until_refused(api: Any, limit: int = 2000) -> tuple[dict[str, dict[str, Any]], Any]:
    acknowledged: dict[str, dict[str, Any]] = {}
    for _ in range(limit):
        answer = api.post("/api/sales", json=SALE)
        if answer.status_code != 201:
            return acknowledged, answer
        acknowledged[answer.get_json()["id"]] = answer.get_json()
    raise AssertionError("the disk never filled up")


def test_a_sale_on_a_full_disk_is_refused_clearly_and_selling_resumes(app: Any, api: Any,
                                                                      full_disk: PageLimit
                                                                      ) -> None:
    db_path = app.config["DATABASE"]
    full_disk.fill(db_path, app)
    acknowledged, refused = sell_until_refused(api)
    assert refused.status_code == 507
    error = refused.get_json()["error"]
    assert error["code"] == "storage_full"
    assert "Nothing was saved" in error["message"] or "Chưa lưu" in error["message"]
    conn = db.connect(db_path)
    entries_before = conn.execute("SELECT COUNT(*) FROM journal").fetchone()[0]
    conn.close()
    # Other writes are refused the same way; reads still work.
    assert api.post("/api/sales", json=SALE).status_code == 507
    assert api.post("/api/products", json={"name": "Nấm hương rừng", "unit": "kg",
                                            "price": 400000}).status_code == 507
    assert api.get("/api/sales?since_seq=0").status_code == 200
    assert whole_database_problems(db_path, acknowledged) == []
    conn = db.connect(db_path)
    assert conn.execute("SELECT COUNT(*) FROM journal").fetchone()[0] == entries_before
    conn.close()
    # Space is freed: the next sale is recorded, continuing the same chain.
    full_disk.free()
    answer = api.post("/api/sales", json=SALE)
    assert answer.status_code == 201, answer.get_data(as_text=True)
    assert answer.get_json()["seq"] == entries_before + 1
    acknowledged[answer.get_json()["id"]] = answer.get_json()
    assert whole_database_problems(db_path, acknowledged) == []
    from pos import journal
    conn = db.connect(db_path)
    assert journal.verify(conn).ok
    conn.close()


def test_a_full_disk_page_is_a_clear_page_for_people(app: Any, owner: Any,
                                                     full_disk: PageLimit) -> None:
    from tests.conftest import csrf_token
    full_disk.fill(app.config["DATABASE"], app)
    token = csrf_token(owner, "/day")
    for _ in range(2000):
        answer = owner.post("/day/cash", data={"csrf_token": token, "type": "in",
                                               "amount": "50000", "reason": "Tiền lẻ"},
                            headers={"Accept": "text/html"})
        if answer.status_code == 507:
            break
    assert answer.status_code == 507
    page = answer.get_data(as_text=True)
    assert "Traceback" not in page and "sqlite3" not in page
    assert "<html" in page.lower()


# --- the sell screen, in a real browser --------------------------------------------------------

@pytest.mark.slow
def test_the_sell_screen_says_the_disk_is_full(app: Any, live_server: str,
                                               full_disk: PageLimit) -> None:
    pytest.importorskip("playwright")
    from tests.test_browser import BY_UNIT, CHROMIUM, CHROMIUM_ARGS, products_by_name, unlock
    from playwright.sync_api import expect, sync_playwright
    from tests.conftest import OWNER_PIN
    product = products_by_name(app)[BY_UNIT]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 800, "height": 480}, locale="vi-VN")
        page.set_default_timeout(5000)
        try:
            unlock(page, live_server, OWNER_PIN)
            full_disk.fill(app.config["DATABASE"], app)
            recorded = 0
            message = ""
            for _ in range(300):   # sell on the screen until the disk is full
                page.click(f".tile[data-id='{product['id']}']")
                page.click("#pay")
                page.click("#pay-exact")
                page.click("#record")
                # (no wait_for_function: the page's CSP forbids the eval it relies on)
                page.locator("#pay-error:not([hidden]), #done-dialog[open]").first.wait_for()
                if page.locator("#done-dialog").is_visible():
                    recorded += 1
                    page.click("#done-new")
                    continue
                message = page.locator("#pay-error").inner_text()
                break
            assert "đầy" in message or "full" in message, message
            page.screenshot(path=str(_screenshots() / "disk-full.png"))
            full_disk.free()
            page.click("#record")   # the same cart, once space is freed
            expect(page.locator("#done-dialog")).to_be_visible()
        finally:
            browser.close()
    assert whole_database_problems(app.config["DATABASE"], {}) == []


def _screenshots() -> Path:
    folder = Path(__file__).resolve().parent.parent / "test-output" / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


# --- a real tiny filesystem (root only) --------------------------------------------------------

@pytest.fixture
def tiny_filesystem(tmp_path: Path) -> Iterator[Path]:
    if os.geteuid() != 0:
        pytest.skip("mounting a tiny tmpfs needs root; the page-limit tests above cover a full"
                    " disk without it")
    mount_point = tmp_path / "tiny"
    mount_point.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs",
                              str(mount_point)], capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


@pytest.mark.slow
def test_a_real_full_filesystem(stall_template: Path, tiny_filesystem: Path) -> None:
    data = tiny_filesystem / "stall"
    shutil.copytree(stall_template, data)
    conn = db.connect(stall.database_path(data))
    token = access.issue_token(conn, "disk")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    ballast = tiny_filesystem / "ballast"
    free = shutil.disk_usage(tiny_filesystem).free
    ballast.write_bytes(b"\0" * max(free - 256 * 1024, 0))   # leave 256 KiB
    process = StallProcess(data).start()
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    acknowledged: dict[str, dict[str, Any]] = {}
    try:
        for _ in range(5000):
            answer = session.post(f"{process.url}/api/sales", json=SALE, timeout=10)
            if answer.status_code != 201:
                break
            acknowledged[answer.json()["id"]] = answer.json()
        assert answer.status_code == 507, answer.text
        assert answer.json()["error"]["code"] == "storage_full"
        ballast.unlink()   # the vendor deletes old files
        answer = session.post(f"{process.url}/api/sales", json=SALE, timeout=10)
        assert answer.status_code == 201, answer.text
        acknowledged[answer.json()["id"]] = answer.json()
    finally:
        process.kill()
    assert whole_database_problems(stall.database_path(data), acknowledged) == []
