"""The credit book's pages (issue 18) through the Flask test client: the list of debtors and the
search, a customer's page, repayments in cash (refusals change nothing) and by a QR code (the
vendor's tap, cancelling, the bank), the owner's edit, the reminder on screen, as a PDF and in the
print queue, the sell screen's picker, a sale's page and refund, the X report on screen and on
paper, and the receipt of a credit sale.

Messages are checked in Vietnamese where the catalogue already has them; for the strings this
work added, either language passes (the Vietnamese arrive with the catalogue).
"""
from __future__ import annotations

import re
import shutil
from datetime import datetime, timedelta, timezone
import subprocess
from typing import Any

import pytest

from pos import bankcheck, credit_book, daybook, printouts, qrpay, receipts, reports, settings
from pos.bankcheck import BankTransaction
from pos.printing import queue as print_queue
from pos.printing.config import PrinterConfig
from sync.protocol import clock
from tests.conftest import csrf_token

ONE_PACKET = [{"product_id": 1, "quantity": "1"}]        # Chè Shan tuyết: 120.000 ₫
TABLES = ("journal", "sales", "payments", "customers", "credit_moves", "qr_pending", "print_jobs",
          "day_totals")


def snapshot(conn: Any) -> dict[str, list[tuple]]:
    return {t: [tuple(r) for r in conn.execute(f"SELECT * FROM {t} ORDER BY 1")] for t in TABLES}


def text(answer: Any) -> str:
    return answer.get_data(as_text=True)


def alert(answer: Any) -> str:
    found = re.search(r'class="error"[^>]*role="alert">([^<]*)<', text(answer))
    assert found, f"no error message on the page ({answer.status_code})"
    return found.group(1)


def says(answer_text: str, english: str, vietnamese: str) -> bool:
    return english in answer_text or vietnamese in answer_text


def customer(app: Any, conn: Any, name: str = "Lân", **fields: Any) -> dict[str, Any]:
    return credit_book.create_customer(conn, app.config["DEVICE_ID"], {"name": name, **fields})


def credit_sale(app: Any, conn: Any, customer_id: int, cash: int = 0) -> dict[str, Any]:
    from pos import sales
    payments = ([{"method": "cash", "amount": cash, "tendered": cash}] if cash else []) + [
        {"method": "credit", "amount": 120000 - cash, "customer_id": customer_id}]
    return sales.record_sale(conn, app.config["DEVICE_ID"], {"lines": ONE_PACKET,
                                                             "payments": payments}, "owner")


def balance(conn: Any, customer_id: int) -> int:
    return credit_book.get_customer(conn, customer_id, entries=False)["balance"]


def post(client: Any, path: str, data: dict[str, Any] | None = None, **kwargs: Any) -> Any:
    return client.post(path, data={"csrf_token": csrf_token(client, "/"), **(data or {})},
                       **kwargs)


def add_account(conn: Any) -> None:
    from pos import bank_accounts
    bank_accounts.add_account(conn, "970436", "0011001932418", "Nguyễn Thị Đào")


# --- the list and a customer's page ---------------------------------------------------------------

@pytest.mark.parametrize("who", ["owner", "helper"])
def test_the_list_shows_who_owes_oldest_first_and_finds_anyone(app, conn, request, who):
    client = request.getfixturevalue(who)
    lan, hoa, mai = (customer(app, conn, name) for name in ("Lân", "Nguyễn Thị Hoa", "Mai"))
    # Two sales in the same millisecond would tie (then the older customer comes first): the
    # journal's clock keeps them a second apart, as a queue at the stall does.
    first = datetime.now(timezone.utc) - timedelta(seconds=2)
    with clock(lambda: first):
        credit_sale(app, conn, hoa["id"])
    with clock(lambda: first + timedelta(seconds=1)):
        credit_sale(app, conn, lan["id"], cash=20000)
    page = client.get("/credit/")
    assert page.status_code == 200
    rows = re.findall(r'data-customer="(\d+)"', text(page))
    assert rows == [str(hoa["id"]), str(lan["id"])]           # Mai owes nothing: not listed
    assert 'id="owing-total">220.000 ₫<' in text(page)
    found = client.get("/credit/", query_string={"q": "nguyen hoa"})
    assert re.findall(r'data-customer="(\d+)"', text(found)) == [str(hoa["id"])]
    anyone = client.get("/credit/", query_string={"q": "mai"})
    assert re.findall(r'data-customer="(\d+)"', text(anyone)) == [str(mai["id"])]
    nobody = client.get("/credit/", query_string={"q": "<script>"})
    assert nobody.status_code == 200 and "<script>" not in text(nobody)


