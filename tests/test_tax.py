"""Tax-ready stalls (pos/tax): settings, MTT codes on sales, corrections, thresholds, estimates,
the tax pages and the home-screen banner. Books: test_tax_books.py; XML: test_tax_xml.py;
the counter under SIGKILL and shared ranges: test_tax_counter.py."""
from __future__ import annotations

import re
import sqlite3
import subprocess

import pytest

from pos import db
from sync.invoice_xml import lookup_qr
from sync.localtime import to_local, today
from pos.tax import invoices, mtt, rates, thresholds
from pos.tax import settings as tax_settings
from sync.amount_words import amount_in_words
from tests.test_api import schema_of, snapshot
from tests.test_receipts import OUTPUT

REGISTRATION = {"mode": "mtt", "tax_code": "0101234567", "invoice_form": 2, "symbol": "C26MAB",
                "mtt_range": "A1B2C"}
SALE = {"lines": [{"name": "Chè Shan tuyết", "unit_price": 120000, "quantity": "2"},
                  {"product_id": 1, "quantity": "0.5"}],
        "payments": [{"method": "cash", "amount": 300000}]}


def sale_body(total_lines=SALE["lines"], **extra):
    return {"lines": total_lines, "payments": [{"method": "qr", "amount": 1}], **extra}


def sell(api, body=None, **extra):
    """Record a sale whose payment matches whatever its lines cost."""
    body = dict(body or {"lines": [{"name": "Rau cải mèo", "unit_price": 15000,
                                    "quantity": "2"}]}, **extra)
    body["payments"] = [{"method": "cash", "amount": 10**12}]
    refused = api.post("/api/sales", json=body).get_json()
    total = int(refused["error"]["message"].split("(")[2].split(" ")[0].replace(".", ""))
    body["payments"] = [{"method": "cash", "amount": total}]
    answer = api.post("/api/sales", json=body)
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()


@pytest.fixture
def mtt_api(api):
    answer = api.patch("/api/settings", json={"tax": REGISTRATION})
    assert answer.status_code == 200, answer.get_json()
    return api


# --- amounts in words ----------------------------------------------------------------------------

@pytest.mark.parametrize("amount, words", [
    (0, "Không đồng"),
    (1, "Một đồng"),
    (10, "Mười đồng"),
    (15, "Mười lăm đồng"),
    (21, "Hai mươi mốt đồng"),
    (101, "Một trăm linh một đồng"),
    (1_000_005, "Một triệu không trăm linh năm đồng"),
    (397_500, "Ba trăm chín mươi bảy nghìn năm trăm đồng"),
    (999_999_999_999, "Chín trăm chín mươi chín tỷ chín trăm chín mươi chín triệu chín trăm"
                      " chín mươi chín nghìn chín trăm chín mươi chín đồng"),
    (25, "Hai mươi lăm đồng"),
    (110, "Một trăm mười đồng"),
    (1_000_000_000, "Một tỷ đồng"),
    (1_000_000_000_000, "Một nghìn tỷ đồng"),
    (2_000_001_000, "Hai tỷ không trăm linh một nghìn đồng"),
    (-20_000, "Âm hai mươi nghìn đồng"),
])
def test_amount_in_words(amount, words):
    assert amount_in_words(amount) == words


@pytest.mark.parametrize("bad", [1.5, "10", True, None])
def test_amount_in_words_refuses_non_integers(bad):
    with pytest.raises(ValueError):
        amount_in_words(bad)


# --- the MTT code --------------------------------------------------------------------------------

def test_code_format_and_parts():
    code = mtt.format_code(2, 2026, "A1B2C", 0, 1234567)
    assert code == "M2-26-A1B2C-00001234567" and len(code) == 23
    parts = mtt.parse_code(code)
    assert (parts.form, parts.year, parts.mtt_range, parts.block, parts.number) == \
        (2, 2026, "A1B2C", 0, 1234567)
    assert str(mtt.parse_code("M1-27-ZZ999-07000000042")) == "M1-27-ZZ999-07000000042"
    for bad in ("M2-26-A1B2C-0000123456", "M7-26-A1B2C-00001234567", "m2-26-a1b2c-00001234567",
                "M2-2026-A1B2C-00001234567", "M2-26-A1B2-000012345678"):
        with pytest.raises(ValueError):
            mtt.parse_code(bad)
    assert mtt.symbol_for_year("C25MAB", 2026) == "C26MAB"


