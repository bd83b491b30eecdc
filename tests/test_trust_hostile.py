"""A corpus of hostile strings through every text field of the stall's API and forms, and of the
server's forms and pairing: each is stored as text (NFC, spaces collapsed) or refused with a
message, shown escaped on every page that shows it, and never answered with a 5xx."""
from __future__ import annotations

import html
import json
import shutil
import unicodedata
from pathlib import Path
from typing import Any

import pytest

from pos import journal, settings
from tests.conftest import csrf_token, connect
from tests.test_sync_client import server_template  # noqa: F401  (fixture)

HOSTILE = [
    "<script>alert(1)</script>",
    "\"><img src=x onerror=alert(2)>",
    "javascript:alert(3)",
    "'; DROP TABLE sales; --",
    "Robert'); DELETE FROM journal WHERE ('1'='1",
    "1 OR 1=1",
    "{{7*7}} ${7*7} <%= 7*7 %>",
    "%s%s%s%n%x",
    "../../../../etc/passwd",
    "a\x00b",
    "\x00",
    "tab\there\nnew line\r\nend",
    "zero\u200bwidth\u200djoiner",
    "\u202eexe.gnp",
    "\u202bمرحبا\u202c",
    "\ufeffBOM",
    "😀🥬🍜 phở bò 🇻🇳",
    "𝕮𝖍è 𝖘𝖍𝖆𝖓",
    unicodedata.normalize("NFD", "Chè Shan tuyết Đặc sản"),
    "Ｆｕｌｌｗｉｄｔｈ",
    "   ",
    "",
    "null",
    "A" * 100_000,
    "Ư" * 121,
]
SCRIPTS = ("<script>alert(1)", "<img src=x onerror")
INVISIBLE = ("\x00", "\u200b", "\u200d", "\u202e", "\u202b", "\ufeff", "\n", "\t")
FIGURES = Path(__file__).resolve().parent.parent / "test-output" / "trust"
tried = {"api": 0, "forms": 0, "server": 0}


@pytest.fixture(scope="module", autouse=True)
def record_figures() -> Any:
    """Keep how many hostile inputs were tried, for RELIABILITY.md."""
    yield
    FIGURES.mkdir(parents=True, exist_ok=True)
    (FIGURES / "hostile.json").write_text(json.dumps({"strings": len(HOSTILE), **tried}))


def stored_form(value: str) -> str:
    """How the stall keeps an accepted text: NFC, trimmed, inner white space collapsed."""
    return " ".join(unicodedata.normalize("NFC", value).split())


def assert_refused_or_kept(answer: Any, value: str, read_back: Any) -> None:
    assert answer.status_code < 500, f"{answer.status_code} for {value[:40]!r}"
    body = answer.get_data(as_text=True)
    assert "Traceback" not in body and "sqlite3." not in body
    if answer.status_code >= 400:
        if answer.is_json:
            assert answer.get_json()["error"]["message"], "a refusal says why"
        return
    kept = read_back()
    if kept is not None:
        assert kept == stored_form(value), f"{value[:40]!r} was changed into {kept[:40]!r}"
        assert not any(ch in kept for ch in INVISIBLE), f"{kept[:40]!r} kept a control character"


def assert_escaped(page: str) -> None:
    for raw in SCRIPTS:
        assert raw not in page, f"{raw!r} reached a page unescaped"


def _sale(api: Any, name: str = "Rau cải", unit: str = "bó") -> Any:
    return api.post("/api/sales", json={
        "lines": [{"name": name, "unit": unit, "unit_price": 10000, "quantity": "1"}],
        "payments": [{"method": "cash", "amount": 10000}]})


def test_hostile_strings_through_the_stall_api(app: Any, api: Any, owner: Any) -> None:
    sale_id = _sale(api).get_json()["id"]
    for value in HOSTILE:
        answer = _sale(api, name=value)
        assert_refused_or_kept(answer, value, lambda: answer.get_json()["lines"][0]["name"])
        if answer.status_code == 201:
            assert_escaped(owner.get(f"/sales/{answer.get_json()['id']}").get_data(as_text=True))
        answer = _sale(api, unit=value)
        assert_refused_or_kept(answer, value, lambda: answer.get_json()["lines"][0]["unit"])
        for field in ("name", "unit", "category", "barcode", "trace_url"):
            product = {"name": "Nấm hương", "unit": "kg", "price": 400000, field: value}
            answer = api.post("/api/products", json=product)
            assert_refused_or_kept(answer, value, lambda: answer.get_json()[field])
        for field in settings.STALL_FIELDS:
            answer = api.patch("/api/settings", json={field: value})
            assert_refused_or_kept(answer, value, lambda: api.get("/api/settings").get_json()
                                   .get(field))
        answer = api.post("/api/cash-moves", json={"type": "in", "amount": 1000, "reason": value})
        assert_refused_or_kept(answer, value, lambda: answer.get_json().get("reason"))
        if value.strip():   # a blank label takes the next free number instead
            answer = api.post("/api/parked-carts", json={
                "label": value, "lines": [{"product_id": 1, "quantity": "1"}]})
            assert_refused_or_kept(answer, value, lambda: answer.get_json()["label"])
            if answer.status_code == 201:
                api.post(f"/api/parked-carts/{answer.get_json()['id']}/take")
        tried["api"] += 1 + 1 + 5 + len(settings.STALL_FIELDS) + 1 + 1
    answer = api.post(f"/api/sales/{sale_id}/void", json={"reason": HOSTILE[0]})
    assert_refused_or_kept(answer, HOSTILE[0], lambda: answer.get_json()["void"]["reason"])
    for path in ("/", "/products/", "/sales/", "/settings", "/day/x", f"/sales/{sale_id}"):
        page = owner.get(path)
        assert page.status_code == 200, path
        assert_escaped(page.get_data(as_text=True))
    conn = connect(app)
    assert journal.verify(conn).ok
    conn.close()


