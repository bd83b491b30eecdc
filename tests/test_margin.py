"""The margin (issue 19): per product and period, bought, sold, on hand, average buying price,
revenue and gross margin (pos/margin.py, GET /api/margin, the /margin page).

Real SQLite through the JSON API, figures computed by hand; the margin's revenue is the Z
report's; refusals; the owner's only; hypothesis properties; and a time budget for a year of
trade."""
from __future__ import annotations

import re
import time
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from pos import business_days, catalog, margin as margin_core, purchases, sales
from pos.db import write_transaction
from sync.money import quantity_text
from sync.protocol import utc_timestamp
from tests.test_no_scans import NOT_QUERIES, scans

TOMATO, SU_SU, GINGER, HONEY = 8, 9, 11, 14     # the demo catalogue: kg, kg, kg, chai
GROWER = {"name": "Giàng Thị Mỷ"}


def buy(api, product_id, quantity, unit_price, method="cash"):
    answer = api.post("/api/purchases", json={
        "supplier": GROWER,
        "lines": [{"product_id": product_id, "quantity": quantity, "unit_price": unit_price}],
        "payments": [{"method": method}]})
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()


def sell(api, lines, discount=0):
    """A cash sale of `lines` ((product id, quantity) or a dict), paid exactly."""
    body = {"lines": [line if isinstance(line, dict) else
                      {"product_id": line[0], "quantity": line[1]} for line in lines]}
    if discount:
        body["discount"] = {"amount": discount, "reason": "khách quen"}
    body["payments"] = [{"method": "cash", "amount": _total(api, body)}]
    answer = api.post("/api/sales", json=body)
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()


def _total(api, body):
    """What a sale of `body` costs: its lines at their prices, less the discount."""
    prices = {p["id"]: p["price"] for p in api.get("/api/products").get_json()["products"]}
    total = 0
    for line in body["lines"]:
        price = line.get("unit_price") or prices[line["product_id"]]
        milli = int(Decimal(line["quantity"]) * 1000)
        total += (milli * price + 500) // 1000
    return total - (body.get("discount") or {}).get("amount", 0)


def refund(api, sale_id, line, quantity):
    answer = api.post(f"/api/sales/{sale_id}/refund", json={
        "lines": [{"line": line, "quantity": quantity}], "payments": [{"method": "cash"}],
        "reason": "dập"})
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()


def void(api, sale_id):
    answer = api.post(f"/api/sales/{sale_id}/void", json={"reason": "nhầm"})
    assert answer.status_code == 200, answer.get_json()


def today(conn):
    return business_days.current_business_day(conn, utc_timestamp())


def by_product(report):
    return {row["product_id"]: row for row in report["products"]}


# --- the figures, by hand ------------------------------------------------------------------------

def a_day_of_trade(api):
    """Two purchases of tomatoes at different prices, ginger, sales by weight, a discount, a
    void, two refunds, and honey that was never bought."""
    buy(api, TOMATO, "10", 10000)                  # 100.000
    buy(api, TOMATO, "5", 13000, "qr")             # 65.000: 15 kg for 165.000, 11.000 a kg
    buy(api, GINGER, "2.5", 24000)                 # 60.000
    sell(api, [(TOMATO, "2.5"), (GINGER, "0.75")])                 # 62.500 + 30.000
    # 30.000 + 250.000 − 10.000: the discount shared out 1.071 / 8.929 (largest remainder)
    shared = sell(api, [(TOMATO, "1.2"), (HONEY, "1")], discount=10000)
    voided = sell(api, [(TOMATO, "3")])                              # 75.000, voided
    void(api, voided["id"])
    gingered = sell(api, [(GINGER, "1")])                            # 40.000
    refund(api, shared["id"], 1, "0.2")    # 28.929 × 0,2 / 1,2 = 4.821,5 → 4.822 back
    refund(api, gingered["id"], 1, "0.5")  # 20.000 back