def test_a_customers_page_shows_her_balance_and_history(app, conn, owner, helper):
    lan = customer(app, conn, phone="0978123456", note="Quán phở")
    sale = credit_sale(app, conn, lan["id"], cash=20000)
    page = owner.get(f"/credit/{lan['id']}")
    assert page.status_code == 200
    body = text(page)
    assert 'id="customer-balance">100.000 ₫<' in body
    assert f'href="/sales/{sale["id"]}"' in body and "0978123456" in body
    assert 'id="customer-edit"' in body                        # the owner edits
    assert 'id="customer-edit"' not in text(helper.get(f"/credit/{lan['id']}"))
    missing = owner.get("/credit/999")
    assert missing.status_code == 404 and "Không có khách số 999 trong sổ nợ." in text(missing)


# --- repayments -------------------------------------------------------------------------------

def test_a_cash_repayment_lowers_the_debt(app, conn, helper):
    lan = customer(app, conn)
    credit_sale(app, conn, lan["id"])
    done = post(helper, f"/credit/{lan['id']}/repay", {"method": "cash", "amount": "50.000"})
    assert done.status_code == 302 and done.location == f"/credit/{lan['id']}"
    assert balance(conn, lan["id"]) == 70000
    entry = conn.execute("SELECT payload FROM journal WHERE kind = 'credit_payment'").fetchone()
    assert '"received_by":"helper"' in entry[0].replace(" ", "")
    shown = helper.get(f"/credit/{lan['id']}")
    assert says(text(shown), "still owes 70.000 ₫", "còn nợ 70.000 ₫")


@pytest.mark.parametrize("form, status, vietnamese", [
    ({"method": "cash", "amount": "120001"}, 409, "Lân đang nợ 120.000 ₫: không thể trả nhiều hơn."),
    ({"method": "cash", "amount": "0"}, 400, None),
    ({"method": "cash", "amount": "-5"}, 400, None),
    ({"method": "cash", "amount": "abc"}, 400, None),
    ({"method": "cash", "amount": "1" * 40}, 400, None),
    ({"method": "cash", "amount": ""}, 400, None),
    ({"method": "card", "amount": "1000"}, 400, None),
    ({"amount": "1000"}, 400, None),
    ({"method": "qr", "amount": "120001"}, 409, "Lân đang nợ 120.000 ₫: không thể trả nhiều hơn."),
    ({"method": "qr", "amount": "0"}, 400, None),
])
def test_refused_repayments_change_nothing(app, conn, owner, form, status, vietnamese):
    add_account(conn)
    lan = customer(app, conn)
    credit_sale(app, conn, lan["id"])
    before = snapshot(conn)
    answer = post(owner, f"/credit/{lan['id']}/repay", form)
    assert answer.status_code == status, text(answer)[:500]
    message = alert(answer)
    assert message.strip()
    if vietnamese:
        assert message == vietnamese
    assert snapshot(conn) == before
    assert 'id="repay-amount"' in text(answer)                # the form again, as typed


def test_a_repayment_by_transfer_without_a_bank_account_is_refused(app, conn, owner):
    lan = customer(app, conn)
    credit_sale(app, conn, lan["id"])
    before = snapshot(conn)
    answer = post(owner, f"/credit/{lan['id']}/repay", {"method": "qr", "amount": ""})
    assert answer.status_code == 409
    assert alert(answer).startswith("Hãy khai báo tài khoản ngân hàng nhận tiền trước")
    assert snapshot(conn) == before


