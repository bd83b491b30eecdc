"""The sales books S1a-HKD and S2a-HKD: their totals against the journal, read back from the PDF
with pdftotext and from the CSV."""
from __future__ import annotations

import csv
import io
import json
import subprocess

from sync.localtime import today
from sync.money import format_number
from pos.tax import books, invoices
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


def test_s1a_book_totals_match_the_journal(api, owner, conn, tmp_path):
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
    assert len(book.lines) == 1 and "(4 đơn)" in book.lines[0].description

    answer = owner.get(f"/tax/books/s1a.pdf?from={day[:4]}-01-01&to={day}")
    assert answer.status_code == 200 and answer.mimetype == "application/pdf"
    text = pdf_text(answer.data, tmp_path)
    for expected_text in ("Mẫu số S1a-HKD", "SỔ CHI TIẾT DOANH THU BÁN HÀNG HÓA, DỊCH VỤ",
                          "152/2025/TT-BTC", "Nguyễn Thị Hoa", "NGƯỜI LẬP SỔ"):
        assert expected_text in text, expected_text
    total_line = [line for line in text.splitlines() if "Tổng cộng" in line]
    assert total_line and total_line[0].split()[-1] == format_number(expected)

    csv_answer = owner.get(f"/tax/books/s1a.csv?from={day[:4]}-01-01&to={day}")
    rows = list(csv.reader(io.StringIO(csv_answer.data.decode("utf-8-sig"))))
    assert rows[0] == ["Ngày", "Số hiệu chứng từ", "Diễn giải", "Doanh thu (đồng)"]
    assert sum(int(r[3]) for r in rows[1:-1]) == int(rows[-1][3]) == expected


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
    text = pdf_text(owner.get(f"/tax/books/s2a.pdf?from={day}&to={day}").data, tmp_path)
    assert "Mẫu số S2a-HKD" in text and "Sản xuất, vận tải" in text and "TNCN 1,5%" in text
    assert "Thuế ước tính" in text
    rows = list(csv.reader(io.StringIO(owner.get(f"/tax/books/s2a.csv?from={day}&to={day}")
                                       .data.decode("utf-8-sig"))))
    assert int(rows[-1][4]) == 2 * price + 20000


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
