"""Every invoice the stall builds is valid against the XSD of its form (sync/data), written from
the format's tables; tests/test_einvoice_format.py checks the same invoices against the tables
themselves and against real invoices."""
from __future__ import annotations

import pytest
from lxml import etree

from pos.tax import invoices
from sync import invoice_xml
from tests.test_tax import REGISTRATION

NAMES = ["Chè Shan tuyết Hà Giang loại đặc biệt", "Tôm khô Cà Mau – Đặc sản OCOP ★★★★",
         "Mật ong bạc hà Đồng Văn", "Gạo nếp cái hoa vàng", "Ớt chỉ thiên", "Nước mắm Phú Quốc"]


SCHEMAS: dict[object, etree.XMLSchema] = {}


def schema_of(path) -> etree.XMLSchema:
    if str(path) not in SCHEMAS:
        with path.open("rb") as f:
            SCHEMAS[str(path)] = etree.XMLSchema(etree.parse(f))
    return SCHEMAS[str(path)]


@pytest.fixture(scope="module")
def schema():
    """Validates an invoice against the XSD of the form it says it is (and the either-form
    XSD, which the provider simulator uses, too)."""
    class BothSchemas:
        def validate(self, document: etree._Element) -> bool:
            xml = etree.tostring(document)
            self.error_log = ""
            for path in (invoice_xml.schema_for(xml), invoice_xml.schema_path()):
                checker = schema_of(path)
                if not checker.validate(document):
                    self.error_log = f"{path}: {checker.error_log}"
                    return False
            return True
    return BothSchemas()


def valid(schema, xml: bytes) -> etree._Element:
    document = etree.fromstring(xml)
    if not schema.validate(document):
        raise AssertionError(str(schema.error_log))
    return document


def other_info(element: etree._Element) -> dict[str, str]:
    """An element's TTKhac as {TTruong: DLieu}."""
    return {t.findtext("TTruong"): t.findtext("DLieu") for t in element.findall("TTKhac/TTin")}


@pytest.fixture
def mtt_api(api):
    assert api.patch("/api/settings", json={"tax": {**REGISTRATION,
                                                    "location_code": "BH-01"}}).status_code == 200
    return api