def test_a_repayment_by_transfer_confirmed_by_the_vendor(app, conn, helper):
    add_account(conn)
    lan = customer(app, conn)
    credit_sale(app, conn, lan["id"])
    made = post(helper, f"/credit/{lan['id']}/repay", {"method": "qr", "amount": ""})
    assert made.status_code == 302
    pending_id = made.location.rsplit("/", 1)[1]
    assert made.location == f"/credit/{lan['id']}/qr/{pending_id}"
    page = helper.get(made.location)
    assert page.status_code == 200
    pending = qrpay.get(conn, pending_id)
    assert pending["amount"] == 120000 and pending["customer_id"] == lan["id"]  # her whole debt
    assert pending["reference"] in text(page) and "120.000 ₫" in text(page)
    assert f"/api/qr-payments/{pending_id}/qr.svg" in text(page)
    assert balance(conn, lan["id"]) == 120000                  # nothing before the money
    done = post(helper, f"/credit/{lan['id']}/qr/{pending_id}/confirm")
    assert done.status_code == 302 and done.location == f"/credit/{lan['id']}"
    assert balance(conn, lan["id"]) == 0
    again = post(helper, f"/credit/{lan['id']}/qr/{pending_id}/confirm")   # a double tap
    assert again.status_code == 302 and balance(conn, lan["id"]) == 0
    assert conn.execute("SELECT COUNT(*) FROM journal WHERE kind = 'credit_payment'"
                        ).fetchone()[0] == 1
    # A recorded code's page goes back to her page, saying so.
    shown = helper.get(f"/credit/{lan['id']}/qr/{pending_id}", follow_redirects=True)
    assert says(text(shown), "Transfer of 120.000 ₫ received", "Đã nhận chuyển khoản 120.000 ₫")


def test_a_code_cancelled_or_paid_by_the_bank(app, conn, owner):
    add_account(conn)
    lan = customer(app, conn)
    credit_sale(app, conn, lan["id"])
    first = post(owner, f"/credit/{lan['id']}/repay", {"method": "qr", "amount": "20000"})
    first_id = first.location.rsplit("/", 1)[1]
    cancelled = post(owner, f"/credit/{lan['id']}/qr/{first_id}/cancel")
    assert cancelled.status_code == 302 and qrpay.get(conn, first_id)["state"] == "cancelled"
    assert owner.get(f"/credit/{lan['id']}/qr/{first_id}").status_code == 302
    refused = post(owner, f"/credit/{lan['id']}/qr/{first_id}/confirm")
    assert refused.status_code == 409 and alert(refused) == "Khoản thanh toán QR này đã bị hủy."
    assert balance(conn, lan["id"]) == 120000
    # The bank's notification records the next one by itself; the wrong amount first.
    second = post(owner, f"/credit/{lan['id']}/repay", {"method": "qr", "amount": "50000"})
    second_id = second.location.rsplit("/", 1)[1]
    reference = qrpay.get(conn, second_id)["reference"]
    bankcheck.apply(conn, app.config["DEVICE_ID"], BankTransaction("FT1", 500, reference),
                    "server")
    page = owner.get(f"/credit/{lan['id']}/qr/{second_id}")
    assert page.status_code == 200 and "500 ₫" in alert(page) and "50.000 ₫" in alert(page)
    bankcheck.apply(conn, app.config["DEVICE_ID"], BankTransaction("FT2", 50000, reference),
                    "server")
    assert balance(conn, lan["id"]) == 70000
    assert owner.get(f"/credit/{lan['id']}/qr/{second_id}").status_code == 302
    # Cancelling after the bank recorded it changes nothing and says it was received.
    late = post(owner, f"/credit/{lan['id']}/qr/{second_id}/cancel", follow_redirects=True)
    assert says(text(late), "Transfer of 50.000 ₫ received", "Đã nhận chuyển khoản 50.000 ₫")
    assert balance(conn, lan["id"]) == 70000


