"""The buying pages (issue 19) through the Flask test client, on a real SQLite file: buying on
the touch screen (a product in the list and a new one, cash or transfer), refusals that change
nothing, a known grower's chip, the stock and count pages, the low-stock threshold from the
product form, the sell screen's stock, the grower's slip printed or opened, and the X report on
screen and on paper with what growers were paid."""
from __future__ import annotations

import re
import shutil
import subprocess
from typing import Any

import pytest

from pos import daybook, printouts, reports, settings
from pos.business_days import current_business_day
from pos.printing.config import PrinterConfig
from sync.protocol import utc_timestamp
from tests.conftest import csrf_token

TOMATO, GINGER = 8, 11          # the demo catalogue: Cà chua 25.000 ₫/kg, Gừng 40.000 ₫/kg
TABLES = ("journal", "products", "purchases", "purchase_lines", "purchase_payments",
          "suppliers", "stock", "stock_moves", "stock_counts", "print_jobs")


def snapshot(conn: Any) -> dict[str, list[tuple]]:
    return {t: [tuple(r) for r in conn.execute(f"SELECT * FROM {t} ORDER BY 1")] for t in TABLES}


def text(answer: Any) -> str:
    return answer.get_data(as_text=True)


def alert(answer: Any) -> str:
    found = re.search(r'class="error"[^>]*role="alert">([^<]*)<', text(answer))
    assert found, f"no error message on the page ({answer.status_code})"
    return found.group(1)


def buy_form(client: Any, **fields: str) -> Any:
    data = {"csrf_token": csrf_token(client, "/purchases/new"), "lines": "1",
            "grower_name": "Giàng Thị Mỷ", "p1": str(TOMATO), "q1": "12,5", "c1": "10.000",
            "method": "cash", "action": "save", **fields}
    return client.post("/purchases/new", data=data)


def stock_of(conn: Any, product_id: int) -> int | None:
    row = conn.execute("SELECT on_hand_milli FROM stock WHERE product_id = ? AND tracked = 1",
                       (product_id,)).fetchone()
    return None if row is None else row[0]


def test_a_helper_buys_12_5_kg_for_cash_on_the_page_and_sees_the_purchase(helper, conn):
    answer = buy_form(helper)
    assert answer.status_code == 302, alert(answer)
    assert answer.headers["Location"].endswith("/purchases/1")
    row = conn.execute("SELECT total, cash, qr, bought_by FROM purchases").fetchone()
    assert tuple(row) == (125000, 125000, 0, "helper")
    assert stock_of(conn, TOMATO) == 12500
    page = text(helper.get("/purchases/1"))
    assert "Giàng Thị Mỷ" in page and "125.000" in page and "12,5 kg" in page
    assert "Đã lưu phiếu nhập số 1: 125.000 ₫." in page     # the flash, in Vietnamese
    listing = text(helper.get("/purchases/"))
    assert "#1" in listing and "Giàng Thị Mỷ" in listing


def test_a_new_product_bought_by_transfer_is_created_and_tracked(owner, conn):
    answer = buy_form(owner, p1="new", name1="Lá khôi tía", unit1="kg", price1="60.000",
                      q1="3", c1="35000", method="qr",
                      grower_id_number="001190012345", grower_phone="0912345678",
                      grower_address="Thôn Mã Hồng")
    assert answer.status_code == 302, alert(answer)
    product = conn.execute("SELECT id, price, active FROM products WHERE name = 'Lá khôi tía'"
                           ).fetchone()
    assert (product["price"], product["active"]) == (60000, 1)
    assert stock_of(conn, product["id"]) == 3000
    assert tuple(conn.execute("SELECT cash, qr FROM purchases").fetchone()) == (0, 105000)
    grower = conn.execute("SELECT id_number, phone, address FROM suppliers").fetchone()
    assert tuple(grower) == ("001190012345", "0912345678", "Thôn Mã Hồng")


