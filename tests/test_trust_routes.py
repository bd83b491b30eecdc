"""Who may do what: every route of both apps × every role, against a table of expected outcomes.

A route that is not in the table fails `test_every_route_has_a_rule`: whoever adds a route must
say here who may use it. Outcomes: Y (let in: any answer but the two below), L (not signed in:
401, or sent to the PIN pad / login page), O (the stall's owner is needed: 403 or sent to the
owner-PIN page), F (forbidden: 403). The answer's own correctness is tested elsewhere; this is
about the door. Every request carries its session's CSRF token (CSRF has tests of its own; the
server's is switched off here) and starts from a fresh copy of the role's cookies.
"""
from __future__ import annotations

import shutil
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from pos import access
from tests.conftest import HELPER_PIN, OWNER_PIN, csrf_token, unlock
from tests.test_sync_client import server_template  # noqa: F401  (fixture)

# --- the stall ---------------------------------------------------------------------------------
STALL_ROLES = ("anonymous", "helper", "owner", "api_token")
PUBLIC = dict.fromkeys(STALL_ROLES, "Y")
API = {"anonymous": "L", "helper": "Y", "owner": "Y", "api_token": "Y"}
API_OWNER = {"anonymous": "L", "helper": "O", "owner": "Y", "api_token": "Y"}
PAGE = {"anonymous": "L", "helper": "Y", "owner": "Y", "api_token": "L"}
PAGE_OWNER = {"anonymous": "L", "helper": "O", "owner": "Y", "api_token": "L"}
SALE = "00000000-0000-4000-8000-000000000000"

