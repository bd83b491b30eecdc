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


# --- the balance as a property ------------------------------------------------------------------

from hypothesis import HealthCheck, given, settings as hsettings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

OPERATIONS = st.lists(st.one_of(
    st.tuples(st.just("sale"), st.integers(0, 2), st.sampled_from([250, 500, 1000, 2500]),
              st.integers(0, 100)),          # who, quantity (thousandths), % paid in cash
    st.tuples(st.just("repay"), st.integers(0, 2), st.integers(1, 400_000)),
    st.tuples(st.just("void"), st.integers(0, 50)),
    st.tuples(st.just("refund"), st.integers(0, 50), st.sampled_from([100, 250, 1000]))),
    min_size=1, max_size=25)


@hsettings(max_examples=25, deadline=None,
           suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations=OPERATIONS)
def test_the_balance_is_always_credit_minus_repayments_minus_reversals(stall_template, tmp_path,
                                                                        operations):
    """In any order, whatever is refused: each balance equals what was put on credit, less what
    was paid back, less what voids and refunds to credit took off; and equals the sum of her
    credit moves. A refused operation changes nothing."""
    import shutil
    import uuid
    from pos import credit_book, refunds, sales
    from pos.app import create_app
    from sync.errors import AppError
    from tests.conftest import connect
    folder = tmp_path / uuid.uuid4().hex
    shutil.copytree(stall_template, folder)
    app = create_app({"DATA_DIR": folder, "TESTING": True})
    device, conn = app.config["DEVICE_ID"], connect(app)
    try:
        with app.test_request_context():
            ids = [credit_book.create_customer(conn, device, {"name": name})["id"]
                   for name in ("Lân", "Hoa", "Tư")]
            model = {i: {"credit": 0, "repaid": 0, "reversed": 0} for i in ids}
            credit_sales: list[dict] = []
            for op in operations:
                before = everything(conn)
                try:
                    if op[0] == "sale":
                        _, who, milli, cash_share = op
                        total = (milli * 120000 + 500) // 1000
                        cash = total * cash_share // 100
                        payments = ([{"method": "cash", "amount": cash}] if cash else []) + (
                            [{"method": "credit", "amount": total - cash,
                              "customer_id": ids[who]}] if total > cash else [])
                        sale = sales.record_sale(conn, device, {
                            "lines": [{"product_id": 1, "quantity": str(milli / 1000)}],
                            "payments": payments}, "owner")
                        if total > cash:
                            model[ids[who]]["credit"] += total - cash
                            credit_sales.append({"sale": sale, "who": ids[who],
                                                 "credit": total - cash})
                    elif op[0] == "repay":
                        _, who, amount = op
                        credit_book.repay(conn, device, ids[who], {"method": "cash",
                                                                   "amount": amount}, "owner")
                        model[ids[who]]["repaid"] += amount
                    elif op[0] == "void" and credit_sales:
                        target = credit_sales[op[1] % len(credit_sales)]
                        sales.void_sale(conn, device, target["sale"]["id"], "Nhầm", "owner")
                        model[target["who"]]["reversed"] += target["credit"]
                        target["credit"] = 0
                    elif op[0] == "refund" and credit_sales:
                        target = credit_sales[op[1] % len(credit_sales)]
                        done = refunds.refund_sale(conn, device, target["sale"]["id"], {
                            "lines": [{"line": 1, "quantity": str(op[2] / 1000)}],
                            "payments": [{"method": "credit"}], "reason": "Hàng dập"}, "owner")
                        model[target["who"]]["reversed"] += done["total"]
                        target["credit"] -= done["total"]
                except AppError:
                    assert everything(conn) == before, op
                for customer_id, figures in model.items():
                    balance = credit_book.get_customer(conn, customer_id, entries=False)["balance"]
                    assert balance == figures["credit"] - figures["repaid"] - figures["reversed"]
                    moved = conn.execute("SELECT IFNULL(SUM(amount), 0) FROM credit_moves"
                                         " WHERE customer_id = ?", (customer_id,)).fetchone()[0]
                    assert moved == balance
                    assert balance >= 0 or figures["reversed"] > 0   # only a reversal of a paid debt
    finally:
        conn.close()


# --- rebuilt from the province ------------------------------------------------------------------

from click.testing import CliRunner  # noqa: E402

from tests.test_sync_client import (paired, server_template,  # noqa: E402,F401  (fixtures)
                                    sync_server)
