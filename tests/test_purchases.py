"""Buying from growers (issue 19) and the stock it makes: purchases, counts, stock through sales,
voids and refunds, the X report's cash out, refusals, and the grower's personal data sealed in
the journal; real SQLite, through the JSON API."""
from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from tests.test_api import schema_of
from tests.test_no_scans import NOT_QUERIES, kept_connection, scans
from tests.test_payload_contract import ends, server_template  # noqa: F401  (fixtures)

TOMATO = 8          # Cà chua, kg, 25.000 ₫ (the demo catalogue)
GROWER = {"name": "Giàng Thị Mỷ", "id_number": "001190012345", "address": "Bản Phố, Bắc Hà",
          "phone": "0912 345 678"}


def buy(api, quantity="12.5", unit_price=10000, product_id=TOMATO, payments=None,
        supplier=GROWER):
    total = (int(Decimal(quantity) * 1000) * unit_price + 500) // 1000
    return api.post("/api/purchases", json={
        "supplier": supplier,
        "lines": [{"product_id": product_id, "quantity": quantity, "unit_price": unit_price}],
        "payments": payments or [{"method": "cash", "amount": total}]})


def sell_cash(api, quantity, amount, product_id=TOMATO):
    answer = api.post("/api/sales", json={"lines": [{"product_id": product_id,
                                                     "quantity": quantity}],
                                          "payments": [{"method": "cash", "amount": amount}]})
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()


def on_hand(api, product_id=TOMATO):
    for item in api.get("/api/stock").get_json():
        if item["product_id"] == product_id:
            return item["on_hand"]
    raise AssertionError(f"product {product_id} not in the stock list")


def everything(conn):
    tables = ("journal", "products", "purchases", "purchase_lines", "purchase_payments",
              "suppliers", "stock", "stock_moves", "stock_counts", "day_totals")
    return {t: [tuple(r) for r in conn.execute(f"SELECT * FROM {t} ORDER BY 1")] for t in tables}


def test_a_purchase_for_cash_then_a_sale_leaves_the_rest_in_stock_and_x_shows_the_cash_out(
        api, conn):
    assert on_hand(api) is None                       # not tracked yet: no number at all
    answer = buy(api)
    assert answer.status_code == 201, answer.get_json()
    purchase = answer.get_json()
    schema_of("Purchase").validate(purchase)
    assert (purchase["number"], purchase["total"]) == (1, 125000)
    assert purchase["lines"] == [{"product_id": TOMATO, "name": "Cà chua", "unit": "kg",
                                  "quantity": "12.5", "unit_price": 10000, "amount": 125000}]
    assert purchase["payments"] == [{"method": "cash", "amount": 125000}]
    assert purchase["warnings"] == []
    assert on_hand(api) == "12.5"
    sell_cash(api, "0.75", 18750)
    assert on_hand(api) == "11.75"
    for item in api.get("/api/stock").get_json():
        schema_of("StockItem").validate(item)
        if item["product_id"] != TOMATO:
            assert (item["tracked"], item["on_hand"]) == (False, None)

    api.post("/api/cash-moves", json={"type": "float", "amount": 200000})
    x = api.get("/api/reports/x").get_json()
    assert x["purchases"] == {"count": 1, "amount": 125000, "cash": 125000, "qr": 0}
    drawer = x["cash_drawer"]
    assert drawer["purchases_cash"] == 125000
    assert drawer["expected"] == 200000 + 18750 - 125000
    # The Z freezes the same figures into a `day_close` entry the payload schema accepts.
    close = api.post("/api/day-close", json={"business_day": x["business_day"],
                                             "counted_cash": 93750})
    assert close.status_code in (200, 201), close.get_json()
    z = close.get_json()
    assert z["purchases"]["cash"] == 125000 and z["difference"] == 0


