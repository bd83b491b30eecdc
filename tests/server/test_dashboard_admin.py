"""The administrator's pages that go with the dashboard: users (add, reset, remove) and the
reference catalogue (add, binding price, withdraw) as stalls then receive it."""
from __future__ import annotations

import re

from sqlalchemy import select

from sync.server.db import catalogue_products, read_transaction, users, write_transaction
from sync.server.users import create_user

from .test_admin import PASSWORD, admin_client, csrf  # noqa: F401


def _token(client, path):
    return csrf(client, path)


def test_admin_adds_a_commune_viewer_who_then_logs_in(app, engine, admin_client):  # noqa: F811
    token = _token(admin_client, "/admin/users")
    short = admin_client.post("/admin/users", data={
        "username": "xa", "password": "ngắn", "role": "viewer", "province": "Hà Giang",
        "csrf_token": token})
    assert short.status_code == 400 and "10" in short.get_data(as_text=True)
    response = admin_client.post("/admin/users", data={
        "username": "MinhKhai", "password": PASSWORD, "role": "viewer", "province": "Hà Giang",
        "commune": "Phường Minh Khai", "csrf_token": token})
    assert response.status_code == 302
    page = admin_client.get("/admin/users").get_data(as_text=True)
    assert 'data-user="minhkhai"' in page and "Phường Minh Khai, Hà Giang" in page
    assert 'data-user="xa"' not in page
    viewer = app.test_client()
    login = viewer.post("/admin/login", data={"username": "minhkhai", "password": PASSWORD,
                                              "csrf_token": csrf(viewer)})
    assert login.status_code == 302 and login.location.endswith("/dashboard/")
    assert viewer.get("/admin/users").status_code == 403
    assert viewer.get("/admin/catalogue").status_code == 403


def test_reset_password_and_remove_but_not_oneself(app, engine, admin_client):  # noqa: F811
    with write_transaction(engine) as conn:
        other = create_user(conn, "tinh", PASSWORD, "viewer", province="Hà Giang")
        me = conn.execute(select(users.c.id).where(users.c.username == "quantri")).scalar_one()
    token = _token(admin_client, "/admin/users")
    new_password = "một mật khẩu mới"
    assert admin_client.post(f"/admin/users/{other.id}/password", data={
        "password": new_password, "csrf_token": token}).status_code == 302
    viewer = app.test_client()
    assert viewer.post("/admin/login", data={"username": "tinh", "password": new_password,
                                             "csrf_token": csrf(viewer)}).status_code == 302
    refused = admin_client.post(f"/admin/users/{me}/delete", data={"csrf_token": token})
    assert refused.status_code == 400
    assert admin_client.post(f"/admin/users/{other.id}/delete",
                             data={"csrf_token": token}).status_code == 302
    assert admin_client.post(f"/admin/users/{other.id}/delete",
                             data={"csrf_token": token}).status_code == 404
    with read_transaction(engine) as conn:
        assert conn.execute(select(users.c.username)).scalars().all() == ["quantri"]


def test_catalogue_page_sets_binding_prices_that_stalls_receive(app, engine, client, stall,
                                                                admin_client):  # noqa: F811
    token = _token(admin_client, "/admin/catalogue")
    form = {"province": "Hà Giang", "commune": "Phường Minh Khai",
            "market": "Chợ trung tâm Hà Giang", "name": "Chè Shan tuyết", "unit": "gói",
            "price": "120.000", "category": "Chè", "ocop_stars": "4", "binding": "1",
            "active": "1", "csrf_token": token}
    bad = admin_client.post("/admin/catalogue", data={**form, "price": "12,5"})
    assert bad.status_code == 400
    with read_transaction(engine) as conn:
        assert conn.execute(select(catalogue_products)).first() is None
    assert admin_client.post("/admin/catalogue", data=form).status_code == 302
    pulled = client.get("/api/v1/catalogue", headers=stall.headers).get_json()["products"]
    assert [(p["name"], p["price"], p["binding"], p["ocop_stars"], p["active"])
            for p in pulled] == [("Chè Shan tuyết", 120_000, True, 4, True)]
    page = admin_client.get("/admin/catalogue").get_data(as_text=True)
    assert re.search(r'data-product="Chè Shan tuyết"', page) and "★★★★" in page
    withdraw = {key: value for key, value in form.items() if key != "active"}
    assert admin_client.post("/admin/catalogue", data=withdraw).status_code == 302
    pulled = client.get("/api/v1/catalogue", headers=stall.headers).get_json()["products"]
    assert pulled[0]["active"] is False