def test_another_customers_code_or_a_sales_code_is_not_found(app, conn, owner, api):
    add_account(conn)
    lan, hoa = customer(app, conn), customer(app, conn, "Hoa")
    credit_sale(app, conn, lan["id"])
    hers = qrpay.create_repayment(conn, lan["id"], {"method": "qr", "amount": 1000}, "owner")
    sale_code = api.post("/api/qr-payments", json={
        "lines": ONE_PACKET, "payments": [{"method": "qr", "amount": 120000}]}).get_json()
    before = snapshot(conn)
    for pending_id in (hers["id"], sale_code["id"], "nothing"):
        if pending_id == hers["id"]:
            path = f"/credit/{hoa['id']}/qr/{pending_id}"
        else:
            path = f"/credit/{lan['id']}/qr/{pending_id}"
        assert owner.get(path).status_code == 404
        assert post(owner, path + "/confirm").status_code == 404
        assert post(owner, path + "/cancel").status_code == 404
        assert owner.get(f"/credit/{hoa['id']}/reminder?code={pending_id}").status_code == 404
    assert snapshot(conn) == before


# --- the owner's edit -------------------------------------------------------------------------

def test_only_the_owner_edits_a_customer(app, conn, helper):
    lan = customer(app, conn)
    before = snapshot(conn)
    asked = helper.get(f"/credit/{lan['id']}/edit")
    assert asked.status_code == 302 and asked.location.startswith("/owner?next=")
    posted = post(helper, f"/credit/{lan['id']}/edit", {"name": "X", "credit_limit": "0"})
    assert posted.status_code == 302 and "/owner" in posted.location
    assert snapshot(conn) == before


def test_the_owner_edits_name_phone_note_limit_and_hides_her(app, conn, owner):
    lan = customer(app, conn, phone="0978123456", credit_limit=100000)
    form = owner.get(f"/credit/{lan['id']}/edit")
    assert form.status_code == 200 and 'value="100000"' in text(form)
    assert "novalidate" in text(form)
    saved = post(owner, f"/credit/{lan['id']}/edit", {
        "name": "Trần Thị Lân", "phone": "", "note": "Trả thứ bảy", "credit_limit": "200.000",
        "hidden": "1"})
    assert saved.status_code == 302
    now = credit_book.get_customer(conn, lan["id"], entries=False)
    assert (now["name"], now["phone"], now["note"], now["credit_limit"], now["active"]) == (
        "Trần Thị Lân", None, "Trả thứ bảy", 200000, False)
    post(owner, f"/credit/{lan['id']}/edit", {"name": "Trần Thị Lân", "credit_limit": ""})
    now = credit_book.get_customer(conn, lan["id"], entries=False)
    assert now["credit_limit"] is None and now["active"] is True   # no limit, shown again


@pytest.mark.parametrize("form, vietnamese", [
    ({"name": "Lân", "phone": "12"}, "Số điện thoại có từ 8 đến 15 chữ số, ví dụ 0912 345 678."),
    ({"name": "", "phone": ""}, None),
    ({"name": "   "}, None),
    ({"name": "Lân", "credit_limit": "-1"}, None),
    ({"name": "Lân", "credit_limit": "abc"}, None),
    ({"name": "Lân", "credit_limit": "9" * 30}, None),
    ({"name": "L" * 500}, None),
])
def test_refused_edits_change_nothing(app, conn, owner, form, vietnamese):
    lan = customer(app, conn)
    before = snapshot(conn)
    answer = post(owner, f"/credit/{lan['id']}/edit", form)
    assert answer.status_code == 400, text(answer)[:300]
    message = alert(answer)
    assert message.strip()
    if vietnamese:
        assert message == vietnamese
    assert snapshot(conn) == before


# --- the reminder -----------------------------------------------------------------------------