def test_the_margin_of_a_day_computed_by_hand(api, conn):
    a_day_of_trade(api)
    day = today(conn)
    answer = api.get(f"/api/margin?from={day}&to={day}")
    assert answer.status_code == 200, answer.get_json()
    report = answer.get_json()
    assert (report["from"], report["to"], report["days"]) == (day, day, 1)
    rows = by_product(report)
    assert set(rows) == {TOMATO, GINGER, HONEY}
    tomato = rows[TOMATO]
    assert (tomato["name"], tomato["unit"]) == ("Cà chua", "kg")
    assert (tomato["bought_milli"], tomato["bought"], tomato["paid"]) == (15000, "15", 165000)
    # 2,5 + 1,2 − 0,2 (the voided 3 kg do not count)
    assert (tomato["sold_milli"], tomato["sold"]) == (3500, "3.5")
    assert tomato["revenue"] == 62500 + (30000 - 1071) - 4822 == 86607
    assert (tomato["on_hand_milli"], tomato["on_hand"]) == (11500, "11.5")
    assert (tomato["average_price"], tomato["cost_basis"]) == (11000, "period")
    assert tomato["cogs"] == 38500                          # 3,5 kg × 11.000
    assert tomato["margin"] == 86607 - 38500 == 48107
    assert tomato["margin_percent"] == "55.5"               # 48.107 / 86.607 = 55,546 %
    ginger = rows[GINGER]
    assert (ginger["bought_milli"], ginger["paid"], ginger["average_price"]) == (2500, 60000,
                                                                                  24000)
    assert (ginger["sold_milli"], ginger["revenue"]) == (1250, 30000 + 40000 - 20000)
    assert (ginger["on_hand"], ginger["cogs"], ginger["margin"]) == ("1.25", 30000, 20000)
    assert ginger["margin_percent"] == "40.0"
    honey = rows[HONEY]    # sold, never bought: its revenue, and a margin nobody knows
    assert (honey["sold_milli"], honey["revenue"]) == (1000, 250000 - 8929)
    assert (honey["bought_milli"], honey["paid"], honey["on_hand"]) == (0, 0, None)
    assert (honey["average_price"], honey["cost_basis"], honey["cogs"], honey["margin"],
            honey["margin_percent"]) == (None, "unknown", None, None, None)
    assert [r["product_id"] for r in report["products"]] == [HONEY, TOMATO, GINGER]
    total = report["total"]
    assert total == {"paid": 225000, "revenue": 377678, "revenue_costed": 136607,
                     "revenue_uncosted": 241071, "uncosted": 1, "cogs": 68500,
                     "margin": 68107, "margin_percent": "49.9"}


def test_the_margins_revenue_is_the_z_reports(api, conn):
    a_day_of_trade(api)
    day = today(conn)
    x = api.get("/api/reports/x").get_json()
    close = api.post("/api/day-close", json={"business_day": day, "counted_cash": 0})
    assert close.status_code in (200, 201), close.get_json()
    z = close.get_json()
    report = margin_core.margin(conn, day, day)
    assert report["total"]["revenue"] == z["revenue"] == x["revenue"] == 377678
    assert report["total"]["paid"] == z["purchases"]["amount"]
    # The same figures summed per product as the Z's own sales: lines less discount less refunds.
    assert sum(r["revenue"] for r in report["products"]) == z["revenue"]


def test_goods_bought_before_the_period_are_costed_at_the_earlier_price(api, conn):
    """No purchase in the period: the average of every purchase before it, said so."""
    buy(api, TOMATO, "4", 9000)
    buy(api, TOMATO, "1", 14000)                    # 50.000 for 5 kg: 10.000 a kg
    first = today(conn)
    assert api.post("/api/day-close", json={"business_day": first,
                                            "counted_cash": 0}).status_code in (200, 201)
    second = today(conn)                             # after the Z, sales go to the next day
    assert second > first
    sell(api, [(TOMATO, "2")])                      # 50.000
    row = by_product(margin_core.margin(conn, second, second))[TOMATO]
    assert (row["bought_milli"], row["paid"], row["cost_basis"]) == (0, 0, "earlier")
    assert (row["average_price"], row["cogs"], row["margin"]) == (10000, 20000, 30000)
    assert row["on_hand_milli"] == 3000
    # Both days: the period's own purchases.
    row = by_product(margin_core.margin(conn, first, second))[TOMATO]
    assert (row["cost_basis"], row["bought_milli"], row["sold_milli"]) == ("period", 5000, 2000)
    # The first day alone: bought, nothing sold; no margin yet, no percentage.
    row = by_product(margin_core.margin(conn, first, first))[TOMATO]
    assert (row["sold_milli"], row["revenue"], row["cogs"], row["margin"],
            row["margin_percent"]) == (0, 0, 0, 0, None)