# --- settings ------------------------------------------------------------------------------------

def test_settings_have_a_tax_object(api):
    body = api.get("/api/settings").get_json()
    schema_of("Settings").validate(body)
    assert body["tax"]["mode"] == "receipt"
    assert set(body["tax"]) >= {"tax_code", "invoice_form", "symbol", "mtt_range",
                                "location_code", "mode"}


def test_switching_to_mtt_saves_the_registration(mtt_api):
    body = mtt_api.get("/api/settings").get_json()
    schema_of("Settings").validate(body)
    assert body["tax"] | REGISTRATION == body["tax"]
    assert body["tax_code"] == "0101234567"     # one copy: the stall's tax code


@pytest.mark.parametrize("tax, field, code", [
    ({"mode": "mtt"}, "tax.tax_code", "registration_incomplete"),
    ({"mode": "mtt", "tax_code": "0101234567", "symbol": "C26MAB"}, "tax.mtt_range",
     "registration_incomplete"),
    ({"symbol": "K26MAB"}, "tax.symbol", "invalid_input"),
    ({"symbol": "C26TAB"}, "tax.symbol", "invalid_input"),
    ({"mtt_range": "A1B2"}, "tax.mtt_range", "invalid_input"),
    ({"invoice_form": 3}, "tax.invoice_form", "invalid_input"),
    ({"invoice_form": "2x"}, "tax.invoice_form", "invalid_input"),
    ({"device_block": 100}, "tax.device_block", "invalid_input"),
    ({"mode": "vat"}, "tax.mode", "invalid_input"),
    ({"send_deadline": "25:00"}, "tax.send_deadline", "invalid_input"),
    ({"tax_code": "12345"}, "tax.tax_code", "invalid_input"),
    ({"default_group": "fishing"}, "tax.default_group", "invalid_input"),
    ({"colour": "red"}, "tax.colour", "invalid_input"),
    ("mtt", "tax", "invalid_input"),
])
def test_bad_tax_settings_are_refused_and_change_nothing(api, conn, tax, field, code):
    before = snapshot(conn)
    answer = api.patch("/api/settings", json={"tax": tax, "vendor_name": "Bà Lan"})
    assert answer.status_code == 400
    error = answer.get_json()["error"]
    assert (error["field"], error["code"]) == (field, code)
    assert error["message"]
    assert snapshot(conn) == before


def test_clearing_the_tax_code_in_mtt_mode_is_refused(mtt_api):
    answer = mtt_api.patch("/api/settings", json={"tax_code": ""})
    assert answer.status_code == 400
    assert answer.get_json()["error"]["code"] == "registration_incomplete"


# --- sales and their invoice codes ---------------------------------------------------------------

def test_receipt_mode_sales_have_no_invoice(api, conn):
    sale = api.post("/api/sales", json=SALE).get_json()
    assert sale["invoice_code"] is None
    assert api.get(f"/api/sales/{sale['id']}/invoice.xml").status_code == 404
    assert conn.execute("SELECT COUNT(*) FROM tax_invoices").fetchone()[0] == 0


def test_mtt_sales_carry_gap_free_codes(mtt_api, conn):
    codes = [mtt_api.post("/api/sales", json=SALE).get_json()["invoice_code"] for _ in range(3)]
    year = today()[2:4]
    assert codes == [f"M2-{year}-A1B2C-0000000000{n}" for n in (1, 2, 3)]
    sale_id = conn.execute("SELECT id FROM sales ORDER BY seq DESC").fetchone()[0]
    fetched = mtt_api.get(f"/api/sales/{sale_id}").get_json()
    schema_of("Sale").validate(fetched)
    assert fetched["invoice_code"] == codes[-1]
    listed = mtt_api.get("/api/sales?since_seq=0").get_json()["sales"]
    assert [s["invoice_code"] for s in listed] == codes
    # the code is in the sale's own journal entry: immutable with it
    payload = conn.execute("SELECT payload FROM journal WHERE id = ?", (sale_id,)).fetchone()[0]
    assert codes[-1] in payload
    xml = mtt_api.get(f"/api/sales/{sale_id}/invoice.xml")
    assert xml.status_code == 200 and xml.mimetype == "application/xml"
    assert f"<MCCQT>{codes[-1]}</MCCQT>".encode() in xml.data