def test_the_reminder_page_reuses_its_code_for_the_balance(app, conn, helper):
    add_account(conn)
    lan = customer(app, conn, phone="0978123456", note="hay quên")
    credit_sale(app, conn, lan["id"], cash=20000)
    made = post(helper, f"/credit/{lan['id']}/reminder")
    assert made.status_code == 302
    code = re.search(r"code=([0-9a-f-]+)", made.location).group(1)
    assert qrpay.get(conn, code)["amount"] == 100000
    again = post(helper, f"/credit/{lan['id']}/reminder")
    assert again.location == made.location                    # the same code: no new one
    page = helper.get(made.location)
    body = text(page)
    assert page.status_code == 200 and 'id="reminder-balance">100.000 ₫<' in body
    assert qrpay.get(conn, code)["reference"] in body
    assert "0978123456" not in body and "hay quên" not in body   # her phone, the vendor's note
    # The balance changes: the next reminder gets a code for the new amount.
    credit_sale(app, conn, lan["id"])
    newer = post(helper, f"/credit/{lan['id']}/reminder")
    assert newer.location != made.location
    assert qrpay.get(conn, re.search(r"code=([0-9a-f-]+)", newer.location).group(1)
                     )["amount"] == 220000


def test_a_reminder_without_a_bank_account_or_a_debt(app, conn, owner):
    lan = customer(app, conn)
    nothing = post(owner, f"/credit/{lan['id']}/reminder")
    assert nothing.status_code == 302 and nothing.location == f"/credit/{lan['id']}"
    credit_sale(app, conn, lan["id"])
    made = post(owner, f"/credit/{lan['id']}/reminder")
    assert made.location == f"/credit/{lan['id']}/reminder"     # no account: no code
    page = owner.get(made.location)
    assert page.status_code == 200 and 'id="reminder-nocode"' in text(page)
    pdf = owner.get(f"/credit/{lan['id']}/reminder.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils is not installed")
def test_the_reminder_slip_as_a_pdf(app, conn, owner, tmp_path):
    add_account(conn)
    lan = customer(app, conn, "Nguyễn Thị Lân", phone="0978123456", note="hay quên")
    sale = credit_sale(app, conn, lan["id"], cash=20000)
    code = re.search(r"code=([0-9a-f-]+)",
                     post(owner, f"/credit/{lan['id']}/reminder").location).group(1)
    for width, lang in (("58", "vi"), ("80", "en"), ("A4", "vi")):
        answer = owner.get(f"/credit/{lan['id']}/reminder.pdf",
                           query_string={"code": code, "width": width, "lang": lang})
        assert answer.status_code == 200 and answer.mimetype == "application/pdf"
        path = tmp_path / f"reminder-{width}.pdf"
        path.write_bytes(answer.data)
        slip = " ".join(subprocess.run(["pdftotext", "-layout", "-enc", "UTF-8", str(path),
                                        "-"], capture_output=True, text=True,
                                       check=True).stdout.split())   # wrapped lines joined
        assert "Nguyễn Thị Lân" in slip and "100.000 ₫" in slip
        assert qrpay.get(conn, code)["reference"] in slip and f" {sale['number']}" in slip
        assert "0978123456" not in slip and "hay quên" not in slip
    for bad in ({"width": "99"}, {"lang": "fr"}):
        assert owner.get(f"/credit/{lan['id']}/reminder.pdf", query_string=bad).status_code == 400
    assert owner.get("/credit/999/reminder.pdf").status_code == 404


def test_printing_the_reminder(app, conn, owner):
    add_account(conn)
    lan = customer(app, conn)
    credit_sale(app, conn, lan["id"])
    code = re.search(r"code=([0-9a-f-]+)",
                     post(owner, f"/credit/{lan['id']}/reminder").location).group(1)
    # No printer: the browser's print dialog on the slip's PDF.
    shown = post(owner, f"/credit/{lan['id']}/reminder/print", {"code": code})
    assert shown.status_code == 302 and "/reminder/print-view?code=" in shown.location
    view = owner.get(shown.location)
    assert view.status_code == 200 and f"/credit/{lan['id']}/reminder.pdf?code={code}" in text(view)
    assert conn.execute("SELECT COUNT(*) FROM print_jobs").fetchone()[0] == 0
    # A receipt printer: the slip is queued, and the worker's renderer prints it.
    PrinterConfig.save(conn, {"backend": "escpos-net", "host": "127.0.0.1"})
    queued = post(owner, f"/credit/{lan['id']}/reminder/print", {"code": code})
    assert queued.status_code == 302
    [job] = print_queue.list_jobs(conn)
    assert (job.kind, job.ref) == ("report", f"reminder:{lan['id']}:{code}")
    rendered = printouts.render_job(conn, job)
    assert rendered.pdf.startswith(b"%PDF") and rendered.raster.width == 384
    assert "Nhắc nợ" in text(owner.get("/printer")) or "Reminder" in text(owner.get("/printer"))