@pytest.mark.parametrize(("fields", "message"), [
    ({"q1": "0"}, "Số lượng"),
    ({"c1": "0"}, ""),
    ({"q1": "-2"}, "Số lượng"),
    ({"grower_name": ""}, ""),
    ({"p1": "999"}, ""),
    ({"p1": "abc"}, "Chọn hàng ở dòng 1."),
    ({"p1": "new", "name1": "", "unit1": "kg"}, ""),
    ({"grower_id_number": "12345"}, ""),
    ({"q1": "1,2345"}, ""),
    ({"c1": "99999999999999999999"}, ""),
])
def test_a_refused_purchase_says_why_in_vietnamese_and_changes_nothing(owner, conn, fields,
                                                                        message):
    before = snapshot(conn)
    answer = buy_form(owner, **fields)
    assert 400 <= answer.status_code < 500
    said = alert(answer)
    assert said and message in said
    assert re.search(r"[àáảãạăâđêôơưẠ-ỹ]", said), f"not Vietnamese: {said}"
    assert "Traceback" not in text(answer)
    assert snapshot(conn) == before
    # What she typed stays on the page to be put right.
    assert 'value="Giàng Thị Mỷ"' in text(answer) or fields.get("grower_name") == ""


def test_another_item_adds_a_line_and_keeps_what_was_typed(owner, conn):
    answer = buy_form(owner, action="add")
    assert answer.status_code == 200
    page = text(answer)
    assert 'name="p2"' in page and 'value="12,5"' in page
    assert conn.execute("SELECT COUNT(*) FROM purchases").fetchone()[0] == 0
    answer = buy_form(owner, lines="2", p2=str(GINGER), q2="2", c2="30000")
    assert answer.status_code == 302, alert(answer)
    assert conn.execute("SELECT total FROM purchases").fetchone()[0] == 125000 + 60000
    assert stock_of(conn, GINGER) == 2000


def test_a_known_growers_chip_fills_her_details(owner, conn):
    assert buy_form(owner, grower_address="Bản Phố").status_code == 302
    page = text(owner.get("/purchases/new"))
    grower_id = re.search(r'href="/purchases/new\?grower=(\d+)">Giàng Thị Mỷ<', page).group(1)
    filled = text(owner.get(f"/purchases/new?grower={grower_id}"))
    assert 'value="Giàng Thị Mỷ"' in filled and 'value="Bản Phố"' in filled
    assert owner.get("/purchases/new?grower=99999").status_code == 200   # unknown: empty form


def test_the_count_page_sets_the_stock_and_refuses_an_empty_count(owner, helper, conn):
    assert buy_form(owner).status_code == 302
    page = text(owner.get("/stock/count"))
    assert "12,5" in page
    before = snapshot(conn)
    token = csrf_token(owner, "/stock/count")
    empty = owner.post("/stock/count", data={"csrf_token": token, "reason": "Hư hỏng"})
    assert empty.status_code == 400 and "Cân hay đếm" in alert(empty)
    no_reason = owner.post("/stock/count", data={"csrf_token": token, f"n{TOMATO}": "11"})
    assert no_reason.status_code == 400
    assert snapshot(conn) == before
    done = owner.post("/stock/count", data={"csrf_token": token, f"n{TOMATO}": "11,75",
                                             f"n{GINGER}": "0", "reason": "Hư hỏng"})
    assert done.status_code == 302
    assert (stock_of(conn, TOMATO), stock_of(conn, GINGER)) == (11750, 0)
    row = conn.execute("SELECT before_milli, counted_milli, reason FROM stock_counts"
                       " WHERE product_id = ?", (TOMATO,)).fetchone()
    assert tuple(row) == (12500, 11750, "Hư hỏng")
    # The helper sees the stock but does not count it.
    assert helper.get("/stock/").status_code == 200
    assert "count-stock" not in text(helper.get("/stock/"))
    assert helper.get("/stock/count").status_code != 200


