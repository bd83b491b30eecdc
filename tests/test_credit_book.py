"""The credit book (sổ nợ): customers, credit sales, repayments, voids and refunds of credit sales,
balances, limits, X/Z figures and who may do what; real SQLite, through the JSON API."""
from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from pos import personal_data
from tests.test_api import schema_of, snapshot
from tests.test_qrpay import _apply, account  # noqa: F401  (fixture)

ONE_KG = [{"product_id": 1, "quantity": "1"}]            # 120.000 ₫


def everything(conn):
    tables = ("journal", "sales", "payments", "customers", "credit_moves", "qr_pending",
              "day_totals")
    return {t: [tuple(r) for r in conn.execute(f"SELECT * FROM {t} ORDER BY 1")] for t in tables}


def new_customer(api, **fields):
    answer = api.post("/api/customers", json={"name": "Lân", **fields})
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()


def credit_sale(api, customer_id, cash=0, lines=ONE_KG, total=120000):
    payments = ([{"method": "cash", "amount": cash}] if cash else []) + [
        {"method": "credit", "amount": total - cash, "customer_id": customer_id}]
    return api.post("/api/sales", json={"lines": lines, "payments": payments})


def balance(api, customer_id):
    return api.get(f"/api/customers/{customer_id}").get_json()["balance"]


def test_a_customer_is_found_by_name_without_diacritics_or_by_phone(api):
    lan = new_customer(api, phone="0912 345 678", note="Bếp quán phở")
    assert (lan["name"], lan["phone"], lan["balance"]) == ("Lân", "0912345678", 0)
    new_customer(api, name="Nguyễn Thị Hoa")
    for query, names in (("lan", ["Lân"]), ("LÂN", ["Lân"]), ("345 678", ["Lân"]), ("0912", ["Lân"]),
                         ("hoa", ["Nguyễn Thị Hoa"]), ("nguyen hoa", ["Nguyễn Thị Hoa"]),
                         ("%", []), ("", ["Nguyễn Thị Hoa", "Lân"])):
        found = api.get("/api/customers", query_string={"q": query}).get_json()["customers"]
        assert [c["name"] for c in found] == names, query


def test_credit_sales_repayments_voids_and_refunds_move_the_balance(api, owner, conn):
    lan = new_customer(api)
    sale = credit_sale(api, lan["id"], cash=20000)        # part paid now, the rest on credit
    assert sale.status_code == 201, sale.get_json()
    sale = sale.get_json()
    schema_of("Sale").validate(sale)
    assert sale["payments"][1] == {"method": "credit", "amount": 100000, "customer_id": lan["id"]}
    assert balance(api, lan["id"]) == 100000
    second = credit_sale(api, lan["id"]).get_json()
    assert balance(api, lan["id"]) == 220000
    paid = api.post(f"/api/customers/{lan['id']}/payments", json={"method": "cash",
                                                                   "amount": 50000})
    assert paid.status_code == 201 and paid.get_json()["balance"] == 170000
    void = api.post(f"/api/sales/{second['id']}/void", json={"reason": "Nhầm"})
    assert void.status_code == 200 and balance(api, lan["id"]) == 50000
    refund = api.post(f"/api/sales/{sale['id']}/refund", json={
        "lines": [{"line": 1, "quantity": "0.25"}], "payments": [{"method": "credit"}],
        "reason": "Hàng dập"})
    assert refund.status_code == 201, refund.get_json()
    assert refund.get_json()["payments"] == [{"method": "credit", "amount": 30000,
                                              "customer_id": lan["id"]}]
    assert balance(api, lan["id"]) == 20000
    history = api.get(f"/api/customers/{lan['id']}").get_json()["entries"]
    assert [(e["kind"], e["amount"]) for e in history] == [
        ("refund", -30000), ("void", -120000), ("repayment", -50000), ("sale", 120000),
        ("sale", 100000)]
    x = api.get("/api/reports/x").get_json()
    assert x["credit"] == {"sales": {"count": 1, "amount": 100000},
                           "repaid": {"count": 1, "amount": 50000, "cash": 50000, "qr": 0}}
    assert x["cash_drawer"]["repaid_cash"] == 50000
    assert x["cash_drawer"]["expected"] == 20000 + 50000
    assert x["revenue"] == 120000 - 30000
    debtors = api.get("/api/customers", query_string={"owing": "1"}).get_json()["customers"]
    assert [c["name"] for c in debtors] == ["Lân"]


@pytest.mark.parametrize("payments, status, code", [
    ([{"method": "credit", "amount": 120000}], 400, "credit_needs_customer"),
    ([{"method": "credit", "amount": 120000, "customer_id": 999}], 404, "unknown_customer"),
    ([{"method": "credit", "amount": 120000, "customer_id": "abc"}], 400, "bad_customer"),
    ([{"method": "credit", "amount": 0, "customer_id": 1}], 400, None),
    ([{"method": "credit", "amount": -5, "customer_id": 1}], 400, None),
    ([{"method": "credit", "amount": 120000, "customer_id": 1, "tendered": 5}], 400, None),
    ([{"method": "cash", "amount": 120000, "customer_id": 1}], 400, None),
    ([{"method": "credit", "amount": 60000, "customer_id": 1},
      {"method": "credit", "amount": 60000, "customer_id": 1}], 400, None),
])
def test_refused_credit_sales_change_nothing(api, conn, payments, status, code):
    new_customer(api)
    before = everything(conn)
    answer = api.post("/api/sales", json={"lines": ONE_KG, "payments": payments})
    assert answer.status_code == status, answer.get_json()
    error = answer.get_json()["error"]
    assert error["message"]
    if code:
        assert error["code"] == code
    assert everything(conn) == before


