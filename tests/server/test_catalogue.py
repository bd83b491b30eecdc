"""GET /api/v1/catalogue: the stall's scope, ETag/304, and versions handed out in commit order."""
from __future__ import annotations

import threading
import time

from sync.server import store
from sync.server.catalogue import current_version
from sync.server.db import read_transaction, write_transaction

from .conftest import COMMUNE, MARKET, PROVINCE


def set_product(engine, name, price=10_000, **scope):
    scope.setdefault("province", PROVINCE)
    with write_transaction(engine) as conn:
        return store.set_catalogue_product(conn, name=name, unit="kg", price=price, **scope)


def test_catalogue_holds_the_province_commune_and_market_products(client, engine, stall):
    set_product(engine, "Rau muống")
    set_product(engine, "Cam sành", commune=COMMUNE)
    set_product(engine, "Thịt lợn", 145_000, commune=COMMUNE, market=MARKET)
    set_product(engine, "Cá chép", commune=COMMUNE, market="Chợ khác")
    set_product(engine, "Chè khác", commune="Xã khác")
    set_product(engine, "Gạo", province="Tuyên Quang")
    response = client.get("/api/v1/catalogue", headers=stall.headers)
    assert response.status_code == 200
    body = response.get_json()
    assert [p["name"] for p in body["products"]] == ["Rau muống", "Cam sành", "Thịt lợn"]
    assert body["products"][2] == {"ref": body["products"][2]["ref"], "name": "Thịt lợn",
                                   "unit": "kg", "price": 145_000, "category": None,
                                   "binding": False, "active": True, "ocop_stars": None}
    assert body["version"] == 3  # the highest version within the stall's scope
    assert body["stall"]["market"] == MARKET and body["stall"]["province"] == PROVINCE
    assert body["server_time"] == response.headers["X-Server-Time"]


def test_setting_a_product_again_changes_it_in_place(client, engine, stall):
    first = set_product(engine, "Rau muống", 10_000)
    second = set_product(engine, "Rau muống", 12_000)
    assert first["ref"] == second["ref"] and second["version"] == first["version"] + 1
    with write_transaction(engine) as conn:
        store.set_catalogue_product(conn, province=PROVINCE, name="Rau muống", unit="bó",
                                    price=12_000, binding=True, ocop_stars=4, category="Rau")
    [product] = client.get("/api/v1/catalogue", headers=stall.headers).get_json()["products"]
    assert (product["unit"], product["binding"], product["ocop_stars"], product["category"]) == \
        ("bó", True, 4, "Rau")


def test_etag_gives_304_until_the_catalogue_changes(client, engine, stall):
    set_product(engine, "Rau muống")
    first = client.get("/api/v1/catalogue", headers=stall.headers)
    etag = first.headers["ETag"]
    assert etag.startswith('"') and not etag.startswith('W/')
    again = client.get("/api/v1/catalogue", headers={**stall.headers, "If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    assert again.headers["ETag"] == etag and again.headers["X-Server-Time"]
    set_product(engine, "Rau muống", 11_000)
    changed = client.get("/api/v1/catalogue", headers={**stall.headers, "If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert changed.get_json()["version"] > first.get_json()["version"]


def test_etag_ignores_server_time(client, engine, stall):
    first = client.get("/api/v1/catalogue", headers=stall.headers)
    time.sleep(0.01)
    second = client.get("/api/v1/catalogue", headers=stall.headers)
    assert first.headers["ETag"] == second.headers["ETag"]


def test_bad_products_are_refused(engine):
    import pytest
    from sync.errors import InvalidInput
    for bad in ({"price": -1}, {"price": 1.5}, {"price": True}, {"name": ""},
                {"ocop_stars": 2}, {"market": MARKET}):
        values = {"name": "X", "price": 1, **bad}
        with pytest.raises(InvalidInput):
            set_product(engine, **values)


def test_versions_are_handed_out_in_commit_order(engine):
    """A second writer waits for the first to commit, so its version is the later one."""
    committed: list[int] = []
    first_has_version = threading.Event()
    release_first = threading.Event()
    errors: list[BaseException] = []

    def first() -> None:
        try:
            with write_transaction(engine) as conn:
                version = store.set_catalogue_product(conn, province=PROVINCE, name="A",
                                                      unit="kg", price=1)["version"]
                first_has_version.set()
                release_first.wait(5)
            committed.append(version)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    def second() -> None:
        try:
            with write_transaction(engine) as conn:
                version = store.set_catalogue_product(conn, province=PROVINCE, name="B",
                                                      unit="kg", price=1)["version"]
            committed.append(version)
        except BaseException as exc:  # pragma: no cover
            errors.append(exc)

    a = threading.Thread(target=first)
    a.start()
    assert first_has_version.wait(5)
    b = threading.Thread(target=second)
    b.start()
    b.join(0.5)
    assert b.is_alive(), "the second writer must wait for the first to commit"
    release_first.set()
    a.join(10)
    b.join(10)
    assert not errors, errors
    assert committed == [1, 2]


def test_many_concurrent_writers_get_distinct_consecutive_versions(engine):
    seen: list[int] = []
    lock = threading.Lock()

    def writer(n: int) -> None:
        for i in range(5):
            with write_transaction(engine) as conn:
                version = store.set_catalogue_product(conn, province=PROVINCE, name=f"P{n}-{i}",
                                                      unit="kg", price=i)["version"]
            with lock:
                seen.append(version)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(seen) == list(range(1, 21))
    with read_transaction(engine) as conn:
        assert current_version(conn) == 20
