"""The owner's bank page: accounts by bank name, errors in Vietnamese, the A6 standee read back
(pdftotext, and the code decoded by zbar), and a statement import from the page."""
import shutil
import subprocess

import pytest

from pos import bank_accounts, qrpay, vietqr
from tests.conftest import csrf_token


def _post(client, data, path="/settings/bank"):
    return client.post(path, data={**data, "csrf_token": csrf_token(client, "/settings/bank")})


def test_helper_cannot_open_it(helper):
    assert helper.get("/settings/bank").status_code == 302


def test_add_default_remove(owner, conn):
    page = owner.get("/settings/bank")
    assert page.status_code == 200 and "Vietcombank" in page.get_data(as_text=True)
    response = _post(owner, {"action": "add", "bank_bin": "970436", "account": "0011001932418",
                             "holder": "Nguyễn Thị Đào"})
    assert response.status_code == 302
    bad = _post(owner, {"action": "add", "bank_bin": "970436", "account": "12", "holder": "A"})
    assert bad.status_code == 400
    assert "Số tài khoản có từ 6 đến 19" in bad.get_data(as_text=True)
    _post(owner, {"action": "add", "bank_bin": "970422", "account": "1234567890", "holder": "Lan"})
    second = [a for a in bank_accounts.list_accounts(conn) if a["bank_bin"] == "970422"][0]
    assert not second["is_default"]
    assert _post(owner, {"action": "default", "account_id": second["id"]}).status_code == 302
    assert bank_accounts.default_account(conn)["id"] == second["id"]
    assert _post(owner, {"action": "remove", "account_id": "x"}).status_code == 400
    assert _post(owner, {"action": "remove", "account_id": second["id"]}).status_code == 302
    assert bank_accounts.default_account(conn)["bank_bin"] == "970436"


def test_standee_pdf(owner, conn, tmp_path):
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext is not installed (apt-get install poppler-utils)")
    account = bank_accounts.add_account(conn, "970436", "0011001932418", "Nguyễn Thị Đào")
    response = owner.get(f"/settings/bank/{account['id']}/standee.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    pdf = tmp_path / "standee.pdf"
    pdf.write_bytes(response.data)
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
    assert "297.638 x 419.528 pts" in info          # A6: 105 × 148 mm
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True).stdout
    assert "NGUYEN THI DAO" in text and "Quét mã để chuyển khoản" in text
    if shutil.which("zbarimg") is None:
        pytest.skip("zbarimg is not installed (apt-get install zbar-tools)")
    subprocess.run(["pdftoppm", "-r", "150", "-png", str(pdf), str(tmp_path / "page")], check=True)
    [png] = tmp_path.glob("page*.png")
    payload = subprocess.run(["zbarimg", "--raw", "-q", str(png)], capture_output=True,
                             text=True).stdout.strip()
    decoded = vietqr.decode(payload)
    assert payload == qrpay.static_payload(account)
    assert (decoded.account, decoded.amount, decoded.is_dynamic) == ("0011001932418", None, False)
    assert owner.get("/settings/bank/999/standee.pdf").status_code == 404


def test_statement_from_the_page(owner, api, conn):
    bank_accounts.add_account(conn, "970436", "0011001932418", "Dao")
    pending = api.post("/api/qr-payments", json={
        "lines": [{"product_id": 1, "quantity": "1"}],
        "payments": [{"method": "qr", "amount": 120000}]}).get_json()
    csv = ("Ngày,Số tham chiếu,Diễn giải,Ghi có\n"
           f"23/11/2026,FT9,{pending['reference']},120.000\n").encode("utf-8")
    response = owner.post("/settings/bank/statement", data={
        "csrf_token": csrf_token(owner, "/settings/bank"),
        "statement": (__import__("io").BytesIO(csv), "sao-ke.csv")},
        content_type="multipart/form-data")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'id="statement-result"' in html
    assert api.get(f"/api/qr-payments/{pending['id']}").get_json()["state"] == "recorded"
    empty = owner.post("/settings/bank/statement", data={
        "csrf_token": csrf_token(owner, "/settings/bank")}, content_type="multipart/form-data")
    assert empty.status_code == 400