def test_device_block_goes_into_the_code(mtt_api):
    assert mtt_api.patch("/api/settings", json={"tax": {"device_block": 7}}).status_code == 200
    code = mtt_api.post("/api/sales", json=SALE).get_json()["invoice_code"]
    assert code.endswith("-07000000001")


def test_buyer_on_an_mtt_invoice(mtt_api, conn):
    body = {**SALE, "buyer": {"tax_code": "0309876543", "name": "Công ty TNHH Sen Vàng"}}
    sale = mtt_api.post("/api/sales", json=body).get_json()
    # the answer is made from the entry just written; reading the sale back gives the same
    assert sale["invoice_code"] and mtt_api.get(f"/api/sales/{sale['id']}").get_json() == sale
    xml = mtt_api.get(f"/api/sales/{sale['id']}/invoice.xml").get_data(as_text=True)
    assert "<MST>0309876543</MST>" in xml and "Công ty TNHH Sen Vàng" in xml


@pytest.mark.parametrize("buyer, field", [
    ({}, "buyer"), ({"tax_code": "12"}, "buyer.tax_code"), ({"id_number": "12345"},
                                                              "buyer.id_number"),
    ({"tax_code": "0309876543", "email": "x@y"}, "buyer.email"), ("0309876543", "buyer"),
])
def test_bad_buyer_is_refused_and_uses_no_number(mtt_api, conn, buyer, field):
    before = snapshot(conn)
    answer = mtt_api.post("/api/sales", json={**SALE, "buyer": buyer})
    assert answer.status_code == 400
    assert answer.get_json()["error"]["field"] == field
    assert snapshot(conn) == before
    assert mtt_api.post("/api/sales", json=SALE).get_json()["invoice_code"].endswith("-00000000001")


def test_buyer_is_refused_on_a_plain_receipt(api, conn):
    before = snapshot(conn)
    answer = api.post("/api/sales", json={**SALE, "buyer": {"tax_code": "0309876543"}})
    assert answer.status_code == 400
    assert answer.get_json()["error"]["code"] == "not_mtt"
    assert snapshot(conn) == before


def test_the_database_refuses_a_gap_a_reuse_and_an_edit(mtt_api, conn):
    mtt_api.post("/api/sales", json=SALE)
    row = dict(conn.execute("SELECT * FROM tax_invoices").fetchone())
    with pytest.raises(sqlite3.IntegrityError, match="immutable"):
        conn.execute("UPDATE tax_invoices SET total = 1")
    with pytest.raises(sqlite3.IntegrityError, match="cannot be deleted"):
        conn.execute("DELETE FROM tax_invoices")
    for number in (1, 3):   # a reuse, then a gap
        code = mtt.format_code(2, row["year"], "A1B2C", 0, number)
        with pytest.raises(sqlite3.IntegrityError):
            conn.execute("INSERT INTO tax_invoices (code, seq, sale_id, kind, form, symbol,"
                         " mtt_range, year, block, number, business_day, total, at)"
                         " VALUES (?, 1, 'x', 'original', 2, 'C26MAB', 'A1B2C', ?, 0, ?,"
                         " '2026-01-01', 1, 'x')", (code, row["year"], number))


def test_the_year_comes_from_the_date_of_issue_and_restarts_the_count(mtt_api, conn):
    mtt_api.post("/api/sales", json=SALE)
    with db.write_transaction(conn):   # 1 January 2031, 00:30 in Vietnam
        fields = invoices.fields_for_sale(conn, "2031-01-01", [], 0, at="2030-12-31T17:30:00.000Z")
    assert fields["invoice"]["code"] == "M2-31-A1B2C-00000000001"
    assert fields["invoice"]["symbol"] == "C31MAB"
    with db.write_transaction(conn):   # 31 December 2030, 23:30, the day closed: business day 2031
        fields = invoices.fields_for_sale(conn, "2031-01-01", [], 0, at="2030-12-31T16:30:00.000Z")
    assert fields["invoice"]["code"] == "M2-30-A1B2C-00000000001"
    assert fields["invoice"]["symbol"] == "C30MAB"


