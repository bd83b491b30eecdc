"""The app factory and its one error handler: JSON errors with server_time, never a bare 500."""
from __future__ import annotations

from sqlalchemy.exc import OperationalError

from sync.server import store
from sync.server.ratelimit import RateLimiter


def test_unknown_api_path_is_json_404(client):
    response = client.get("/api/v1/nothing")
    assert response.status_code == 404
    body = response.get_json()
    assert body["error"]["code"] == "not_found" and body["server_time"]
    assert response.headers["X-Server-Time"] == body["server_time"]


def test_wrong_method_is_json_405(client):
    response = client.get("/api/v1/pair")
    assert response.status_code == 405 and response.get_json()["error"]["code"]


def test_unexpected_errors_answer_json_not_a_traceback(client, stall, monkeypatch):
    def explode(*args, **kwargs):
        raise RuntimeError("boom")
    monkeypatch.setattr(store, "head", explode)
    response = client.get("/api/v1/journal/head", headers=stall.headers)
    assert response.status_code == 500
    assert response.get_json()["error"]["code"] == "internal"
    assert "boom" not in response.get_data(as_text=True)


def test_database_unavailable_is_503_with_retry_after(client, stall, monkeypatch):
    def locked(*args, **kwargs):
        raise OperationalError("SELECT 1", {}, Exception("database is locked"))
    monkeypatch.setattr(store, "head", locked)
    response = client.get("/api/v1/journal/head", headers=stall.headers)
    assert response.status_code == 503 and response.headers["Retry-After"] == "5"
    assert response.get_json()["error"]["code"] == "unavailable"


def test_pages_get_an_html_error(client):
    response = client.get("/nowhere", headers={"Accept": "text/html"})
    assert response.status_code == 404 and response.mimetype == "text/html"
    assert "X-Server-Time" in response.headers


def test_admin_blueprint_is_mounted(client):
    assert client.get("/admin/").status_code < 500


def test_rate_limiter_window():
    now = [0.0]
    limiter = RateLimiter(2, 60, clock=lambda: now[0])
    assert limiter.hit("a") is None and limiter.hit("a") is None
    assert limiter.hit("a") == 60
    now[0] = 30
    assert limiter.hit("a") == 30 and limiter.hit("b") is None
    now[0] = 60.5
    assert limiter.hit("a") is None


def test_the_root_sends_people_to_the_dashboard_and_so_to_the_login(app, client):
    from .test_admin import PASSWORD, csrf
    from sync.server.db import write_transaction
    from sync.server.users import create_user
    root = client.get("/")
    assert root.status_code == 302 and root.location.endswith("/dashboard/")
    onwards = client.get(root.location)
    assert onwards.status_code == 302 and "/admin/login" in onwards.location
    with write_transaction(app.extensions["market_server"]["engine"]) as conn:
        create_user(conn, "quantri", PASSWORD, "admin")
    signed_in = app.test_client()
    assert signed_in.post("/admin/login", data={"username": "quantri", "password": PASSWORD,
                                                "csrf_token": csrf(signed_in)}).status_code == 302
    root = signed_in.get("/", follow_redirects=True)
    assert root.status_code == 200 and root.request.path.startswith("/dashboard/")


def test_the_favicon_is_an_icon(client):
    from pathlib import Path
    response = client.get("/favicon.ico")
    assert response.status_code == 200 and response.mimetype.startswith("image/")
    assert response.data[:4] == b"\x00\x00\x01\x00"        # an ICO file
    shipped = Path(__file__).resolve().parents[2] / "static" / "favicon.ico"
    assert response.data == shipped.read_bytes()
    assert "max-age" in response.headers.get("Cache-Control", "")


def test_health_check_answers_from_a_worker(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json()["ok"] is True


def test_health_check_keeps_an_instance_in_while_the_database_is_down(tmp_path):
    """The database is shared: failing the check would take every instance out at once, and
    the stalls would get the balancer's bare 503 instead of the app's, with Retry-After."""
    from sync.server.app import create_app
    folder = tmp_path / "data"
    app = create_app({"DATABASE_URL": f"sqlite:///{folder / 'server.sqlite3'}",
                      "TESTING": True, "SECRET_KEY": "test"})
    folder.rmdir()  # the database's folder is gone (a disk unmounted), a file in its place
    folder.write_text("not a folder")
    try:
        client = app.test_client()
        health = client.get("/healthz")
        push = client.get("/api/v1/journal/head", headers={"Authorization": "Bearer x"})
    finally:
        app.extensions["market_server"]["engine"].dispose()
    assert health.status_code == 200
    assert push.status_code == 503 and push.headers["Retry-After"] == "5"
    assert push.get_json()["error"]["code"] == "unavailable"