STALL_RULES: dict[tuple[str, str], dict[str, str]] = {
    ("GET", "/static/<path:filename>"): PUBLIC,
    ("GET", "/favicon.ico"): PUBLIC,
    ("GET", "/unlock"): PUBLIC,
    ("POST", "/unlock"): dict.fromkeys(STALL_ROLES, "L"),  # no PIN sent: a wrong PIN, 401
    ("GET", "/owner"): PAGE,
    ("POST", "/owner"): dict.fromkeys(STALL_ROLES, "L"),   # no owner PIN sent: 401 (or PIN pad)
    ("POST", "/lock"): dict.fromkeys(STALL_ROLES, "L"),   # locking always ends on the PIN pad
    ("POST", "/lang"): PUBLIC,
    ("GET", "/setup"): PUBLIC, ("POST", "/setup"): PUBLIC,   # once set up, it sends people on
    ("GET", "/api/openapi.json"): PUBLIC,
    ("GET", "/"): PAGE, ("GET", "/sales/"): PAGE, ("GET", "/sales/<sale_id>"): PAGE,
    ("GET", "/sales/<sale_id>/void"): PAGE_OWNER, ("POST", "/sales/<sale_id>/void"): PAGE_OWNER,
    ("GET", "/sales/<sale_id>/refund"): PAGE_OWNER, ("POST", "/sales/<sale_id>/refund"): PAGE_OWNER,
    ("GET", "/products/"): PAGE,
    ("GET", "/products/new"): PAGE_OWNER, ("POST", "/products/new"): PAGE_OWNER,
    ("GET", "/products/<int:product_id>"): PAGE_OWNER,
    ("POST", "/products/<int:product_id>"): PAGE_OWNER,
    ("GET", "/settings"): PAGE_OWNER, ("POST", "/settings"): PAGE_OWNER,
    ("GET", "/settings/bank"): PAGE_OWNER, ("POST", "/settings/bank"): PAGE_OWNER,
    ("POST", "/settings/bank/statement"): PAGE_OWNER,
    ("GET", "/settings/bank/<int:account_id>/standee.pdf"): PAGE_OWNER,
    ("GET", "/day/cash"): PAGE_OWNER, ("POST", "/day/cash"): PAGE_OWNER,
    ("GET", "/day/close"): PAGE_OWNER, ("POST", "/day/close"): PAGE_OWNER,
    ("GET", "/day/x"): PAGE_OWNER, ("GET", "/day/z"): PAGE_OWNER,
    ("GET", "/day/z/<int:z_number>"): PAGE_OWNER,
    ("GET", "/day/report.pdf"): PAGE_OWNER, ("POST", "/day/report/print"): PAGE_OWNER,
    ("GET", "/printer"): PAGE_OWNER, ("POST", "/printer"): PAGE_OWNER,
    ("POST", "/printer/test"): PAGE_OWNER, ("GET", "/printer/test.pdf"): PAGE,
    ("POST", "/printer/jobs/<int:job_id>/<action>"): PAGE,
    ("POST", "/sales/<sale_id>/print"): PAGE, ("GET", "/sales/<sale_id>/print-view"): PAGE,
    ("GET", "/sales/<sale_id>/receipt.pdf"): PAGE, ("GET", "/qr/<pending_id>/print-view"): PAGE,
    ("GET", "/sync"): PAGE, ("GET", "/sync/state"): PAGE, ("POST", "/sync/now"): PAGE,
    # The credit book's pages (issue 18): whoever sells takes repayments and shows reminders;
    # changing a customer (her limit, hiding her) is the owner's.
    ("GET", "/credit/"): PAGE, ("GET", "/credit/<int:customer_id>"): PAGE,
    ("POST", "/credit/<int:customer_id>/repay"): PAGE,
    ("GET", "/credit/<int:customer_id>/edit"): PAGE_OWNER,
    ("POST", "/credit/<int:customer_id>/edit"): PAGE_OWNER,
    ("GET", "/credit/<int:customer_id>/qr/<pending_id>"): PAGE,
    ("POST", "/credit/<int:customer_id>/qr/<pending_id>/confirm"): PAGE,
    ("POST", "/credit/<int:customer_id>/qr/<pending_id>/cancel"): PAGE,
    ("GET", "/credit/<int:customer_id>/reminder"): PAGE,
    ("POST", "/credit/<int:customer_id>/reminder"): PAGE,
    ("GET", "/credit/<int:customer_id>/reminder.pdf"): PAGE,
    ("POST", "/credit/<int:customer_id>/reminder/print"): PAGE,
    ("GET", "/credit/<int:customer_id>/reminder/print-view"): PAGE,
    ("POST", "/sync/bundle"): PAGE_OWNER,
    ("GET", "/tax/"): PAGE, ("GET", "/tax/settings"): PAGE_OWNER,
    ("POST", "/tax/settings"): PAGE_OWNER, ("GET", "/tax/products"): PAGE_OWNER,
    ("POST", "/tax/products"): PAGE_OWNER, ("GET", "/tax/books/<kind>.<fmt>"): PAGE_OWNER,
    ("GET", "/tax/purchase-list.<fmt>"): PAGE_OWNER,
    ("POST", "/tax/refresh"): PAGE, ("GET", "/tax/invoices/<code>"): PAGE,
    ("GET", "/tax/invoices/<code>.pdf"): PAGE, ("GET", "/tax/invoices/<code>.xml"): PAGE,
    ("POST", "/tax/invoices/<code>/correct"): PAGE_OWNER,
    ("POST", "/api/sales"): API, ("GET", "/api/sales"): API, ("GET", "/api/sales/<sale_id>"): API,
    ("GET", "/api/sales/<sale_id>/receipt.pdf"): API, ("POST", "/api/sales/<sale_id>/print"): API,
    ("GET", "/api/sales/<sale_id>/invoice.xml"): API,
    ("POST", "/api/sales/<sale_id>/void"): API_OWNER,
    ("POST", "/api/sales/<sale_id>/refund"): API_OWNER,
    ("GET", "/api/products"): API, ("POST", "/api/products"): API_OWNER,
    ("GET", "/api/products/<int:product_id>"): API,
    ("PATCH", "/api/products/<int:product_id>"): API_OWNER,
    ("GET", "/api/settings"): API, ("PATCH", "/api/settings"): API_OWNER,
    ("POST", "/api/cash-moves"): API_OWNER, ("GET", "/api/reports/x"): API,
    ("POST", "/api/day-close"): API_OWNER, ("GET", "/api/reports/z/<int:z_number>"): API,
    ("GET", "/api/sync/status"): API, ("POST", "/api/sync"): API, ("GET", "/api/printer"): API,
    ("POST", "/api/qr-payments"): API, ("GET", "/api/qr-payments"): API,
    ("GET", "/api/qr-payments/<pending_id>"): API,
    ("POST", "/api/qr-payments/<pending_id>/confirm"): API,
    ("POST", "/api/qr-payments/<pending_id>/cancel"): API,
    ("POST", "/api/qr-payments/<pending_id>/park"): API,
    ("POST", "/api/qr-payments/<pending_id>/resume"): API,
    ("GET", "/api/qr-payments/<pending_id>/qr.svg"): API,
    ("GET", "/api/parked-carts"): API, ("POST", "/api/parked-carts"): API,
    ("POST", "/api/parked-carts/<cart_id>/take"): API,
    ("GET", "/api/customers"): API, ("POST", "/api/customers"): API,
    ("GET", "/api/customers/<int:customer_id>"): API,
    ("PATCH", "/api/customers/<int:customer_id>"): API_OWNER,
    ("POST", "/api/customers/<int:customer_id>/payments"): API,
    ("GET", "/api/qr-payments/<pending_id>/bill.pdf"): API,
    ("GET", "/api/bank-accounts"): API, ("POST", "/api/bank-accounts"): API_OWNER,
    ("GET", "/api/bank/checks"): API, ("POST", "/api/bank/statement"): API_OWNER,
    # Buying from growers (issue 19): whoever sells buys (the entry names her, X/Z counts the
    # cash paid); a count rewrites the stock figures, the owner's (pos/views/api_purchases.py).
    ("POST", "/api/purchases"): API, ("GET", "/api/stock"): API,
    ("GET", "/api/purchases/<int:number>/slip.pdf"): API,
    ("POST", "/api/stock/counts"): API_OWNER,
    ("GET", "/purchases/new"): PAGE, ("POST", "/purchases/new"): PAGE,
    ("GET", "/purchases/"): PAGE, ("GET", "/purchases/<int:number>"): PAGE,
    ("POST", "/purchases/<int:number>/print"): PAGE, ("GET", "/stock/"): PAGE,
    ("GET", "/stock/count"): PAGE_OWNER, ("POST", "/stock/count"): PAGE_OWNER,
    # The margin (issue 19): what the stall earns on each product is the owner's to see.
    ("GET", "/margin"): PAGE_OWNER, ("GET", "/api/margin"): API_OWNER,
}
STALL_VALUES = {"filename": "pos/pos.css", "sale_id": SALE, "product_id": "1", "z_number": "1",
                "job_id": "1", "action": "cancel", "pending_id": "nothing", "cart_id": "nothing",
                "customer_id": "1", "number": "1", "account_id": "1",
                "kind": "s1a", "fmt": "csv", "code": "nothing"}

