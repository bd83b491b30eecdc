"""Who may get in, and what leaks: a Content-Security-Policy without inline script (checked on the
templates, on every page, and in a real browser that reports violations), HttpOnly and SameSite
session cookies, secrets compared in constant time, and no PIN, password, token or pairing code
in any log line."""
from __future__ import annotations

import ast
import logging
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from pos import access
from tests.conftest import HELPER_PIN, OWNER_PIN, csrf_token, unlock
from tests.test_sync_client import server_template  # noqa: F401  (fixture)

REPO = Path(__file__).resolve().parent.parent
ADMIN = ("admin", "mật khẩu đủ dài 2026")


@pytest.fixture
def server(server_template: Path, tmp_path: Path) -> Any:  # noqa: F811
    from sync.server.app import create_app
    from sync.server.db import write_transaction
    from sync.server.users import create_user
    path = tmp_path / "server.sqlite3"
    shutil.copy(server_template, path)
    app = create_app({"DATABASE_URL": f"sqlite:///{path}", "SECRET_KEY": "security",
                      "TESTING": True})
    with write_transaction(app.extensions["market_server"]["engine"]) as conn:
        create_user(conn, *ADMIN, "admin")
    return app


def server_login(server: Any) -> Any:
    client = server.test_client()
    page = client.get("/admin/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    answer = client.post("/admin/login", data={"csrf_token": token, "username": ADMIN[0],
                                               "password": ADMIN[1]})
    assert answer.status_code == 302, answer.get_data(as_text=True)[:300]
    return client, answer


# --- no inline script ----------------------------------------------------------------------------

def test_templates_hold_no_inline_script_or_style() -> None:
    problems = []
    for template in sorted((REPO / "templates").rglob("*.html")):
        text = template.read_text()
        for match in re.finditer(r"<script\b([^>]*)>", text):
            attributes = match.group(1)
            if "src=" not in attributes and 'type="application/json"' not in attributes:
                problems.append(f"{template.name}: inline <script{attributes}>")
        for pattern, what in ((r"\son[a-z]+\s*=", "event handler attribute"),
                              (r"javascript:", "javascript: URL"), (r"<style\b", "<style>"),
                              (r"\sstyle\s*=", "style attribute")):
            if re.search(pattern, text, re.IGNORECASE):
                problems.append(f"{template.name}: {what}")
    assert not problems, problems


def test_every_page_carries_the_security_headers(owner: Any, server: Any) -> None:
    admin, _ = server_login(server)
    pages = [(owner, p) for p in ("/", "/products/", "/sales/", "/day/x", "/settings", "/sync",
                                  "/printer", "/no-such-page")]
    pages += [(admin, p) for p in ("/admin/login", "/admin/stalls", "/admin/alerts",
                                   "/admin/no-such-page")]
    for client, path in pages:
        answer = client.get(path)
        assert answer.mimetype == "text/html", path
        csp = answer.headers.get("Content-Security-Policy", "")
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp, path
        assert "object-src 'none'" in csp and "base-uri 'none'" in csp, path
        assert answer.headers["X-Content-Type-Options"] == "nosniff", path
        assert answer.headers["X-Frame-Options"] == "SAMEORIGIN", path
    api = owner.get("/api/products")
    assert api.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.slow
def test_no_page_breaks_the_policy_in_a_real_browser(app: Any, live_server: str,
                                                     server: Any) -> None:
    pytest.importorskip("playwright")
    from playwright.sync_api import sync_playwright
    from tests.harness.live import serve_in_thread
    from tests.test_browser import CHROMIUM, CHROMIUM_ARGS, tap_pin
    violations: list[str] = []
    with serve_in_thread(server) as server_url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 800, "height": 480})
        page.set_default_timeout(5000)
        page.on("console", lambda m: violations.append(f"{page.url}: {m.text}")
                if "Content Security Policy" in m.text else None)
        page.add_init_script("document.addEventListener('securitypolicyviolation', e =>"
                             " console.error('Content Security Policy: ' + e.violatedDirective"
                             " + ' ' + e.blockedURI))")
        page.goto(live_server + "/unlock")
        tap_pin(page, OWNER_PIN)
        page.wait_for_url(live_server + "/")
        for path in ("/", "/products/", "/products/new", "/sales/", "/day/x", "/day/cash",
                     "/settings", "/sync", "/printer"):
            page.goto(live_server + path)
            page.wait_for_load_state("networkidle")
        page.goto(server_url + "/admin/login")
        page.fill("input[name=username]", ADMIN[0])
        page.fill("input[name=password]", ADMIN[1])
        page.click("button.primary")
        for path in ("/admin/stalls", "/admin/alerts", "/admin/nothing-here"):
            page.goto(server_url + path)
            page.wait_for_load_state("networkidle")
        browser.close()
    assert not violations, violations


# --- cookies -------------------------------------------------------------------------------------

def test_session_cookies_are_httponly_and_samesite(client: Any, server: Any) -> None:
    answer = unlock(client, OWNER_PIN)
    cookie = answer.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    _, answer = server_login(server)
    cookie = answer.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and re.search(r"SameSite=(Lax|Strict)", cookie)


# --- constant-time comparisons ------------------------------------------------------------------

