"""Sync on the stall: the sell screen's indicator, "Sync now", the sync page, pairing in Settings,
`GET /api/sync/status`, the `market-pos pair | sync | export-bundle` commands and migration 0007.
The provincial server is the real one (see test_sync_client.py's `sync_server`)."""
from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone

import pytest
from click.testing import CliRunner

from pos import db, settings
from pos.cli import main
from pos.sync.client import SyncClient
from pos.sync.state import read_state
from sync.protocol import bundle_signed_by, public_key_of, utc_timestamp
from tests.conftest import csrf_token
from tests.test_sync_client import (paired, sell, server_template,  # noqa: F401
                                    stall_hashes, sync_server)


def _set(conn, **values) -> None:
    with db.write_transaction(conn):
        for key, value in values.items():
            settings.write(conn, key, value)


def _ago(**delta) -> str:
    return utc_timestamp(datetime.now(timezone.utc) - timedelta(**delta))


def _wait(condition, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


def test_an_unpaired_stall_says_so_on_the_sell_screen(owner):
    page = owner.get("/").get_data(as_text=True)
    assert 'id="sync-bar"' in page and "level-off" in page
    assert "Chưa kết nối máy chủ tỉnh" in page
    assert 'id="sync-now" class="sync-btn" hidden' in page


def test_the_sell_screen_shows_pending_and_the_last_sync(owner, conn):
    sell(conn, 2)
    _set(conn, sync_server_url="http://127.0.0.1:9", sync_token="dt_x", sync_acked_seq="3",
         sync_last_at=_ago(hours=5))
    page = owner.get("/").get_data(as_text=True)
    head = conn.execute("SELECT MAX(seq) FROM journal").fetchone()[0]
    assert f'<b id="sync-pending">{head - 3}</b> đang chờ' in page
    assert "5 giờ trước" in page and "level-waiting" in page
    assert "Đồng bộ ngay" in page
    # The home screen counts days since the last sync of either kind (network or USB bundle).
    _set(conn, sync_last_at=_ago(days=9), sync_last_bundle_at=_ago(days=2))
    page = owner.get("/").get_data(as_text=True)
    assert "2 ngày trước (USB)" in page


def test_errors_and_refused_entries_show_in_words_and_escaped(owner, conn):
    _set(conn, sync_server_url="http://127.0.0.1:9", sync_token="dt_x",
         sync_last_error="<script>alert(1)</script>", sync_last_error_code="weird",
         sync_last_error_at=_ago(minutes=1))
    page = owner.get("/").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "level-error" in page
    _set(conn, sync_last_error_code="network")
    assert "Không kết nối được máy chủ" in owner.get("/").get_data(as_text=True)
    _set(conn, sync_needs_attention=json.dumps({"seq": 12, "code": "conflict",
                                                "message": "<i>two versions</i>"}))
    page = owner.get("/").get_data(as_text=True)
    assert "level-attention" in page and "Bản ghi 12 khác với bản trên máy chủ" in page
    sync_page = owner.get("/sync").get_data(as_text=True)
    assert "&lt;i&gt;two versions&lt;/i&gt;" in sync_page and "<i>two versions" not in sync_page
    state = owner.get("/sync/state").get_json()
    assert state["level"] == "attention" and state["attention_message"] == "<i>two versions</i>"


def test_sync_status_api(api, conn):
    status = api.get("/api/sync/status").get_json()
    head = conn.execute("SELECT MAX(seq) FROM journal").fetchone()[0]
    assert status["pending"] == head and status["acked_seq"] == 0
    assert status["paired"] is False and status["server_url"] is None
    assert status["needs_attention"] is None and status["last_sync_at"] is None
    _set(conn, sync_needs_attention=json.dumps({"seq": 4, "code": "bad_hash", "message": "m"}))
    assert api.get("/api/sync/status").get_json()["needs_attention"] == \
        {"seq": 4, "code": "bad_hash", "message": "m"}


def test_sync_now_from_the_sell_screen_runs_beside_the_request(owner, conn, paired,
                                                              sync_server, app):
    sell(conn, 3)
    headers = {"X-CSRFToken": csrf_token(owner, "/"), "Accept": "application/json"}
    started = time.monotonic()
    answer = owner.post("/sync/now", headers=headers)
    assert answer.status_code == 202 and time.monotonic() - started < 1
    assert answer.get_json()["sync"] in ("started", "running")
    _wait(lambda: read_state(conn).pending == 0 and not owner.get("/sync/state")
          .get_json()["syncing"])
    assert sync_server.hashes(app.config["DEVICE_ID"]) == stall_hashes(conn)
    state = owner.get("/sync/state").get_json()
    assert state["level"] == "ok" and state["last_ago"] == "vừa xong"
    # Without JavaScript: a form post, back to where it came from.
    back = owner.post("/sync/now", data={"csrf_token": csrf_token(owner, "/sync")},
                      headers={"Referer": "/sync"})
    assert back.status_code == 302


def test_sync_now_through_the_api(api, paired, conn):
    answer = api.post("/api/sync")
    assert answer.status_code == 202
    assert answer.get_json()["sync"] in ("started", "running")
    _wait(lambda: read_state(conn).pending == 0)


def test_the_sync_page_and_a_bundle_download(owner, helper, paired, conn):
    sell(conn, 2)
    page = owner.get("/sync").get_data(as_text=True)
    assert "Đồng bộ với tỉnh" in page and "Lưu ra USB" in page
    answer = owner.post("/sync/bundle", data={"csrf_token": csrf_token(owner, "/sync")})
    assert answer.status_code == 200
    assert answer.headers["Content-Disposition"].startswith("attachment;")
    bundle = json.loads(answer.data)
    public_key = public_key_of(settings.read(conn, "sync_signing_key"))
    assert bundle_signed_by(public_key, bundle["signature"], bundle["device_id"],
                            bundle["created_at"], bundle["entries"])
    assert len(bundle["entries"]) == read_state(conn).pending
    assert read_state(conn).last_bundle_at == bundle["created_at"]
    refused = helper.post("/sync/bundle", data={"csrf_token": csrf_token(helper, "/sync")})
    assert refused.status_code == 302 and "/owner" in refused.headers["Location"]


def test_pairing_from_the_settings_page(owner, helper, app, conn, sync_server):
    page = owner.get("/settings").get_data(as_text=True)
    assert 'id="pair-form"' in page and app.config["DEVICE_ID"] in page
    assert helper.get("/settings").status_code == 302
    token = csrf_token(owner, "/settings")
    wrong = owner.post("/settings", data={"csrf_token": token, "action": "pair",
                                          "server_url": sync_server.url, "code": "ABCD-EFGH"})
    assert wrong.status_code == 400
    assert "Mã ghép nối sai, đã dùng hoặc đã hết hạn." in wrong.get_data(as_text=True)
    assert not read_state(conn).paired
    _, code = sync_server.add_stall("Sạp rau Bắc Hà")
    done = owner.post("/settings", data={"csrf_token": token, "action": "pair",
                                         "server_url": sync_server.url, "code": code})
    assert done.status_code == 302
    page = owner.get("/settings").get_data(as_text=True)
    assert "Đã ghép nối với máy chủ tỉnh." in page and sync_server.url in page
    assert read_state(conn).paired
    _wait(lambda: read_state(conn).pending == 0)   # pairing starts a sync


def test_a_device_id_adopted_by_another_process_is_followed(owner, app, conn):
    _set(conn, device_id="0b8a3f4e-1111-4222-8333-444455556666")
    owner.get("/")
    assert app.config["DEVICE_ID"] == "0b8a3f4e-1111-4222-8333-444455556666"


# --- the commands ---------------------------------------------------------------------------------

def test_pair_sync_and_export_bundle_commands(tmp_path, sync_server):
    data = tmp_path / "stall"
    runner = CliRunner()
    assert runner.invoke(main, ["init", "--data", str(data)]).exit_code == 0
    not_paired = runner.invoke(main, ["sync", "--data", str(data)])
    assert not_paired.exit_code == 1 and "market-pos pair" in not_paired.output
    no_bundle = runner.invoke(main, ["export-bundle", "--data", str(data), "-o",
                                     str(tmp_path / "b.json")])
    assert no_bundle.exit_code == 1 and "Pair" in no_bundle.output
    device_id, code = sync_server.add_stall()
    paired_now = runner.invoke(main, ["pair", "--data", str(data), "--server", sync_server.url,
                                      "--code", code])
    assert paired_now.exit_code == 0, paired_now.output
    assert f"device {device_id}" in paired_now.output   # an empty stall takes the server's id
    conn = db.connect(data / "pos.sqlite3")
    sell(conn, 510)
    synced = runner.invoke(main, ["sync", "--data", str(data)])
    assert synced.exit_code == 0, synced.output
    assert "510 entries sent" in synced.output
    assert "510/510" in synced.stderr   # the progress bar, for more than one batch
    again = runner.invoke(main, ["sync", "--data", str(data)])
    assert again.exit_code == 0 and "0 entries sent" in again.output
    assert again.stderr == ""
    sell(conn, 2)
    out = tmp_path / "bundle.json"
    written = runner.invoke(main, ["export-bundle", "--data", str(data), "-o", str(out)])
    assert written.exit_code == 0 and "2 entries (seq 511 to 512)" in written.output
    assert [e["seq"] for e in json.loads(out.read_text())["entries"]] == [511, 512]
    sync_server.stop()
    down = runner.invoke(main, ["sync", "--data", str(data)])
    assert down.exit_code == 1
    assert "Sync incomplete" in down.output and "2 entries still to send" in down.output
    sync_server.start()
    assert runner.invoke(main, ["sync", "--data", str(data)]).exit_code == 0
    assert sync_server.hashes(device_id) == stall_hashes(conn)
    conn.close()


def test_a_bad_code_on_the_command_line(tmp_path, sync_server):
    result = CliRunner().invoke(main, ["pair", "--data", str(tmp_path / "s"), "--server",
                                       sync_server.url, "--code", "ABCD-EFGH"])
    assert result.exit_code == 1 and "bad_pairing_code" in result.output


def test_sync_command_reports_entries_that_need_attention(app, conn, paired, data_dir):
    _set(conn, sync_needs_attention=json.dumps({"seq": 3, "code": "conflict", "message": "x"}))
    _set(conn, sync_server_url=read_state(conn).server_url)
    # a manual sync tries again; the server has nothing against this stall: it clears
    result = CliRunner().invoke(main, ["sync", "--data", str(data_dir)])
    assert result.exit_code == 0, result.output
    assert read_state(conn).needs_attention is None


# --- the schema -----------------------------------------------------------------------------------

def test_server_products_need_no_journal_entry_but_the_stalls_do(conn):
    with pytest.raises(Exception, match="CHECK"):
        with db.write_transaction(conn):
            conn.execute("INSERT INTO products (name, search_key, unit, price) VALUES"
                         " ('x', 'x', 'kg', 1)")
    with db.write_transaction(conn):
        conn.execute("INSERT INTO products (name, search_key, unit, price, server_ref) VALUES"
                     " ('x', 'x', 'kg', 1, 'r1')")
    with pytest.raises(Exception, match="UNIQUE"):
        with db.write_transaction(conn):
            conn.execute("INSERT INTO products (name, search_key, unit, price, server_ref)"
                         " VALUES ('y', 'y', 'kg', 1, 'r1')")
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1


def test_merge_skips_malformed_items_and_withdraws_what_the_server_dropped(conn):
    from pos import catalog
    own = catalog.list_products(conn)
    with db.write_transaction(conn):
        counts = catalog.merge_server_catalogue(conn, [
            {"ref": 1, "name": "Mận hậu", "unit": "kg", "price": 30_000, "category": None,
             "binding": False, "active": True, "ocop_stars": None},
            {"ref": "2", "name": "", "unit": "kg", "price": 1},
            {"ref": "3", "name": "Lê", "unit": "kg", "price": 1.5},
            {"ref": "4", "name": "Táo", "unit": "kg", "price": 2, "ocop_stars": 7},
            "junk"])
    assert counts == {"added": 1, "updated": 0, "withdrawn": 0, "skipped": 4}
    added = [p for p in catalog.list_products(conn) if p["server_ref"]]
    assert [(p["server_ref"], p["name"], p["price"], p["active"]) for p in added] == \
        [("1", "Mận hậu", 30_000, True)]
    with db.write_transaction(conn):
        counts = catalog.merge_server_catalogue(conn, [])
    assert counts["withdrawn"] == 1
    assert not [p for p in catalog.list_products(conn, active_only=True) if p["server_ref"]]
    assert [p for p in catalog.list_products(conn) if not p["server_ref"]] == own
    with pytest.raises(RuntimeError):
        catalog.merge_server_catalogue(conn, [])


def test_sync_client_is_importable_without_a_flask_app(tmp_path):
    import subprocess
    import sys
    code = ("from pos.sync.client import SyncClient; import flask; "
            "assert not flask.has_app_context(); print('ok')")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True).stdout.strip() == "ok"
    assert SyncClient  # the module is also importable here