# --- the provincial server ----------------------------------------------------------------------
SERVER_ROLES = ("anonymous", "device", "other_device", "commune_viewer", "province_viewer",
                "admin")
S_PUBLIC = dict.fromkeys(SERVER_ROLES, "Y")
DEVICE_API = {"anonymous": "L", "device": "Y", "other_device": "Y", "commune_viewer": "L",
              "province_viewer": "L", "admin": "L"}
OWN_DEVICE = {**DEVICE_API, "other_device": "F"}
ADMIN_ONLY = {"anonymous": "L", "device": "L", "other_device": "L", "commune_viewer": "F",
              "province_viewer": "F", "admin": "Y"}
SIGNED_IN = {"anonymous": "L", "device": "L", "other_device": "L", "commune_viewer": "Y",
             "province_viewer": "Y", "admin": "Y"}
IN_COMMUNE = SIGNED_IN                                        # the viewer's own commune
OTHER_COMMUNE = {**SIGNED_IN, "commune_viewer": "F"}          # a commune outside the viewer's

# Each rule maps one route to the cases tried on it: (what is filled in, expected per role).
SERVER_RULES: dict[tuple[str, str], list[tuple[dict[str, str], dict[str, str]]]] = {
    ("GET", "/static/<path:filename>"): [({"filename": "server/server.css"}, S_PUBLIC)],
    ("GET", "/favicon.ico"): [({}, S_PUBLIC)],
    ("GET", "/healthz"): [({}, S_PUBLIC)],             # the balancer's check, no data
    ("GET", "/"): [({}, S_PUBLIC)],                    # a redirect to the dashboard, for all
    ("GET", "/api/v1/openapi.json"): [({}, S_PUBLIC)],
    ("POST", "/api/v1/pair"): [({}, S_PUBLIC)],
    ("GET", "/check"): [({}, S_PUBLIC)],
    ("GET", "/admin/login"): [({}, S_PUBLIC)],
    ("POST", "/admin/login"): [({}, dict.fromkeys(SERVER_ROLES, "L"))],   # no password: 401
    ("POST", "/admin/logout"): [({}, dict.fromkeys(SERVER_ROLES, "L"))],  # ends at the login
    ("POST", "/admin/lang"): [({}, S_PUBLIC)],
    ("POST", "/api/v1/journal"): [({}, OWN_DEVICE)],
    ("GET", "/api/v1/journal"): [({}, DEVICE_API)],
    ("GET", "/api/v1/journal/head"): [({}, DEVICE_API)],
    ("PUT", "/api/v1/device-key"): [({}, DEVICE_API)],
    ("GET", "/api/v1/catalogue"): [({}, DEVICE_API)],
    ("GET", "/api/v1/bank/notifications"): [({}, DEVICE_API)],
    ("POST", "/api/v1/bank/notifications"): [({}, dict.fromkeys(SERVER_ROLES, "L"))],
    ("GET", "/api/v1/einvoices/pending"): [({}, DEVICE_API)],
    ("GET", "/admin/"): [({}, ADMIN_ONLY)],            # viewers use the dashboard
    ("GET", "/admin/stalls"): [({}, ADMIN_ONLY)], ("POST", "/admin/stalls"): [({}, ADMIN_ONLY)],
    ("POST", "/admin/stalls/<device_id>/code"): [({"device_id": "@spare"}, ADMIN_ONLY)],
    ("POST", "/admin/stalls/<device_id>/revoke"): [({"device_id": "@spare"}, ADMIN_ONLY)],
    ("GET", "/admin/alerts"): [({}, ADMIN_ONLY)],
    ("POST", "/admin/alerts/<alert_id>/resolve"): [({"alert_id": SALE}, ADMIN_ONLY)],
    ("POST", "/admin/bank/<int:notification_id>/acknowledge"): [({"notification_id": "999999"},
                                                                 ADMIN_ONLY)],
    ("GET", "/admin/bundle"): [({}, ADMIN_ONLY)], ("POST", "/admin/bundle"): [({}, ADMIN_ONLY)],
    ("GET", "/admin/catalogue"): [({}, ADMIN_ONLY)],
    ("POST", "/admin/catalogue"): [({}, ADMIN_ONLY)],
    ("GET", "/admin/users"): [({}, ADMIN_ONLY)], ("POST", "/admin/users"): [({}, ADMIN_ONLY)],
    ("POST", "/admin/users/<int:user_id>/delete"): [({"user_id": "999"}, ADMIN_ONLY)],
    ("POST", "/admin/users/<int:user_id>/password"): [({"user_id": "999"}, ADMIN_ONLY)],
    ("GET", "/admin/einvoices"): [({}, ADMIN_ONLY)],
    ("GET", "/admin/einvoices.json"): [({}, ADMIN_ONLY)],
    ("GET", "/dashboard/"): [({}, SIGNED_IN)],
    ("GET", "/dashboard/<level>/<key>"): [
        ({"level": "province", "key": "@province"},
         {**SIGNED_IN, "commune_viewer": "F"}),
        ({"level": "commune", "key": "@commune"}, IN_COMMUNE),
        ({"level": "commune", "key": "@other_commune"}, OTHER_COMMUNE),
        ({"level": "market", "key": "@market"}, IN_COMMUNE),
        ({"level": "market", "key": "@other_market"}, OTHER_COMMUNE),
        ({"level": "stall", "key": "@device"}, IN_COMMUNE),
        ({"level": "stall", "key": "@other_device"}, OTHER_COMMUNE)],
    ("GET", "/dashboard/<level>/<key>/<name>.csv"): [
        ({"level": "commune", "key": "@commune", "name": "stalls"}, IN_COMMUNE),
        ({"level": "commune", "key": "@other_commune", "name": "stalls"}, OTHER_COMMUNE)],
    ("GET", "/dashboard/commune/<key>/report.pdf"): [
        ({"key": "@commune"}, IN_COMMUNE), ({"key": "@other_commune"}, OTHER_COMMUNE)],
}


