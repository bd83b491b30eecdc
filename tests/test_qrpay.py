"""QR transfers at the stall: receiving accounts, pending codes, confirming, and the bank's word."""
import json

import pytest

from pos import bank_accounts, bankcheck, qrpay, vietqr
from pos.bankcheck import BankTransaction

VCB = "970436"
ONE_KG = [{"product_id": 1, "quantity": "1"}]            # 120.000 ₫
QR_SALE = {"lines": ONE_KG, "payments": [{"method": "qr", "amount": 120000}]}


def snapshot(conn):
    tables = ("journal", "sales", "payments", "qr_pending", "bank_checks", "day_totals")
    return {t: [tuple(r) for r in conn.execute(f"SELECT * FROM {t} ORDER BY 1")] for t in tables}


@pytest.fixture
def account(api):
    response = api.post("/api/bank-accounts", json={"bank_bin": VCB, "account": "0011 0019 32418",
                                                   "holder": "Nguyễn Thị Đào"})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def journal_kinds(conn):
    return [row[0] for row in conn.execute("SELECT kind FROM journal ORDER BY seq")]


def test_holder_name_is_upper_case_without_diacritics():
    assert bank_accounts.holder_name("  Nguyễn Thị  Đào ") == "NGUYEN THI DAO"
    assert bank_accounts.holder_name("Đặng Văn Ước") == "DANG VAN UOC"


def test_account_is_checked_and_first_is_default(api, account, conn):
    assert account["account"] == "0011001932418"
    assert account["holder"] == "NGUYEN THI DAO"
    assert account["is_default"] and account["bank_name"]
    for body, field in (({"bank_bin": "999999", "account": "0011001932418", "holder": "A"},
                         "bank_bin"),
                        ({"bank_bin": VCB, "account": "12", "holder": "A"}, "account"),
                        ({"bank_bin": VCB, "account": "001100193241", "holder": "!!"}, "holder")):
        before = [tuple(r) for r in conn.execute("SELECT * FROM bank_accounts")]
        response = api.post("/api/bank-accounts", json=body)
        assert response.status_code == 400
        assert response.get_json()["error"]["field"] == field
        assert [tuple(r) for r in conn.execute("SELECT * FROM bank_accounts")] == before
    second = api.post("/api/bank-accounts", json={"bank_bin": "970422", "account": "1234567890",
                                                  "holder": "Lan"}).get_json()
    assert not second["is_default"]
    bank_accounts.set_default(conn, second["id"])
    assert bank_accounts.default_account(conn)["id"] == second["id"]
    bank_accounts.remove_account(conn, second["id"])
    assert bank_accounts.default_account(conn)["id"] == account["id"]


def test_no_account_no_code_and_nothing_written(api, conn):
    before = snapshot(conn)
    response = api.post("/api/qr-payments", json=QR_SALE)
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "no_bank_account"
    assert snapshot(conn) == before


def test_bad_sale_gets_no_code(api, account, conn):
    before = snapshot(conn)
    for body in ({"lines": ONE_KG, "payments": [{"method": "qr", "amount": 1000}]},
                 {"lines": ONE_KG, "payments": [{"method": "cash", "amount": 120000}]},
                 {"lines": [], "payments": [{"method": "qr", "amount": 1}]}, [1, 2]):
        response = api.post("/api/qr-payments", json=body)
        assert response.status_code == 400, body
        assert response.get_json()["error"]["message"]
    assert snapshot(conn) == before