def test_product_tax_groups_travel_with_the_sale(api, conn):
    invoices.set_product_tax(conn, 1, "services", "KCT")
    sale = api.post("/api/sales", json=SALE).get_json()
    payload = conn.execute("SELECT payload FROM journal WHERE id = ?", (sale["id"],)).fetchone()[0]
    assert '"tax_lines":[{"group":"goods","vat":"applies"},{"group":"services","vat":"KCT"}]' \
        in payload
    with pytest.raises(Exception):
        invoices.set_product_tax(conn, 1, "fishing", "KCT")


# --- corrections ---------------------------------------------------------------------------------

def test_adjustment_references_the_original(mtt_api, owner, conn):
    sale = mtt_api.post("/api/sales", json=SALE).get_json()
    original = sale["invoice_code"]
    from tests.conftest import csrf_token
    token = csrf_token(owner, "/tax/")
    answer = owner.post(f"/tax/invoices/{original}/correct", headers={"X-CSRFToken": token},
                        json={"type": "adjustment", "reason": "Cân thiếu",
                              "lines": [{"name": "Giảm giá Chè Shan tuyết", "amount": -20000}]})
    assert answer.status_code == 201, answer.get_json()
    adjusted = answer.get_json()
    assert adjusted["related_code"] == original and adjusted["kind"] == "adjustment"
    assert adjusted["total"] == -20000
    assert adjusted["code"].endswith("-00000000002")        # the same gap-free counter
    xml = owner.get(f"/tax/invoices/{adjusted['code']}.xml").get_data(as_text=True)
    assert "<TCHDon>2</TCHDon>" in xml and "<KHHDCLQuan>C" in xml and original in xml
    # the original is untouched, and still its sale's invoice
    assert mtt_api.get(f"/api/sales/{sale['id']}").get_json()["invoice_code"] == original
    page = owner.get(f"/tax/invoices/{original}").get_data(as_text=True)
    assert adjusted["code"] in page


def test_replacement_once_and_refusals(mtt_api, owner, conn, app):
    original = mtt_api.post("/api/sales", json=SALE).get_json()["invoice_code"]
    device = app.config["DEVICE_ID"]
    replaced = invoices.issue_correction(conn, device, original, {
        "type": "replacement", "reason": "Sai mã số thuế người mua",
        "buyer": {"tax_code": "0309876543"},
        "lines": [{"name": "Chè Shan tuyết", "unit": "kg", "quantity": "2",
                   "unit_price": 150000}]}, "owner")
    assert replaced["kind"] == "replacement" and replaced["total"] == 300000
    assert replaced["payload"]["delta"] == 0
    before = snapshot(conn)
    from sync.errors import Conflict, InvalidInput
    with pytest.raises(Conflict):
        invoices.issue_correction(conn, device, original, {
            "type": "replacement", "reason": "lại", "lines": [{"name": "x", "quantity": "1",
                                                               "unit_price": 1}]}, "owner")
    with pytest.raises(InvalidInput):
        invoices.issue_correction(conn, device, original, {
            "type": "adjustment", "reason": "quá", "lines": [{"name": "x", "amount": -300001}]},
            "owner")
    for bad in ({"type": "cancel", "reason": "x", "lines": []},
                {"type": "adjustment", "reason": "", "lines": [{"name": "x", "amount": 1}]},
                {"type": "adjustment", "reason": "x", "lines": [{"name": "x", "amount": 0}]},
                {"type": "adjustment", "reason": "x", "lines": [{"name": "x", "amount": 1.5}]}):
        with pytest.raises(InvalidInput):
            invoices.issue_correction(conn, device, original, bad, "owner")
    assert snapshot(conn) == before


def test_correction_form_on_the_invoice_page(mtt_api, owner, conn):
    original = mtt_api.post("/api/sales", json=SALE).get_json()["invoice_code"]
    from tests.conftest import csrf_token
    token = csrf_token(owner, f"/tax/invoices/{original}")
    bad = owner.post(f"/tax/invoices/{original}/correct",
                     data={"csrf_token": token, "reason": "x", "amount": "mười"})
    assert bad.status_code == 400 and "đồng" in bad.get_data(as_text=True)
    good = owner.post(f"/tax/invoices/{original}/correct",
                      data={"csrf_token": token, "reason": "Khách trả lại", "amount": "-300.000"})
    assert good.status_code == 302
    assert conn.execute("SELECT total FROM tax_invoices WHERE kind = 'adjustment'").fetchone()[0] \
        == -300000


