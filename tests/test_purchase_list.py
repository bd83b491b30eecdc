"""Form 02/TNDN (Circular 20/2026/TT-BTC, docs/research/purchase_list.md): the list of goods bought
from growers without an invoice, as an A4 PDF read back with pdftotext and as CSV."""
from __future__ import annotations

import csv
import io
import shutil
import subprocess

import pytest

from tests.test_purchases import GROWER, buy


def _pdf_text(data, tmp_path):
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext is not installed (apt-get install poppler-utils)")
    path = tmp_path / "list.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                          text=True, check=True, timeout=60).stdout


def test_the_purchase_list_as_pdf_and_csv(api, owner, tmp_path):
    first = buy(api, "12.5", 10000)
    assert first.status_code == 201, first.get_json()
    second = buy(api, "3", 20000, supplier={"name": "Lò Văn Páo"},
                 payments=[{"method": "qr", "amount": 60000}])
    assert second.status_code == 201, second.get_json()
    day = first.get_json().get("business_day") or api.get("/api/reports/x").get_json()[
        "business_day"]
    pdf = owner.get(f"/tax/purchase-list.pdf?from={day}&to={day}")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    info = subprocess.run(["pdfinfo", "-"], input=pdf.data, capture_output=True, timeout=60)
    assert b"841.89 x 595.276" in info.stdout            # A4 landscape
    text = _pdf_text(pdf.data, tmp_path)
    for expected in ("Mẫu số: 02/TNDN", "20/2026/TT-BTC",
                     "BẢNG KÊ THU MUA HÀNG HÓA, DỊCH VỤ KHÔNG CÓ HÓA ĐƠN",
                     "Tên hộ, cá nhân kinh doanh", "Địa chỉ nơi tổ chức thu mua", "Người bán",
                     "Số căn cước", "thanh toán", GROWER["name"], GROWER["id_number"],
                     "Lò Văn Páo", "12,5 kg", "125.000", "60.000", "Người lập bảng kê",
                     "Tổng giá trị hàng hóa, dịch vụ mua vào: 185.000 đồng"):
        assert expected in text, expected
    rows = list(csv.reader(io.StringIO(owner.get(
        f"/tax/purchase-list.csv?from={day}&to={day}").data.decode("utf-8-sig"))))
    assert rows[0][:3] == ["STT", "Ngày tháng năm mua hàng (1)", "Tên người bán (2)"]
    assert [r[2] for r in rows[1:-1]] == [GROWER["name"], "Lò Văn Páo"]
    assert [r[4] for r in rows[1:-1]] == [GROWER["id_number"], ""]
    assert [int(r[9]) for r in rows[1:-1]] == [125000, 60000]
    assert rows[-1][8:10] == ["Tổng cộng", "185000"]
    assert "chuyển khoản" in rows[2][10] and "tiền mặt" in rows[1][10]


def test_the_list_is_the_owners_and_bad_periods_are_refused(helper, owner):
    assert helper.get("/tax/purchase-list.csv").status_code == 302     # the owner's PIN
    assert owner.get("/tax/purchase-list.xls").status_code == 404
    bad = owner.get("/tax/purchase-list.csv?from=31/12/2026&to=01/01/2026")
    assert bad.status_code == 400


def test_the_growers_slip_says_what_was_bought_and_never_her_id_number(api, tmp_path):
    bought = buy(api, "12.5", 10000).get_json()
    for width in ("58", "80"):
        slip = api.get(f"/api/purchases/{bought['number']}/slip.pdf?width={width}")
        assert slip.status_code == 200 and slip.mimetype == "application/pdf"
        text = _pdf_text(slip.data, tmp_path)
        for expected in ("PHIẾU THU MUA", GROWER["name"],
                         GROWER["address"], "Cà chua", "12,5 kg", "125.000", "Người bán",
                         "Người mua", "Đã trả tiền mặt"):
            assert expected in text, (width, expected)
        assert GROWER["id_number"] not in text
    assert api.get("/api/purchases/999/slip.pdf").status_code == 404
    assert api.get(f"/api/purchases/{bought['number']}/slip.pdf?width=99").status_code == 400
