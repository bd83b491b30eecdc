"""The sales books S1a-HKD and S2a-HKD: their totals against the journal, read back from the PDF
with pdftotext and from the CSV."""
from __future__ import annotations

import csv
import io
import json
import subprocess

from sync.localtime import format_day, today
from sync.money import format_number
from pos.tax import books, invoices, rates
from pos.tax import settings as tax_settings
from tests.test_tax import REGISTRATION


def pdf_text(data: bytes, tmp_path) -> str:
    path = tmp_path / "book.pdf"
    path.write_bytes(data)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True)
    assert "595.276 x 841.89 pts (A4)" in info.stdout
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                          text=True, check=True).stdout


def journal_revenue(conn, first, last):
    """Sales minus voids and refunds, summed from the journal's own payloads (not the
    projections)."""
    total, sale_totals = 0, {}
    for kind, raw, entry_id in conn.execute("SELECT kind, payload, id FROM journal ORDER BY seq"):
        payload = json.loads(raw)
        if not first <= payload.get("business_day", "") <= last:
            continue
        if kind == "sale":
            sale_totals[entry_id] = payload["total"]
            total += payload["total"]
        elif kind == "void":
            total -= sale_totals[payload["sale_id"]]
        elif kind == "refund":
            total -= payload["total"]
    return total


def sell(api, name, price, quantity="1"):
    amount = (int(float(quantity) * 1000) * price + 500) // 1000
    answer = api.post("/api/sales", json={"lines": [{"name": name, "unit_price": price,
                                                      "quantity": quantity}],
                                           "payments": [{"method": "cash", "amount": amount}]})
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()


def lines_of(text: str) -> list[str]:
    return [" ".join(line.split()) for line in text.splitlines() if line.strip()]


FORM_HEADING = ("Kèm theo Thông tư số 152/2025/TT-BTC", "ngày 31 tháng 12 năm 2025",
                "Bộ trưởng Bộ Tài chính")


def assert_single_signer(text: str) -> None:
    """One signer, as on the forms: the household's representative, no "NGƯỜI LẬP SỔ"."""
    flat = " ".join(text.split())
    assert "NGƯỜI ĐẠI DIỆN HỘ KINH DOANH/ CÁ NHÂN KINH DOANH" in flat
    assert "(Ký, ghi rõ họ tên, đóng dấu (nếu có))" in flat
    assert flat.count("(Ký") == 1 and flat.count("NGƯỜI ") == 1
    assert "NGƯỜI LẬP" not in flat


def test_s1a_book_totals_match_the_journal(api, owner, conn, tmp_path):
    assert api.patch("/api/settings", json={"tax": {"tax_code": "0101234567",
                                                    "location_code": "BH-01"}}).status_code == 200
    day = today()
    sold = [sell(api, "Rau cải mèo", 15000, "2"), sell(api, "Chè Shan tuyết", 397500),
            sell(api, "Tôm khô Cà Mau", 1_250_000, "0.75"), sell(api, "Mật ong", 220000)]
    assert api.post(f"/api/sales/{sold[1]['id']}/void", json={"reason": "nhầm"}).status_code \
        == 200
    expected = journal_revenue(conn, day, day)
    assert expected == 30000 + 937500 + 220000
    day_total = conn.execute("SELECT revenue FROM day_totals WHERE business_day = ?",
                             (day,)).fetchone()[0]
    assert expected == day_total                    # journal and projection agree
    book = books.build(conn, "s1a", f"{day[:4]}-01-01", day, tax_settings.load(conn))
    assert book.total == expected
    assert len(book.lines) == 1 and "(4 đơn, đơn số " in book.lines[0].description

    answer = owner.get(f"/tax/books/s1a.pdf?from={day[:4]}-01-01&to={day}")
    assert answer.status_code == 200 and answer.mimetype == "application/pdf"
    text = pdf_text(answer.data, tmp_path)
    flat = " ".join(text.split())
    # The heading: the household, its address and tax code; the form and the circular's number
    # and date; the title, the business location, the period, the unit.
    for expected_text in ("HỘ, CÁ NHÂN KINH DOANH: Nguyễn Thị Hoa",
                          "Địa chỉ: Sạp A12, Chợ Bắc Hà, Xã Bắc Hà, Lào Cai",
                          "Mã số thuế: 0101234567", "Mẫu số S1a-HKD", *FORM_HEADING,
                          "SỔ DOANH THU BÁN HÀNG HÓA, DỊCH VỤ",
                          "Địa điểm kinh doanh: Sạp A12, Chợ Bắc Hà (mã địa điểm: BH-01)",
                          "Kỳ kê khai: " + books.period_label(f"{day[:4]}-01-01", day),
                          "Đơn vị tính: đồng"):
        assert expected_text in flat, expected_text
    # Three columns, A Ngày tháng, B Diễn giải, 1 Số tiền: no document-number column.
    lines = lines_of(text)
    assert "Ngày tháng Diễn giải Số tiền" in lines and "A B 1" in lines
    assert "Số hiệu" not in flat and "chứng từ" not in flat.lower()
    day_line = next(line for line in lines if line.startswith(format_day(day)))
    assert day_line.endswith(format_number(expected)) and "Doanh thu bán hàng ngày" in day_line
    total_line = [line for line in lines if line.startswith("Tổng cộng")]
    assert total_line and total_line[0].split()[-1] == format_number(expected)
    assert_single_signer(text)

    csv_answer = owner.get(f"/tax/books/s1a.csv?from={day[:4]}-01-01&to={day}")
    rows = list(csv.reader(io.StringIO(csv_answer.data.decode("utf-8-sig"))))
    assert rows[0] == ["Ngày tháng", "Diễn giải", "Số tiền"]
    assert rows[1][0] == day and rows[-1][1] == "Tổng cộng"
    assert sum(int(r[2]) for r in rows[1:-1]) == int(rows[-1][2]) == expected