def _routes(app: Any) -> set[tuple[str, str]]:
    return {(method, rule.rule) for rule in app.url_map.iter_rules()
            for method in rule.methods - {"HEAD", "OPTIONS"}}


def _fill(rule: str, values: dict[str, str]) -> str:
    import re
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", lambda m: values[m.group(1)], rule)


def _call(client: Any, method: str, path: str, headers: dict[str, str], json_api: bool,
          csrf: str | None = None) -> Any:
    kwargs: dict[str, Any] = {"headers": dict(headers)}
    if method in ("POST", "PATCH"):
        if json_api:
            kwargs["json"] = {}
            if csrf:
                kwargs["headers"]["X-CSRFToken"] = csrf
        else:
            kwargs["data"] = {"csrf_token": csrf} if csrf else {}
    return client.open(path, method=method, **kwargs)


def stall_verdict(answer: Any) -> str:
    location = answer.headers.get("Location", "")
    if answer.status_code in (401, 429) or (answer.status_code in (302, 303) and
                                     ("/unlock" in location or "/setup" in location)):
        return "L"
    if answer.status_code == 403 or (answer.status_code in (302, 303) and "/owner" in location):
        return "O"
    return "Y"


def server_verdict(answer: Any) -> str:
    location = answer.headers.get("Location", "")
    if answer.status_code == 401 or (answer.status_code in (302, 303) and
                                     "/admin/login" in location):
        return "L"
    if answer.status_code == 403:
        return "F"
    return "Y"