def test_a_purchase_paid_by_transfer_is_not_cash_out_and_a_split_adds_up(api):
    assert buy(api, "2", 10000, payments=[{"method": "qr", "amount": 20000}]).status_code == 201
    assert buy(api, "3", 10000, payments=[{"method": "cash", "amount": 10000},
                                          {"method": "qr", "amount": 20000}]).status_code == 201
    x = api.get("/api/reports/x").get_json()
    assert x["purchases"] == {"count": 2, "amount": 50000, "cash": 10000, "qr": 40000}
    assert x["cash_drawer"]["purchases_cash"] == 10000
    assert on_hand(api) == "5"


def test_a_new_product_is_created_by_its_purchase_hidden_until_priced(api, conn):
    answer = api.post("/api/purchases", json={
        "supplier": {"name": "Lò Văn Sáng"},
        "lines": [{"name": "Măng rừng", "unit": "kg", "quantity": "4", "unit_price": 30000},
                  {"name": "Mận hậu", "unit": "thùng", "quantity": 2, "unit_price": 150000,
                   "price": 220000}],
        "payments": [{"method": "cash", "amount": 420000}]})
    assert answer.status_code == 201, answer.get_json()
    lines = answer.get_json()["lines"]
    products = {p["id"]: p for p in api.get("/api/products").get_json()["products"]}
    bamboo, honey = products[lines[0]["product_id"]], products[lines[1]["product_id"]]
    assert (bamboo["name"], bamboo["price"], bamboo["active"]) == ("Măng rừng", 0, False)
    assert (honey["name"], honey["price"], honey["active"]) == ("Mận hậu", 220000, True)
    # Each new product is a `product` entry just before the purchase, in the same transaction.
    kinds = [r[0] for r in conn.execute("SELECT kind FROM journal ORDER BY seq DESC LIMIT 3")]
    assert kinds == ["purchase", "product", "product"]
    # The same name (any diacritics, any case) and unit again is the same product.
    again = api.post("/api/purchases", json={
        "supplier": {"name": "Lò Văn Sáng"},
        "lines": [{"name": "MANG RUNG", "unit": "kg", "quantity": "1", "unit_price": 30000}],
        "payments": [{"method": "cash", "amount": 30000}]}).get_json()
    assert again["lines"][0]["product_id"] == bamboo["id"]
    assert on_hand(api, bamboo["id"]) == "5"
    # One grower, one row (the same folded name, no ID number).
    assert conn.execute("SELECT COUNT(*) FROM suppliers").fetchone()[0] == 1


def test_voids_put_back_what_the_sale_took_and_refunds_add(api, conn):
    before = sell_cash(api, "1", 25000)               # before tracking: takes nothing
    buy(api, "10")
    sale = sell_cash(api, "2", 50000)
    assert on_hand(api) == "8"
    assert api.post(f"/api/sales/{sale['id']}/void", json={"reason": "nhầm"}).status_code == 200
    assert on_hand(api) == "10"
    assert api.post(f"/api/sales/{before['id']}/void", json={"reason": "nhầm"}).status_code \
        == 200
    assert on_hand(api) == "10"                       # it took nothing, it gives nothing back
    sale = sell_cash(api, "3", 75000)
    refund = api.post(f"/api/sales/{sale['id']}/refund", json={
        "lines": [{"line": 1, "quantity": "0.5"}], "payments": [{"method": "cash"}],
        "reason": "dập"})
    assert refund.status_code == 201, refund.get_json()
    assert on_hand(api) == "7.5"
    kinds = [r[0] for r in conn.execute("SELECT kind FROM stock_moves ORDER BY seq")]
    assert kinds == ["purchase", "sale", "void", "sale", "refund"]


def test_selling_more_than_the_stock_is_never_blocked_and_shows_short(api):
    buy(api, "1")
    sell_cash(api, "1.5", 37500)
    item = next(i for i in api.get("/api/stock").get_json() if i["product_id"] == TOMATO)
    assert (item["on_hand"], item["short"]) == ("-0.5", True)


