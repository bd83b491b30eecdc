"""Parked carts ("Giữ đơn") and parked QR codes: set aside, kept across a restart, taken back once."""
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from pos import limits
from pos.app import create_app
from tests.test_api import schema_of
from tests.test_qrpay import QR_SALE, _apply, account  # noqa: F401  (fixture)

HERBS = [{"product_id": 1, "quantity": "0.5"}, {"name": "Rau thơm", "unit": "bó",
                                                 "unit_price": 5000, "quantity": "2"}]


def parked_rows(conn):
    return [tuple(r) for r in conn.execute("SELECT * FROM parked_carts ORDER BY 1")]


def everything(conn):
    tables = ("journal", "sales", "parked_carts", "qr_pending")
    return {t: [tuple(r) for r in conn.execute(f"SELECT * FROM {t} ORDER BY 1")] for t in tables}


def test_park_list_and_take_back(api, conn):
    first = api.post("/api/parked-carts", json={"lines": HERBS})
    assert first.status_code == 201, first.get_json()
    cart = first.get_json()
    schema_of("ParkedCart").validate(cart)
    assert cart["label"] == "#1"
    assert cart["total"] == 60000 + 10000
    assert [line["quantity"] for line in cart["lines"]] == ["0.5", "2"]
    assert cart["lines"][1]["product_id"] is None and cart["lines"][1]["unit"] == "bó"
    haggled = api.post("/api/parked-carts", json={
        "label": "Chị áo xanh", "lines": [{"product_id": 1, "quantity": "1", "unit_price": 110000}],
        "discount": {"amount": 5000, "reason": "Khách quen"}}).get_json()
    assert haggled["lines"][0]["list_price"] == 120000 and haggled["total"] == 105000
    third = api.post("/api/parked-carts", json={"lines": HERBS, "label": "  "}).get_json()
    assert third["label"] == "#2"   # the first free number
    waiting = api.get("/api/parked-carts").get_json()["parked_carts"]
    assert [c["label"] for c in waiting] == ["#1", "Chị áo xanh", "#2"]   # oldest first
    taken = api.post(f"/api/parked-carts/{cart['id']}/take")
    assert taken.status_code == 200 and taken.get_json() == cart
    again = api.post(f"/api/parked-carts/{cart['id']}/take")
    assert again.status_code == 404
    assert again.get_json()["error"]["code"] == "unknown_parked_cart"
    # What comes back sells as it was parked: the haggled price and the discount.
    back = api.post(f"/api/parked-carts/{haggled['id']}/take").get_json()
    sale = api.post("/api/sales", json={
        "lines": [{"product_id": l["product_id"], "quantity": l["quantity"],
                   "unit_price": l["unit_price"]} for l in back["lines"]],
        "discount": back["discount"],
        "payments": [{"method": "cash", "amount": back["total"]}]})
    assert sale.status_code == 201 and sale.get_json()["total"] == 105000


@pytest.mark.parametrize("body, code", [
    ({"lines": []}, "empty_sale"),
    ({"lines": [{"product_id": 999, "quantity": "1"}]}, "unknown_product"),
    ({"lines": HERBS, "discount": {"amount": 900000, "reason": "x"}}, "discount_too_large"),
    ({"lines": HERBS, "label": "x" * (limits.PARK_LABEL_CHARS + 1)}, None),
    ({"lines": HERBS, "label": "a\u0000b"}, None),
    ({"lines": HERBS, "payments": []}, None),
    ([1, 2], None),
])
def test_refused_carts_change_nothing(api, conn, body, code):
    api.post("/api/parked-carts", json={"lines": HERBS})
    before = everything(conn)
    response = api.post("/api/parked-carts", json=body)
    assert response.status_code == 400, response.get_json()
    error = response.get_json()["error"]
    assert error["message"]
    if code:
        assert error["code"] == code
    assert everything(conn) == before


def test_at_most_so_many_carts_wait(api, conn):
    for _ in range(limits.MAX_PARKED):
        assert api.post("/api/parked-carts", json={"lines": HERBS}).status_code == 201
    labels = {row[0] for row in conn.execute("SELECT label FROM parked_carts")}
    assert labels == {f"#{n}" for n in range(1, limits.MAX_PARKED + 1)}
    before = everything(conn)
    response = api.post("/api/parked-carts", json={"lines": HERBS})
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "too_many_parked"
    assert everything(conn) == before