def test_a_loss_is_negative_and_items_typed_at_the_till_are_unknown(api, conn):
    buy(api, SU_SU, "2", 20000)                     # bought dearer than its 15.000 price
    sell(api, [(SU_SU, "2"), {"name": "Bánh dày", "unit_price": 5000, "quantity": "3"}])
    report = margin_core.margin(conn, today(conn), today(conn))
    rows = {(r["product_id"], r["name"]): r for r in report["products"]}
    su_su = rows[(SU_SU, "Su su")]
    assert (su_su["revenue"], su_su["cogs"], su_su["margin"], su_su["margin_percent"]) == (
        30000, 40000, -10000, "-33.3")
    item = rows[(None, "Bánh dày")]
    assert (item["sold_milli"], item["revenue"], item["on_hand_milli"], item["margin"],
            item["cost_basis"]) == (3000, 15000, None, None, "unknown")
    assert report["total"]["margin"] == -10000 and report["total"]["revenue_uncosted"] == 15000


def test_a_tracked_product_with_stock_shows_even_when_idle(api, owner, conn):
    buy(api, GINGER, "3", 30000)
    first = today(conn)
    api.post("/api/day-close", json={"business_day": first, "counted_cash": 0})
    second = today(conn)
    row = by_product(margin_core.margin(conn, second, second))[GINGER]
    assert (row["bought_milli"], row["sold_milli"], row["on_hand_milli"]) == (0, 0, 3000)
    assert (row["cost_basis"], row["average_price"], row["margin"]) == ("earlier", 30000, 0)
    # A past period lists only what moved in it (the stock now says nothing about then).
    before = (date.fromisoformat(first) - timedelta(days=1)).isoformat()
    assert margin_core.margin(conn, before, before)["products"] == []
    html = owner.get(f"/margin?from={second}&to={second}").get_data(as_text=True)
    ginger = re.search(r'<tr id="margin-11">(.*?)</tr>', html, re.S).group(1)
    assert "3 kg" in ginger and "30.000 ₫" in ginger and "Unknown" not in ginger


def test_rounding_is_half_up_in_whole_dong_and_never_float():
    assert [margin_core.divide(n, 2) for n in (1, 3, 5, -1, -3)] == [1, 2, 3, -1, -2]
    assert margin_core.divide(10 ** 30 + 1, 3) == (10 ** 30 + 1 + 1) // 3
    assert margin_core.percent_text(1, 3) == "33.3" and margin_core.percent_text(2, 3) == "66.7"
    assert margin_core.percent_text(-1, 8) == "-12.5" and margin_core.percent_text(1, 0) is None
    with pytest.raises(ValueError):
        margin_core.divide(1, 0)


def test_the_margin_reads_by_index_and_scans_no_table_of_trade(api, conn):
    a_day_of_trade(api)
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    try:
        margin_core.margin(conn, "2020-01-01", "2030-12-31")
    finally:
        conn.set_trace_callback(None)
    problems = {sql: found for sql in statements if not NOT_QUERIES.match(sql)
                for found in [[s for s in scans(conn, sql) if not re.match(r"SCAN s\b", s)]]
                if found}
    # Only `stock` (one row per product, bounded by the catalogue, not by trade) is read whole.
    assert not problems, problems


# --- the API: refusals, roles -------------------------------------------------------------------

@pytest.mark.parametrize("query, code, field", [
    ("from=2026-13-01&to=2026-13-02", "bad_day", "from"),
    ("from=2026-02-30", "bad_day", "from"),
    ("from=yesterday", "bad_day", "from"),
    ("from=2026-W01-1", "bad_day", "from"),           # Python would read a week date
    ("from=20260101", "bad_day", "from"),
    ("from=2026-01-01&to=" + "9" * 5000, "bad_day", "to"),
    ("from=2026-01-01%00&to=2026-01-02", "bad_day", "from"),
    ("from=2026-03-02&to=2026-03-01", "bad_period", "from"),
    ("from=2025-01-01&to=2026-01-02", "period_too_long", "to"),
    ("from=0001-01-01&to=9999-12-31", "period_too_long", "to"),
])
def test_a_period_that_cannot_be_read_is_a_clear_400(api, query, code, field):
    answer = api.get(f"/api/margin?{query}")
    assert answer.status_code == 400, answer.get_data(as_text=True)[:300]
    error = answer.get_json()["error"]
    assert (error["code"], error["field"]) == (code, field)
    assert error["message"]