def test_a_count_sets_the_stock_and_its_difference_is_a_move(api, conn):
    buy(api, "12.5")
    sell_cash(api, "0.75", 18750)
    answer = api.post("/api/stock/counts", json={"lines": [{"product_id": TOMATO,
                                                            "counted": "10"},
                                                           {"product_id": 9, "counted": "3"}],
                                                 "reason": "Kiểm kho cuối tuần"})
    assert answer.status_code == 201, answer.get_json()
    count = answer.get_json()
    schema_of("StockCount").validate(count)
    assert count["lines"] == [
        {"product_id": TOMATO, "counted": "10", "before": "11.75", "difference": "-1.75"},
        {"product_id": 9, "counted": "3", "before": None, "difference": "3"}]
    assert (on_hand(api), on_hand(api, 9)) == ("10", "3")
    assert [tuple(r) for r in conn.execute("SELECT quantity_milli FROM stock_moves"
                                           " WHERE kind = 'count' ORDER BY product_id")] \
        == [(-1750,), (3000,)]
    # Counting zero (all thrown away) is a count, not a refusal.
    assert api.post("/api/stock/counts", json={"lines": [{"product_id": 9, "counted": "0"}],
                                               "reason": "Hỏng"}).status_code == 201
    assert on_hand(api, 9) == "0"


def test_a_helper_buys_but_only_the_owner_counts(helper):
    from tests.conftest import csrf_token
    token = csrf_token(helper, "/")
    headers = {"X-CSRFToken": token}
    answer = helper.post("/api/purchases", headers=headers, json={
        "supplier": {"name": "Mỷ"}, "lines": [{"product_id": TOMATO, "quantity": "1",
                                               "unit_price": 10000}],
        "payments": [{"method": "cash", "amount": 10000}]})
    assert answer.status_code == 201, answer.get_json()
    count = helper.post("/api/stock/counts", headers=headers, json={
        "lines": [{"product_id": TOMATO, "counted": "0"}], "reason": "x"})
    assert count.status_code == 403 and count.get_json()["error"]["code"] == "owner_required"