def test_many_lines_vietnamese_names_and_a_large_total(mtt_api, schema):
    lines = [{"name": f"{NAMES[i % len(NAMES)]} #{i}", "unit": "kg", "quantity": "1.125",
              "unit_price": 4_444_444_443} for i in range(200)]
    total = sum((1125 * 4_444_444_443 + 500) // 1000 for _ in lines)
    assert 999_000_000_000 < total <= 10**12            # the largest sale a payment can cover
    sale = mtt_api.post("/api/sales", json={"lines": lines, "payments": [
        {"method": "cash", "amount": total - 1000}, {"method": "qr", "amount": 1000}],
        "buyer": {"id_number": "001204012345", "name": "Nguyễn Văn Ấn",
                  "address": "Số 5, đường Lê Lợi, phường Bến Nghé"}})
    assert sale.status_code == 201, sale.get_json()
    xml = mtt_api.get(f"/api/sales/{sale.get_json()['id']}/invoice.xml").data
    doc = valid(schema, xml)
    assert len(doc.findall(".//HHDVu")) == 200
    assert doc.findtext(".//TgTTTBSo") == str(total)
    assert doc.findtext(".//HHDVu/SLuong") == "1.125"
    general = doc.find("DLHDon/TTChung")
    assert other_info(general)["HTTToan"] == "Tiền mặt/Chuyển khoản"   # TTChung has no HTTToan
    assert other_info(general)["DVTTe"] == "VND"
    assert general.find("HTTToan") is None and general.find("DVTTe") is None
    assert other_info(doc.find(".//NBan"))["MCHang"] == "BH-01"
    assert doc.findtext(".//NMua/CCCDan") == "001204012345"
    assert doc.findtext(".//TgTTTBChu").startswith("Chín trăm chín mươi chín tỷ")
    assert "Tôm khô Cà Mau – Đặc sản OCOP ★★★★ #1" in xml.decode("utf-8")


def test_catalogue_lines_keep_their_product_code(mtt_api, schema):
    sale = mtt_api.post("/api/sales", json={"lines": [{"product_id": 1, "quantity": "0.75"}],
                                            "payments": [{"method": "qr", "amount": 90000}]})
    assert sale.status_code == 201, sale.get_json()
    doc = valid(schema, mtt_api.get(f"/api/sales/{sale.get_json()['id']}/invoice.xml").data)
    assert doc.findtext(".//MHHDVu") == "1"
    assert doc.find(".//TTHDLQuan") is None


def test_vat_invoice_form_1_lines_carry_a_rate(mtt_api, schema, conn):
    assert mtt_api.patch("/api/settings", json={"tax": {"invoice_form": 1}}).status_code == 200
    invoices.set_product_tax(conn, 1, "goods", "KCT")
    sale = mtt_api.post("/api/sales", json={"lines": [{"product_id": 1, "quantity": "1"},
                                                      {"name": "Túi", "unit_price": 1000,
                                                       "quantity": "1"}],
                                            "payments": [{"method": "cash", "amount": 121000}]})
    assert sale.status_code == 201, sale.get_json()
    assert sale.get_json()["invoice_code"].startswith("M1-")
    doc = valid(schema, mtt_api.get(f"/api/sales/{sale.get_json()['id']}/invoice.xml").data)
    assert [e.text for e in doc.findall(".//HHDVu/TSuat")] == ["KCT", "KKKNT"]
    assert doc.findtext(".//KHMSHDon") == "1"
    # a VAT invoice's totals: by rate, before VAT, VAT (required by the format)
    totals = doc.find(".//TToan")
    assert [(g.findtext("TSuat"), g.findtext("ThTien"), g.findtext("TThue"))
            for g in totals.findall("THTTLTSuat/LTSuat")] == [("KCT", "120000", "0"),
                                                              ("KKKNT", "1000", "0")]
    assert totals.findtext("TgTCThue") == "121000" and totals.findtext("TgTThue") == "0"
    assert [e.tag for e in totals] == ["THTTLTSuat", "TgTCThue", "TgTThue", "TgTTTBSo",
                                      "TgTTTBChu"]


def test_adjustment_and_replacement_xml(mtt_api, schema, conn, app):
    sale = mtt_api.post("/api/sales", json={"lines": [{"name": "Chè", "unit_price": 397500,
                                                       "quantity": "1"}],
                                            "payments": [{"method": "cash", "amount": 397500}]})
    original = sale.get_json()["invoice_code"]
    device = app.config["DEVICE_ID"]
    adjusted = invoices.issue_correction(conn, device, original, {
        "type": "adjustment", "reason": "Giảm giá cho khách quen",
        "lines": [{"name": "Giảm giá", "amount": -17500}]}, "owner")
    doc = valid(schema, invoice_xml.build("invoice_correction", adjusted["payload"],
                                          adjusted["at"], adjusted["entry_id"]))
    related = doc.find(".//TTHDLQuan")
    assert related.findtext("TCHDon") == "2" and related.findtext("SHDCLQuan") == "1"
    assert doc.findtext(".//TgTTTBSo") == "-17500"
    assert doc.findtext(".//TgTTTBChu") == "Âm mười bảy nghìn năm trăm đồng"
    assert other_info(doc.find("DLHDon/TTChung"))["MCCQTCLQuan"] == original
    replaced = invoices.issue_correction(conn, device, adjusted["code"], {
        "type": "replacement", "reason": "Sai tên hàng",
        "lines": [{"name": "Chè Shan tuyết", "unit": "kg", "quantity": "1.5",
                   "unit_price": 253333}]}, "owner")
    doc = valid(schema, invoice_xml.build("invoice_correction", replaced["payload"],
                                          replaced["at"], replaced["entry_id"]))
    assert doc.findtext(".//TCHDon") == "1"
    assert doc.findtext(".//TgTTTBChu") == "Ba trăm tám mươi nghìn đồng"


def test_the_schema_can_fail(mtt_api, schema):
    """A test that cannot fail is a defect: broken invoices must not pass the XSD."""
    sale = mtt_api.post("/api/sales", json={"lines": [{"name": "Chè", "unit_price": 1000,
                                                       "quantity": "1"}],
                                            "payments": [{"method": "cash", "amount": 1000}]})
    xml = mtt_api.get(f"/api/sales/{sale.get_json()['id']}/invoice.xml").data.decode("utf-8")
    valid(schema, xml.encode("utf-8"))
    for broken in (xml.replace("<TgTTTBChu>Một nghìn đồng</TgTTTBChu>", ""),
                   xml.replace("<SLuong>1</SLuong>", "<SLuong>1.1234567</SLuong>"),  # 21,6
                   xml.replace("-00000000001<", "-0000000001<"),
                   xml.replace("<THHDVu>Chè</THHDVu>", f"<THHDVu>{'x' * 501}</THHDVu>"),
                   xml.replace("<KHHDon>C", "<KHHDon>Z"),
                   xml.replace("<MST>0101234567</MST>", "<MST>12</MST>"),
                   xml.replace("<TgTTTBSo>", "<TgTTTBSo>1.1234567"),      # 7 decimals
                   xml.replace("<NLap>", "<DVTTe>VND</DVTTe><NLap>"),    # not in MTT TTChung
                   xml.replace("</TgTTTBChu>", "</TgTTTBChu><TgTThue>0</TgTThue>"),
                   xml.replace('Id="Id-', 'Id="1-')):                   # an Id is an NCName
        assert broken != xml
        assert not schema.validate(etree.fromstring(broken.encode("utf-8"))), broken


def test_a_discount_is_a_commercial_discount_item(mtt_api, schema):
    # The format's item nature TChat 3 is a commercial discount (chiết khấu thương mại), and
    # TToan/TTCKTMai its total (Decision 1450/QĐ-TCT, part II).
    sale = mtt_api.post("/api/sales", json={
        "lines": [{"product_id": 1, "quantity": "1", "unit_price": 110000}],
        "discount": {"amount": 10000, "reason": "Khách quen"},
        "payments": [{"method": "cash", "amount": 100000}]})
    assert sale.status_code == 201, sale.get_json()
    doc = valid(schema, mtt_api.get(f"/api/sales/{sale.get_json()['id']}/invoice.xml").data)
    items = doc.findall(".//HHDVu")
    assert [i.findtext("TChat") for i in items] == ["1", "3"]
    assert items[0].findtext("DGia") == "110000"
    assert items[1].findtext("ThTien") == "10000" and "Khách quen" in items[1].findtext("THHDVu")
    assert doc.findtext(".//TTCKTMai") == "10000"
    assert doc.findtext(".//TgTTTBSo") == "100000"


def test_a_refund_issues_the_adjustment_invoice_in_the_same_transaction(mtt_api, schema, conn):
    sale = mtt_api.post("/api/sales", json={"lines": [{"name": "Tôm khô", "unit_price": 900000,
                                                       "quantity": "1.5", "unit": "kg"}],
                                            "payments": [{"method": "cash", "amount": 1350000}]})
    original = sale.get_json()["invoice_code"]
    refund = mtt_api.post(f"/api/sales/{sale.get_json()['id']}/refund", json={
        "lines": [{"line": 1, "quantity": "0.5"}], "payments": [{"method": "cash"}],
        "reason": "Tôm bị ẩm"})
    assert refund.status_code == 201, refund.get_json()
    code = refund.get_json()["invoice_code"]
    adjusted = invoices.get_invoice(conn, code)
    assert adjusted["payload"]["type"] == "adjustment"
    assert adjusted["payload"]["original"]["code"] == original
    assert adjusted["payload"]["total"] == -450000 == -refund.get_json()["total"]
    assert adjusted["payload"]["reason"] == "Tôm bị ẩm"
    doc = valid(schema, invoice_xml.build("invoice_correction", adjusted["payload"],
                                          adjusted["at"], adjusted["entry_id"]))
    assert doc.findtext(".//TgTTTBSo") == "-450000"
    item = doc.find(".//HHDVu")       # the goods given back, not one "lần" of their value
    assert [item.findtext(tag) for tag in ("DVTinh", "SLuong", "DGia", "ThTien")] == [
        "kg", "-0.5", "900000", "-450000"]
    # The refund entry and the adjustment are written together: the one follows the other.
    assert adjusted["seq"] == refund.get_json()["seq"] + 1


def test_a_refund_with_a_free_line_leaves_it_off_the_adjustment(mtt_api, schema, conn):
    """A line sold at 0 ₫ gives back nothing: the adjustment (whose lines are never 0 ₫) has
    only the goods that change the invoice, and the refund is not refused for it."""
    sale = mtt_api.post("/api/sales", json={
        "lines": [{"name": "Tôm khô", "unit_price": 900000, "quantity": "1", "unit": "kg"},
                  {"name": "Túi giấy", "unit_price": 0, "quantity": "1", "unit": "cái"}],
        "payments": [{"method": "cash", "amount": 900000}]})
    assert sale.status_code == 201, sale.get_json()
    refund = mtt_api.post(f"/api/sales/{sale.get_json()['id']}/refund", json={
        "lines": [{"line": 1}, {"line": 2}], "payments": [{"method": "cash"}],
        "reason": "Khách đổi ý"})
    assert refund.status_code == 201, refund.get_json()
    adjusted = invoices.get_invoice(conn, refund.get_json()["invoice_code"])
    assert [line["name"] for line in adjusted["payload"]["lines"]] == ["Trả lại Tôm khô"]
    valid(schema, invoice_xml.build("invoice_correction", adjusted["payload"], adjusted["at"],
                                    adjusted["entry_id"]))


@pytest.mark.parametrize("line, field", [
    ({"unit": "kg"}, "lines[0].quantity"),
    ({"unit": "kg", "quantity": "0.5"}, "lines[0].unit_price"),
    ({"quantity": "0.5", "unit_price": 900000}, "lines[0].unit"),
    ({"unit": "kg", "quantity": "-0.5", "unit_price": 900000}, "lines[0].quantity"),
    ({"unit": "kg", "quantity": "0.0005", "unit_price": 900000}, "lines[0].quantity"),
    ({"unit": "kg", "quantity": "0.5", "unit_price": -1}, "lines[0].unit_price"),
    ({"unit": "x" * 17, "quantity": "0.5", "unit_price": 900000}, "lines[0].unit"),
    ({"unit": "kg", "quantity": "0.5", "unit_price": 900000, "product_id": 1}, "lines[0]")])
def test_an_adjustment_lines_goods_are_all_three_or_none(line, field):
    from sync.errors import InvalidInput
    with pytest.raises(InvalidInput) as caught:
        invoices.check_correction({"type": "adjustment", "reason": "x",
                                   "lines": [{"name": "Trả lại Tôm khô", "amount": -450000,
                                              **line}]})
    assert caught.value.field == field


def test_an_adjustment_lines_goods_are_kept_as_a_sale_lines():
    checked = invoices.check_correction({"type": "adjustment", "reason": "x", "lines": [
        {"name": "Trả lại Tôm khô", "amount": -450000, "unit": "kg", "quantity": "0.5",
         "unit_price": 900000},
        {"name": "Tính thêm túi", "amount": 2000}]})
    assert checked["lines"] == [
        {"name": "Trả lại Tôm khô", "amount": -450000, "unit": "kg", "quantity_milli": 500,
         "unit_price": 900000},
        {"name": "Tính thêm túi", "amount": 2000}]
    assert checked["total"] == -448000