def test_helper_cannot_correct(mtt_api, helper):
    original = mtt_api.post("/api/sales", json=SALE).get_json()["invoice_code"]
    from tests.conftest import csrf_token
    answer = helper.post(f"/tax/invoices/{original}/correct",
                         data={"csrf_token": csrf_token(helper, "/tax/"), "reason": "x",
                               "amount": "-1"})
    assert answer.status_code == 302 and "/owner" in answer.headers["Location"]


# --- printed e-invoice ---------------------------------------------------------------------------

def mtt_receipt(mtt_api, tmp_path, width, lang="vi"):
    """An MTT sale with a buyer who asked for her name and ID number, its printed invoice read
    back with pdftotext, and a PNG of it (pdftoppm -r 200) in test-output/receipts/."""
    buyer = {"name": "Trần Văn Nam", "id_number": "001204012345"}
    sale = mtt_api.post("/api/sales", json={**SALE, "buyer": buyer}).get_json()
    pdf = mtt_api.get(f"/api/sales/{sale['id']}/receipt.pdf?width={width}&lang={lang}")
    assert pdf.status_code == 200
    path = tmp_path / f"mtt-{width}-{lang}.pdf"
    path.write_bytes(pdf.data)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                          text=True, check=True).stdout
    OUTPUT.mkdir(parents=True, exist_ok=True)
    subprocess.run(["pdftoppm", "-png", "-r", "200", "-singlefile", str(path),
                    str(OUTPUT / f"mtt-e-invoice-{width}mm-{lang}")], check=True)
    return sale, path, text


@pytest.mark.parametrize("width", ["58", "80"])
def test_the_receipt_of_an_mtt_sale_is_the_e_invoice(mtt_api, conn, tmp_path, width):
    """What the paper of an invoice from a cash register shows: Decree 123/2020 Art. 11 as
    replaced by Decree 70/2025 Art. 1 cl. 8 (seller; buyer when she asks; goods, unit price,
    quantity, amount; time of issue; the tax authority's code or the data to look it up;
    recognisable as printed from a cash register), Circular 78/2021 Art. 4 (form and symbol)
    and Art. 8 cl. 3, Decree 123 Art. 10 cl. 6 d (the total in words). The code on one line."""
    sale, path, text = mtt_receipt(mtt_api, tmp_path, width)
    flat = " ".join(text.split())
    lines = [line.strip() for line in text.splitlines()]
    invoice = invoices.get_invoice(conn, sale["invoice_code"])
    issued = to_local(invoice["at"])
    symbol = f'C{sale["invoice_code"][3:5]}MAB'   # the year of issue, not the year set up
    for expected in ("Sạp bà Hoa", "Nguyễn Thị Hoa", "Sạp A12, Chợ Bắc Hà, Xã Bắc Hà, Lào Cai",
                     "MST: 0101234567",                                   # the seller
                     "HÓA ĐƠN BÁN HÀNG", "(Khởi tạo từ máy tính tiền)",     # from a cash register
                     f"Mẫu số: 2 · Ký hiệu: {symbol}", "Số: 00000001",      # form, symbol, number
                     f"Thời điểm lập: {issued.strftime('%d/%m/%Y %H:%M:%S')}",
                     "Người mua: Trần Văn Nam", "Số định danh người mua: 001204012345",
                     "Chè Shan tuyết", "2 cái × 120.000 ₫ 240.000 ₫",      # goods, quantity,
                     "Chè Shan tuyết Bắc Hà", "0,5 gói × 120.000 ₫ 60.000 ₫",  # price, amount
                     "TỔNG CỘNG 300.000 ₫", "Bằng chữ: Ba trăm nghìn đồng",
                     "Mã của cơ quan thuế:", "Tra cứu hóa đơn tại hoadondientu.gdt.gov.vn"):
        assert expected in flat, expected
    assert sale["invoice_code"] in lines            # whole, on a line of its own
    assert lines[lines.index(sale["invoice_code"]) - 1] == "Mã của cơ quan thuế:"
    png = OUTPUT / f"mtt-e-invoice-{width}mm-vi.png"
    decoded = subprocess.run(["zbarimg", "--raw", "-q", str(png)], capture_output=True,
                             text=True).stdout.splitlines()
    assert decoded == [lookup_qr(invoice["payload"]["invoice"], issued.date().isoformat(),
                                 invoice["payload"]["total"])]


