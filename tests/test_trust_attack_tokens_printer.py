"""Attacks of issue 15 on two of the stall's trusts.

API tokens: a bearer token acts as the owner, so one that leaked must be revocable at once, from
the command line (`market-pos token --list / --revoke ID`, DESIGN.md) and from the owner's settings
page; nothing ever shows a token again after it was issued.

The USB printer's device path: the ESC/POS back-end wrote a receipt into whatever file the path
named (the stall's own database got 35,937 bytes appended). Only a character device is accepted,
when the setting is saved and again on the opened file when printing.
"""
from __future__ import annotations

import hashlib
import os
import re
import shutil
from pathlib import Path
from typing import Any, Callable

import pytest
import requests
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image

from pos import access, db, stall
from pos import migrations
from pos.printing import queue as print_queue
from pos.printing.backends import Rendered
from pos.printing.config import PrinterConfig
from pos.printing.escpos import EscposDeviceBackend
from pos.printing.messages import PrinterError
from pos.printing.queue import Job
from pos.printing.status import printer_status
from pos.printing.worker import PrintWorker
from pos.cli import main
from tests.conftest import OWNER_PIN, csrf_token
from tests.harness.usb_printer import PtyPrinter


# --- API tokens: the command line -----------------------------------------------------------------

def cli(data_dir: Path, *args: str) -> Any:
    return CliRunner().invoke(main, ["token", "--data", str(data_dir), *args])


def listed(data_dir: Path) -> list[tuple[str, str]]:
    result = cli(data_dir, "--list")
    assert result.exit_code == 0, result.output
    return [tuple(line.split("\t")) for line in result.output.splitlines()]  # type: ignore[misc]


def test_cli_lists_each_token_by_id_and_label_never_the_token(data_dir: Path) -> None:
    scale = cli(data_dir, "--label", "cân điện tử").output.strip()
    sheet = cli(data_dir, "--label", "bảng tính").output.strip()
    result = cli(data_dir, "--list")
    assert result.exit_code == 0, result.output
    assert scale not in result.output and sheet not in result.output
    rows = listed(data_dir)
    assert [label for _id, label in rows] == ["cân điện tử", "bảng tính"]
    assert all(token_id.isdigit() for token_id, _label in rows)
    assert len({token_id for token_id, _label in rows}) == 2


def test_a_token_revoked_on_the_command_line_gets_401_at_once(app: Flask,
                                                              live_server: str) -> None:
    """Over real HTTP against a running stall: no token is cached in the server."""
    data_dir = Path(app.config["DATA_DIR"])
    leaked = cli(data_dir, "--label", "leaked").output.strip()
    kept = cli(data_dir, "--label", "kept").output.strip()
    for token in (leaked, kept):
        assert requests.get(f"{live_server}/api/products", timeout=10,
                            headers={"Authorization": f"Bearer {token}"}).status_code == 200
    leaked_id = next(i for i, label in listed(data_dir) if label == "leaked")

    result = cli(data_dir, "--revoke", leaked_id)

    assert result.exit_code == 0, result.output
    answer = requests.post(f"{live_server}/api/products", timeout=10,
                           headers={"Authorization": f"Bearer {leaked}"},
                           json={"name": "Hàng giả", "unit": "kg", "price": 1000})
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "bad_token"
    assert requests.get(f"{live_server}/api/products", timeout=10,
                        headers={"Authorization": f"Bearer {kept}"}).status_code == 200
    assert [label for _id, label in listed(data_dir)] == ["kept"]


@pytest.mark.parametrize("bad_id", ["999", "abc", "-1", ""])
def test_cli_revoking_an_unknown_id_fails_clearly_and_changes_nothing(data_dir: Path,
                                                                     bad_id: str) -> None:
    cli(data_dir, "--label", "a")
    before = listed(data_dir)
    result = cli(data_dir, "--revoke", bad_id)
    assert result.exit_code != 0
    assert "There is no token" in result.output
    assert "Traceback" not in result.output
    assert listed(data_dir) == before