def test_pending_code_then_vendor_confirms_once(app, api, account, conn):
    kinds_before = journal_kinds(conn)
    pending = api.post("/api/qr-payments", json=QR_SALE).get_json()
    assert pending["state"] == "pending" and pending["amount"] == 120000
    assert pending["reference"] == "SAP0 0001"          # not paired: no stall number yet
    decoded = vietqr.decode(pending["payload"])
    assert (decoded.bank_bin, decoded.account, decoded.amount, decoded.message) == \
        (VCB, "0011001932418", 120000, "SAP0 0001")
    assert decoded.is_dynamic
    assert journal_kinds(conn) == kinds_before          # nothing recorded until confirmed

    # A restart: a new app on the same files still has the pending code.
    from pos.app import create_app
    again = create_app({"DATA_DIR": app.config["DATA_DIR"], "TESTING": True}).test_client()
    again.environ_base.update(api.environ_base)
    listed = again.get("/api/qr-payments").get_json()["qr_payments"]
    assert [p["id"] for p in listed] == [pending["id"]]

    first = api.post(f"/api/qr-payments/{pending['id']}/confirm")
    assert first.status_code == 201
    sale = first.get_json()
    assert sale["payments"] == [{"method": "qr", "amount": 120000, "reference": "SAP0 0001",
                                 "bank_bin": VCB, "account": "0011001932418",
                                 "state": "vendor_confirmed"}]
    second = api.post(f"/api/qr-payments/{pending['id']}/confirm")
    assert second.status_code == 200 and second.get_json()["id"] == sale["id"]
    assert journal_kinds(conn) == kinds_before + ["sale"]
    entry = json.loads(conn.execute("SELECT payload FROM journal WHERE kind = 'sale'"
                                    " ORDER BY seq DESC").fetchone()[0])
    assert entry["payments"][0]["reference"] == "SAP0 0001"
    assert entry["payments"][0]["confirmed_by"] == "vendor"
    assert api.get("/api/qr-payments").get_json()["qr_payments"] == []
    assert api.post(f"/api/qr-payments/{pending['id']}/cancel").status_code == 409


def test_cancel_records_nothing(api, account, conn):
    pending = api.post("/api/qr-payments", json=QR_SALE).get_json()
    before = journal_kinds(conn)
    assert api.post(f"/api/qr-payments/{pending['id']}/cancel").get_json()["state"] == \
        "cancelled"
    assert journal_kinds(conn) == before
    response = api.post(f"/api/qr-payments/{pending['id']}/confirm")
    assert response.status_code == 409
    assert api.post("/api/qr-payments/nope/confirm").status_code == 404


def test_split_cash_and_qr(api, account, conn):
    body = {"lines": ONE_KG, "payments": [{"method": "cash", "amount": 50000, "tendered": 100000},
                                          {"method": "qr", "amount": 70000}]}
    pending = api.post("/api/qr-payments", json=body).get_json()
    assert pending["amount"] == 70000 and pending["total"] == 120000
    assert vietqr.decode(pending["payload"]).amount == 70000
    sale = api.post(f"/api/qr-payments/{pending['id']}/confirm").get_json()
    assert [(p["method"], p["amount"]) for p in sale["payments"]] == [("cash", 50000),
                                                                      ("qr", 70000)]
    assert sale["payments"][0]["change"] == 50000
    day = conn.execute("SELECT cash, qr FROM day_totals").fetchone()
    assert tuple(day) == (50000, 70000)


def test_api_qr_sale_without_code_gets_a_reference(api, account):
    sale = api.post("/api/sales", json=QR_SALE).get_json()
    assert api.get(f"/api/sales/{sale['id']}").get_json() == sale   # answer == stored sale
    assert sale["payments"][0]["reference"] == "SAP0 0001"
    assert sale["payments"][0]["account"] == "0011001932418"
    given = {"lines": ONE_KG, "payments": [{"method": "qr", "amount": 120000,
                                            "reference": "SAP7 0042"}]}
    assert api.post("/api/sales", json=given).get_json()["payments"][0]["reference"] == \
        "SAP7 0042"
    bad = {"lines": ONE_KG, "payments": [{"method": "qr", "amount": 120000, "reference": "x"}]}
    assert api.post("/api/sales", json=bad).status_code == 400
    split = {"lines": ONE_KG, "payments": [{"method": "cash", "amount": 50000, "tendered": 100000},
                                           {"method": "qr", "amount": 70000}]}
    sale = api.post("/api/sales", json=split).get_json()
    assert api.get(f"/api/sales/{sale['id']}").get_json() == sale
    assert [p.get("state") for p in sale["payments"]] == [None, "vendor_confirmed"]


