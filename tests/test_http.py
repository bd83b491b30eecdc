"""Real HTTP through waitress: concurrent sales from several clients keep the chain intact."""
from concurrent.futures import ThreadPoolExecutor

import requests

from pos import journal


def test_concurrent_sales_over_http(live_server, token, conn, app):
    body = {"lines": [{"product_id": 6, "quantity": "1"}, {"product_id": 8, "quantity": "0.5"}],
            "payments": [{"method": "cash", "amount": 22500, "tendered": 50000}]}

    def sell(_):
        with requests.Session() as session:
            session.headers["Authorization"] = f"Bearer {token}"
            return [session.post(f"{live_server}/api/sales", json=body, timeout=30)
                    for _ in range(10)]

    with ThreadPoolExecutor(max_workers=6) as pool:
        responses = [r for batch in pool.map(sell, range(6)) for r in batch]
    assert [r.status_code for r in responses] == [201] * 60
    sales = [r.json() for r in responses]
    assert sorted(s["number"] for s in sales) == list(range(1, 61))
    stored = conn.execute("SELECT COUNT(*), SUM(total) FROM sales").fetchone()
    assert tuple(stored) == (60, 60 * 22500)
    assert journal.verify(conn, app.config["DEVICE_ID"]).ok


def test_errors_over_http_are_json_with_a_message(live_server, token):
    response = requests.post(f"{live_server}/api/sales", data="{", timeout=10,
                             headers={"Authorization": f"Bearer {token}",
                                      "Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.json()["error"]["code"] == "malformed_json"