# (field, message): the answer speaks the stall's language, Vietnamese by default.
REFUSED = {
    "a zero quantity": ({"lines": [{"product_id": TOMATO, "quantity": "0", "unit_price": 10000}]},
                        400, "lines[0].quantity", "Số lượng phải lớn hơn 0."),
    "a negative quantity": ({"lines": [{"product_id": TOMATO, "quantity": "-1",
                                        "unit_price": 10000}]},
                            400, "lines[0].quantity", None),
    "a zero price": ({"lines": [{"product_id": TOMATO, "quantity": "1", "unit_price": 0}]},
                     400, "lines[0].unit_price", "Số tiền phải lớn hơn 0."),
    "a negative price": ({"lines": [{"product_id": TOMATO, "quantity": "1",
                                     "unit_price": -5000}]},
                         400, "lines[0].unit_price", "Số tiền không được âm."),
    "payments that do not add up": ({"payments": [{"method": "cash", "amount": 9000}]},
                                    400, "payments", None),
    "a card payment": ({"payments": [{"method": "card", "amount": 10000}]},
                       400, "payments[0].method", None),
    "an unknown product": ({"lines": [{"product_id": 999, "quantity": "1",
                                       "unit_price": 10000}]},
                           404, "lines[0].product_id", "Không có hàng số 999."),
    "a grower without a name": ({"supplier": {"id_number": "001190012345"}},
                                400, "supplier.name", None),
    "a grower with a blank name": ({"supplier": {"name": "   "}}, 400, "supplier.name", None),
    "no grower": ({"supplier": None}, 400, "supplier", None),
    "an ID number of 9 digits": ({"supplier": {"name": "Mỷ", "id_number": "012345678"}},
                                 400, "supplier.id_number", None),
    "no lines": ({"lines": []}, 400, "lines", None),
    "a new line without a unit": ({"lines": [{"name": "Măng", "quantity": "1",
                                              "unit_price": 10000}]},
                                  400, "lines[0].unit", None),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_a_refused_purchase_changes_nothing(api, conn, case):
    change, status, field, message = REFUSED[case]
    request = {"supplier": {"name": "Mỷ"},
               "lines": [{"product_id": TOMATO, "quantity": "1", "unit_price": 10000}],
               "payments": [{"method": "cash", "amount": 10000}], **change}
    before = everything(conn)
    answer = api.post("/api/purchases", json=request)
    assert answer.status_code == status, answer.get_json()
    error = answer.get_json()["error"]
    assert error["field"] == field
    if message:
        assert error["message"] == message
    assert everything(conn) == before


def test_a_refused_purchase_with_a_new_product_line_creates_no_product(api, conn):
    before = everything(conn)
    answer = api.post("/api/purchases", json={
        "supplier": {"name": "Mỷ"},
        "lines": [{"name": "Măng rừng", "unit": "kg", "quantity": "1", "unit_price": 10000},
                  {"product_id": 999, "quantity": "1", "unit_price": 10000}],
        "payments": [{"method": "cash", "amount": 20000}]})
    assert answer.status_code == 404
    assert everything(conn) == before


@pytest.mark.parametrize("request_, status, field", [
    ({"lines": [{"product_id": 999, "counted": "1"}], "reason": "x"}, 404,
     "lines[0].product_id"),
    ({"lines": [{"product_id": TOMATO, "counted": "-1"}], "reason": "x"}, 400,
     "lines[0].counted"),
    ({"lines": [{"product_id": TOMATO, "counted": "1"}]}, 400, "reason"),
    ({"lines": [], "reason": "x"}, 400, "lines"),
    ({"lines": [{"product_id": TOMATO, "counted": "1"}, {"product_id": TOMATO, "counted": "2"}],
      "reason": "x"}, 400, "lines[1].product_id"),
])
def test_a_refused_count_changes_nothing(api, conn, request_, status, field):
    before = everything(conn)
    answer = api.post("/api/stock/counts", json=request_)
    assert answer.status_code == status, answer.get_json()
    assert answer.get_json()["error"]["field"] == field
    assert everything(conn) == before


def test_the_growers_personal_data_never_travels_in_clear(api, conn):
    assert buy(api).status_code == 201
    raw = conn.execute("SELECT payload FROM journal WHERE kind = 'purchase'").fetchone()[0]
    for clear in ("Giàng", "Mỷ", "001190012345", "Bắc Hà", "0912345678", "345 678"):
        assert clear not in raw
    payload = json.loads(raw)
    for key in ("supplier_name", "supplier_id_number", "supplier_address", "supplier_phone"):
        assert payload[key].startswith("pd1:")
    # On the stall the grower is kept in clear for the purchase list (02/TNDN).
    assert tuple(conn.execute("SELECT name, id_number, address, phone FROM suppliers")
                 .fetchone()) == ("Giàng Thị Mỷ", "001190012345", "Bản Phố, Bắc Hà",
                                  "0912345678")
    # An ID number not given is null in the entry, not an empty sealed text.
    assert buy(api, supplier={"name": "Mỷ"}).status_code == 201
    payload = json.loads(conn.execute("SELECT payload FROM journal WHERE kind = 'purchase'"
                                      " ORDER BY seq DESC").fetchone()[0])
    assert payload["supplier_id_number"] is None and payload["supplier_phone"] is None


def test_the_cash_limit_warns_from_five_million_a_day_to_one_grower(api):
    first = buy(api, "100", 30000).get_json()                    # 3.000.000 ₫ in cash
    assert first["warnings"] == []
    second = buy(api, "80", 25000).get_json()                    # 5.000.000 ₫ that day
    assert [w["code"] for w in second["warnings"]] == ["cash_limit"]
    by_transfer = buy(api, "1", 10000, payments=[{"method": "qr", "amount": 10000}]).get_json()
    assert by_transfer["warnings"] == []


def test_a_sale_of_a_tracked_product_scans_no_table(app, api):
    from pos import db
    buy(api, "100")
    sell_cash(api, "1", 25000)
    captured: list[str] = []
    conn = kept_connection(app)
    conn.set_trace_callback(captured.append)
    try:
        sell_cash(api, "1", 25000)
        assert buy(api, "1").status_code == 201
    finally:
        conn.set_trace_callback(None)
    text = "\n".join(captured)
    assert "INSERT INTO stock_moves" in text and "INSERT INTO purchases" in text
    check = db.connect(app.config["DATABASE"])
    try:
        problems = {sql[:160]: found for sql in dict.fromkeys(captured)
                    if not NOT_QUERIES.match(sql) and (found := scans(check, sql))}
    finally:
        check.close()
    assert not problems, problems


# --- the property: stock = purchases − sales + refunds + count adjustments, through voids -------

ACTIONS = st.lists(st.one_of(
    st.tuples(st.just("buy"), st.integers(1, 5000)),
    st.tuples(st.just("sell"), st.integers(1, 3000)),
    st.tuples(st.just("void"), st.integers(0, 20)),
    st.tuples(st.just("refund"), st.integers(0, 20), st.integers(1, 1000)),
    st.tuples(st.just("count"), st.integers(0, 5000))), max_size=12)


def _milli(text):
    return None if text is None else int(Decimal(text) * 1000)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(actions=ACTIONS)
def test_stock_is_purchases_less_sales_plus_refunds_and_counts_in_any_order(api, conn, actions):
    from sync.money import quantity_text
    product = api.post("/api/products", json={"name": "Thảo quả", "unit": "kg",
                                              "price": 1000}).get_json()
    pid = product["id"]
    tracked, model = False, 0
    sold = []        # each sale: its id, what it took from stock, what is left to give back
    for action in actions:
        if action[0] == "buy":
            assert buy(api, quantity_text(action[1]), 1000, product_id=pid).status_code == 201
            tracked, model = True, model + action[1]
        elif action[0] == "sell":
            sale = sell_cash(api, quantity_text(action[1]), (action[1] * 1000 + 500) // 1000,
                             product_id=pid)
            taken = action[1] if tracked else 0
            sold.append({"id": sale["id"], "taken": taken, "left": action[1],
                         "voided": False, "refunded": False})
            model -= taken
        elif action[0] == "void" and sold:
            sale = sold[action[1] % len(sold)]
            answer = api.post(f"/api/sales/{sale['id']}/void", json={"reason": "x"})
            if sale["voided"] or sale["refunded"]:   # refused: nothing moves
                assert answer.status_code == 409, answer.get_json()
                continue
            assert answer.status_code == 200, answer.get_json()
            sale["voided"], model = True, model + sale["taken"]
        elif action[0] == "refund" and sold:
            sale = sold[action[1] % len(sold)]
            quantity = min(action[2], sale["left"])
            if sale["voided"] or quantity <= 0:
                continue
            answer = api.post(f"/api/sales/{sale['id']}/refund", json={
                "lines": [{"line": 1, "quantity": quantity_text(quantity)}],
                "payments": [{"method": "cash"}], "reason": "x"})
            if answer.status_code != 201:   # nothing left of its amount to give back
                assert answer.status_code == 409, answer.get_json()
                continue
            sale["left"] -= quantity
            sale["refunded"] = True
            model += quantity if tracked else 0
        elif action[0] == "count":
            answer = api.post("/api/stock/counts", json={
                "lines": [{"product_id": pid, "counted": quantity_text(action[1])}],
                "reason": "x"})
            assert answer.status_code == 201, answer.get_json()
            tracked, model = True, action[1]
    assert _milli(on_hand(api, pid)) == (model if tracked else None)
    moved = conn.execute("SELECT IFNULL(SUM(quantity_milli), 0) FROM stock_moves"
                         " WHERE product_id = ?", (pid,)).fetchone()[0]
    assert moved == (model if tracked else 0)


# --- the province ---------------------------------------------------------------------------

def test_the_province_stores_purchases_and_counts_and_projects_only_figures(ends):
    from sqlalchemy import select
    from pos import purchases
    from sync.server import db as server_db
    from sync.server.db import read_transaction
    purchases.record_purchase(ends.conn, ends.device, {
        "supplier": GROWER,
        "lines": [{"product_id": TOMATO, "quantity": "12.5", "unit_price": 10000},
                  {"name": "Măng rừng", "unit": "kg", "quantity": "2", "unit_price": 30000}],
        "payments": [{"method": "cash", "amount": 185000}]}, "owner")
    purchases.record_count(ends.conn, ends.device, {
        "lines": [{"product_id": TOMATO, "counted": "12"}], "reason": "Kiểm kho"}, "owner")
    result = ends.push_all()
    head = ends.conn.execute("SELECT MAX(seq) FROM journal").fetchone()[0]
    assert result.refusal is None and result.acked_seq == head
    with read_transaction(ends.engine) as conn:
        kinds = conn.execute(select(server_db.journal.c.kind).where(
            server_db.journal.c.device_id == ends.device)).scalars().all()
        lines = [tuple(r) for r in conn.execute(select(
            server_db.purchase_lines.c.seq, server_db.purchase_lines.c.line_no,
            server_db.purchase_lines.c.product_id, server_db.purchase_lines.c.name,
            server_db.purchase_lines.c.quantity_milli, server_db.purchase_lines.c.amount)
            .order_by(server_db.purchase_lines.c.line_no))]
        stored = conn.execute(select(server_db.journal.c.payload).where(
            server_db.journal.c.kind == "purchase")).scalars().all()
    assert kinds.count("purchase") == 1 and kinds.count("stock_count") == 1
    stall = [tuple(r) for r in ends.conn.execute(
        "SELECT purchase_seq, line_no, product_id, name, quantity_milli, amount"
        " FROM purchase_lines ORDER BY line_no")]
    assert lines == stall and [line[3] for line in lines] == ["Cà chua", "Măng rừng"]
    text = json.dumps(stored, ensure_ascii=False)
    for clear in ("Giàng", "001190012345", "Bản Phố", "0912345678"):
        assert clear not in text


def test_a_grower_in_clear_is_refused_by_the_stall_and_by_the_province(ends):
    from sync.payloads import PayloadError
    from pos import db, journal, purchases
    from tests.server.chain import make_entry
    purchases.record_purchase(ends.conn, ends.device, {
        "supplier": {"name": "Mỷ"}, "lines": [{"product_id": TOMATO, "quantity": "1",
                                                "unit_price": 10000}],
        "payments": [{"method": "qr", "amount": 10000}]}, "owner")
    entries = list(journal.entries(ends.conn))
    payload = {**entries[-1].payload, "number": 2, "supplier_name": "Giàng Thị Mỷ"}
    with pytest.raises(PayloadError, match="supplier_name"):
        with db.write_transaction(ends.conn):
            journal.append(ends.conn, ends.device, "purchase", payload)
    # The same entry from a stall that broke the contract: the province does not store it.
    bad = make_entry(ends.device, entries[-1].seq + 1, entries[-1].hash, "purchase", payload)
    from sync.server import store
    from sync.server.db import utcnow, write_transaction
    with write_transaction(ends.engine) as conn:
        result = store.push(conn, ends.device, [*entries, bad], utcnow())
    assert result.acked_seq == entries[-1].seq
    assert result.refusal.code == "personal_data_in_clear"
    assert "Giàng" not in result.refusal.message and "supplier_name" in result.refusal.message