def _apply(app, conn, txn_id, amount, description, source="server"):
    return bankcheck.apply(conn, app.config["DEVICE_ID"],
                           BankTransaction(txn_id, amount, description), source)


def test_bank_notice_records_a_pending_sale(app, api, account, conn):
    pending = api.post("/api/qr-payments", json=QR_SALE).get_json()
    result = _apply(app, conn, "FT1", 120000, "MBVCB.99.SAP0 0001.CT tu NGUYEN VAN A")
    assert result.state == "bank_confirmed" and result.recorded_sale
    shown = api.get(f"/api/qr-payments/{pending['id']}").get_json()
    assert shown["state"] == "recorded" and shown["bank_confirmed"]
    sale = api.get(f"/api/sales/{shown['sale_id']}").get_json()
    assert sale["payments"][0]["state"] == "bank_confirmed"
    assert journal_kinds(conn)[-2:] == ["sale", "payment_check"]
    # The same notification again changes nothing; a second transfer is "paid twice".
    count = len(journal_kinds(conn))
    assert _apply(app, conn, "FT1", 120000, "SAP0 0001").state == "duplicate"
    assert len(journal_kinds(conn)) == count
    twice = _apply(app, conn, "FT2", 120000, "SAP0 0001")
    assert (twice.state, twice.reason) == ("mismatch", "paid_twice")
    assert api.get(f"/api/sales/{sale['id']}").get_json()["payments"][0]["state"] == \
        "bank_confirmed"


def test_underpayment_trick_is_a_mismatch_and_records_nothing(app, api, account, conn):
    pending = api.post("/api/qr-payments", json={
        "lines": [{"product_id": 1, "quantity": "5"}],
        "payments": [{"method": "qr", "amount": 600000}]}).get_json()
    result = _apply(app, conn, "FT9", 600, f"{pending['reference']} chuyen tien")
    assert (result.state, result.reason) == ("mismatch", "underpaid")
    shown = api.get(f"/api/qr-payments/{pending['id']}").get_json()
    assert shown["state"] == "pending"
    assert shown["mismatch"]["bank_amount"] == 600 and shown["mismatch"]["expected"] == 600000
    assert "sale" not in journal_kinds(conn)[-1:]
    check = json.loads(conn.execute("SELECT payload FROM journal WHERE kind = 'payment_check'"
                                    ).fetchone()[0])
    assert check["reason"] == "underpaid" and check["bank_amount"] == 600


def test_recorded_payment_is_confirmed_later_and_unknown_reference_flagged(app, api, account,
                                                                           conn):
    pending = api.post("/api/qr-payments", json=QR_SALE).get_json()
    sale = api.post(f"/api/qr-payments/{pending['id']}/confirm").get_json()
    assert _apply(app, conn, "FT3", 120000, "sap00001").state == "bank_confirmed"
    assert api.get(f"/api/sales/{sale['id']}").get_json()["payments"][0]["state"] == \
        "bank_confirmed"
    unknown = _apply(app, conn, "FT4", 50000, "SAP0 0777")
    assert (unknown.state, unknown.reason) == ("mismatch", "unknown_reference")
    mismatches = api.get("/api/bank/checks").get_json()["checks"]
    assert [m["bank_txn"] for m in mismatches] == ["FT4"]


STATEMENT = (
    "Ngày giao dịch,Mã giao dịch,Nội dung,Số tiền ghi nợ,Số tiền ghi có\n"
    "23/11/2026 09:15:02,FT100,MBVCB.1.SAP0 0001.CT,,\"120,000\"\n"
    "23/11/2026 09:20:00,FT101,Tra tien hang,,\"500.000\"\n"
    "23/11/2026 09:30:00,FT102,Rut tien,\"200,000\",\n"
    "23/11/2026 09:40:00,FT103,SAP0 0002 ck,,200\n"
)