# --- the stall's table ---------------------------------------------------------------------------

@pytest.fixture
def stall_roles(app: Any, conn: Any) -> dict[str, tuple[Any, dict[str, str], str | None]]:
    """Per role: its session cookie, its headers and its CSRF token."""
    anonymous = app.test_client()
    token = csrf_token(anonymous)
    roles: dict[str, Any] = {"anonymous": (anonymous.get_cookie("session"), {}, token)}
    for role, pin in (("helper", HELPER_PIN), ("owner", OWNER_PIN)):
        client = app.test_client()
        assert unlock(client, pin).status_code == 302
        token = csrf_token(client, "/")
        roles[role] = (client.get_cookie("session"), {}, token)
    # An API client is a browser-less client: no unlocked session, only its bearer token.
    roles["api_token"] = (roles["anonymous"][0],
                          {"Authorization": f"Bearer {access.issue_token(conn, 'r')}"},
                          roles["anonymous"][2])
    return roles


def test_every_stall_route_has_a_rule(app: Any) -> None:
    missing = sorted(_routes(app) - set(STALL_RULES))
    stale = sorted(set(STALL_RULES) - _routes(app))
    assert not missing, f"routes without a rule in STALL_RULES: {missing}"
    assert not stale, f"rules for routes that no longer exist: {stale}"


def test_stall_routes_by_role(app: Any, stall_roles: dict[str, Any]) -> None:
    wrong = []
    for (method, rule), expected in sorted(STALL_RULES.items()):
        path = _fill(rule, STALL_VALUES)
        for role in STALL_ROLES:
            cookie, headers, token = stall_roles[role]
            client = app.test_client()
            if cookie is not None:
                client.set_cookie(cookie.key, cookie.value)
            answer = _call(client, method, path, headers, path.startswith("/api/"), token)
            got = stall_verdict(answer)
            if answer.status_code >= 500:
                wrong.append(f"{method} {rule} as {role}: {answer.status_code}")
            if got != expected[role]:
                wrong.append(f"{method} {rule} as {role}: expected {expected[role]}, got {got}"
                             f" ({answer.status_code} {answer.headers.get('Location', '')})")
    assert not wrong, "\n".join(wrong)


# --- the server's table --------------------------------------------------------------------------

