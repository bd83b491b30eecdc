"""The stall's pages: PIN unlock and lock-out, roles, CSRF, escaping, languages, set-up."""
import re

import pytest

from pos import access, catalog
from pos.app import create_app
from tests.conftest import HELPER_PIN, OWNER_PIN, csrf_token, unlock


def _form(client, path, data):
    return client.post(path, data={**data, "csrf_token": csrf_token(client, path)})


def test_locked_stall_asks_for_a_pin(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response.location.startswith("/unlock")
    assert client.get("/sales/").status_code == 302


def test_wrong_pin_then_lockout_for_a_minute(client, conn, data_dir):
    for tries_left in (4, 3, 2, 1):
        response = unlock(client, "0000")
        assert response.status_code == 401
        assert f"Còn {tries_left} lần thử" in response.get_data(as_text=True)
    locked = unlock(client, "0000")
    assert locked.status_code == 429
    assert "60 giây" in locked.get_data(as_text=True)
    # Even the right PIN waits, and restarting the app does not reset the lock.
    assert unlock(client, OWNER_PIN).status_code == 429
    restarted = create_app({"DATA_DIR": data_dir, "TESTING": True}).test_client()
    assert unlock(restarted, OWNER_PIN).status_code == 429
    assert 0 < access.seconds_locked(conn) <= 60
    conn.execute("UPDATE pin_guard SET locked_until = 0")
    assert unlock(restarted, OWNER_PIN).status_code == 302


def test_pins_are_stored_hashed(conn):
    rows = conn.execute("SELECT pin_hash FROM pins").fetchall()
    assert len(rows) == 2
    # No field of the stored value is the PIN itself (a random salt or digest may contain the
    # digits "1234" by chance, so a substring test would fail once in a few hundred runs).
    assert all(pin not in r[0].split("$") for r in rows for pin in (OWNER_PIN, HELPER_PIN))
    assert all(r[0].startswith(("scrypt:", "pbkdf2:")) for r in rows)


def test_owner_and_helper_pins_must_differ(conn):
    from sync.errors import InvalidInput
    with pytest.raises(InvalidInput):
        access.set_pin(conn, "helper", OWNER_PIN)


def test_forms_need_the_csrf_token(client):
    assert client.post("/unlock", data={"pin": OWNER_PIN}).status_code == 400


def test_lock_ends_the_session(owner):
    assert owner.get("/").status_code == 200
    owner.post("/lock", data={"csrf_token": csrf_token(owner, "/")})
    assert owner.get("/").status_code == 302


def _a_sale(conn, app):
    from pos import sales
    return sales.record_sale(conn, app.config["DEVICE_ID"], {
        "lines": [{"product_id": 6, "quantity": "2"}],
        "payments": [{"method": "cash", "amount": 20000, "tendered": 50000}]}, "helper")


def test_helper_sells_but_needs_the_owner_to_void(helper, app, conn):
    sale = _a_sale(conn, app)
    page = helper.get(f"/sales/{sale['id']}")
    assert page.status_code == 200
    response = helper.get(f"/sales/{sale['id']}/void")
    assert response.status_code == 302
    assert response.location.startswith("/owner?next=")
    # A direct POST is refused too, and nothing changes.
    posted = helper.post(f"/sales/{sale['id']}/void",
                         data={"reason": "x", "csrf_token": csrf_token(helper, "/")})
    assert posted.status_code == 302
    assert conn.execute("SELECT voided_seq FROM sales WHERE id = ?", (sale["id"],)).fetchone()[0] \
        is None
    # The helper's own PIN does not count as the owner's.
    assert _form(helper, response.location, {"pin": HELPER_PIN}).status_code == 401
    ok = _form(helper, response.location, {"pin": OWNER_PIN})
    assert ok.status_code == 302 and ok.location == f"/sales/{sale['id']}/void"
    voided = _form(helper, ok.location, {"reason": "Khách trả hàng"})
    assert voided.status_code == 302
    row = conn.execute("SELECT voided_seq, void_reason FROM sales WHERE id = ?",
                       (sale["id"],)).fetchone()
    assert row["voided_seq"] and row["void_reason"] == "Khách trả hàng"


def test_helper_cannot_change_prices_or_settings(helper, conn):
    assert helper.get("/products/1").status_code == 302
    assert helper.get("/settings").status_code == 302
    before = conn.execute("SELECT price FROM products WHERE id = 1").fetchone()[0]
    helper.post("/products/1", data={"name": "Chè", "unit": "gói", "price": "1",
                                     "csrf_token": csrf_token(helper, "/")})
    assert conn.execute("SELECT price FROM products WHERE id = 1").fetchone()[0] == before


def test_void_page_needs_a_reason(owner, app, conn):
    sale = _a_sale(conn, app)
    response = _form(owner, f"/sales/{sale['id']}/void", {"reason": "  "})
    assert response.status_code == 400
    assert "Cần nhập Lý do" in response.get_data(as_text=True)
    assert conn.execute("SELECT voided_seq FROM sales").fetchone()[0] is None


def test_owner_edits_a_product(owner, conn):
    response = _form(owner, "/products/1", {"name": "Chè Shan tuyết", "unit": "gói",
                                            "price": "130.000", "category": "Chè",
                                            "active": "1"})
    assert response.status_code == 302
    assert conn.execute("SELECT price FROM products WHERE id = 1").fetchone()[0] == 130000


def test_product_form_errors_keep_input(owner, conn):
    count = conn.execute("SELECT COUNT(*) FROM journal").fetchone()[0]
    response = _form(owner, "/products/new", {"name": "Mắm tôm", "unit": "hũ", "price": "12,5"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Số tiền phải là số đồng chẵn" in html
    assert 'value="Mắm tôm"' in html
    assert conn.execute("SELECT COUNT(*) FROM journal").fetchone()[0] == count


HOSTILE = '<script>alert(1)</script>'


def test_typed_text_is_escaped(owner, app, conn):
    catalog.save_product(conn, app.config["DEVICE_ID"],
                         {"name": HOSTILE, "unit": "kg", "price": 1000, "category": '"><b>x'})
    for path in ("/", "/products/"):
        html = owner.get(path).get_data(as_text=True)
        assert HOSTILE not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert '"><b>x' not in html


def test_language_switch(owner):
    assert "Bán hàng" in owner.get("/").get_data(as_text=True)
    owner.post("/lang", data={"lang": "en", "next": "/", "csrf_token": csrf_token(owner, "/")})
    html = owner.get("/").get_data(as_text=True)
    assert ">Sell<" in html and "Record sale" in html
    assert '<html lang="en">' in html
    owner.post("/lang", data={"lang": "vi", "next": "/", "csrf_token": csrf_token(owner, "/")})
    assert "Ghi đơn" in owner.get("/").get_data(as_text=True)


def test_dates_and_money_are_vietnamese(owner, app, conn):
    sale = _a_sale(conn, app)
    html = owner.get(f"/sales/{sale['id']}").get_data(as_text=True)
    assert "20.000 ₫" in html
    assert re.search(r"\d{2}/\d{2}/\d{4} \d{2}:\d{2}", html)


def test_next_never_leaves_the_site(client):
    response = client.post("/unlock?next=//evil.example/x",
                           data={"pin": OWNER_PIN, "csrf_token": csrf_token(client)})
    assert response.location == "/"


def test_errors_are_pages_without_tracebacks(owner):
    response = owner.get("/sales/does-not-exist")
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "Không tìm thấy đơn hàng này." in html and "Traceback" not in html
    assert owner.get("/sales/?day=yesterday").status_code == 404
    assert owner.get("/nowhere").status_code == 404


def test_first_run_setup(tmp_path):
    app = create_app({"DATA_DIR": tmp_path / "new", "TESTING": True})
    client = app.test_client()
    assert client.get("/").location == "/setup"
    assert client.get("/unlock").location == "/setup"
    bad = _form(client, "/setup", {"vendor_name": "Bà Lan", "pin": "12", "pin2": "12"})
    assert bad.status_code == 400
    mismatch = _form(client, "/setup", {"vendor_name": "Bà Lan", "pin": "2468", "pin2": "2469"})
    assert "không giống nhau" in mismatch.get_data(as_text=True)
    ok = _form(client, "/setup", {"vendor_name": "Bà Lan", "market": "Chợ Đông Ba",
                                  "pin": "2468", "pin2": "2468"})
    assert ok.status_code == 302
    assert client.get("/").status_code == 200
    assert client.get("/setup").status_code == 302


def test_settings_page(owner, conn):
    saved = _form(owner, "/settings", {"vendor_name": "Nguyễn Thị Hoa", "market": "Chợ Sa Pa",
                                       "action": "stall"})
    assert saved.status_code == 302
    assert conn.execute("SELECT value FROM settings WHERE key = 'market'").fetchone()[0] \
        == "Chợ Sa Pa"
    pin = _form(owner, "/settings", {"action": "pin", "role": "helper", "pin": "9999",
                                     "pin2": "9999"})
    assert pin.status_code == 302
    assert access.unlock(conn, "9999") == "helper"


def test_the_owner_sets_the_helpers_limit(owner, helper, conn):
    def limit():
        row = conn.execute("SELECT value FROM settings WHERE key = 'helper_price_limit'").fetchone()
        return row[0] if row else None
    assert "helper-limit" in owner.get("/settings").get_data(as_text=True)
    for bad in ("abc", "150", "-1", "1.5", ""):
        response = _form(owner, "/settings", {"action": "helper_limit", "helper_price_limit": bad})
        assert response.status_code == 400, bad
        assert "phần trăm" in response.get_data(as_text=True)
        assert limit() is None
    response = _form(owner, "/settings", {"action": "helper_limit", "helper_price_limit": "20"})
    assert response.status_code == 302 and limit() == "20"
    # The owner's PIN typed on the helper's session opens a task, not a new limit for herself.
    token = csrf_token(helper, "/")
    assert helper.post("/owner", data={"pin": OWNER_PIN, "csrf_token": token}).status_code == 302
    response = _form(helper, "/settings", {"action": "helper_limit", "helper_price_limit": "100"})
    assert response.status_code == 403 and limit() == "20"
    answer = helper.patch("/api/settings", json={"helper_price_limit": 100},
                          headers={"X-CSRFToken": csrf_token(helper, "/")})
    assert answer.status_code == 403 and limit() == "20"


def test_refund_page_gives_back_part_of_a_sale(owner, helper, app, conn):
    sale = _a_sale(conn, app)                      # 2 × product 6 for 20.000
    assert helper.get(f"/sales/{sale['id']}/refund").status_code == 302   # the owner's PIN
    page = owner.get(f"/sales/{sale['id']}/refund").get_data(as_text=True)
    assert 'data-keypad="decimal"' in page and 'data-fill="2"' in page
    for data, status in (({"q1": "3", "reason": "Hàng dập"}, 409),      # more than was sold
                         ({"q1": "1", "reason": " "}, 400),               # no reason
                         ({"q1": "abc", "reason": "x"}, 400),
                         ({"reason": "x"}, 400),                           # nothing given back
                         ({"q1": "1", "method": "card", "reason": "x"}, 400)):
        response = _form(owner, f"/sales/{sale['id']}/refund", data)
        assert response.status_code == status, data
        assert 'class="error"' in response.get_data(as_text=True)
        assert conn.execute("SELECT COUNT(*) FROM refunds").fetchone()[0] == 0
    response = _form(owner, f"/sales/{sale['id']}/refund", {"q1": "1", "method": "cash",
                                                            "reason": "Hàng dập"})
    assert response.status_code == 302
    shown = owner.get(f"/sales/{sale['id']}").get_data(as_text=True)
    assert "Đã trả lại: 10.000 ₫." in shown and 'id="void-link"' not in shown
    assert [tuple(r) for r in conn.execute("SELECT total, refunded_by FROM refunds")] == [
        (10000, "owner")]


def test_the_favicon_is_an_icon_even_before_the_pin(client):
    from pathlib import Path
    response = client.get("/favicon.ico")
    assert response.status_code == 200 and response.mimetype.startswith("image/")
    assert response.data[:4] == b"\x00\x00\x01\x00"        # an ICO file
    shipped = Path(__file__).resolve().parents[1] / "static" / "favicon.ico"
    assert response.data == shipped.read_bytes()
    assert "max-age" in response.headers.get("Cache-Control", "")