def invoice_paper(owner, code, tmp_path, width, name):
    """An invoice's paper (/tax/invoices/<code>.pdf) read back with pdftotext, and its PNG."""
    pdf = owner.get(f"/tax/invoices/{code}.pdf?width={width}")
    assert pdf.status_code == 200
    path = tmp_path / f"{name}-{width}.pdf"
    path.write_bytes(pdf.data)
    OUTPUT.mkdir(parents=True, exist_ok=True)
    subprocess.run(["pdftoppm", "-png", "-r", "200", "-singlefile", str(path),
                    str(OUTPUT / f"{name}-{width}mm")], check=True)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                          text=True, check=True).stdout
    return " ".join(text.split())


@pytest.mark.parametrize("width", ["58", "80"])
def test_a_refunds_adjustment_invoice_shows_the_goods_given_back(mtt_api, owner, tmp_path,
                                                                 width):
    """The paper of a refund's adjustment invoice shows the quantity and unit price of the
    goods given back, signed as its XML's SLuong (-0,5 kg), and the amount; an adjustment of
    value alone (the owner's, or an entry written before lines carried goods) shows its name and
    amount only."""
    sale = mtt_api.post("/api/sales", json={
        "lines": [{"name": "Tôm khô", "unit": "kg", "unit_price": 900000, "quantity": "1.5"}],
        "payments": [{"method": "cash", "amount": 1350000}]}).get_json()
    refund = mtt_api.post(f"/api/sales/{sale['id']}/refund", json={
        "lines": [{"line": 1, "quantity": "0.5"}], "payments": [{"method": "cash"}],
        "reason": "Tôm bị ẩm"}).get_json()
    flat = invoice_paper(owner, refund["invoice_code"], tmp_path, width, "mtt-refund-adjustment")
    for expected in ("HÓA ĐƠN ĐIỀU CHỈNH", "Lý do: Tôm bị ẩm", "Trả lại Tôm khô",
                     "-0,5 kg × 900.000 ₫ -450.000 ₫", "TỔNG CỘNG -450.000 ₫",
                     "Bằng chữ: Âm bốn trăm năm mươi nghìn đồng"):
        assert expected in flat, (expected, flat)
    assert "0.5" not in flat and "lần" not in flat
    from tests.conftest import csrf_token
    answer = owner.post(f"/tax/invoices/{sale['invoice_code']}/correct",
                        headers={"X-CSRFToken": csrf_token(owner, "/tax/")},
                        json={"type": "adjustment", "reason": "Cân thiếu",
                              "lines": [{"name": "Giảm giá Tôm khô", "amount": -20000}]})
    assert answer.status_code == 201, answer.get_json()
    flat = invoice_paper(owner, answer.get_json()["code"], tmp_path, width, "mtt-adjustment")
    assert "Giảm giá Tôm khô -20.000 ₫" in flat and "×" not in flat


def word_heights(path, words):
    """The height of each of `words` as pdftotext -bbox finds it first: the size it is set in."""
    html = subprocess.run(["pdftotext", "-bbox", str(path), "-"], capture_output=True,
                          text=True, check=True).stdout
    found = {}
    for y_min, y_max, word in re.findall(r'yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)">'
                                         r"([^<]+)</word>", html):
        found.setdefault(word, float(y_max) - float(y_min))
    return [found[word] for word in words]


