"""The stall's JSON API: sales, voids, products, settings; every bad input refused, nothing written."""
import json

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from pos import openapi
from sync.localtime import today

CASH_SALE = {"lines": [{"product_id": 1, "quantity": "1.5"}],
             "payments": [{"method": "cash", "amount": 180000, "tendered": 200000}]}


def snapshot(conn):
    """Everything a request could have written."""
    tables = ("journal", "sales", "sale_lines", "payments", "products", "settings", "day_totals")
    return {t: [tuple(r) for r in conn.execute(f"SELECT * FROM {t} ORDER BY 1")] for t in tables}


def schema_of(name):
    """A validator for one component schema, resolving $refs inside the document."""
    doc = openapi.document()
    return Draft202012Validator({"$ref": f"#/components/schemas/{name}", **doc})


def test_openapi_document_is_valid(client):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    validate(response.get_json())


def test_cash_sale(api, conn):
    response = api.post("/api/sales", json=CASH_SALE)
    assert response.status_code == 201, response.get_json()
    sale = response.get_json()
    schema_of("Sale").validate(sale)
    assert sale["total"] == 180000
    assert sale["lines"][0]["quantity"] == "1.5"
    assert sale["lines"][0]["amount"] == 180000
    assert sale["payments"] == [{"method": "cash", "amount": 180000, "tendered": 200000,
                                 "change": 20000}]
    stored = conn.execute("SELECT hash FROM journal WHERE seq = ?", (sale["seq"],)).fetchone()
    assert stored["hash"] == sale["hash"]
    assert api.get(f"/api/sales/{sale['id']}").get_json() == sale


def test_numbers_and_sequence_increase(api):
    first = api.post("/api/sales", json=CASH_SALE).get_json()
    second = api.post("/api/sales", json=CASH_SALE).get_json()
    assert second["number"] == first["number"] + 1
    assert second["seq"] == first["seq"] + 1


def test_open_item_weighed_quantity_and_split_payment(api):
    body = {"lines": [{"name": "Gà ta", "unit_price": 185000, "quantity": "1.35", "unit": "kg"},
                      {"product_id": 6, "quantity": 3}],
            "payments": [{"method": "qr", "amount": 200000},
                         {"method": "cash", "amount": 79750, "tendered": 100000}]}
    response = api.post("/api/sales", json=body)
    assert response.status_code == 201, response.get_json()
    sale = response.get_json()
    assert [l["amount"] for l in sale["lines"]] == [249750, 30000]
    assert sale["total"] == 279750
    assert sale["payments"][1]["change"] == 20250


def test_json_number_quantity_is_exact(api):
    raw = '{"lines":[{"product_id":8,"quantity":0.1}],"payments":[{"method":"cash","amount":2500}]}'
    response = api.post("/api/sales", data=raw, content_type="application/json")
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["lines"][0]["quantity_milli"] == 100