def test_an_empty_book_says_so_and_names_its_period(owner, tmp_path):
    text = pdf_text(owner.get("/tax/books/s1a.pdf?from=2026-01-01&to=2026-01-31").data, tmp_path)
    flat = " ".join(text.split())
    assert "Kỳ kê khai: Tháng 01 năm 2026" in flat
    assert "Không phát sinh doanh thu trong kỳ 0" in flat and "Tổng cộng 0" in flat
    assert_single_signer(text)
    text = pdf_text(owner.get("/tax/books/s2a.pdf?from=2026-04-01&to=2026-06-30").data, tmp_path)
    assert "Kỳ kê khai: Quý 2 năm 2026" in " ".join(text.split())


def test_period_labels():
    assert books.period_label("2026-01-01", "2026-12-31") == "Năm 2026"
    assert books.period_label("2026-10-01", "2026-12-31") == "Quý 4 năm 2026"
    assert books.period_label("2028-02-01", "2028-02-29") == "Tháng 02 năm 2028"
    assert books.period_label("2026-02-01", "2026-03-31") == \
        "Từ ngày 01/02/2026 đến ngày 31/03/2026"
    assert books.period_label("2026-01-02", "2026-01-31") == \
        "Từ ngày 02/01/2026 đến ngày 31/01/2026"


def test_empty_period_and_other_days(api, conn):
    sell(api, "Rau", 10000)
    book = books.build(conn, "s1a", "2020-01-01", "2020-12-31", tax_settings.load(conn))
    assert book.total == 0 and book.lines == []


def test_adjustments_count_voided_sales_do_not(api, conn, app):
    assert api.patch("/api/settings", json={"tax": REGISTRATION}).status_code == 200
    kept, voided = sell(api, "Chè", 300000), sell(api, "Tôm", 500000)
    device = app.config["DEVICE_ID"]
    invoices.issue_correction(conn, device, kept["invoice_code"], {
        "type": "adjustment", "reason": "giảm giá", "lines": [{"name": "Giảm", "amount": -50000}]},
        "owner")
    assert api.post(f"/api/sales/{voided['id']}/void", json={"reason": "trả hàng"}).status_code \
        == 200
    invoices.issue_correction(conn, device, voided["invoice_code"], {
        "type": "adjustment", "reason": "trả hàng",
        "lines": [{"name": "Trả hàng", "amount": -500000}]}, "owner")
    day = today()
    book = books.build(conn, "s1a", day, day, tax_settings.load(conn))
    assert book.total == 300000 - 50000
    assert [line.reference for line in book.lines][1:] == [
        conn.execute("SELECT code FROM tax_invoices WHERE related_code = ?",
                     (kept["invoice_code"],)).fetchone()[0]]