@pytest.fixture
def server_world(server_template: Path, tmp_path: Path) -> SimpleNamespace:  # noqa: F811
    """Two communes of one province, a stall in each (paired), a spare stall, and the users."""
    from sqlalchemy import select
    from sync.server import store
    from sync.server.app import create_app
    from sync.server.db import communes, markets, provinces, utcnow, write_transaction
    from sync.server.users import create_user
    path = tmp_path / "server.sqlite3"
    shutil.copy(server_template, path)
    app = create_app({"DATABASE_URL": f"sqlite:///{path}", "SECRET_KEY": "routes",
                      "TESTING": True, "WTF_CSRF_ENABLED": False, "PAIR_RATE_LIMIT": 100_000})
    world = SimpleNamespace(app=app, tokens={}, keys={})
    with write_transaction(app.extensions["market_server"]["engine"]) as conn:
        for role, commune, market in (("device", "Xã Bắc Hà", "Chợ Bắc Hà"),
                                      ("other_device", "Xã Cán Cấu", "Chợ Cán Cấu")):
            _, _, code = store.add_stall(conn, "Lào Cai", commune, market, f"Sạp {role}",
                                         now=utcnow())
            answer = store.pair(conn, code, None, 0, utcnow())
            world.tokens[role] = answer["token"]
            world.keys[role] = answer["device_id"]
        _, world.keys["spare"], _ = store.add_stall(conn, "Lào Cai", "Xã Bắc Hà", "Chợ Bắc Hà",
                                                    "Sạp dự phòng", now=utcnow())
        world.keys["province"] = str(conn.execute(select(provinces.c.id)).scalar_one())
        for key, name in (("commune", "Xã Bắc Hà"), ("other_commune", "Xã Cán Cấu")):
            world.keys[key] = str(conn.execute(select(communes.c.id).where(
                communes.c.name == name)).scalar_one())
        for key, name in (("market", "Chợ Bắc Hà"), ("other_market", "Chợ Cán Cấu")):
            world.keys[key] = str(conn.execute(select(markets.c.id).where(
                markets.c.name == name)).scalar_one())
        create_user(conn, "admin", "admin password 2026", "admin")
        create_user(conn, "tinh", "province password 2026", "viewer", province="Lào Cai")
        create_user(conn, "xa-bac-ha", "commune password 2026", "viewer", province="Lào Cai",
                    commune="Xã Bắc Hà")
    world.cookies = {}
    for role, (user, password) in {"admin": ("admin", "admin password 2026"),
                                   "province_viewer": ("tinh", "province password 2026"),
                                   "commune_viewer": ("xa-bac-ha", "commune password 2026")}.items():
        client = app.test_client()
        answer = client.post("/admin/login", data={"username": user, "password": password})
        assert answer.status_code == 302, answer.get_data(as_text=True)[:300]
        world.cookies[role] = client.get_cookie("session")
    return world


def test_every_server_route_has_a_rule(server_world: SimpleNamespace) -> None:
    routes = _routes(server_world.app)
    missing = sorted(routes - set(SERVER_RULES))
    stale = sorted(set(SERVER_RULES) - routes)
    assert not missing, f"routes without a rule in SERVER_RULES: {missing}"
    assert not stale, f"rules for routes that no longer exist: {stale}"


def test_server_routes_by_role(server_world: SimpleNamespace) -> None:
    app, keys = server_world.app, server_world.keys
    wrong = []
    # Logging out ends the user's session everywhere, every copy of its cookie included: last.
    for (method, rule), cases in sorted(SERVER_RULES.items(),
                                        key=lambda item: (item[0] == ("POST", "/admin/logout"),
                                                          item[0])):
        for values, expected in cases:
            filled = {name: keys[value[1:]] if value.startswith("@") else value
                      for name, value in values.items()}
            path = _fill(rule, filled)
            for role in SERVER_ROLES:
                client = app.test_client()
                headers: dict[str, str] = {}
                if role in server_world.cookies:
                    cookie = server_world.cookies[role]
                    client.set_cookie(cookie.key, cookie.value)
                if role in server_world.tokens:
                    headers["Authorization"] = f"Bearer {server_world.tokens[role]}"
                if method == "POST" and rule == "/api/v1/journal":
                    answer = client.post(path, headers=headers, json={
                        "device_id": keys["device"], "entries": []})
                else:
                    answer = _call(client, method, path, headers, path.startswith("/api/"))
                got = server_verdict(answer)
                assert answer.status_code < 500, f"{method} {path} as {role}: 5xx"
                if got != expected[role]:
                    wrong.append(f"{method} {path} as {role}: expected {expected[role]}, got"
                                 f" {got} ({answer.status_code}"
                                 f" {answer.headers.get('Location', '')})")
    assert not wrong, "\n".join(wrong)