def test_the_demo_starts_a_provincial_server_paired_with_its_stall(tmp_path):
    from pos import demo
    from pos.cli import DEMO_CATALOGUE, _connect, _demo_server
    conn, device_id = _connect(tmp_path / "demo")
    demo.seed(conn, device_id)
    url, server = _demo_server(tmp_path / "demo", 0)
    try:
        state = read_state(conn)
        assert state.paired and state.server_url == url and state.device_id == device_id
        client = SyncClient(tmp_path / "demo" / "pos.sqlite3")
        result = client.sync_once()
        client.close()
        assert result.ok and result.pushed == state.head_seq
        names = {row[0] for row in conn.execute(
            "SELECT name FROM products WHERE server_ref IS NOT NULL")}
        assert names == {p["name"] for p in DEMO_CATALOGUE}
    finally:
        server.close()
    assert server.process.poll() is not None   # a process of its own, stopped by close()
    # Started again (the same data): the stall stays paired with the same server data.
    url2, server2 = _demo_server(tmp_path / "demo", 0)
    try:
        client = SyncClient(tmp_path / "demo" / "pos.sqlite3")
        assert client.sync_once().ok and client.state().server_url == url2
        client.close()
    finally:
        server2.close()
    assert read_state(conn).acked_seq == state.head_seq
    conn.close()


def test_the_stall_imports_nothing_of_the_server_and_the_core_nothing_of_the_stall():
    """pos/ talks to the provincial server over HTTP or its command line only (the demo too);
    sync/ (the shared core) never reaches into the stall."""
    import ast
    from pathlib import Path
    repo = Path(__file__).resolve().parent.parent

    def imports(path: Path) -> set[str]:
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module)
        return names
    stall_side = {f"{p.relative_to(repo)}: {name}" for p in (repo / "pos").rglob("*.py")
                  for name in imports(p) if name == "sync.server" or name.startswith("sync.server.")}
    core_side = {f"{p.relative_to(repo)}: {name}" for p in (repo / "sync").glob("*.py")
                 for name in imports(p) if name == "pos" or name.startswith("pos.")}
    assert not stall_side and not core_side
    assert not (repo / "sync" / "client.py").exists() and not (repo / "sync" / "recover.py").exists()