def test_a_year_and_a_leap_year_are_allowed_and_no_period_is_today(api, conn):
    assert api.get("/api/margin?from=2024-01-01&to=2024-12-31").status_code == 200   # 366
    assert api.get("/api/margin?from=2025-01-01&to=2025-12-31").status_code == 200
    assert api.get("/api/margin?from=31/12/2025&to=01/01/2026").get_json()["days"] == 2
    report = api.get("/api/margin").get_json()
    assert report["from"] == report["to"] == today(conn)
    assert api.get(f"/api/margin?to={today(conn)}").get_json()["days"] == 1


def test_the_margin_is_the_owners(helper, owner, client):
    answer = helper.get("/api/margin")
    assert answer.status_code == 403 and answer.get_json()["error"]["code"] == "owner_required"
    page = helper.get("/margin")
    assert page.status_code == 302 and "/owner" in page.headers["Location"]
    assert client.get("/api/margin").status_code == 401
    assert owner.get("/api/margin").status_code == 200


# --- the page ------------------------------------------------------------------------------------

def test_the_page_shows_each_product_and_a_loss_in_words(owner, api, conn):
    a_day_of_trade(api)
    buy(api, SU_SU, "2", 20000)
    sell(api, [(SU_SU, "2")])                       # 30.000 for what cost 40.000
    page = owner.get("/margin")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'id="period-today"' in html and 'class="btn chip on" id="period-today"' in html
    assert 'data-keypad="date"' in html
    tomato = re.search(r'<tr id="margin-8">(.*?)</tr>', html, re.S).group(1)
    assert "15 kg" in tomato and "165.000 ₫" in tomato and "86.607 ₫" in tomato
    assert "11,5 kg" in tomato and "11.000 ₫" in tomato and "48.107 ₫" in tomato
    assert "55,5 %" in tomato
    su_su = re.search(r'<tr id="margin-9">(.*?)</tr>', html, re.S).group(1)
    assert 'class="neg"' in su_su and "-10.000 ₫" in su_su and 'class="tag"' in su_su
    honey = re.search(r'<tr id="margin-14">(.*?)</tr>', html, re.S).group(1)
    assert "241.071 ₫" in honey and "?" in honey and "%" not in honey
    for when in margin_core.periods(today(conn)):
        answer = owner.get(f"/margin?from={when['from']}&to={when['to']}")
        assert answer.status_code == 200
        assert f'class="btn chip on" id="period-{when["key"]}"' in answer.get_data(as_text=True)


def test_the_page_says_what_is_wrong_with_a_period(owner):
    answer = owner.get("/margin?from=02/03/2026&to=01/03/2026")
    assert answer.status_code == 400
    html = answer.get_data(as_text=True)
    assert 'role="alert"' in html and 'value="02/03/2026"' in html
    assert 'id="margin-table"' not in html
    assert owner.get("/margin?from=31/02/2026").status_code == 400


def test_the_quick_periods():
    assert margin_core.periods("2026-03-15") == [
        {"key": "today", "from": "2026-03-15", "to": "2026-03-15"},
        {"key": "week", "from": "2026-03-09", "to": "2026-03-15"},
        {"key": "month", "from": "2026-03-01", "to": "2026-03-15"},
        {"key": "last_month", "from": "2026-02-01", "to": "2026-02-28"}]
    assert margin_core.periods("2026-01-01")[3] == {"key": "last_month", "from": "2025-12-01",
                                                    "to": "2025-12-31"}


# --- properties ----------------------------------------------------------------------------------

TRADE = st.lists(st.one_of(
    st.tuples(st.just("buy"), st.integers(0, 2), st.integers(1, 20000), st.integers(1, 90000)),
    st.tuples(st.just("sell"), st.integers(0, 3), st.integers(1, 5000), st.integers(0, 100)),
    st.tuples(st.just("void"), st.integers(0, 30)),
    st.tuples(st.just("refund"), st.integers(0, 30), st.integers(1, 5000))), max_size=14)