def test_s2a_book_splits_by_tax_group(api, owner, conn, tmp_path):
    invoices.set_product_tax(conn, 1, "production", "KCT")
    price = conn.execute("SELECT price FROM products WHERE id = 1").fetchone()[0]
    api.post("/api/sales", json={"lines": [{"product_id": 1, "quantity": "2"},
                                           {"name": "Rau", "unit_price": 20000,
                                            "quantity": "1"}],
                                 "payments": [{"method": "cash", "amount": 2 * price + 20000}]})
    day = today()
    book = books.build(conn, "s2a", day, day, tax_settings.load(conn))
    assert book.by_group == {"goods": 20000, "production": 2 * price}
    assert book.by_group_vat == {("goods", "applies"): 20000, ("production", "KCT"): 2 * price}
    s1a = books.build(conn, "s1a", day, day, tax_settings.load(conn))
    assert len(s1a.lines) == 1 and s1a.total == book.total     # S1a: one line a day, not a group
    text = pdf_text(owner.get(f"/tax/books/s2a.pdf?from={day}&to={day}").data, tmp_path)
    flat, lines = " ".join(text.split()), lines_of(text)
    for expected_text in ("Mẫu số S2a-HKD", *FORM_HEADING, "SỔ DOANH THU BÁN HÀNG HÓA, DỊCH VỤ",
                          "Địa điểm kinh doanh: Sạp A12, Chợ Bắc Hà",
                          f"Kỳ kê khai: Từ ngày {format_day(day)} đến ngày {format_day(day)}",
                          "1. Ngành nghề: Phân phối, cung cấp hàng hóa",
                          "2. Ngành nghề: Sản xuất, vận tải", "Thuế GTGT (1%)",
                          "Thuế TNCN (0,5%)",
                          "Thuế GTGT (không chịu thuế GTGT)", "Thuế TNCN (1,5%)",
                          "Tổng số thuế GTGT phải nộp 0", "Tổng số thuế TNCN phải nộp 0",
                          "Thuế ước tính"):
        assert expected_text in flat, expected_text
    # Chứng từ (A Số hiệu, B Ngày, tháng), C Diễn giải, 1 Số tiền
    assert "Chứng từ Diễn giải Số tiền" in flat and "Số hiệu Ngày, tháng" in flat
    assert "A B C 1" in lines
    assert f"Tổng cộng (1) {format_number(20000)}" in lines
    assert f"Tổng cộng (2) {format_number(2 * price)}" in lines
    assert f"Tổng cộng {format_number(2 * price + 20000)}" in lines
    assert_single_signer(text)
    rows = list(csv.reader(io.StringIO(owner.get(f"/tax/books/s2a.csv?from={day}&to={day}")
                                       .data.decode("utf-8-sig"))))
    assert rows[0] == ["Nhóm ngành nghề", "Số hiệu", "Ngày, tháng", "Diễn giải", "Số tiền"]
    assert int(rows[-1][4]) == 2 * price + 20000


def test_s2a_taxes_by_group_add_up_to_the_estimate(api, conn):
    """Above 500 million a year each group's VAT and PIT is printed under it; they add up to the
    estimate (pos/tax/rates.py) printed as the household's total."""
    invoices.set_product_tax(conn, 1, "production", "KCT")
    for name, price in (("Gạo nếp", 450_000_000), ("Mật ong", 123_456_789)):
        sell(api, name, price)
    price = conn.execute("SELECT price FROM products WHERE id = 1").fetchone()[0]
    sold = api.post("/api/sales", json={"lines": [{"product_id": 1, "quantity": "3"}],
                                        "payments": [{"method": "qr", "amount": 3 * price}]})
    assert sold.status_code == 201, sold.get_json()
    day = today()
    book = books.build(conn, "s2a", day, day, tax_settings.load(conn))
    taxes = books.group_taxes(book)
    estimate = rates.estimate(day, book.by_group_vat)
    assert set(taxes) == {"goods", "production"}
    assert sum(t.pit for t in taxes.values()) == estimate.pit > 0
    assert sum(t.vat_low for t in taxes.values()) == estimate.vat_low > 0
    assert sum(t.vat_high for t in taxes.values()) == estimate.vat_high
    assert taxes["production"].vat_low == taxes["production"].vat_high == 0    # KCT
    assert taxes["production"].pit > 0