SECRET_NAMES = {"token", "pin", "password", "secret", "mac", "code", "signature", "key",
                "csrf_token", "digest", "candidate"}
SECRET_MODULES = ["pos/access.py", "pos/views/api.py", "pos/views/auth.py",
                  "sync/server/pairing.py", "sync/server/users.py", "sync/server/store.py",
                  "sync/server/api.py", "sync/protocol.py", "pos/sync/http.py", "pos/sync/pairing.py",
                  "pos/sync/push.py", "pos/sync/bundles.py", "pos/sync/client.py",
                  "pos/sync/recover.py", "pos/sync/state.py",
                  "pos/sync/einvoice_status.py"]


def _names(node: ast.AST) -> set[str]:
    if isinstance(node, ast.Name):
        return {node.id}
    if isinstance(node, ast.Attribute):
        return {node.attr}
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant):
        return {str(node.slice.value)}
    return set()


def test_secrets_are_never_compared_with_equals() -> None:
    """A token, PIN, password, code or MAC is checked with hmac.compare_digest, a password hash
    check, or looked up by its SHA-256 (whose timing says nothing about the secret)."""
    found = []
    for module in SECRET_MODULES + [str(p.relative_to(REPO)) for p in
                                    (REPO / "sync" / "server").glob("bank*.py")]:
        tree = ast.parse((REPO / module).read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Compare) and any(isinstance(op, (ast.Eq, ast.NotEq))
                                                     for op in node.ops):
                operands = [node.left, *node.comparators]
                if any(_names(o) & SECRET_NAMES for o in operands) and not any(
                        isinstance(o, ast.Constant) for o in operands):
                    found.append(f"{module}:{node.lineno}")
    assert not found, f"secrets compared with ==: {found}"


def test_stored_secrets_are_hashes_only(conn: Any, server: Any) -> None:
    token = access.issue_token(conn, "t")
    dump = "\n".join(conn.iterdump())
    assert token not in dump and token[3:] not in dump
    assert all(row[0].startswith(("scrypt:", "pbkdf2:")) for row in
               conn.execute("SELECT pin_hash FROM pins"))      # salted, slow hashes of the PINs
    from sync.server import store
    from sync.server.db import utcnow, write_transaction
    engine = server.extensions["market_server"]["engine"]
    with write_transaction(engine) as sconn:
        _, _, code = store.add_stall(sconn, "Lào Cai", "Xã Bắc Hà", "Chợ Bắc Hà", "Sạp 1",
                                     now=utcnow())
        device_token = store.pair(sconn, code, None, 0, utcnow())["token"]
    raw = Path(engine.url.database).read_bytes()
    for secret in (device_token, code.replace("-", ""), ADMIN[1]):
        assert secret.encode() not in raw


# --- logs ----------------------------------------------------------------------------------------

def test_no_secret_reaches_a_log_line(app: Any, client: Any, conn: Any, server: Any,
                                      caplog: pytest.LogCaptureFixture) -> None:
    from sync.server import store
    from sync.server.db import utcnow, write_transaction
    caplog.set_level(logging.DEBUG)
    secrets: list[str] = [OWNER_PIN, HELPER_PIN, ADMIN[1]]
    unlock(client, "9999")                      # a wrong PIN is a secret too
    secrets.append("9999")
    unlock(client, OWNER_PIN)
    token = access.issue_token(conn, "logs")
    secrets.append(token)
    api = app.test_client()
    api.get("/api/products", headers={"Authorization": f"Bearer {token}"})
    api.get("/api/products", headers={"Authorization": "Bearer mp_wrong-token-guess"})
    secrets.append("mp_wrong-token-guess")
    owner_client = app.test_client()
    unlock(owner_client, OWNER_PIN)
    owner_client.post("/settings", data={"csrf_token": csrf_token(owner_client, "/settings"),
                                         "action": "pin", "role": "helper", "pin": "24680",
                                         "pin2": "24680"})
    secrets.append("24680")
    engine = server.extensions["market_server"]["engine"]
    with write_transaction(engine) as sconn:
        _, _, code = store.add_stall(sconn, "Lào Cai", "Xã Bắc Hà", "Chợ Bắc Hà", "Sạp 2",
                                     now=utcnow())
    secrets += [code, code.replace("-", "")]
    sclient = server.test_client()
    paired = sclient.post("/api/v1/pair", json={"code": code, "head_seq": 0}).get_json()
    secrets.append(paired["token"])
    sclient.post("/api/v1/pair", json={"code": code, "head_seq": 0})      # used: refused
    sclient.get("/api/v1/journal/head", headers={"Authorization": f"Bearer {paired['token']}"})
    sclient.get("/api/v1/journal/head", headers={"Authorization": "Bearer dt_guess"})
    secrets.append("dt_guess")
    login = server.test_client()
    page = login.get("/admin/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    login.post("/admin/login", data={"csrf_token": csrf, "username": "admin",
                                     "password": "wrong password guess"})
    secrets.append("wrong password guess")
    server_login(server)
    lines = [record.getMessage() + (record.exc_text or "") for record in caplog.records]
    assert lines, "nothing was logged: the test would prove nothing"
    leaks = [(secret, line) for line in lines for secret in secrets if secret in line]
    assert not leaks, leaks[:3]