def test_an_english_copy_of_the_e_invoice_is_vietnamese_with_the_english_below(mtt_api,
                                                                              tmp_path):
    """Decree 123/2020 Art. 10 cl. 13: an invoice is written in Vietnamese; foreign words go
    just below, in smaller type. And numbers keep one set of separators (cl. 13 b): "0,5 gói ×
    120.000 ₫", not "0.5 gói × 120.000 ₫"."""
    sale, path, text = mtt_receipt(mtt_api, tmp_path, "80", lang="en")
    lines = [" ".join(line.split()) for line in text.splitlines() if line.strip()]
    symbol = f'C{sale["invoice_code"][3:5]}MAB'   # the year of issue, not the year set up
    for vietnamese, english in (("HÓA ĐƠN BÁN HÀNG", "SALES INVOICE"),
                                ("(Khởi tạo từ máy tính tiền)", "(generated from a cash register)"),
                                ("MST: 0101234567", "Tax code (MST)"),
                                (f"Mẫu số: 2 · Ký hiệu: {symbol}", "Form · Symbol"),
                                ("Người mua: Trần Văn Nam", "Buyer"),
                                ("TỔNG CỘNG 300.000 ₫", "TOTAL"),
                                ("Tiền mặt 300.000 ₫", "Cash"),
                                ("Mã của cơ quan thuế:", "Tax authority code:"),
                                ("Cảm ơn quý khách!", "Thank you!")):
        assert lines[lines.index(vietnamese) + 1] == english, vietnamese
    assert sale["invoice_code"] in lines
    flat = " ".join(lines)
    assert "0,5 gói × 120.000 ₫" in flat and "0.5 gói" not in flat
    assert "Bằng chữ: Ba trăm nghìn đồng" in flat
    hoa, total, sales_, total_en = word_heights(path, ["HÓA", "TỔNG", "SALES", "TOTAL"])
    assert sales_ < hoa and total_en < total


# --- thresholds and the estimate -----------------------------------------------------------------

def big_sale(api, amount):
    return api.post("/api/sales", json={"lines": [{"name": "Gạo nếp", "unit_price": amount,
                                                    "quantity": "1"}],
                                         "payments": [{"method": "qr", "amount": amount}]})


def codes(conn):
    ts = tax_settings.load(conn)
    return [(w.code, w.level) for w in thresholds.warnings(conn, ts, today())]


def test_threshold_warnings_as_revenue_grows(api, conn):
    assert codes(conn) == []
    big_sale(api, 449_000_000)
    assert codes(conn) == []
    big_sale(api, 1_000_000)                     # 450 million: 90 % of 500 million
    assert codes(conn) == [("tax_near", "info")]
    big_sale(api, 50_000_001)
    assert codes(conn) == [("tax_due", "alert")]
    big_sale(api, 399_999_999)                   # 900 million: 90 % of 1 billion
    assert codes(conn) == [("mtt_near", "info"), ("tax_due", "alert")]
    big_sale(api, 100_000_001)
    found = thresholds.warnings(conn, tax_settings.load(conn), today())
    assert [w.code for w in found] == ["mtt_required", "tax_due"]
    assert found[0].values["deadline"] > today()          # within 30 days of crossing
    assert thresholds.year_revenue(conn, int(today()[:4])) == 1_000_000_001


def test_voids_lower_the_year(api, conn):
    sale = big_sale(api, 460_000_000).get_json()
    assert codes(conn) == [("tax_near", "info")]
    assert api.post(f"/api/sales/{sale['id']}/void", json={"reason": "nhầm"}).status_code == 200
    assert codes(conn) == []


def test_estimate_from_the_dated_table():
    revenue = {("goods", "applies"): 600_000_000}
    est = rates.estimate("2026-06-30", revenue)
    assert (est.pit, est.vat_low, est.vat_high, est.vat_base_open) == \
        (500_000, 1_000_000, 6_000_000, True)
    kct = rates.estimate("2026-06-30", {("goods", "KCT"): 600_000_000})
    assert (kct.pit, kct.vat_low, kct.vat_high) == (500_000, 0, 0)
    assert rates.estimate("2026-06-30", {("goods", "applies"): 500_000_000}).pit == 0
    old = rates.estimate("2025-06-30", {("services", "applies"): 200_000_000})
    assert (old.pit, old.vat_low, old.vat_high, old.vat_base_open) == \
        (4_000_000, 10_000_000, 10_000_000, False)
    assert rates.period("2031-01-01")["exempt_up_to"] == 500_000_000
    with pytest.raises(LookupError):
        rates.period("2020-01-01")


# --- pages and the banner ------------------------------------------------------------------------