# --- the sell screen, a sale's page, a refund to credit -----------------------------------------

def test_the_sell_screen_has_the_credit_picker(owner):
    page = text(owner.get("/"))
    for element in ('id="pay-credit"', 'id="credit-dialog"', 'id="credit-search"',
                    'id="credit-new"', 'id="credit-phone" inputmode="none" data-keypad="digits"',
                    'id="credit-owner"', 'id="done-credit"', "pos/credit.js"):
        assert element in page, element


def test_a_sales_page_names_whose_credit_and_a_refund_goes_off_her_debt(app, conn, owner):
    lan = customer(app, conn, "Nguyễn Thị Lân")
    sale = credit_sale(app, conn, lan["id"])
    page = text(owner.get(f"/sales/{sale['id']}"))
    assert f'href="/credit/{lan["id"]}" id="sale-customer">Nguyễn Thị Lân<' in page
    day = text(owner.get("/sales/"))
    assert 'id="day-credit">120.000 ₫<' in day
    form = text(owner.get(f"/sales/{sale['id']}/refund"))
    assert 'value="credit"' in form and "Nguyễn Thị Lân" in form
    given = post(owner, f"/sales/{sale['id']}/refund", {"q1": "1", "method": "credit",
                                                        "reason": "Hàng dập"})
    assert given.status_code == 302, text(given)[:300]
    assert balance(conn, lan["id"]) == 0
    # A sale not on credit offers no such choice, and refuses it.
    from pos import sales
    cash_sale = sales.record_sale(conn, app.config["DEVICE_ID"], {
        "lines": ONE_PACKET, "payments": [{"method": "cash", "amount": 120000}]}, "owner")
    assert 'value="credit"' not in text(owner.get(f"/sales/{cash_sale['id']}/refund"))
    before = snapshot(conn)
    refused = post(owner, f"/sales/{cash_sale['id']}/refund", {"q1": "1", "method": "credit",
                                                               "reason": "x"})
    assert refused.status_code == 400 and alert(refused) == (
        "Đơn này không ghi nợ: hãy trả lại bằng tiền mặt hoặc chuyển khoản.")
    assert snapshot(conn) == before


# --- X/Z on screen and on paper; the receipt ---------------------------------------------------

