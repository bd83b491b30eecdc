"""The sync API over real HTTP (waitress on 127.0.0.1): a whole session, and concurrent pushes."""
from __future__ import annotations

import threading

import requests
from sqlalchemy import func, select

from sync.server.db import journal, read_transaction, sales

from .chain import Chain, wire
from .conftest import add_stall


def test_pair_push_head_and_catalogue_over_http(live_server, engine):
    new = add_stall(engine)
    session = requests.Session()
    paired = session.post(f"{live_server}/api/v1/pair", json={"code": new.code, "head_seq": 0},
                          timeout=10)
    assert paired.status_code == 200 and paired.headers["X-Server-Time"]
    session.headers["Authorization"] = f"Bearer {paired.json()['token']}"
    chain = Chain(new.device_id)
    chain.sales_run(120)
    for start in range(0, 120, 50):
        response = session.post(f"{live_server}/api/v1/journal", timeout=10,
                                json={"device_id": new.device_id,
                                      "entries": wire(chain.entries[start:start + 50])})
        assert response.status_code == 200, response.text
    head = session.get(f"{live_server}/api/v1/journal/head", timeout=10).json()
    assert head["acked_seq"] == 120 and head["head_hash"] == chain.head_hash
    catalogue = session.get(f"{live_server}/api/v1/catalogue", timeout=10)
    assert catalogue.status_code == 200
    unchanged = session.get(f"{live_server}/api/v1/catalogue", timeout=10,
                            headers={"If-None-Match": catalogue.headers["ETag"]})
    assert unchanged.status_code == 304


def test_concurrent_pushes_of_one_device_store_each_entry_once(live_server, engine):
    new = add_stall(engine)
    token = requests.post(f"{live_server}/api/v1/pair", json={"code": new.code, "head_seq": 0},
                          timeout=10).json()["token"]
    chain = Chain(new.device_id)
    chain.sales_run(200)
    body = {"device_id": new.device_id, "entries": wire(chain.entries)}
    answers: list[dict] = []

    def send() -> None:
        response = requests.post(f"{live_server}/api/v1/journal", json=body, timeout=30,
                                 headers={"Authorization": f"Bearer {token}"})
        answers.append(response.json() | {"status": response.status_code})

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert [a["status"] for a in answers] == [200] * 4
    assert sum(a["stored"] for a in answers) == 200
    assert sum(a["duplicates"] for a in answers) == 600
    with read_transaction(engine) as conn:
        assert conn.execute(select(func.count()).select_from(journal)).scalar_one() == 200
        assert conn.execute(select(func.count()).select_from(sales)).scalar_one() == 200


def test_oversized_body_over_http_is_413(live_server, engine):
    new = add_stall(engine)
    token = requests.post(f"{live_server}/api/v1/pair", json={"code": new.code, "head_seq": 0},
                          timeout=10).json()["token"]
    body = b'{"device_id":"x","entries":[],"pad":"' + b"x" * (5 * 1024 * 1024) + b'"}'
    response = requests.post(f"{live_server}/api/v1/journal", data=body, timeout=30,
                             headers={"Authorization": f"Bearer {token}",
                                      "Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"