def test_parked_carts_survive_a_restart(app, api, token):
    cart = api.post("/api/parked-carts", json={"lines": HERBS}).get_json()
    restarted = create_app({**app.config})
    client = restarted.test_client()
    waiting = client.get("/api/parked-carts", headers={"Authorization": f"Bearer {token}"})
    assert waiting.get_json()["parked_carts"] == [cart]


def test_two_screens_cannot_both_take_a_cart(live_server, token):
    """Real HTTP through waitress: eight takes at once, exactly one gets the cart."""
    headers = {"Authorization": f"Bearer {token}"}
    cart = requests.post(f"{live_server}/api/parked-carts", json={"lines": HERBS},
                         headers=headers, timeout=10).json()
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: requests.post(
            f"{live_server}/api/parked-carts/{cart['id']}/take", headers=headers, timeout=10),
            range(8)))
    assert sorted(a.status_code for a in answers) == [200] + [404] * 7


def test_helper_may_park_but_anonymous_may_not(helper, client):
    from tests.conftest import csrf_token
    token = csrf_token(helper, "/")
    response = helper.post("/api/parked-carts", json={"lines": HERBS},
                           headers={"X-CSRFToken": token})
    assert response.status_code == 201
    assert client.get("/api/parked-carts").status_code == 401


def test_parked_qr_is_still_recorded_by_the_bank(app, api, account, conn):  # noqa: F811
    pending = api.post("/api/qr-payments", json=QR_SALE).get_json()
    assert pending["parked"] is False
    parked = api.post(f"/api/qr-payments/{pending['id']}/park")
    assert parked.status_code == 200 and parked.get_json()["parked"] is True
    schema_of("QrPayment").validate(parked.get_json())
    listed = api.get("/api/qr-payments").get_json()["qr_payments"]
    assert [(p["id"], p["parked"]) for p in listed] == [(pending["id"], True)]
    result = _apply(app, conn, "FT9", 120000, "MBVCB.1.SAP0 0001.CT")
    assert result.state == "bank_confirmed" and result.recorded_sale
    shown = api.get(f"/api/qr-payments/{pending['id']}").get_json()
    assert shown["state"] == "recorded"
    assert api.get("/api/qr-payments").get_json()["qr_payments"] == []
    # A code no longer waiting cannot be parked or resumed; that changes nothing.
    before = everything(conn)
    for action in ("park", "resume"):
        response = api.post(f"/api/qr-payments/{pending['id']}/{action}")
        assert response.status_code == 409
        assert response.get_json()["error"]["code"] == "qr_not_pending"
    assert api.post("/api/qr-payments/nothing/park").status_code == 404
    assert everything(conn) == before


def test_resumed_qr_comes_back_unparked(api, account):  # noqa: F811
    pending = api.post("/api/qr-payments", json=QR_SALE).get_json()
    api.post(f"/api/qr-payments/{pending['id']}/park")
    resumed = api.post(f"/api/qr-payments/{pending['id']}/resume").get_json()
    assert resumed["parked"] is False and resumed["state"] == "pending"


def test_hostile_carts_cost_little_and_change_nothing(api, conn):
    """The largest cart allowed parks quickly; one line too many, a 100 000-character label or
    a deep JSON body are refused just as quickly, and none of them writes anything."""
    import time
    biggest = {"label": "Ư" * limits.PARK_LABEL_CHARS,
               "lines": [{"name": f"Hàng {n}", "unit_price": 1000, "quantity": "999.999"}
                         for n in range(limits.MAX_LINES)]}
    started = time.perf_counter()
    assert api.post("/api/parked-carts", json=biggest).status_code == 201
    assert time.perf_counter() - started < 2.0
    before = everything(conn)
    for body in ({**biggest, "lines": biggest["lines"] * 2},
                 {**biggest, "label": "x" * 100_000}, "[" * 100_000):
        started = time.perf_counter()
        answer = (api.post("/api/parked-carts", data=body, content_type="application/json")
                  if isinstance(body, str) else api.post("/api/parked-carts", json=body))
        elapsed = time.perf_counter() - started
        assert answer.status_code == 400 and answer.get_json()["error"]["message"]
        assert elapsed < 2.0, f"a refused cart took {elapsed:.2f} s"
    assert everything(conn) == before