def test_statement_import_reconciles_offline(app, api, account, owner, conn):
    first = api.post("/api/qr-payments", json=QR_SALE).get_json()
    second = api.post("/api/qr-payments", json={
        "lines": [{"product_id": 1, "quantity": "2"}],
        "payments": [{"method": "qr", "amount": 240000}]}).get_json()
    assert second["reference"] == "SAP0 0002"
    api.post(f"/api/qr-payments/{first['id']}/confirm")
    result = api.post("/api/bank/statement", data=STATEMENT.encode("utf-8"),
                      content_type="text/csv").get_json()
    assert result["rows"] == 3                          # the debit row is not an incoming transfer
    assert result["counts"] == {"bank_confirmed": 1, "mismatch": 1, "duplicate": 0,
                                "not_ours": 1}
    assert result["mismatches"][0]["reason"] == "underpaid"
    again = api.post("/api/bank/statement", data=STATEMENT.encode("utf-8"),
                     content_type="text/csv").get_json()
    assert again["counts"]["duplicate"] == 2 and again["counts"]["bank_confirmed"] == 0


def test_bad_statement_is_refused_and_changes_nothing(api, account, conn):
    before = snapshot(conn)
    for data in (b"", b"a,b\n1,2\n", b"\xff\xfe\x00garbage" * 10):
        response = api.post("/api/bank/statement", data=data, content_type="text/csv")
        assert response.status_code == 400, data
        assert response.get_json()["error"]["message"]
    assert snapshot(conn) == before


def test_reference_numbers_follow_the_stall_code(conn):
    from pos import qr_references, settings
    from pos.db import write_transaction
    with write_transaction(conn):
        settings.write(conn, qr_references.KEY_STALL_CODE, "SAP12")
        settings.write(conn, qr_references.KEY_LAST_NUMBER, "9999")
        assert qr_references.next_reference(conn) == "SAP12 0001"   # cycles after 9999
        assert qr_references.next_reference(conn) == "SAP12 0002"


def test_day_report_lists_qr_payments_by_state(app, api, owner, account, conn, tmp_path):
    import shutil
    import subprocess
    sales_ids = []
    for _ in range(3):
        pending = api.post("/api/qr-payments", json=QR_SALE).get_json()
        sales_ids.append(api.post(f"/api/qr-payments/{pending['id']}/confirm").get_json()["id"])
    _apply(app, conn, "FT1", 120000, "SAP0 0001")               # bank-confirmed
    _apply(app, conn, "FT2", 1200, "SAP0 0002")                 # the under-payment trick
    _apply(app, conn, "FT3", 9000, "SAP0 0999")                 # nothing of ours
    report = api.get("/api/reports/x").get_json()
    assert report["qr_by_state"] == {"bank_confirmed": {"count": 1, "amount": 120000},
                                     "vendor_confirmed": {"count": 1, "amount": 120000},
                                     "mismatched": {"count": 1, "amount": 120000}}
    assert [(p["reference"], p["state"]) for p in report["qr_payments"]] == [
        ("SAP0 0001", "bank_confirmed"), ("SAP0 0002", "mismatch"),
        ("SAP0 0003", "vendor_confirmed")]
    assert [(p["reference"], p["reason"]) for p in report["bank_problems"]] == [
        ("SAP0 0999", "unknown_reference")]
    closed = api.post("/api/day-close", json={"counted_cash": 0})
    assert closed.status_code == 201
    z = closed.get_json()
    assert z["qr_by_state"] == report["qr_by_state"]
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext is not installed (apt-get install poppler-utils)")
    pdf = owner.get(f"/day/report.pdf?z={z['z_number']}&paper=80")
    assert pdf.status_code == 200
    path = tmp_path / "z.pdf"
    path.write_bytes(pdf.data)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                          text=True).stdout
    assert "CHUYỂN KHOẢN CẦN KIỂM TRA" in text
    assert "SAP0 0002" in text and "SAP0 0003" in text and "SAP0 0999" in text
    assert "ngân hàng xác nhận (1)" in text and "không khớp (1)" in text