BAD_SALES = [
    ("negative quantity", {"lines": [{"product_id": 1, "quantity": "-1"}]}),
    ("zero quantity", {"lines": [{"product_id": 1, "quantity": "0"}]}),
    ("text quantity", {"lines": [{"product_id": 1, "quantity": "một"}]}),
    ("four decimals", {"lines": [{"product_id": 1, "quantity": "1.2345"}]}),
    ("fractional price", {"lines": [{"name": "X", "unit_price": 100.5, "quantity": "1"}]}),
    ("negative price", {"lines": [{"name": "X", "unit_price": -100, "quantity": "1"}]}),
    ("huge price", {"lines": [{"name": "X", "unit_price": 10**12 + 1, "quantity": "1"}]}),
    ("unknown product", {"lines": [{"product_id": 9999, "quantity": "1"}]}),
    ("product id text", {"lines": [{"product_id": "1", "quantity": "1"}]}),
    ("no lines", {"lines": []}),
    ("lines missing", {"lines": None}),
    ("line not object", {"lines": ["Chè"]}),
    ("unknown line field", {"lines": [{"product_id": 1, "quantity": "1", "price": 1}]}),
    ("catalogue line with price", {"lines": [{"product_id": 1, "quantity": "1",
                                              "unit_price": 1}]}),
    ("open item without price", {"lines": [{"name": "X", "quantity": "1"}]}),
    ("open item with markup name", {"lines": [{"name": "", "unit_price": 1, "quantity": "1"}]}),
    ("payments short", {"payments": [{"method": "cash", "amount": 100000}]}),
    ("payments over", {"payments": [{"method": "cash", "amount": 200000}]}),
    ("tendered too low", {"payments": [{"method": "cash", "amount": 180000, "tendered": 100000}]}),
    ("unknown method", {"payments": [{"method": "card", "amount": 180000}]}),
    ("no payments", {"payments": []}),
    ("qr with tendered", {"payments": [{"method": "qr", "amount": 180000, "tendered": 200000}]}),
    ("float amount", {"payments": [{"method": "cash", "amount": 180000.5}]}),
    ("unknown top field", {"customer": "x"}),
    ("too many lines", {"lines": [{"product_id": 6, "quantity": "1"}] * 201}),
]


@pytest.mark.parametrize("name, change", BAD_SALES, ids=[b[0] for b in BAD_SALES])
def test_bad_sales_are_refused_and_change_nothing(api, conn, name, change):
    before = snapshot(conn)
    response = api.post("/api/sales", json={**CASH_SALE, **change})
    assert response.status_code == 400, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] and error["message"]
    assert "Traceback" not in error["message"]
    assert snapshot(conn) == before


@pytest.mark.parametrize("body", ["{", "[1,", "null", "[]", '"sale"', "NaN", "\xff\xfe",
                                  '{"lines": NaN}', "{" * 100000])
