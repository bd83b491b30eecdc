"""The administrator's pages: log in with lock-out, add a stall with its pairing QR, alerts, bundles."""
from __future__ import annotations

import io
import json
import re

import pytest
from click.testing import CliRunner

from sync.protocol import BUNDLE_FORMAT, sign_bundle
from sync.server import store
from sync.server.cli import main
from sync.server.db import write_transaction
from sync.server.users import UserError, authenticate, create_user


PASSWORD = "mật khẩu tỉnh 2026"


def csrf(client, path="/admin/login"):
    html = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


@pytest.fixture
def admin_client(app, engine):
    with write_transaction(engine) as conn:
        create_user(conn, "quantri", PASSWORD, "admin")
    client = app.test_client()
    response = client.post("/admin/login", data={"username": "quantri", "password": PASSWORD,
                                                 "csrf_token": csrf(client)})
    assert response.status_code == 302
    return client


def test_pages_need_a_login(client):
    for path in ("/admin/", "/admin/stalls", "/admin/alerts", "/admin/bundle"):
        response = client.get(path)
        assert response.status_code == 302 and response.location.startswith("/admin/login")


def test_wrong_passwords_lock_the_account(app, engine, client):
    with write_transaction(engine) as conn:
        create_user(conn, "quantri", PASSWORD, "admin")
    for _ in range(5):
        wrong = client.post("/admin/login", data={"username": "quantri", "password": "sai",
                                                  "csrf_token": csrf(client)})
        assert wrong.status_code == 401
        assert "Sai tên đăng nhập hoặc mật khẩu" in wrong.get_data(as_text=True)
    locked = client.post("/admin/login", data={"username": "quantri", "password": PASSWORD,
                                               "csrf_token": csrf(client)})
    assert locked.status_code == 401 and "15" in locked.get_data(as_text=True)
    with write_transaction(engine) as conn, pytest.raises(UserError):
        authenticate(conn, "quantri", PASSWORD)


def test_login_form_needs_csrf(client):
    assert client.post("/admin/login", data={"username": "x", "password": "y"}).status_code == 400


def test_passwords_are_hashed_and_users_checked(engine):
    with write_transaction(engine) as conn:
        create_user(conn, "xa.bacha", PASSWORD, "viewer", province="Lào Cai", commune="Xã Bắc Hà")
        stored = conn.exec_driver_sql("SELECT password_hash FROM users").scalar_one()
        assert PASSWORD not in stored and stored.startswith(("scrypt:", "pbkdf2:"))
        for bad in (("x", PASSWORD, "admin", None), ("ok.name", "short", "admin", None),
                    ("viewer1", PASSWORD, "viewer", None), ("xa.bacha", PASSWORD, "admin", None),
                    ("other", PASSWORD, "boss", None)):
            with pytest.raises(UserError):
                create_user(conn, bad[0], bad[1], bad[2], province=bad[3])


def test_add_stall_shows_the_pairing_code_and_its_qr(admin_client, engine):
    response = admin_client.post("/admin/stalls", data={
        "province": "Lào Cai", "commune": "Xã Bắc Hà", "market": "Chợ Bắc Hà",
        "name": "Sạp <b>A12</b>", "vendor_name": "Bà Hoa",
        "csrf_token": csrf(admin_client, "/admin/stalls")})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    code = re.search(r'id="pairing-code">([A-Z0-9-]+)<', html).group(1)
    assert re.match(r"^[A-Z2-9]{4}-[A-Z2-9]{4}$", code)
    assert "<svg" in html and "Sạp &lt;b&gt;A12&lt;/b&gt;" in html
    listing = admin_client.get("/admin/stalls").get_data(as_text=True)
    assert "Chợ Bắc Hà" in listing and "chưa bao giờ" in listing
    missing = admin_client.post("/admin/stalls", data={
        "province": "", "commune": "x", "market": "y", "name": "z",
        "csrf_token": csrf(admin_client, "/admin/stalls")})
    assert missing.status_code == 400
    assert "cần" in missing.get_data(as_text=True).lower()


def test_reissue_and_revoke(admin_client, engine):
    with write_transaction(engine) as conn:
        _, device_id, _ = store.add_stall(conn, "Lào Cai", "Xã Bắc Hà", "Chợ Bắc Hà", "Sạp 1")
    token = csrf(admin_client, "/admin/stalls")
    again = admin_client.post(f"/admin/stalls/{device_id}/code", data={"csrf_token": token})
    assert again.status_code == 200 and 'id="pairing-code"' in again.get_data(as_text=True)
    revoked = admin_client.post(f"/admin/stalls/{device_id}/revoke", data={"csrf_token": token})
    assert revoked.status_code == 302
    assert admin_client.post("/admin/stalls/nope/code", data={"csrf_token": token}
                             ).status_code == 404