from tests.test_trust_recover import reissue_code, tables  # noqa: E402


@pytest.fixture
def book_synced(app, api, paired):  # noqa: F811
    """A stall with two customers, credit sales, a repayment and a refund, synced."""
    lan = new_customer(api, name="Trần Thị Lân", phone="0912345678", note="Quán phở")
    hoa = new_customer(api, name="Hoa")
    sale = credit_sale(api, lan["id"], cash=20000).get_json()
    credit_sale(api, hoa["id"])
    api.post(f"/api/customers/{lan['id']}/payments", json={"method": "cash", "amount": 30000})
    api.post(f"/api/sales/{sale['id']}/refund", json={
        "lines": [{"line": 1, "quantity": "0.1"}], "payments": [{"method": "credit"}],
        "reason": "Cân dư"})
    result = paired.sync_once()
    assert result.pending == 0, result
    return {"lan": lan["id"], "hoa": hoa["id"]}


def _customers(path):
    from pos import db
    conn = db.connect(path)
    try:
        return [tuple(r) for r in conn.execute(
            "SELECT id, name, phone, note, balance FROM customers ORDER BY id")]
    finally:
        conn.close()


def test_recover_brings_the_book_back_with_the_names_given_the_code(
        app, conn, book_synced, sync_server, tmp_path):  # noqa: F811
    from pos import settings, stall
    from pos.cli import main
    original = tables(app.config["DATABASE"])
    before = _customers(app.config["DATABASE"])
    assert before == [(1, "Trần Thị Lân", "0912345678", "Quán phở", 58000), (2, "Hoa", None,
                                                                             None, 120000)]
    server_dump = "\n".join(__import__("sqlite3").connect(sync_server.db_file).iterdump())
    assert "Trần Thị Lân" not in server_dump and "0912345678" not in server_dump
    assert "Quán phở" not in server_dump
    device = settings.read(conn, "device_id")
    code = personal_data.recovery_code(conn)
    runner = CliRunner()
    fresh = tmp_path / "new-card"
    assert runner.invoke(main, ["init", "--data", str(fresh), "--pin", "1234"]).exit_code == 0
    without = runner.invoke(main, ["recover", "--data", str(fresh), "--server", sync_server.url,
                                   "--code", reissue_code(sync_server, device)])
    assert without.exit_code == 1 and "recovery code" in without.output.lower()
    assert _customers(stall.database_path(fresh)) == []           # nothing written
    done = runner.invoke(main, ["recover", "--data", str(fresh), "--server", sync_server.url,
                                "--recovery-code", code])
    assert done.exit_code == 0, done.output
    assert _customers(stall.database_path(fresh)) == before
    assert tables(stall.database_path(fresh)) == original


def test_a_lost_code_brings_the_balances_back_under_placeholders(
        app, conn, book_synced, sync_server, tmp_path):  # noqa: F811
    from pos import settings, stall
    from pos.cli import main
    device = settings.read(conn, "device_id")
    runner = CliRunner()
    fresh = tmp_path / "new-card"
    assert runner.invoke(main, ["init", "--data", str(fresh), "--pin", "1234"]).exit_code == 0
    done = runner.invoke(main, ["recover", "--data", str(fresh), "--server", sync_server.url,
                                "--code", reissue_code(sync_server, device),
                                "--without-personal-data"])
    assert done.exit_code == 0, done.output
    assert _customers(stall.database_path(fresh)) == [(1, "Khách #1", None, None, 58000),
                                                      (2, "Khách #2", None, None, 120000)]


def test_the_tax_books_count_a_credit_sale_on_the_day_of_the_sale(api, conn):
    """Revenue is earned when the goods are sold, not when the debt is paid (issue 18): the
    book of the sale's day holds the whole credit sale; the later repayment adds nothing."""
    from pos.tax import books
    from pos.tax import settings as tax_settings
    lan = new_customer(api)
    sale = credit_sale(api, lan["id"], cash=20000).get_json()
    day = sale["business_day"]
    before = books.build(conn, "s1a", day, day, tax_settings.load(conn)).total
    assert before == 120000
    api.post(f"/api/customers/{lan['id']}/payments", json={"method": "cash", "amount": 100000})
    assert books.build(conn, "s1a", day, day, tax_settings.load(conn)).total == 120000
    assert api.get("/api/reports/x").get_json()["revenue"] == 120000