def test_malformed_bodies(api, conn, body):
    before = snapshot(conn)
    response = api.post("/api/sales", data=body, content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["error"]["message"]
    assert snapshot(conn) == before


def test_body_over_one_megabyte(api, conn):
    before = snapshot(conn)
    body = json.dumps({**CASH_SALE, "pad": "x" * (1024 * 1024)})
    response = api.post("/api/sales", data=body, content_type="application/json")
    assert response.status_code == 413
    assert "1 MB" in response.get_json()["error"]["message"]
    assert response.get_json()["error"]["code"] == "too_large"   # as the server's, sync/web.py
    assert snapshot(conn) == before


def test_errors_are_in_vietnamese_by_default_and_english_on_request(api):
    bad = {**CASH_SALE, "lines": []}
    assert api.post("/api/sales", json=bad).get_json()["error"]["message"] \
        == "Đơn hàng cần ít nhất một món."
    english = api.post("/api/sales", json=bad, headers={"Accept-Language": "en"})
    assert english.get_json()["error"]["message"] == "A sale needs at least one item."


def test_authentication(client, app, conn):
    before = snapshot(conn)
    assert client.post("/api/sales", json=CASH_SALE).status_code == 401
    bad = client.post("/api/sales", json=CASH_SALE, headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401
    assert bad.get_json()["error"]["code"] == "bad_token"
    assert client.get("/api/products").status_code == 401
    assert snapshot(conn) == before


def test_session_writes_need_the_csrf_token(owner, conn):
    before = snapshot(conn)
    assert owner.post("/api/sales", json=CASH_SALE).status_code == 400
    assert snapshot(conn) == before
    page = owner.get("/").get_data(as_text=True)
    import re
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    response = owner.post("/api/sales", json=CASH_SALE, headers={"X-CSRFToken": token})
    assert response.status_code == 201
    assert response.get_json()["sold_by"] == "owner"


def test_void(api, conn):
    sale = api.post("/api/sales", json=CASH_SALE).get_json()
    response = api.post(f"/api/sales/{sale['id']}/void", json={"reason": "Khách trả hàng"})
    assert response.status_code == 200
    voided = response.get_json()
    schema_of("Sale").validate(voided)
    assert voided["status"] == "voided"
    assert voided["void"]["reason"] == "Khách trả hàng"
    # The original entry stays; the void is a new entry referencing it.
    kinds = [r["kind"] for r in conn.execute("SELECT kind FROM journal WHERE seq >= ?",
                                             (sale["seq"],))]
    assert kinds == ["sale", "void"]
    void_payload = json.loads(conn.execute("SELECT payload FROM journal WHERE seq = ?",
                                           (voided["void"]["seq"],)).fetchone()[0])
    assert void_payload["sale_id"] == sale["id"]
    again = api.post(f"/api/sales/{sale['id']}/void", json={"reason": "again"})
    assert again.status_code == 409
    assert api.post("/api/sales/nope/void", json={"reason": "x"}).status_code == 404
    assert api.post(f"/api/sales/{sale['id']}/void", json={}).status_code in (400, 409)


def test_void_needs_a_reason(api, conn):
    sale = api.post("/api/sales", json=CASH_SALE).get_json()
    before = snapshot(conn)
    for body in ({}, {"reason": ""}, {"reason": "   "}, {"reason": 5}, {"reason": "x" * 201}):
        response = api.post(f"/api/sales/{sale['id']}/void", json=body)
        assert response.status_code == 400, body
    assert snapshot(conn) == before


def test_helper_session_cannot_void_through_the_api(helper, api, conn):
    sale = api.post("/api/sales", json=CASH_SALE).get_json()
    import re
    token = re.search(r'name="csrf-token" content="([^"]+)"',
                      helper.get("/").get_data(as_text=True)).group(1)
    response = helper.post(f"/api/sales/{sale['id']}/void", json={"reason": "x"},
                           headers={"X-CSRFToken": token})
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "owner_required"
    assert api.get(f"/api/sales/{sale['id']}").get_json()["status"] == "completed"


def test_list_sales_since_seq(api):
    first = api.post("/api/sales", json=CASH_SALE).get_json()
    second = api.post("/api/sales", json=CASH_SALE).get_json()
    listed = api.get(f"/api/sales?since_seq={first['seq']}").get_json()["sales"]
    assert [s["id"] for s in listed] == [second["id"]]
    assert api.get("/api/sales?since_seq=abc").status_code == 400
    assert api.get("/api/sales?limit=0").status_code == 400


def test_products(api, conn):
    listed = api.get("/api/products").get_json()["products"]
    assert len(listed) == 16
    for product in listed:
        schema_of("Product").validate(product)
    created = api.post("/api/products", json={"name": "Măng khô", "unit": "kg", "price": 320000,
                                              "category": "Khô", "ocop_stars": 3})
    assert created.status_code == 201, created.get_json()
    product = created.get_json()
    assert product["weighed"] is True
    changed = api.patch(f"/api/products/{product['id']}", json={"price": 300000})
    assert changed.get_json()["price"] == 300000
    assert changed.get_json()["name"] == "Măng khô"
    kinds = [r[0] for r in conn.execute("SELECT kind FROM journal ORDER BY seq DESC LIMIT 2")]
    assert kinds == ["product", "product"]
    hidden = api.patch(f"/api/products/{product['id']}", json={"active": False}).get_json()
    assert hidden["active"] is False
    sale = {"lines": [{"product_id": product["id"], "quantity": "1"}],
            "payments": [{"method": "cash", "amount": 300000}]}
    assert api.post("/api/sales", json=sale).status_code == 400


def test_products_by_barcode(api, conn):
    found = api.get("/api/products?barcode=8936000000012")
    assert found.status_code == 200
    products = found.get_json()["products"]
    assert len(products) == 1 and products[0]["barcode"] == "8936000000012"
    schema_of("Product").validate(products[0])
    # exactly that code: no prefix, no other product
    assert api.get("/api/products?barcode=893600000001").get_json() == {"products": []}
    assert api.get("/api/products?barcode=8936000000099").get_json() == {"products": []}
    assert len(api.get("/api/products").get_json()["products"]) == 16


@pytest.mark.parametrize("code", ["", "12", "89360000%27--", "x" * 33, "8936 0000"])
def test_a_code_that_cannot_be_a_barcode_is_refused(api, conn, code):
    before = snapshot(conn)
    response = api.get("/api/products", query_string={"barcode": code})
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "bad_barcode"
    assert response.get_json()["error"]["field"] == "barcode"
    assert snapshot(conn) == before


@pytest.mark.parametrize("body", [
    {"name": "", "unit": "kg", "price": 1}, {"name": "X", "unit": "kg", "price": 100.5},
    {"name": "X", "unit": "kg", "price": -1}, {"name": "X", "unit": "kg"},
    {"name": "X", "unit": "kg", "price": 1, "ocop_stars": 6},
    {"name": "X", "unit": "kg", "price": 1, "trace_url": "javascript:alert(1)"},
    {"name": "X", "unit": "kg", "price": 1, "barcode": "8936000000012"},
    {"name": "X\u0000Y", "unit": "kg", "price": 1}, {"name": "X", "unit": "", "price": 1},
    {"name": "X", "unit": "kg", "price": 1, "colour": "red"}, ["X"]])
def test_bad_products_are_refused(api, conn, body):
    before = snapshot(conn)
    response = api.post("/api/products", json=body)
    assert response.status_code == 400, response.get_json()
    assert snapshot(conn) == before


def test_settings(api, conn):
    settings = api.get("/api/settings").get_json()
    schema_of("Settings").validate(settings)
    assert settings["market"] == "Chợ Bắc Hà"
    changed = api.patch("/api/settings", json={"phone": "0987654321", "tax_code": "0101234567"})
    assert changed.status_code == 200
    assert changed.get_json()["tax_code"] == "0101234567"
    before = snapshot(conn)
    for body in ({"phone": "call me"}, {"tax_code": "12"}, {"device_id": "x"},
                 {"vendor_name": ""}, {"market": "x" * 81}):
        assert api.patch("/api/settings", json=body).status_code == 400, body
    assert snapshot(conn) == before


def test_sync_status(api):
    api.post("/api/sales", json=CASH_SALE)
    status = api.get("/api/sync/status").get_json()
    schema_of("SyncStatus").validate(status)
    assert status["acked_seq"] == 0
    assert status["pending"] >= 17


def test_unknown_paths_and_methods_answer_json(api):
    assert api.get("/api/nothing").status_code == 404
    assert api.get("/api/nothing").get_json()["error"]["code"]
    assert api.delete("/api/sales").status_code == 405


def test_day_totals_follow_sales_and_voids(api, conn):
    from pos.sales import day_totals
    start = day_totals(conn, today())
    sale = api.post("/api/sales", json=CASH_SALE).get_json()
    api.post("/api/sales", json={"lines": [{"product_id": 6, "quantity": "1"}],
                                 "payments": [{"method": "qr", "amount": 10000}]})
    api.post(f"/api/sales/{sale['id']}/void", json={"reason": "nhầm"})
    end = day_totals(conn, today())
    assert end["sales_count"] - start["sales_count"] == 1
    assert end["revenue"] - start["revenue"] == 10000
    assert end["qr"] - start["qr"] == 10000
    assert end["cash"] - start["cash"] == 0
    assert end["voids_count"] - start["voids_count"] == 1
    assert end["voided_amount"] - start["voided_amount"] == 180000
    recomputed = conn.execute("SELECT COUNT(*), SUM(total) FROM sales WHERE business_day = ?"
                              " AND voided_seq IS NULL", (today(),)).fetchone()
    assert (end["sales_count"], end["revenue"]) == tuple(recomputed)


def test_cash_moves_x_and_z_over_the_api(api, conn):
    api.post("/api/sales", json=CASH_SALE)
    move = api.post("/api/cash-moves", json={"type": "float", "amount": 300000})
    assert move.status_code == 201
    schema_of("CashMove").validate(move.get_json())
    assert api.post("/api/cash-moves", json={"type": "out", "amount": 5000}).status_code == 400
    x = api.get("/api/reports/x").get_json()
    schema_of("DayReport").validate(x)
    assert x["cash_drawer"]["expected"] == 300000 + 180000
    assert api.get("/api/reports/x?day=hôm-nay").status_code == 400
    z = api.post("/api/day-close", json={"counted_cash": 480000})
    assert z.status_code == 201
    schema_of("DayReport").validate(z.get_json())
    assert z.get_json()["difference"] == 0
    assert api.get(f"/api/reports/z/{z.get_json()['z_number']}").get_json() == z.get_json()
    assert api.get("/api/reports/z/99").status_code == 404
    # Closing again closes the next business day (now current), numbered Z2.
    assert api.post("/api/day-close", json={"counted_cash": 0}).get_json()["z_number"] == 2


# --- haggling: a line's own price, a discount, and the helper's limit ---------------------------

def _helper_token(helper):
    import re
    return re.search(r'name="csrf-token" content="([^"]+)"',
                     helper.get("/").get_data(as_text=True)).group(1)


def _payload(conn, seq):
    return json.loads(conn.execute("SELECT payload FROM journal WHERE seq = ?",
                                   (seq,)).fetchone()[0])


def test_a_haggled_price_keeps_the_list_price(api, conn):
    body = {"lines": [{"product_id": 1, "quantity": "2", "unit_price": 100000}],
            "payments": [{"method": "cash", "amount": 200000}]}
    response = api.post("/api/sales", json=body)
    assert response.status_code == 201, response.get_json()
    sale = response.get_json()
    schema_of("Sale").validate(sale)
    assert sale["total"] == 200000
    assert sale["lines"][0]["unit_price"] == 100000
    assert sale["lines"][0]["list_price"] == 120000
    assert _payload(conn, sale["seq"])["lines"][0]["list_price"] == 120000
    assert api.get(f"/api/sales/{sale['id']}").get_json() == sale
    # Sold at the list price: nothing to keep.
    same = api.post("/api/sales", json={**body, "lines": [
        {"product_id": 1, "quantity": "1", "unit_price": 120000}], "payments": [
        {"method": "cash", "amount": 120000}]}).get_json()
    assert "list_price" not in same["lines"][0]
    # A catalogue line takes its name and unit from the catalogue, still.
    renamed = api.post("/api/sales", json={"lines": [{"product_id": 1, "quantity": 1,
                                                      "name": "Chè rẻ"}],
                                           "payments": [{"method": "cash", "amount": 120000}]})
    assert renamed.status_code == 400


def test_a_discount_on_the_whole_sale(api, conn):
    body = {"lines": [{"product_id": 1, "quantity": "2"},
                      {"name": "Hàng khác", "unit_price": 15000, "quantity": "1"}],
            "discount": {"amount": 55000, "reason": "Khách quen"},
            "payments": [{"method": "cash", "amount": 200000, "tendered": 200000}]}
    response = api.post("/api/sales", json=body)
    assert response.status_code == 201, response.get_json()
    sale = response.get_json()
    schema_of("Sale").validate(sale)
    assert sale["total"] == 240000 + 15000 - 55000
    assert sale["discount"] == {"amount": 55000, "reason": "Khách quen"}
    assert api.get(f"/api/sales/{sale['id']}").get_json() == sale
    assert _payload(conn, sale["seq"])["discount"] == {"amount": 55000, "reason": "Khách quen"}
    # Payments must add up to the total after the discount, not before.
    before = snapshot(conn)
    wrong = api.post("/api/sales", json={**body, "payments": [{"method": "cash",
                                                               "amount": 255000}]})
    assert wrong.status_code == 400
    assert wrong.get_json()["error"]["code"] == "payments_mismatch"
    assert snapshot(conn) == before


@pytest.mark.parametrize("discount", [
    {"amount": 0, "reason": "x"}, {"amount": -1, "reason": "x"}, {"amount": 120000, "reason": "x"},
    {"amount": 130000, "reason": "x"}, {"amount": 1000}, {"amount": 1000, "reason": ""},
    {"amount": 1000, "reason": "   "}, {"amount": "x", "reason": "x"}, {"amount": 1000.5, "reason": "x"},
    {"amount": True, "reason": "x"}, {"amount": 1000, "reason": "x" * 201}, [], "10%",
    {"amount": 1000, "reason": "x", "percent": 5}, {"amount": 10**30, "reason": "x"}])
def test_a_bad_discount_is_refused(api, conn, discount):
    before = snapshot(conn)
    paid = 120000 - discount["amount"] if isinstance(discount, dict) and \
        type(discount.get("amount")) is int and discount["amount"] < 10**13 else 120000
    response = api.post("/api/sales", json={"lines": [{"product_id": 1, "quantity": "1"}],
                                            "discount": discount,
                                            "payments": [{"method": "cash", "amount": max(paid, 1)}]})
    assert response.status_code == 400, response.get_json()
    assert response.get_json()["error"]["message"]
    assert snapshot(conn) == before


def test_a_helper_haggles_within_the_owners_limit(helper, api, conn):
    token = {"X-CSRFToken": _helper_token(helper)}

    def sell(unit_price, discount=None):
        amount = unit_price - (discount or {}).get("amount", 0)
        body = {"lines": [{"product_id": 1, "quantity": "1", "unit_price": unit_price}],
                "payments": [{"method": "cash", "amount": amount}]}
        if discount:
            body["discount"] = discount
        return helper.post("/api/sales", json=body, headers=token)

    assert api.get("/api/settings").get_json()["helper_price_limit"] == 10
    assert sell(108000).status_code == 201                          # 10 % off: hers to give
    assert sell(125000).status_code == 201                          # dearer: always allowed
    assert sell(120000, {"amount": 12000, "reason": "Khách quen"}).status_code == 201
    before = snapshot(conn)
    for response in (sell(107999), sell(120000, {"amount": 12001, "reason": "Khách quen"})):
        assert response.status_code == 403
        assert response.get_json()["error"]["code"] == "owner_required"
        assert "PIN" in response.get_json()["error"]["message"]
    assert snapshot(conn) == before
    # The owner's API token has no limit; she can widen the helper's.
    assert api.post("/api/sales", json={"lines": [{"product_id": 1, "quantity": "1",
                                                   "unit_price": 1000}],
                                        "payments": [{"method": "cash", "amount": 1000}]}
                    ).status_code == 201
    changed = api.patch("/api/settings", json={"helper_price_limit": 25})
    assert changed.status_code == 200 and changed.get_json()["helper_price_limit"] == 25
    assert sell(90000).status_code == 201
    # The helper cannot widen it herself.
    assert helper.patch("/api/settings", json={"helper_price_limit": 100},
                        headers=token).status_code == 403


@pytest.mark.parametrize("limit", [-1, 101, "abc", True, 10.5, None, "", [10]])
def test_a_bad_helper_limit_is_refused(api, conn, limit):
    before = snapshot(conn)
    response = api.patch("/api/settings", json={"helper_price_limit": limit, "phone": "0911111111"})
    if limit is None:   # absent is "no change"
        assert response.status_code == 200
        return
    assert response.status_code == 400, response.get_json()
    assert response.get_json()["error"]["code"] == "bad_limit"
    assert snapshot(conn) == before


# --- refunds ------------------------------------------------------------------------------------

WEIGHED_SALE = {"lines": [{"product_id": 1, "quantity": "2"},
                          {"name": "Tôm khô", "unit_price": 900000, "quantity": "1.5",
                           "unit": "kg"}],
                "payments": [{"method": "cash", "amount": 1590000}]}


def _refund(api, sale_id, body):
    return api.post(f"/api/sales/{sale_id}/refund", json=body)


def test_a_partial_refund_of_a_weighed_line(api, conn):
    sale = api.post("/api/sales", json=WEIGHED_SALE).get_json()
    response = _refund(api, sale["id"], {"lines": [{"line": 2, "quantity": "0.5"}],
                                         "payments": [{"method": "cash", "amount": 450000}],
                                         "reason": "Tôm bị ẩm"})
    assert response.status_code == 201, response.get_json()
    refund = response.get_json()
    schema_of("Refund").validate(refund)
    assert refund["sale_id"] == sale["id"] and refund["total"] == 450000
    assert refund["lines"][0]["line"] == 2 and refund["lines"][0]["quantity"] == "0.5"
    stored = conn.execute("SELECT hash, kind FROM journal WHERE seq = ?",
                          (refund["seq"],)).fetchone()
    assert tuple(stored) == (refund["hash"], "refund")
    x = api.get("/api/reports/x").get_json()
    assert x["revenue"] == 1590000 - 450000
    assert x["refunds"] == {"count": 1, "amount": 450000, "cash": 450000, "qr": 0}
    assert x["cash_drawer"]["refunded_cash"] == 450000
    assert x["cash_drawer"]["expected"] == 1590000 - 450000
    # The rest of the line, by transfer, with the amount left out: all of what is left.
    rest = _refund(api, sale["id"], {"lines": [{"line": 2}], "payments": [{"method": "qr"}],
                                     "reason": "Tôm bị ẩm"})
    assert rest.status_code == 201 and rest.get_json()["total"] == 900000
    assert rest.get_json()["lines"][0]["quantity"] == "1"
    # Nothing of line 2 is left; the sale can no longer be voided, only refunded.
    before = snapshot(conn)
    again = _refund(api, sale["id"], {"lines": [{"line": 2, "quantity": "0.001"}],
                                      "payments": [{"method": "cash"}], "reason": "x"})
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "over_refund"
    void = api.post(f"/api/sales/{sale['id']}/void", json={"reason": "x"})
    assert void.status_code == 409 and void.get_json()["error"]["code"] == "has_refunds"
    assert snapshot(conn) == before


def test_refunding_every_line_in_parts_gives_back_exactly_what_was_paid(api):
    body = {"lines": [{"name": "Sả", "unit_price": 7000, "quantity": "3"},
                      {"name": "Gừng", "unit_price": 33333, "quantity": "0.7"}],
            "discount": {"amount": 1001, "reason": "Khách quen"}}
    goods = 21000 + (700 * 33333 + 500) // 1000
    body["payments"] = [{"method": "cash", "amount": goods - 1001}]
    sale = api.post("/api/sales", json=body).get_json()
    given = 0
    for part in ({"line": 1, "quantity": "1"}, {"line": 2, "quantity": "0.3"},
                 {"line": 1, "quantity": "1"}, {"line": 2}, {"line": 1}):
        response = _refund(api, sale["id"], {"lines": [part], "payments": [{"method": "cash"}],
                                             "reason": "Trả lại"})
        assert response.status_code == 201, response.get_json()
        given += response.get_json()["total"]
    assert given == sale["total"]


def test_a_voided_sale_cannot_be_refunded(api, conn):
    sale = api.post("/api/sales", json=CASH_SALE).get_json()
    api.post(f"/api/sales/{sale['id']}/void", json={"reason": "Nhầm"})
    before = snapshot(conn)
    response = _refund(api, sale["id"], {"lines": [{"line": 1}],
                                         "payments": [{"method": "cash"}], "reason": "x"})
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "sale_voided"
    assert snapshot(conn) == before


@pytest.mark.parametrize("body", [
    {}, {"lines": [], "payments": [{"method": "cash"}], "reason": "x"},
    {"lines": [{"line": 1}], "payments": [{"method": "cash"}]},
    {"lines": [{"line": 1}], "payments": [{"method": "cash"}], "reason": ""},
    {"lines": [{"line": 0}], "payments": [{"method": "cash"}], "reason": "x"},
    {"lines": [{"line": 3}], "payments": [{"method": "cash"}], "reason": "x"},
    {"lines": [{"line": True}], "payments": [{"method": "cash"}], "reason": "x"},
    {"lines": [{"line": 1}, {"line": 1}], "payments": [{"method": "cash"}], "reason": "x"},
    {"lines": [{"line": 1, "quantity": "0"}], "payments": [{"method": "cash"}], "reason": "x"},
    {"lines": [{"line": 1, "quantity": "-1"}], "payments": [{"method": "cash"}], "reason": "x"},
    {"lines": [{"line": 1, "quantity": "1e999999"}], "payments": [{"method": "cash"}],
     "reason": "x"},
    {"lines": [{"line": 1}], "payments": [{"method": "card"}], "reason": "x"},
    {"lines": [{"line": 1}], "payments": [{"method": "cash", "amount": 1}], "reason": "x"},
    {"lines": [{"line": 1}], "payments": [], "reason": "x"},
    {"lines": [{"line": 1}], "payments": [{"method": "cash"}, {"method": "qr"}], "reason": "x"},
    {"lines": [{"line": 1}], "payments": [{"method": "cash"}], "reason": "x", "extra": 1},
    {"lines": [{"line": 1, "price": 1}], "payments": [{"method": "cash"}], "reason": "x"},
    ["x"]])
def test_a_bad_refund_is_refused_and_changes_nothing(api, conn, body):
    sale = api.post("/api/sales", json=WEIGHED_SALE).get_json()
    before = snapshot(conn)
    response = _refund(api, sale["id"], body)
    assert response.status_code == 400, response.get_json()
    assert response.get_json()["error"]["message"]
    assert snapshot(conn) == before


def test_over_refund_and_unknown_sale(api, conn):
    sale = api.post("/api/sales", json=WEIGHED_SALE).get_json()
    before = snapshot(conn)
    over = _refund(api, sale["id"], {"lines": [{"line": 1, "quantity": "2.001"}],
                                     "payments": [{"method": "cash"}], "reason": "x"})
    assert over.status_code == 409 and over.get_json()["error"]["code"] == "over_refund"
    missing = _refund(api, "00000000-0000-4000-8000-000000000000",
                      {"lines": [{"line": 1}], "payments": [{"method": "cash"}], "reason": "x"})
    assert missing.status_code == 404
    assert snapshot(conn) == before


def test_a_helper_refunds_only_with_the_owners_pin(helper, api, conn):
    sale = api.post("/api/sales", json=WEIGHED_SALE).get_json()
    before = snapshot(conn)
    response = helper.post(f"/api/sales/{sale['id']}/refund", json={
        "lines": [{"line": 1}], "payments": [{"method": "cash"}], "reason": "x"},
        headers={"X-CSRFToken": _helper_token(helper)})
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "owner_required"
    assert snapshot(conn) == before


def test_parallel_refunds_of_the_same_line_never_give_back_more_than_was_sold(app, token):
    """Eight clients give back the same line at once: the write lock serialises them, the
    over-refund check runs inside it, so exactly what was sold comes back, no more."""
    from concurrent.futures import ThreadPoolExecutor
    clients = [app.test_client() for _ in range(8)]
    headers = {"Authorization": f"Bearer {token}"}
    sale = clients[0].post("/api/sales", json=WEIGHED_SALE, headers=headers).get_json()

    def give_back(client):
        return client.post(f"/api/sales/{sale['id']}/refund", headers=headers, json={
            "lines": [{"line": 2, "quantity": "0.5"}], "payments": [{"method": "cash"}],
            "reason": "x"}).status_code

    with ThreadPoolExecutor(8) as pool:
        codes = sorted(pool.map(give_back, clients))
    assert codes == [201] * 3 + [409] * 5
