"""The provincial dashboard in chromium against the real server (waitress, SQLite): log in, read
the overview, drill down to a stall, export a CSV and check its rows; a commune viewer opening
another commune's address gets 403. Screenshots in test-output/screenshots/."""
from __future__ import annotations

import csv
import io
import shutil
from datetime import date
from pathlib import Path
from typing import Iterator

import pytest

from sync.server import figures, scope
from sync.server.db import read_transaction, write_transaction
from sync.server.users import create_user
from tests.harness.live import serve_in_thread
from tests.server.conftest import app, client, engine, sqlite_template  # noqa: F401
from tests.server.test_dashboard import (COMMUNE, OTHER_COMMUNE, PASSWORD, PROVINCE,  # noqa: F401
                                         _expected, _raw, province)

pytestmark = pytest.mark.slow
playwright_api = pytest.importorskip("playwright.sync_api")
CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():  # pragma: no cover - CI installs it
    pytest.skip(f"{CHROMIUM} does not exist (apt-get install chromium)", allow_module_level=True)
SCREENSHOTS = Path(__file__).resolve().parents[1] / "test-output" / "screenshots"
NOVEMBER = figures.period_of("month", date(2026, 11, 1))


@pytest.fixture
def server_db(sqlite_template: Path, tmp_path: Path) -> str:  # noqa: F811
    """The browser tests need one backend: SQLite (the contract suite covers PostgreSQL)."""
    path = tmp_path / "server.sqlite3"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def dashboard_url(app, engine, province) -> Iterator[str]:  # noqa: F811
    with write_transaction(engine) as conn:
        create_user(conn, "tinh", PASSWORD, "viewer", province=PROVINCE)
        create_user(conn, "minhkhai", PASSWORD, "viewer", province=PROVINCE, commune=COMMUNE)
    with serve_in_thread(app, threads=4) as url:
        yield url


@pytest.fixture
def browser() -> Iterator[object]:
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM),
                                             args=["--no-sandbox", "--disable-gpu"])
        yield browser
        browser.close()


def _log_in(browser: object, base: str, username: str) -> object:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="vi-VN",
                                  accept_downloads=True)
    context.set_default_timeout(10000)
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.goto(base + "/dashboard/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button.primary")
    page.wait_for_selector("#figures")
    return page


def _money(amount: int) -> str:
    return f"{amount:,}".replace(",", ".") + " ₫"


def test_overview_drill_down_and_csv_export(browser, dashboard_url, engine, province,  # noqa: F811
                                            tmp_path):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    raw = _raw(province)
    page = _log_in(browser, dashboard_url, "tinh")
    page.select_option("select[name=period]", "month")
    page.fill("input[name=date]", "2026-11-01")
    page.click(".period button")
    page.wait_for_url("**period=month**")
    everything = _expected(raw, ("lan", "hoa", "mai", "tuan"), NOVEMBER)
    assert page.inner_text("#fig-revenue") == _money(everything["revenue"])
    assert page.inner_text("#fig-sales") == str(everything["sales"])
    assert page.locator("svg.trend g[data-day]").count() == 30
    page.screenshot(path=str(SCREENSHOTS / "dashboard-province.png"), full_page=True)

    page.click(f"#grid-communes a:text-is('{COMMUNE}')")
    page.wait_for_url("**/dashboard/commune/**")
    commune = _expected(raw, ("lan", "hoa", "mai"), NOVEMBER)
    assert page.inner_text("#fig-revenue") == _money(commune["revenue"])
    page.click("#grid-markets tbody tr:first-child a")
    page.wait_for_url("**/dashboard/market/**")
    page.screenshot(path=str(SCREENSHOTS / "dashboard-market.png"), full_page=True)

    with page.expect_download() as info:
        page.click("#grid-stalls a.export")
    download = tmp_path / "stalls.csv"
    info.value.save_as(download)
    data = download.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    shown = {row[0]: (int(row[1]), int(row[2])) for row in rows[1:]}
    market_stalls = {"Sạp lan": "lan", "Sạp hoa": "hoa"} if "Sạp lan" in shown \
        else {"Sạp mai": "mai"}
    assert shown == {label: (_expected(raw, (name,), NOVEMBER)["revenue"],
                             _expected(raw, (name,), NOVEMBER)["sales"])
                     for label, name in market_stalls.items()}
    assert page.locator("#grid-stalls tbody tr").count() == len(rows) - 1

    first_stall = next(iter(market_stalls))
    page.click(f"#grid-stalls a:text-is('{first_stall}')")
    page.wait_for_url("**/dashboard/stall/**")
    name = market_stalls[first_stall]
    november = [sale for sale in raw[name] if sale.day.startswith("2026-11")]
    assert page.locator("#grid-sales tbody tr").count() == len(november)
    assert page.inner_text("#fig-revenue") == _money(
        _expected(raw, (name,), NOVEMBER)["revenue"])
    assert page.locator("#last-sync").inner_text().strip()
    page.screenshot(path=str(SCREENSHOTS / "dashboard-stall.png"), full_page=True)
    assert not page.errors, page.errors


def test_a_commune_viewer_gets_403_for_another_commune(browser, dashboard_url, engine,
                                                       province):  # noqa: F811
    with read_transaction(engine) as conn:
        other = scope.resolve(conn, "stall", province.stalls["tuan"].device_id)
    page = _log_in(browser, dashboard_url, "minhkhai")
    assert COMMUNE in page.inner_text("#place-name")
    assert OTHER_COMMUNE not in page.content()
    for path in (f"/dashboard/commune/{other.commune_id}", f"/dashboard/market/{other.market_id}",
                 f"/dashboard/stall/{other.device_id}", f"/dashboard/province/{other.province_id}",
                 f"/dashboard/commune/{other.commune_id}/markets.csv"):
        response = page.goto(dashboard_url + path)
        assert response.status == 403, path
        assert "Sạp tuan" not in page.content()
    page.screenshot(path=str(SCREENSHOTS / "dashboard-403.png"))


def test_receipt_check_from_the_qr_address_without_logging_in(browser, dashboard_url,
                                                              province):  # noqa: F811
    chain = province.chains["hoa"]
    sale = next(e for e in chain.entries if e.kind == "sale")
    code = (f"MP1;{sale.id};{chain.device_id};{sale.seq};{sale.hash[:16]};"
            f"{sale.payload['total']}")
    page = browser.new_page(viewport={"width": 412, "height": 800})   # a phone's screen
    page.goto(dashboard_url + "/check?c=" + code.replace(";", "%3B"))
    assert page.get_attribute("#check-result", "data-state") == "registered"
    assert page.inner_text("#check-stall") == "Sạp hoa"
    page.screenshot(path=str(SCREENSHOTS / "receipt-check.png"))
    page.fill("textarea[name=c]", code[:-1] + "9")   # another total: not this sale
    page.click("button.primary")
    assert page.get_attribute("#check-result", "data-state") == "not_registered"
    assert page.locator("#check-stall").count() == 0