def test_cli_revoking_a_token_twice_says_it_is_already_revoked(data_dir: Path) -> None:
    cli(data_dir, "--label", "a")
    token_id = listed(data_dir)[0][0]
    assert cli(data_dir, "--revoke", token_id).exit_code == 0
    again = cli(data_dir, "--revoke", token_id)
    assert again.exit_code != 0
    assert f"Token {token_id} is already revoked" in again.output


def test_tokens_issued_before_the_upgrade_keep_working_and_can_be_revoked(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    migrations.migrate(path, stop_before="0014_api_token_ids")
    conn = db.connect(path)
    try:
        old = {}
        for label in ("first", "second"):
            token = "mp_" + label * 8
            old[label] = token
            conn.execute("INSERT INTO api_tokens (token_hash, label, created_at) VALUES (?, ?, ?)",
                         (hashlib.sha256(token.encode()).hexdigest(), label,
                          f"2026-01-0{len(old)}T00:00:00.000Z"))
        conn.commit()
        migrations.migrate(path)
        assert [t["label"] for t in access.list_tokens(conn)] == ["first", "second"]
        assert access.token_is_valid(conn, old["first"])
        access.revoke_token(conn, access.list_tokens(conn)[0]["id"])
        assert not access.token_is_valid(conn, old["first"])
        assert access.token_is_valid(conn, old["second"])
    finally:
        conn.close()


# --- API tokens: the owner's settings page ------------------------------------------------

def api_status(app: Flask, token: str) -> int:
    return app.test_client().get("/api/products",
                                 headers={"Authorization": f"Bearer {token}"}).status_code


def token_id_of(conn: Any, label: str) -> str:
    return str(next(t["id"] for t in access.list_tokens(conn) if t["label"] == label))


def test_settings_page_lists_tokens_by_label_and_date_never_the_token(
        owner: FlaskClient, conn: Any) -> None:
    token = access.issue_token(conn, "máy quét mã vạch")
    html = owner.get("/settings").get_data(as_text=True)
    assert "máy quét mã vạch" in html
    assert token not in html
    assert re.search(r"\d\d/\d\d/\d{4} \d\d:\d\d", html)  # the date it was made
    assert "Thu hồi" in html  # Vietnamese first


def test_the_owner_revokes_a_token_on_the_settings_page(owner: FlaskClient, app: Flask,
                                                       conn: Any) -> None:
    leaked = access.issue_token(conn, "leaked")
    assert api_status(app, leaked) == 200
    answer = owner.post("/settings", data={"action": "token_revoke",
                                           "token_id": token_id_of(conn, "leaked"),
                                           "csrf_token": csrf_token(owner, "/settings")})
    assert answer.status_code == 302
    assert api_status(app, leaked) == 401
    assert "leaked" not in owner.get("/settings").get_data(as_text=True)


def test_revoking_without_the_owner_or_the_csrf_token_is_refused(
        owner: FlaskClient, helper: FlaskClient, client: FlaskClient, app: Flask,
        conn: Any) -> None:
    token = access.issue_token(conn, "kept")
    token_id = token_id_of(conn, "kept")
    forged = owner.post("/settings", data={"action": "token_revoke", "token_id": token_id})
    assert forged.status_code == 400
    by_helper = helper.post("/settings", data={"action": "token_revoke", "token_id": token_id,
                                               "csrf_token": csrf_token(helper, "/")})
    assert by_helper.status_code in (302, 403)
    locked = client.post("/settings", data={"action": "token_revoke", "token_id": token_id})
    assert locked.status_code in (302, 400, 401, 403)
    assert api_status(app, token) == 200


@pytest.mark.parametrize("action", ["token_new", "token_revoke", "pin", "pair"])
def test_the_owners_two_minute_override_does_not_reach_tokens_pins_or_pairing(
        helper: FlaskClient, app: Flask, conn: Any, action: str) -> None:
    """The owner types her PIN on the helper's session to approve one void; within those two
    minutes the helper used to mint a permanent API token (or change PINs, or pair the stall
    with another server). Those need the owner's own unlock; the override still opens voids."""
    kept = access.issue_token(conn, "kept")
    before = (access.list_tokens(conn), [tuple(r) for r in conn.execute("SELECT * FROM pins")])
    approved = helper.post("/owner?next=/settings", data={
        "pin": OWNER_PIN, "csrf_token": csrf_token(helper, "/owner")})
    assert approved.status_code == 302
    assert helper.get("/settings").status_code == 200     # the override opens the page
    form = {"action": action, "label": "của người phụ", "token_id": token_id_of(conn, "kept"),
            "role": "owner", "pin": "246813", "pin2": "246813",
            "server_url": "http://127.0.0.1:9", "pair_code": "ABCD2345",
            "csrf_token": csrf_token(helper, "/settings")}
    answer = helper.post("/settings", data=form)
    assert answer.status_code == 403
    page = answer.get_data(as_text=True)
    assert "Chỉ chủ sạp" in page and "mp_" not in page
    assert (access.list_tokens(conn), [tuple(r) for r in conn.execute("SELECT * FROM pins")]) == before
    assert api_status(app, kept) == 200


@pytest.mark.parametrize("bad_id, status, message", [
    ("999", 404, "Không có mã truy cập 999"),
    ("x'; DROP TABLE api_tokens; --", 404, "Không có mã truy cập"),
])
def test_the_settings_page_refuses_an_unknown_token_in_vietnamese(
        owner: FlaskClient, app: Flask, conn: Any, bad_id: str, status: int,
        message: str) -> None:
    token = access.issue_token(conn, "kept")
    answer = owner.post("/settings", data={"action": "token_revoke", "token_id": bad_id,
                                           "csrf_token": csrf_token(owner, "/settings")})
    assert answer.status_code == status
    assert message in answer.get_data(as_text=True)
    assert api_status(app, token) == 200


def test_the_settings_page_says_a_token_is_already_revoked(owner: FlaskClient,
                                                           conn: Any) -> None:
    access.issue_token(conn, "old")
    form = {"action": "token_revoke", "token_id": token_id_of(conn, "old"),
            "csrf_token": csrf_token(owner, "/settings")}
    assert owner.post("/settings", data=form).status_code == 302
    again = owner.post("/settings", data=form)
    assert again.status_code == 409
    assert "đã bị thu hồi" in again.get_data(as_text=True)


def test_a_new_token_from_the_settings_page_is_shown_once(owner: FlaskClient, app: Flask,
                                                         conn: Any) -> None:
    answer = owner.post("/settings", data={"action": "token_new", "label": "bảng tính",
                                           "csrf_token": csrf_token(owner, "/settings")})
    assert answer.status_code == 200
    assert answer.headers["Cache-Control"] == "no-store"
    token = re.search(r'id="new-token">(mp_[^<]+)<', answer.get_data(as_text=True)).group(1)
    assert api_status(app, token) == 200
    assert token not in owner.get("/settings").get_data(as_text=True)
    bad = owner.post("/settings", data={"action": "token_new", "label": "a\tb\nc",
                                        "csrf_token": csrf_token(owner, "/settings")})
    assert bad.status_code == 400
    assert [t["label"] for t in access.list_tokens(conn)] == ["bảng tính"]


# --- the USB printer's device path ----------------------------------------------------------------

def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def save_printer(owner: FlaskClient, device: str) -> Any:
    return owner.post("/printer", data={
        "backend": "escpos-usb", "device": device, "paper": "58", "stale_minutes": "30",
        "print_lang": "vi", "csrf_token": csrf_token(owner, "/printer")})


def database_file(app: Flask, tmp_path: Path) -> Path:
    return Path(app.config["DATABASE"])


def regular_file(app: Flask, tmp_path: Path) -> Path:
    path = tmp_path / "lp0"
    path.write_bytes(b"receipts of yesterday\n")
    return path


def folder(app: Flask, tmp_path: Path) -> Path:
    path = tmp_path / "usb"
    path.mkdir()
    return path


def link_to_database(app: Flask, tmp_path: Path) -> Path:
    path = tmp_path / "printer-link"
    path.symlink_to(app.config["DATABASE"])
    return path


def fifo(app: Flask, tmp_path: Path) -> Path:
    path = tmp_path / "usb-lp0"
    os.mkfifo(path)
    return path


def snapshot(path: Path) -> Any:
    """What must not change: a file's bytes, or a folder's entries."""
    target = path.resolve()
    if target.is_dir():
        return sorted(os.listdir(target))
    if target.is_fifo():
        return os.stat(target).st_mtime_ns
    return digest(target)


@pytest.mark.parametrize("make", [database_file, regular_file, folder, link_to_database, fifo],
                         ids=lambda make: make.__name__)
def test_a_printer_path_that_is_not_a_device_is_refused(
        owner: FlaskClient, app: Flask, conn: Any, tmp_path: Path,
        make: Callable[[Flask, Path], Path]) -> None:
    target = make(app, tmp_path)
    before, settings_before = snapshot(target), conn.execute(
        "SELECT * FROM settings ORDER BY key").fetchall()

    answer = save_printer(owner, str(target))

    assert answer.status_code == 400
    html = answer.get_data(as_text=True)
    assert "không phải là máy in USB" in html
    assert "Traceback" not in html
    assert conn.execute("SELECT * FROM settings ORDER BY key").fetchall() == settings_before
    assert PrinterConfig.load(conn).backend == "none"
    assert snapshot(target) == before


def test_a_printer_path_that_does_not_exist_is_refused(owner: FlaskClient, conn: Any,
                                                       tmp_path: Path) -> None:
    answer = save_printer(owner, str(tmp_path / "lp9"))
    assert answer.status_code == 400
    assert "Không có máy in" in answer.get_data(as_text=True)
    assert not (tmp_path / "lp9").exists()
    assert PrinterConfig.load(conn).backend == "none"


def test_a_character_device_is_accepted(owner: FlaskClient, conn: Any) -> None:
    assert save_printer(owner, "/dev/null").status_code == 302
    config = PrinterConfig.load(conn)
    assert (config.backend, config.device) == ("escpos-usb", "/dev/null")


def blank_page(conn: Any, job: Job) -> Rendered:
    return Rendered(b"%PDF", Image.new("1", (384, 200), 0))


def link_swapped_for_a_link_to_a_file(link: Path, decoy: Path) -> None:
    swap = link.with_name("swap")
    swap.symlink_to(decoy)
    os.replace(swap, link)


def link_swapped_for_the_file_itself(link: Path, decoy: Path) -> None:
    link.unlink()
    os.link(decoy, link)  # the saved path now names the decoy's very bytes


@pytest.mark.parametrize("swap", [link_swapped_for_a_link_to_a_file,
                                  link_swapped_for_the_file_itself],
                         ids=["symlink-to-a-file", "the-file-itself"])
def test_the_worker_writes_nothing_to_a_path_swapped_after_saving(
        owner: FlaskClient, app: Flask, conn: Any, tmp_path: Path,
        swap: Callable[[Path, Path], None]) -> None:
    """Saved while the path led to a device; by printing time it leads to a file (here a copy of
    the stall's database): the opened file is checked, and not one byte is written."""
    printer = PtyPrinter()
    link = tmp_path / "printer"
    link.symlink_to(printer.path)
    try:
        assert save_printer(owner, str(link)).status_code == 302
    finally:
        printer.close()
    decoy = tmp_path / "decoy.sqlite3"
    shutil.copyfile(app.config["DATABASE"], decoy)
    swap(link, decoy)
    before = digest(decoy)
    job_id = print_queue.enqueue(conn, "selftest")
    worker = PrintWorker(app.config["DATABASE"], blank_page)
    try:
        printed = worker.run_once()
    finally:
        worker.close()
    assert digest(decoy) == before
    assert printed == 0
    job = print_queue.get_job(conn, job_id)
    assert (job.state, job.last_error) == ("queued", "The device path is not a printer")
    assert printer_status(conn)["message"] == "The device path is not a printer"


def test_the_stall_database_is_never_printed_on(tmp_path: Path) -> None:
    """The attack as reported: the back-end pointed straight at the stall's database file."""
    data_dir = tmp_path / "stall"
    stall.prepare(data_dir)
    database = stall.database_path(data_dir)
    before = digest(database)
    backend = EscposDeviceBackend(database, timeout=1)
    with pytest.raises(PrinterError) as refused:
        try:
            backend.send(Rendered(b"", Image.new("1", (384, 400), 0)))
        finally:
            assert digest(database) == before  # the old back-end appended a receipt here
    assert refused.value.message == "The device path is not a printer"