def _new_products(api, prices):
    return [api.post("/api/products", json={"name": f"Thảo quả {i}", "unit": "kg",
                                            "price": price}).get_json()["id"]
            for i, price in enumerate(prices)]


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(trade=TRADE, prices=st.lists(st.integers(1, 90000), min_size=4, max_size=4))
def test_the_margin_adds_up_whatever_the_trade(api, conn, trade, prices):
    """Over any mix of purchases, sales (some discounted), voids and refunds on one day: the
    total revenue is the X report's; margin = revenue − cogs per product and in total; the cost
    is never negative within a day; goods never bought have no margin."""
    ids = _new_products(api, prices)            # three bought (perhaps), one never
    made = []
    for action in trade:
        if action[0] == "buy":
            if (action[2] * action[3] + 500) // 1000 > 0:     # a line of 0 đ is refused
                buy(api, ids[action[1]], quantity_text(action[2]), action[3])
        elif action[0] == "sell":
            pid, milli = ids[action[1]], action[2]
            amount = (milli * prices[action[1]] + 500) // 1000
            if amount <= 0:
                continue
            discount = amount * action[3] // 100 if action[3] < 100 else 0
            made.append({"sale": sell(api, [(pid, quantity_text(milli))], discount),
                         "left": milli, "voidable": True})
        elif action[0] == "void" and made:
            chosen = made[action[1] % len(made)]
            if chosen["voidable"]:
                void(api, chosen["sale"]["id"])
                chosen["voidable"] = chosen["left"] = 0
        elif action[0] == "refund" and made:
            chosen = made[action[1] % len(made)]
            milli = min(action[2], chosen["left"])
            if milli <= 0:
                continue
            answer = api.post(f"/api/sales/{chosen['sale']['id']}/refund", json={
                "lines": [{"line": 1, "quantity": quantity_text(milli)}],
                "payments": [{"method": "cash"}], "reason": "x"})
            if answer.status_code == 201:
                chosen["left"] -= milli
                chosen["voidable"] = False
            else:               # nothing left of the amount to give back (a discounted line)
                assert answer.status_code == 409, answer.get_json()
    day = today(conn)
    report = margin_core.margin(conn, day, day)
    total = report["total"]
    assert total["revenue"] == api.get("/api/reports/x").get_json()["revenue"]
    assert total["revenue"] == sum(r["revenue"] for r in report["products"])
    assert total["margin"] == total["revenue_costed"] - total["cogs"]
    assert total["margin"] == sum(r["margin"] for r in report["products"]
                                  if r["margin"] is not None)
    rows = by_product(report)
    for pid in ids:
        row = rows.get(pid)
        if row is None:
            continue
        assert row["sold_milli"] >= 0 and row["revenue"] >= 0
        if row["cost_basis"] == "unknown":
            assert row["margin"] is None and row["bought_milli"] == 0
        else:
            assert row["cogs"] >= 0
            assert row["margin"] == row["revenue"] - row["cogs"]
    assert rows.get(ids[3]) is None or rows[ids[3]]["margin"] is None


SAME_PRICE = st.lists(st.one_of(
    st.tuples(st.just("buy"), st.integers(1, 20000)),
    st.tuples(st.just("sell"), st.integers(1, 3000)),
    st.tuples(st.just("void"), st.integers(0, 30)),
    st.tuples(st.just("refund"), st.integers(0, 30), st.integers(1, 3000))),
    min_size=1, max_size=12)


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(trade=SAME_PRICE, thousands=st.integers(1, 900), odd=st.integers(1, 999))
def test_goods_sold_at_the_price_they_were_bought_make_no_margin(api, conn, trade, thousands,
                                                                  odd):
    """Bought and sold at one price, with voids and refunds: the margin is 0 to the đồng when the
    price is whole thousands (every market price is), and within the lines' rounding (half a
    đồng each) at any price."""
    for price in (thousands * 1000, thousands * 1000 + odd):
        pid = _new_products(api, [price])[0]
        made, lines, bought = [], 1, False
        for action in trade:
            if action[0] == "buy":
                buy(api, pid, quantity_text(action[1]), price)
                bought = True
            elif action[0] == "sell":
                made.append({"sale": sell(api, [(pid, quantity_text(action[1]))]),
                             "left": action[1], "voidable": True})
                lines += 1
            elif action[0] == "void" and made:
                chosen = made[action[1] % len(made)]
                if chosen["voidable"]:
                    void(api, chosen["sale"]["id"])
                    chosen["voidable"] = chosen["left"] = 0
            elif action[0] == "refund" and made:
                chosen = made[action[1] % len(made)]
                milli = min(action[2], chosen["left"])
                if milli > 0:
                    refund(api, chosen["sale"]["id"], 1, quantity_text(milli))
                    chosen["left"] -= milli
                    chosen["voidable"] = False
                    lines += 1
        row = by_product(margin_core.margin(conn, today(conn), today(conn))).get(pid)
        if not bought:
            assert row is None or row["margin"] is None
            continue
        assert row["average_price"] == price
        if price % 1000 == 0:
            assert row["margin"] == 0, row
        else:
            assert 2 * abs(row["margin"]) <= lines, row