def _day_with_credit(app: Any, conn: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    lan = customer(app, conn)
    daybook.record_cash_move(conn, app.config["DEVICE_ID"], "float", "100000", "", "owner")
    sale = credit_sale(app, conn, lan["id"], cash=20000)
    credit_book.repay(conn, app.config["DEVICE_ID"], lan["id"],
                      {"method": "cash", "amount": 30000}, "owner")
    return lan, sale


def test_the_x_report_shows_the_credit_book(app, conn, owner):
    _day_with_credit(app, conn)
    page = text(owner.get("/day/x"))
    assert re.search(r'id="x-credit-sales"><th>[^<]*\(1\)</th><td class="num">100.000 ₫', page)
    assert re.search(r'id="x-credit-repaid"><th>[^<]*\(1\)</th><td class="num">30.000 ₫', page)
    assert re.search(r'id="x-repaid-cash"><td>\+ [^<]*</td><td class="num">30.000 ₫', page)
    # 100.000 float + 20.000 cash + 30.000 repaid in cash
    assert "150.000 ₫" in page


def test_the_x_and_z_paper_add_up(app, conn):
    _day_with_credit(app, conn)
    day = daybook.day_report(conn, conn.execute("SELECT MAX(business_day) FROM day_totals"
                                                ).fetchone()[0])
    stall = settings.stall_settings(conn)
    for report in (day, daybook.close_day(conn, app.config["DEVICE_ID"], day["business_day"],
                                          "150000", "owner")):
        rows = {block.left.strip(): block.right
                for block in reports.report_document(report, stall).blocks
                if type(block).__name__ == "Row"}
        assert "100.000 ₫" in (rows.get("Bán ghi nợ (1)"), rows.get("Sales on credit (1)")), rows
        drawer = report["cash_drawer"]
        assert (drawer["opening_float"] + drawer["tendered"] - drawer["change"]
                + drawer["cash_in"] - drawer["cash_out"] - drawer["refunded_cash"]
                + drawer["repaid_cash"]) == drawer["expected"] == 150000
        repaid_row = [v for k, v in rows.items() if k.startswith("+") and v == "30.000 ₫"]
        assert repaid_row, rows


def test_paper_without_the_credit_book_prints_no_credit_lines(app, conn):
    from pos import sales
    sales.record_sale(conn, app.config["DEVICE_ID"], {
        "lines": ONE_PACKET, "payments": [{"method": "cash", "amount": 120000}]}, "owner")
    report = daybook.day_report(conn, conn.execute("SELECT MAX(business_day) FROM day_totals"
                                                   ).fetchone()[0])
    old = {key: value for key, value in report.items() if key != "credit"}   # an older Z
    for figures in (report, old):
        lefts = [getattr(b, "left", "") for b in reports.report_document(figures, {}).blocks]
        assert not any("nợ" in left or "credit" in left.lower() for left in lefts), lefts


def test_a_credit_sales_receipt_says_on_whose_account(app, conn, tmp_path):
    lan = customer(app, conn, "Nguyễn Thị Lân")
    sale = credit_sale(app, conn, lan["id"], cash=20000)
    doc = printouts.job_document(conn, "receipt", sale["id"], copy=False, lang="vi", paper="58")
    texts = [getattr(b, "text", "") or getattr(b, "left", "") for b in doc.blocks]
    assert any("Nguyễn Thị Lân" in t for t in texts), texts
    credit_rows = [b for b in doc.blocks if getattr(b, "right", None) == "100.000 ₫"]
    assert credit_rows and credit_rows[0].left in ("Ghi nợ", "On credit")
    assert not any(getattr(b, "left", "") in ("Chuyển khoản", "Bank transfer") for b in doc.blocks)


def test_the_reminder_document_holds_no_phone_nor_note(app, conn):
    lan = customer(app, conn, "Nguyễn Thị Lân", phone="0978123456", note="hay quên")
    credit_sale(app, conn, lan["id"])
    doc = receipts.reminder_document(credit_book.get_customer(conn, lan["id"], limit=5),
                                     settings.stall_settings(conn), None)
    printed = " ".join(str(getattr(b, field, "")) for b in doc.blocks
                       for field in ("text", "left", "right", "label", "amount", "payload"))
    assert "Nguyễn Thị Lân" in printed and "120.000 ₫" in printed
    assert "0978123456" not in printed and "hay quên" not in printed
    assert printouts.job_document(conn, "report", f"reminder:{lan['id']}:", copy=False,
                                  lang="en", paper="80").title.endswith("Nguyễn Thị Lân")


def test_forms_have_no_browser_validation(app, conn, owner):
    lan = customer(app, conn)
    credit_sale(app, conn, lan["id"])
    for path in ("/credit/", f"/credit/{lan['id']}", f"/credit/{lan['id']}/edit"):
        page = text(owner.get(path))
        forms = re.findall(r"<form[^>]*>", page)
        assert forms and all("novalidate" in form for form in forms), (path, forms)
        assert " required" not in page and "pattern=" not in page


def test_credit_pages_need_an_unlocked_stall(app, conn, client):
    lan = customer(app, conn)
    for path in ("/credit/", f"/credit/{lan['id']}", f"/credit/{lan['id']}/reminder"):
        answer = client.get(path)
        assert answer.status_code == 302 and "/unlock" in answer.location