def test_tax_book_command(api, app, conn, tmp_path):
    from click.testing import CliRunner
    from pos.cli import main
    sell(api, "Chè Shan tuyết", 397500)
    day = today()
    runner = CliRunner()
    out = tmp_path / "s1a.csv"
    result = runner.invoke(main, ["tax-book", "s1a", "--data", str(app.config["DATA_DIR"]),
                                  "--from", day, "--to", day, "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "397.500 đồng" in result.output
    rows = list(csv.reader(io.StringIO(out.read_text("utf-8-sig"))))
    assert rows[-1][-1] == "397500"
    bad = runner.invoke(main, ["tax-book", "s1a", "--data", str(app.config["DATA_DIR"]),
                               "--from", day, "--to", "2001-01-01", "-o", str(out)])
    assert bad.exit_code == 1 and "--from and --to" in bad.output


def test_records_are_kept_at_least_five_years(conn):
    """Circular 152/2025: books and records are kept ≥ 5 years. Nothing prunes the journal: the
    stall's triggers refuse it, and no code on either end deletes journal rows."""
    import re
    import sqlite3
    from pathlib import Path
    import pytest
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute("DELETE FROM journal WHERE seq = 1")
    root = Path(__file__).resolve().parent.parent
    pattern = re.compile(r"DELETE\s+FROM\s+(journal|tax_invoices)\b|journal\.delete\(|"
                         r"einvoice_queue\.delete\(", re.I)
    offenders = [str(p.relative_to(root)) for folder in ("pos", "sync") for p in
                 (root / folder).rglob("*.py") if pattern.search(p.read_text("utf-8"))]
    assert offenders == []


def test_a_discount_is_shared_out_over_the_groups_and_the_book_counts_what_was_paid(api, conn):
    # Circular 152/2025's books count revenue received: a haggled sale counts at its total, and a
    # discount on the whole sale is shared out over its lines' groups (sync.money.share_out).
    invoices.set_product_tax(conn, 1, "production", "KCT")
    price = conn.execute("SELECT price FROM products WHERE id = 1").fetchone()[0]
    sold = api.post("/api/sales", json={
        "lines": [{"product_id": 1, "quantity": "1", "unit_price": price - 10000},
                  {"name": "Rau", "unit_price": 30000, "quantity": "1"}],
        "discount": {"amount": 10001, "reason": "Khách quen"},
        "payments": [{"method": "cash", "amount": price + 20000 - 10001}]})
    assert sold.status_code == 201, sold.get_json()
    day = today()
    book = books.build(conn, "s2a", day, day, tax_settings.load(conn))
    assert sum(book.by_group.values()) == price + 20000 - 10001 == journal_revenue(conn, day, day)
    subtotal = price - 10000 + 30000
    goods_share = 10001 * 30000 // subtotal
    assert book.by_group["goods"] in (30000 - goods_share, 30000 - goods_share - 1)


def test_a_refund_lowers_the_book_on_its_own_day_in_its_lines_group(api, conn):
    invoices.set_product_tax(conn, 1, "production", "KCT")
    price = conn.execute("SELECT price FROM products WHERE id = 1").fetchone()[0]
    sale = api.post("/api/sales", json={
        "lines": [{"product_id": 1, "quantity": "2"},
                  {"name": "Rau", "unit_price": 20000, "quantity": "1"}],
        "payments": [{"method": "cash", "amount": 2 * price + 20000}]}).get_json()
    refund = api.post(f"/api/sales/{sale['id']}/refund", json={
        "lines": [{"line": 1, "quantity": "1"}], "payments": [{"method": "cash"}],
        "reason": "Gói bị rách"})
    assert refund.status_code == 201, refund.get_json()
    day = today()
    book = books.build(conn, "s2a", day, day, tax_settings.load(conn))
    assert book.by_group == {"goods": 20000, "production": price}
    assert book.total == price + 20000 == journal_revenue(conn, day, day)