# --- a year of trade answers quickly ------------------------------------------------------------

def test_a_year_of_trade_over_many_products_answers_within_budget(app, api, owner, conn,
                                                                  monkeypatch):
    """The longest period anyone may ask for, 366 days of purchases, sales (discounted ones
    among them) and refunds over 200 products: the API and the page answer within a second."""
    from pos import refunds
    device = app.config["DEVICE_ID"]
    price_of = {catalog.save_product(conn, device, {"name": f"Hàng {i}", "unit": "kg",
                                                    "price": 1000 * (10 + i % 40)})["id"]:
                1000 * (10 + i % 40) for i in range(200)}
    ids = list(price_of)
    start = date.fromisoformat(today(conn)) - timedelta(days=365)
    clock = {"at": ""}
    for module in (sales, purchases, refunds):
        monkeypatch.setattr(module, "utc_timestamp", lambda: clock["at"])
    conn.execute("PRAGMA synchronous = OFF")         # building the year only; not measured
    for offset in range(366):
        day = start + timedelta(days=offset)
        clock["at"] = f"{(day - timedelta(days=1)).isoformat()}T23:30:00.000Z"  # 06:30 in Vietnam
        purchases.record_purchase(conn, device, {
            "supplier": GROWER, "lines": [{"product_id": ids[(offset * 7 + k) % len(ids)],
                                           "quantity": "5", "unit_price": 8000}
                                          for k in range(8)],
            "payments": [{"method": "cash"}]}, "owner")
        with write_transaction(conn):
            for k in range(16):
                lines = [{"product_id": ids[(offset * 11 + k * 3 + j) % len(ids)],
                          "quantity": "0.75"} for j in range(3)]
                total = sum((750 * price_of[line["product_id"]] + 500) // 1000
                            for line in lines)
                request = {"lines": lines, "payments": [{"method": "cash", "amount": total}]}
                if k == 0:
                    request["discount"] = {"amount": 1000, "reason": "quen"}
                    request["payments"][0]["amount"] = total - 1000
                entry = sales.write_sale(conn, device, request, "owner")
        refunds.refund_sale(conn, device, entry.id, {
            "lines": [{"line": 2, "quantity": "0.25"}], "payments": [{"method": "cash"}],
            "reason": "dập"}, "owner")
    assert conn.execute("SELECT COUNT(*) FROM sales").fetchone()[0] == 366 * 16
    first, last = start.isoformat(), (start + timedelta(days=365)).isoformat()
    began = time.perf_counter()
    answer = api.get(f"/api/margin?from={first}&to={last}")
    took = time.perf_counter() - began
    assert answer.status_code == 200, answer.get_json()
    report = answer.get_json()
    assert report["days"] == 366 and len(report["products"]) == 200
    revenue = conn.execute("SELECT SUM(revenue) FROM day_totals WHERE business_day BETWEEN ? AND"
                           " ?", (first, last)).fetchone()[0]
    assert report["total"]["revenue"] == revenue
    assert took < 1.0, f"a year's margin took {took:.2f} s"
    began = time.perf_counter()
    page = owner.get(f"/margin?from={first}&to={last}")
    took = time.perf_counter() - began
    assert page.status_code == 200 and page.get_data(as_text=True).count('<tr id="margin-') == 200
    assert took < 1.0, f"a year's margin page took {took:.2f} s"


@pytest.mark.parametrize("today, asked, lit", [
    ("2026-12-07", "week", {"week", "month"}),     # the last seven days are this month so far
    ("2026-12-01", "today", {"today", "month"}),   # this month so far is today
    ("2026-12-15", "week", {"week"})])
def test_every_quick_choice_that_is_the_period_lights_up(owner, monkeypatch, today, asked, lit):
    """The chips depend on the business day: the page must not light one and leave the other
    (this test's neighbour once failed only on the 7th of a month)."""
    monkeypatch.setattr(business_days, "current_business_day", lambda *a: today)
    chip = next(c for c in margin_core.periods(today) if c["key"] == asked)
    html = owner.get(f"/margin?from={chip['from']}&to={chip['to']}").get_data(as_text=True)
    assert set(re.findall(r'class="btn chip on" id="period-(\w+)"', html)) == lit