def test_alerts_are_listed_and_resolved(admin_client, client, engine, stall):
    from .conftest import push
    from .chain import Chain
    chain = Chain(stall.device_id)
    entries = chain.sales_run(3)
    push(client, stall, entries)
    forged = dict(entries[1].to_dict(), hash="f" * 64)
    answer = push(client, stall, [forged])
    assert answer.status_code == 409
    page = admin_client.get("/admin/alerts").get_data(as_text=True)
    alert_id = re.search(r'/admin/alerts/([0-9a-f-]+)/resolve', page).group(1)
    token = csrf(admin_client, "/admin/alerts")
    empty = admin_client.post(f"/admin/alerts/{alert_id}/resolve", data={"note": " ",
                                                                         "csrf_token": token})
    assert empty.status_code == 302
    with write_transaction(engine) as conn:
        assert len(store.list_alerts(conn)) == 1
    done = admin_client.post(f"/admin/alerts/{alert_id}/resolve",
                             data={"note": "Đã gọi cho sạp", "csrf_token": token})
    assert done.status_code == 302
    with write_transaction(engine) as conn:
        assert store.list_alerts(conn) == []
        assert store.list_alerts(conn, include_resolved=True)[0]["resolved_by"] == "quantri"


def test_bundle_upload_is_idempotent(admin_client, client, engine, stall):
    from .chain import Chain
    chain = Chain(stall.device_id)
    entries = [e.to_dict() for e in chain.sales_run(4)]
    created = "2026-11-23T08:00:00.000Z"
    signature = sign_bundle(stall.signing_key, stall.device_id, created, entries)
    bundle = json.dumps({"format": BUNDLE_FORMAT, "device_id": stall.device_id,
                         "created_at": created, "entries": entries,
                         "signature": signature}).encode()
    for expected_stored in (4, 0):
        response = admin_client.post("/admin/bundle", data={
            "bundle": (io.BytesIO(bundle), "bundle.json"),
            "csrf_token": csrf(admin_client, "/admin/bundle")},
            content_type="multipart/form-data")
        html = response.get_data(as_text=True)
        assert response.status_code == 200, html
        assert f'id="bundle-stored">{expected_stored}<' in html
    bad = admin_client.post("/admin/bundle", data={
        "bundle": (io.BytesIO(b"not json"), "x.json"),
        "csrf_token": csrf(admin_client, "/admin/bundle")}, content_type="multipart/form-data")
    assert bad.status_code == 400


def test_viewers_cannot_use_admin_pages(app, engine):
    with write_transaction(engine) as conn:
        create_user(conn, "xem", PASSWORD, "viewer", province="Lào Cai")
    client = app.test_client()
    client.post("/admin/login", data={"username": "xem", "password": PASSWORD,
                                      "csrf_token": csrf(client)})
    assert client.get("/admin/stalls").status_code == 403


def test_create_user_command(server_db):
    result = CliRunner().invoke(main, ["create-user", "--database", server_db, "--username",
                                       "quantri2", "--password-stdin", "--role", "admin"],
                                input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output


def test_session_cookie_is_secure_behind_https(server_db, monkeypatch):
    from sync.server.app import create_app
    monkeypatch.setenv("MARKET_SERVER_HTTPS", "1")
    app = create_app({"DATABASE_URL": server_db, "TESTING": True, "SECRET_KEY": "test"})
    engine = app.extensions["market_server"]["engine"]
    try:
        with write_transaction(engine) as conn:
            create_user(conn, "quantri", PASSWORD, "admin")
        client = app.test_client()
        html = client.get("/admin/login", base_url="https://localhost").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
        response = client.post("/admin/login", base_url="https://localhost", data={
            "username": "quantri", "password": PASSWORD, "csrf_token": token},
            headers={"Referer": "https://localhost/admin/login"})  # CSRF over HTTPS checks it
        assert response.status_code == 302
        cookie = response.headers["Set-Cookie"]
        assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    finally:
        engine.dispose()


def test_unrouted_bank_transfers_are_listed_and_can_be_marked_seen(admin_client, client, engine):
    from sqlalchemy import select as sa_select

    from sync.server import bank
    from sync.server.db import bank_notifications, utcnow
    with write_transaction(engine) as conn:
        bank.store(conn, bank.parse_notifications(
            {"id": "FT-NOBODY", "amount": 75000, "description": "tien hang <b>chi Lan</b>"}),
            utcnow())
        notification_id = conn.execute(sa_select(bank_notifications.c.id)).scalar()
    assert client.get("/admin/alerts").status_code == 302          # a login first
    page = admin_client.get("/admin/alerts").get_data(as_text=True)
    assert "FT-NOBODY" in page and "75.000 ₫" in page
    assert "&lt;b&gt;chi Lan&lt;/b&gt;" in page                    # shown escaped
    token = csrf(admin_client, "/admin/alerts")
    answer = admin_client.post(f"/admin/bank/{notification_id}/acknowledge",
                               data={"csrf_token": token})
    assert answer.status_code == 302
    assert "FT-NOBODY" not in admin_client.get("/admin/alerts").get_data(as_text=True)
    again = admin_client.post(f"/admin/bank/{notification_id}/acknowledge",
                              data={"csrf_token": token})
    assert again.status_code == 404
    with write_transaction(engine) as conn:
        row = conn.execute(sa_select(bank_notifications)).mappings().one()
    assert row["acknowledged_by"] == "quantri" and row["acknowledged_at"] is not None