def _pdf_text_and_codes(data, tmp_path, name):
    import shutil
    import subprocess
    if shutil.which("pdftotext") is None or shutil.which("zbarimg") is None:
        pytest.skip("pdftotext or zbarimg is not installed (apt-get install poppler-utils"
                    " zbar-tools)")
    path = tmp_path / f"{name}.pdf"
    path.write_bytes(data)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                          text=True).stdout
    subprocess.run(["pdftoppm", "-r", "200", "-png", str(path), str(tmp_path / name)],
                   check=True)
    codes = []
    for png in sorted(tmp_path.glob(f"{name}*.png")):
        out = subprocess.run(["zbarimg", "--raw", "-q", str(png)], capture_output=True,
                             text=True).stdout
        codes += [line for line in out.splitlines() if line]
    return text, codes


def test_unpaid_bill_carries_the_dynamic_code(api, account, tmp_path):
    body = {"lines": ONE_KG, "payments": [{"method": "cash", "amount": 20000, "tendered": 20000},
                                          {"method": "qr", "amount": 100000}]}
    pending = api.post("/api/qr-payments", json=body).get_json()
    response = api.get(f"/api/qr-payments/{pending['id']}/bill.pdf?width=58")
    assert response.status_code == 200
    text, codes = _pdf_text_and_codes(response.data, tmp_path, "bill")
    assert "PHIẾU TẠM TÍNH" in text and "CHƯA THANH TOÁN" in text
    assert "SAP0 0001" in text and "100.000 ₫" in text and "NGUYEN THI DAO" in text
    assert codes == [pending["payload"]]
    assert vietqr.decode(codes[0]).amount == 100000
    assert api.get("/api/qr-payments/nope/bill.pdf").status_code == 404


def test_receipt_prints_the_reference_and_who_confirmed(app, api, account, tmp_path, conn):
    pending = api.post("/api/qr-payments", json=QR_SALE).get_json()
    sale = api.post(f"/api/qr-payments/{pending['id']}/confirm").get_json()
    text, _codes = _pdf_text_and_codes(api.get(f"/api/sales/{sale['id']}/receipt.pdf").data,
                                       tmp_path, "vendor")
    assert "Mã CK: SAP0 0001" in text and "Người bán xác nhận đã nhận" in text
    _apply(app, conn, "FT1", 120000, "SAP0 0001")
    text, codes = _pdf_text_and_codes(api.get(f"/api/sales/{sale['id']}/receipt.pdf").data,
                                      tmp_path, "bank")
    assert "Ngân hàng đã xác nhận" in text
    assert codes and codes[0].startswith("MP1;" + sale["id"])   # not paired: the bare code


def test_answers_match_the_openapi_document(api, account):
    from tests.test_api import schema_of
    schema_of("BankAccount").validate(account)
    pending = api.post("/api/qr-payments", json=QR_SALE).get_json()
    schema_of("QrPayment").validate(pending)
    schema_of("Sale").validate(api.post(f"/api/qr-payments/{pending['id']}/confirm").get_json())
    result = api.post("/api/bank/statement", data=STATEMENT.encode(), content_type="text/csv")
    schema_of("StatementResult").validate(result.get_json())


def test_a_statement_that_is_not_csv_is_a_clear_400(api, account, conn):
    before = snapshot(conn)
    for data in (b"Ngay,So tien,Noi dung\r1\r\"2,x", b'a,"b\n'):
        response = api.post("/api/bank/statement", data=data, content_type="text/csv")
        assert response.status_code in (200, 400), data
        assert response.status_code != 500
    assert snapshot(conn) == before