def test_the_low_stock_threshold_set_on_the_product_form_marks_the_stock_and_the_tile(
        owner, conn):
    form = {"csrf_token": csrf_token(owner, f"/products/{TOMATO}"), "name": "Cà chua",
            "unit": "kg", "price": "25.000", "category": "Rau", "active": "1",
            "low_stock": "13,5"}
    assert owner.post(f"/products/{TOMATO}", data=form).status_code == 302
    assert conn.execute("SELECT tracked, low_milli FROM stock WHERE product_id = ?",
                        (TOMATO,)).fetchone()[:] == (0, 13500)       # kept before tracking
    assert "Sắp hết" not in text(owner.get("/stock/"))
    assert buy_form(owner).status_code == 302                          # 12,5 ≤ 13,5: low
    assert "Sắp hết" in text(owner.get("/stock/"))
    tile = re.search(r'<button class="tile" data-id="8"[^>]*>.*?</button>',
                     text(owner.get("/")), re.S).group(0)
    assert 'data-stock="12500"' in tile and "tile-stock low" in tile and "Còn 12,5" in tile
    # The form shows the threshold back, and clearing it clears the warning.
    assert 'value="13,5"' in text(owner.get(f"/products/{TOMATO}"))
    assert owner.post(f"/products/{TOMATO}", data={**form, "low_stock": ""}).status_code == 302
    assert "Sắp hết" not in text(owner.get("/stock/"))
    bad = owner.post(f"/products/{TOMATO}", data={**form, "low_stock": "-1"})
    assert bad.status_code == 400


def test_selling_more_than_the_stock_is_recorded_and_marked_short(owner, api, conn):
    assert buy_form(owner, q1="1").status_code == 302
    answer = api.post("/api/sales", json={"lines": [{"product_id": TOMATO, "quantity": "1.5"}],
                                          "payments": [{"method": "cash", "amount": 37500}]})
    assert answer.status_code == 201
    assert stock_of(conn, TOMATO) == -500
    page = text(owner.get("/stock/"))
    assert "−0,5" in page and "Âm kho: kiểm lại" in page
    assert "tile-stock short" in text(owner.get("/"))


def test_the_slip_opens_as_a_pdf_without_a_printer_and_is_queued_with_one(owner, conn):
    assert buy_form(owner).status_code == 302
    token = csrf_token(owner, "/purchases/1")
    view = owner.post("/purchases/1/print", data={"csrf_token": token})
    assert view.status_code == 200 and "/api/purchases/1/slip.pdf" in text(view)
    PrinterConfig.save(conn, {"backend": "escpos-net", "host": "127.0.0.1"})
    queued = owner.post("/purchases/1/print", data={"csrf_token": token})
    assert queued.status_code == 302
    job = conn.execute("SELECT kind, ref FROM print_jobs").fetchone()
    assert tuple(job) == ("report", printouts.PURCHASE_PREFIX + "1")
    document = printouts.job_document(conn, "report", job["ref"], copy=False, lang="vi",
                                      paper="58")
    assert "PHIẾU THU MUA" in " ".join(str(getattr(b, "text", "")) for b in document.blocks)
    assert owner.post("/purchases/99/print", data={"csrf_token": token}).status_code == 404


def test_the_x_report_shows_the_purchases_and_the_cash_paid_out_on_screen_and_paper(
        owner, conn, tmp_path):
    assert buy_form(owner).status_code == 302                                  # 125.000 cash
    assert buy_form(owner, q1="2", c1="20000", method="qr").status_code == 302  # 40.000 transfer
    page = text(owner.get("/day/x"))
    assert 'id="x-purchases"' in page and "Thu mua từ người trồng (2)" in page
    assert "165.000" in page and 'id="x-purchases-cash"' in page
    day = current_business_day(conn, utc_timestamp())
    report = daybook.day_report(conn, day)
    assert report["cash_drawer"]["purchases_cash"] == 125000
    assert report["cash_drawer"]["expected"] == report["cash_drawer"]["opening_float"] - 125000
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext is not installed (apt-get install poppler-utils)")
    from pos.paper import render_pdf
    pdf = tmp_path / "x.pdf"
    pdf.write_bytes(render_pdf(reports.report_document(report, settings.stall_settings(conn)),
                               "80", None))
    paper = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                           text=True, check=True).stdout
    assert re.search(r"Thu mua từ người trồng \(2\)\s+165\.000", paper), paper
    assert re.search(r"− Trả người trồng tiền mặt\s+125\.000", paper), paper