def test_a_lone_surrogate_or_a_nul_in_raw_json_is_refused_cleanly(api: Any) -> None:
    for raw in ('{"lines":[{"name":"\\ud800","unit_price":1000,"quantity":"1"}],'
                '"payments":[{"method":"cash","amount":1000}]}',
                '{"lines":[{"name":"a\\u0000b","unit_price":1000,"quantity":"1"}],'
                '"payments":[{"method":"cash","amount":1000}]}',
                b'{"lines": "\xff\xfe"}', "[" * 100_000, '{"lines": 1e999}'):
        answer = api.post("/api/sales", data=raw, content_type="application/json")
        assert 400 <= answer.status_code < 500, (raw[:40], answer.status_code)
        assert answer.get_json()["error"]["message"]


def test_hostile_strings_through_the_stall_forms(app: Any, owner: Any, client: Any) -> None:
    token = csrf_token(owner, "/settings")
    sale_id = None
    for value in HOSTILE:
        product = {"csrf_token": token, "name": value, "unit": "kg", "price": "12.000",
                   "category": value, "barcode": "", "trace_url": "", "active": "1"}
        answer = owner.post("/products/new", data=product)
        assert answer.status_code < 500
        assert_escaped(answer.get_data(as_text=True))
        values = {key: "" for key in settings.STALL_FIELDS}
        values.update(csrf_token=token, vendor_name=value, stall_name=value, market=value)
        answer = owner.post("/settings", data=values)
        assert answer.status_code < 500
        assert_escaped(answer.get_data(as_text=True))
        answer = owner.post("/day/cash", data={"csrf_token": token, "type": "out",
                                               "amount": "1000", "reason": value})
        assert answer.status_code < 500
        assert_escaped(answer.get_data(as_text=True))
        answer = owner.post("/settings", data={"csrf_token": token, "action": "pair",
                                               "server_url": value, "code": value})
        assert answer.status_code < 500
        assert_escaped(answer.get_data(as_text=True))
        answer = client.post("/unlock", data={"csrf_token": csrf_token(client), "pin": value})
        assert answer.status_code < 500
        tried["forms"] += 6
        if sale_id is None:
            conn = connect(app)
            row = conn.execute("SELECT id FROM sales LIMIT 1").fetchone()
            conn.close()
            sale_id = row[0] if row else None
    for path in ("/products/", "/settings", "/day/x", "/"):
        page = owner.get(path)
        assert page.status_code == 200, path
        assert_escaped(page.get_data(as_text=True))
    conn = connect(app)
    assert journal.verify(conn).ok
    conn.close()


@pytest.fixture
def server(server_template: Path, tmp_path: Path) -> Any:  # noqa: F811
    from sync.server.app import create_app
    from sync.server.db import write_transaction
    from sync.server.users import create_user
    path = tmp_path / "server.sqlite3"
    shutil.copy(server_template, path)
    app = create_app({"DATABASE_URL": f"sqlite:///{path}", "SECRET_KEY": "hostile",
                      "TESTING": True, "WTF_CSRF_ENABLED": False, "PAIR_RATE_LIMIT": 100_000})
    with write_transaction(app.extensions["market_server"]["engine"]) as conn:
        create_user(conn, "admin", "correct horse battery", "admin")
    return app


def test_hostile_strings_through_the_server(server: Any) -> None:
    client = server.test_client()
    for value in HOSTILE:
        answer = client.post("/admin/login", data={"username": value, "password": value})
        assert answer.status_code < 500, (value[:40], answer.status_code)
        assert_escaped(answer.get_data(as_text=True))
        answer = client.post("/api/v1/pair", json={"code": value, "device_id": value,
                                                   "head_seq": 0})
        assert 400 <= answer.status_code < 500 and answer.get_json()["error"]["message"]
        tried["server"] += 2
    admin = server.test_client()
    assert admin.post("/admin/login", data={"username": "admin",
                                            "password": "correct horse battery"}
                      ).status_code == 302
    for value in HOSTILE:
        answer = admin.post("/admin/stalls", data={"province": "Lào Cai", "commune": value,
                                                   "market": value, "name": value,
                                                   "vendor_name": value})
        assert answer.status_code < 500, (value[:40], answer.status_code)
        assert_escaped(answer.get_data(as_text=True))
        tried["server"] += 1
    page = admin.get("/admin/stalls")
    assert page.status_code == 200
    assert_escaped(page.get_data(as_text=True))
    assert html.escape("<script>alert(1)</script>") in page.get_data(as_text=True)


def test_an_id_beyond_64_bits_is_not_found_not_a_crash(api: Any, owner: Any) -> None:
    huge = str(2**100)
    for client, path in ((api, f"/api/products/{huge}"), (api, f"/api/reports/z/{huge}"),
                         (owner, f"/products/{huge}"), (owner, f"/day/z/{huge}")):
        answer = client.get(path)
        assert answer.status_code == 404, (path, answer.status_code)
    assert api.patch(f"/api/products/{huge}", json={"active": False}).status_code == 404