def test_repayments_are_refused_beyond_the_debt_and_change_nothing(api, conn):
    lan = new_customer(api)
    credit_sale(api, lan["id"])
    before = everything(conn)
    for body, status, code in (
            ({"method": "cash", "amount": 120001}, 409, "over_payment"),
            ({"method": "cash", "amount": 0}, 400, None),
            ({"method": "cash", "amount": -1}, 400, None),
            ({"method": "card", "amount": 10}, 400, None),
            ({"method": "cash"}, 400, None),
            ({"method": "cash", "amount": 10, "x": 1}, 400, None)):
        answer = api.post(f"/api/customers/{lan['id']}/payments", json=body)
        assert answer.status_code == status, (body, answer.get_json())
        if code:
            assert answer.get_json()["error"]["code"] == code
    assert api.post("/api/customers/999/payments",
                    json={"method": "cash", "amount": 1}).status_code == 404
    assert everything(conn) == before


def test_two_repayments_of_the_same_debt_at_once_do_not_both_pass(live_server, token, api):
    """Real HTTP through waitress: eight repayments of the whole debt at once, one passes."""
    lan = new_customer(api)
    credit_sale(api, lan["id"])
    headers = {"Authorization": f"Bearer {token}"}
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: requests.post(
            f"{live_server}/api/customers/{lan['id']}/payments", headers=headers, timeout=10,
            json={"method": "cash", "amount": 120000}), range(8)))
    assert sorted(a.status_code for a in answers) == [201] + [409] * 7
    assert balance(api, lan["id"]) == 0


def test_the_credit_limit_needs_the_owner(api, helper, conn):
    from tests.conftest import csrf_token
    lan = new_customer(api, credit_limit=150000)
    assert credit_sale(api, lan["id"]).status_code == 201       # 120.000: within the limit
    token = csrf_token(helper, "/")
    before = everything(conn)
    over = helper.post("/api/sales", headers={"X-CSRFToken": token}, json={
        "lines": ONE_KG, "payments": [{"method": "credit", "amount": 120000,
                                       "customer_id": lan["id"]}]})
    assert over.status_code == 403 and over.get_json()["error"]["code"] == "owner_required"
    assert everything(conn) == before
    assert credit_sale(api, lan["id"]).status_code == 201       # the owner (a token) may


def test_only_the_owner_changes_a_customer(api, helper):
    from tests.conftest import csrf_token
    lan = new_customer(api)
    token = csrf_token(helper, "/")
    assert helper.patch(f"/api/customers/{lan['id']}", json={"credit_limit": 0},
                        headers={"X-CSRFToken": token}).status_code == 403
    changed = api.patch(f"/api/customers/{lan['id']}", json={"credit_limit": 0, "phone": ""})
    assert changed.status_code == 200 and changed.get_json()["credit_limit"] == 0


def test_names_travel_sealed(api, conn):
    """The entries the province gets hold the name, phone and note only as ciphertext."""
    new_customer(api, name="Trần Văn Lân", phone="0912345678", note="Quán phở đầu chợ")
    rows = [row[0] for row in conn.execute("SELECT payload FROM journal WHERE kind = 'customer'")]
    assert len(rows) == 1
    assert "Lân" not in rows[0] and "0912345678" not in rows[0] and "phở" not in rows[0]
    payload = json.loads(rows[0])
    assert all(personal_data.is_sealed(payload[k]) for k in ("name", "phone", "note"))
    assert personal_data.unseal(conn, payload["name"]) == "Trần Văn Lân"


def test_a_repayment_by_transfer_is_recorded_by_the_bank(app, api, account, conn):  # noqa: F811
    lan = new_customer(api)
    credit_sale(api, lan["id"])
    pending = api.post(f"/api/customers/{lan['id']}/payments", json={"method": "qr",
                                                                      "amount": 70000})
    assert pending.status_code == 201, pending.get_json()
    pending = pending.get_json()
    assert pending["customer_id"] == lan["id"] and pending["amount"] == 70000
    assert api.get("/api/qr-payments").get_json()["qr_payments"] == []   # not the sell screen's
    result = _apply(app, conn, "FT5", 70000, f"MBVCB.1.{pending['reference']}.CT")
    assert result.state == "bank_confirmed"
    assert balance(api, lan["id"]) == 50000
    shown = api.get(f"/api/qr-payments/{pending['id']}").get_json()
    assert shown["state"] == "recorded"
    x = api.get("/api/reports/x").get_json()
    assert x["credit"]["repaid"] == {"count": 1, "amount": 70000, "cash": 0, "qr": 70000}
    assert x["cash_drawer"]["repaid_cash"] == 0


def test_a_repayment_by_transfer_confirmed_by_the_vendor(api, account, conn):  # noqa: F811
    lan = new_customer(api)
    credit_sale(api, lan["id"])
    pending = api.post(f"/api/customers/{lan['id']}/payments", json={"method": "qr",
                                                                      "amount": 120000}).get_json()
    done = api.post(f"/api/qr-payments/{pending['id']}/confirm")
    assert done.status_code == 201 and done.get_json()["balance"] == 0
    again = api.post(f"/api/qr-payments/{pending['id']}/confirm")
    assert again.status_code == 200 and again.get_json() == done.get_json()
    assert api.post(f"/api/customers/{lan['id']}/payments",
                    json={"method": "qr", "amount": 1}).status_code == 409