def test_tax_page_and_settings_form(owner, conn):
    page = owner.get("/tax/")
    assert page.status_code == 200 and 'id="year-revenue"' in page.get_data(as_text=True)
    from tests.conftest import csrf_token
    token = csrf_token(owner, "/tax/settings")
    bad = owner.post("/tax/settings", data={"csrf_token": token, "mode": "mtt",
                                            "tax_code": "0101234567", "symbol": "X",
                                            "mtt_range": "A1B2C"})
    assert bad.status_code == 400
    assert tax_settings.load(conn).mode == "receipt"
    good = owner.post("/tax/settings", data={"csrf_token": token, **{k: str(v) for k, v in
                                                                      REGISTRATION.items()},
                                             "device_block": "3", "send_deadline": "21:30"})
    assert good.status_code == 302
    saved = tax_settings.load(conn)
    assert (saved.mode, saved.device_block, saved.send_deadline) == ("mtt", 3, "21:30")


def test_products_tax_form(owner, conn):
    from tests.conftest import csrf_token
    token = csrf_token(owner, "/tax/products")
    answer = owner.post("/tax/products", data={"csrf_token": token, "group-1": "production",
                                               "vat-1": "KCT"})
    assert answer.status_code == 302
    assert tuple(conn.execute("SELECT tax_group, vat FROM product_tax WHERE product_id = 1")
                 .fetchone()) == ("production", "KCT")
    bad = owner.post("/tax/products", data={"csrf_token": token, "group-1": "goods",
                                            "vat-1": "applies", "group-2": "x", "vat-2": "KCT"})
    assert bad.status_code == 400
    assert tuple(conn.execute("SELECT tax_group, vat FROM product_tax WHERE product_id = 1")
                 .fetchone()) == ("production", "KCT")          # nothing of the bad form saved


def render_banner(app, owner):
    from flask import render_template
    with app.test_request_context("/"):
        return render_template("pos/_tax_banner.html")


def test_banner_warns_of_thresholds_and_unsent_invoices(app, mtt_api, conn):
    assert render_banner(app, None).strip() == ""
    big_sale(mtt_api, 460_000_000)
    html = render_banner(app, None)
    assert 'id="tax-banner"' in html and "500.000.000 ₫" in html
    # an invoice not yet at the province, and the deadline passed: a red warning
    assert mtt_api.patch("/api/settings", json={"tax": {"send_deadline": "00:00"}}).status_code \
        == 200
    html = render_banner(app, None)
    assert "level-alert" in html and "1 hóa đơn điện tử chưa đến cơ quan thuế" in html


def test_books_period_is_checked(owner):
    answer = owner.get("/tax/books/s1a.pdf?from=2026-05-01&to=2026-04-01")
    assert answer.status_code == 400
    assert owner.get("/tax/books/s9.pdf").status_code == 404


def test_tax_mode_for_the_sell_screen(app, mtt_api):
    from flask import render_template_string
    with app.test_request_context("/"):
        assert render_template_string("{{ tax_mode() }}") == "mtt"


def test_sale_invoice_code_for_the_sale_page(app, mtt_api):
    from flask import render_template_string
    sale = mtt_api.post("/api/sales", json=SALE).get_json()
    with app.test_request_context("/"):
        assert render_template_string("{{ sale_invoice_code(i) }}", i=sale["id"]) \
            == sale["invoice_code"]


def test_voided_mtt_sale_is_listed_until_adjusted(mtt_api, owner, conn, app):
    sale = mtt_api.post("/api/sales", json=SALE).get_json()
    assert mtt_api.post(f"/api/sales/{sale['id']}/void", json={"reason": "nhầm"}).status_code \
        == 200
    assert [i["code"] for i in invoices.voided_without_correction(conn)] == [sale["invoice_code"]]
    assert 'id="uncorrected"' in owner.get("/tax/").get_data(as_text=True)
    invoices.issue_correction(conn, app.config["DEVICE_ID"], sale["invoice_code"], {
        "type": "adjustment", "reason": "hủy giao dịch",
        "lines": [{"name": "Điều chỉnh về không", "amount": -sale["total"]}]}, "owner")
    assert invoices.voided_without_correction(conn) == []
    assert 'id="uncorrected"' not in owner.get("/tax/").get_data(as_text=True)
