"""Attack: a copy of the provincial server's database forges a USB bundle (issue 15).

Bundles used to carry an HMAC keyed with SHA-256(token), which is exactly what the server stores:
whoever copied the server's SQLite file could write a 900,000,000 đ sale into another stall's
journal with `market-server import-bundle`, and that stall's next real sale was then refused as a
conflict. Now a bundle is signed with the stall's Ed25519 key, whose private half never leaves the
stall. The stall and the server here are the real ones (the live server of test_sync_client.py,
served by waitress on a real SQLite file); the forger reads every table of a copy of that file.
"""
from __future__ import annotations

import hashlib
import hmac
import io
import json
import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest
import requests
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, select

from pos import db, settings
from pos.sync.bundles import export_bundle
from pos.sync.client import SyncClient
from pos.sync.errors import SyncError
from pos.sync.state import read_state
from sync.protocol import canonical_json, entry_hash, new_entry_id, utc_timestamp
from sync.server import store
from sync.server.cli import main as server_cli
from sync.server.db import device_tokens, integrity_alerts, read_transaction, write_transaction
from sync.server.users import create_user
from tests.conftest import csrf_token
from tests.test_sync_client import (paired, sell, server_template,  # noqa: F401
                                    stall_hashes, sync_server)

ADMIN_PASSWORD = "mật khẩu tỉnh 2026"
HEX64 = re.compile(r"^[0-9a-f]{64}$")
FORGED_TOTAL = 900_000_000


# --- the forger's tools: everything comes from the copy of the server's database ----------------

def read_every_table(path: Path) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table of the copied server database."""
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    try:
        names = [row[0] for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
        return {name: [dict(row) for row in conn.execute(f'SELECT * FROM "{name}"')]
                for name in names}
    finally:
        conn.close()


def secrets_in(tables: dict[str, list[dict[str, Any]]]) -> set[str]:
    """Every 64-hex-digit value anywhere in the copy: token hashes, keys, entry hashes."""
    return {value for rows in tables.values() for row in rows for value in row.values()
            if isinstance(value, str) and HEX64.match(value)}


def forged_sale(tables: dict[str, list[dict[str, Any]]], device_id: str) -> dict[str, Any]:
    """The victim's next entry, chained on its head as the copy shows it: a 900,000,000 đ sale
    modelled on its latest real sale, with a correct hash and link."""
    device = next(row for row in tables["devices"] if row["device_id"] == device_id)
    seq, prev_hash = device["acked_seq"] + 1, device["head_hash"]
    sales = [row for row in tables["journal"] if row["device_id"] == device_id
             and row["kind"] == "sale"]
    payload = json.loads(max(sales, key=lambda row: row["seq"])["payload"])
    payload.update(number=payload["number"] + 1, total=FORGED_TOTAL,
                   lines=[{**payload["lines"][0], "name": "Vàng miếng", "quantity_milli": 1000,
                           "unit_price": FORGED_TOTAL, "amount": FORGED_TOTAL}],
                   payments=[{"method": "cash", "amount": FORGED_TOTAL,
                              "tendered": FORGED_TOTAL, "change": 0}])
    entry_id, at = new_entry_id(), utc_timestamp()
    return {"device_id": device_id, "seq": seq, "id": entry_id, "kind": "sale", "at": at,
            "payload": payload, "prev_hash": prev_hash,
            "hash": entry_hash(prev_hash, device_id, seq, entry_id, "sale", at, payload)}


def v1_bundle(token_hash_hex: str, device_id: str, entries: list[dict[str, Any]]) -> dict:
    """The old format, its HMAC keyed with the token hash the server stores."""
    created_at = utc_timestamp()
    content = {"format": "market-pos-bundle/1", "device_id": device_id,
               "created_at": created_at, "entries": entries}
    mac = hmac.new(bytes.fromhex(token_hash_hex), canonical_json(content),
                   hashlib.sha256).hexdigest()
    return {**content, "mac": mac}


def v2_bundle(device_id: str, entries: list[dict[str, Any]], *, seed: bytes | None = None,
              signature: str | None = None) -> dict:
    """The new format, signed with a key of the forger's choosing (or a made-up signature)."""
    created_at = utc_timestamp()
    content = {"format": "market-pos-bundle/2", "device_id": device_id,
               "created_at": created_at, "entries": entries}
    if signature is None:
        key = Ed25519PrivateKey.from_private_bytes(seed) if seed else \
            Ed25519PrivateKey.generate()
        signature = key.sign(canonical_json(content)).hex()
    return {**content, "signature": signature}


# --- the two ways a bundle reaches the server ----------------------------------------------------

def import_with_cli(server: Any, bundle: dict, tmp_path: Path) -> Any:
    path = tmp_path / "bundle.json"
    path.write_bytes(canonical_json(bundle))
    return CliRunner().invoke(server_cli, ["import-bundle", "--database",
                                           f"sqlite:///{server.db_file}", str(path)])


def admin_of(server: Any) -> Any:
    """The province's administrator, logged in on the server's pages."""
    with write_transaction(server.engine) as conn:
        create_user(conn, "quantri", ADMIN_PASSWORD, "admin")
    admin = server.app.test_client()
    login = admin.post("/admin/login", data={"username": "quantri", "password": ADMIN_PASSWORD,
                                             "csrf_token": csrf_token(admin, "/admin/login")})
    assert login.status_code == 302
    return admin


def upload(admin: Any, bundle: dict) -> Any:
    return admin.post("/admin/bundle", content_type="multipart/form-data", data={
        "bundle": (io.BytesIO(canonical_json(bundle)), "bundle.json"),
        "csrf_token": csrf_token(admin, "/admin/bundle")})


def server_state(server: Any) -> tuple[Any, ...]:
    """The server's journal, its alerts and every device's head: what a forgery must not move."""
    with read_transaction(server.engine) as conn:
        return (list(store.export_journal(conn)),
                conn.execute(select(func.count()).select_from(integrity_alerts)).scalar_one(),
                [store.head(conn, row.device_id) for row in conn.execute(
                    select(device_tokens.c.device_id).distinct())])


# --- the tests -----------------------------------------------------------------------------------

def test_a_copy_of_the_server_database_cannot_forge_a_bundle(app, conn, paired, sync_server,
                                                            tmp_path):
    victim = app.config["DEVICE_ID"]
    sell(conn, 3)
    assert paired.sync_once().ok
    copy = tmp_path / "stolen.sqlite3"
    sync_server.snapshot(copy)
    tables = read_every_table(copy)
    token_hashes = [row["token_hash"] for row in tables["device_tokens"]
                    if row["device_id"] == victim]
    stored_keys = [row.get("signing_key") for row in tables["device_tokens"]
                   if row["device_id"] == victim]
    entries = [forged_sale(tables, victim)]
    # No 32-byte value anywhere in the copy is the private half of the victim's key.
    public_keys = {Ed25519PrivateKey.from_private_bytes(bytes.fromhex(value)).public_key()
                   .public_bytes_raw().hex() for value in secrets_in(tables)}
    assert not public_keys & set(stored_keys)
    old_format, bad_signature = "định dạng cũ", "Chữ ký của gói dữ liệu không khớp"
    forgeries = {   # name: (bundle, what the administrator reads)
        "v1 HMAC keyed with the stored token hash": (
            v1_bundle(token_hashes[0], victim, entries), old_format),
        "v2 signed with a fresh key pair": (v2_bundle(victim, entries), bad_signature),
        "v2 signed with the token hash as the key": (v2_bundle(
            victim, entries, seed=bytes.fromhex(token_hashes[0])), bad_signature),
        "v2 with the stored public key and a made-up signature": (v2_bundle(
            victim, entries, signature=(str(stored_keys[0]) * 2)[:128]), bad_signature),
    }
    before = server_state(sync_server)
    admin = admin_of(sync_server)
    for name, (bundle, reason) in forgeries.items():
        cli = import_with_cli(sync_server, bundle, tmp_path)
        assert cli.exit_code == 1, f"{name}: {cli.output}"
        assert "Error:" in cli.output and "Traceback" not in cli.output, name
        page = upload(admin, bundle)
        assert page.status_code == 400, name
        html = page.get_data(as_text=True)
        assert reason in html and "Traceback" not in html, name
        assert server_state(sync_server) == before, f"{name} changed the server"
    # Nor can the forger register a key of their own: the copy holds token hashes, not tokens.
    for token_hash_hex in token_hashes:
        answer = requests.put(f"{sync_server.url}/api/v1/device-key", timeout=10,
                              headers={"Authorization": f"Bearer {token_hash_hex}"},
                              json={"public_key": "ab" * 32})
        assert answer.status_code == 401
    # The real stall's next sale goes up as if nothing had happened.
    sell(conn, 1)
    result = paired.sync_once()
    assert result.ok and result.needs_attention is None and result.pushed == 1
    assert sync_server.hashes(victim) == stall_hashes(conn)


def test_a_bundle_the_stall_signs_is_imported_once(app, conn, paired, sync_server, tmp_path):
    sell(conn, 3)
    path = tmp_path / "usb.json"
    export_bundle(app.config["DATABASE"], path)
    bundle = json.loads(path.read_bytes())
    assert bundle["format"] == "market-pos-bundle/2" and "mac" not in bundle
    cli = import_with_cli(sync_server, bundle, tmp_path)
    assert cli.exit_code == 0, cli.output
    head = conn.execute("SELECT MAX(seq) FROM journal").fetchone()[0]
    assert json.loads(cli.stdout)["acked_seq"] == head
    page = upload(admin_of(sync_server), bundle)
    assert page.status_code == 200 and 'id="bundle-stored">0<' in page.get_data(as_text=True)
    assert sync_server.hashes(app.config["DEVICE_ID"]) == stall_hashes(conn)
    result = paired.sync_once()
    assert (result.pushed, result.pending) == (0, 0)


def _forget_keys(conn: sqlite3.Connection, server: Any) -> None:
    """Make the pairing look like one made before bundle keys: no key on either side."""
    with db.write_transaction(conn):
        conn.execute("DELETE FROM settings WHERE key IN ('sync_signing_key',"
                     " 'sync_signing_key_registered')")
    with write_transaction(server.engine) as server_conn:
        server_conn.execute(device_tokens.update().values(signing_key=None))


def test_a_stall_paired_before_keys_registers_one_on_its_next_sync(app, conn, owner, paired,
                                                                   sync_server, tmp_path):
    _forget_keys(conn, sync_server)
    sell(conn, 2)
    # Until the server knows its key, the stall says so instead of writing a useless bundle.
    with pytest.raises(SyncError) as early:
        export_bundle(app.config["DATABASE"], tmp_path / "early.json")
    assert early.value.code == "key_not_registered"
    page = owner.post("/sync/bundle", data={"csrf_token": csrf_token(owner, "/sync")},
                      headers={"Accept": "application/json"})
    assert page.status_code == 409
    assert "Máy chủ tỉnh chưa có khóa ký" in page.get_json()["error"]["message"]
    # A bundle for a device without a key is refused with a message saying what to do.
    unknown = import_with_cli(sync_server, v2_bundle(app.config["DEVICE_ID"], []), tmp_path)
    assert unknown.exit_code == 1 and "sync" in unknown.output
    # The next online sync makes a key and registers it, once.
    assert paired.sync_once().ok
    key = settings.read(conn, "sync_signing_key")
    public_key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(key)).public_key() \
        .public_bytes_raw().hex()
    with read_transaction(sync_server.engine) as server_conn:
        assert server_conn.execute(select(device_tokens.c.signing_key)).scalars().all() == \
            [public_key]
    paired.sync_once()
    assert [row[3] for row in sync_server.log if row[1] == "/api/v1/device-key"] == [200]
    # Now its bundle is accepted.
    sell(conn, 1)
    export_bundle(app.config["DATABASE"], tmp_path / "usb.json")
    cli = import_with_cli(sync_server, json.loads((tmp_path / "usb.json").read_bytes()),
                          tmp_path)
    assert cli.exit_code == 0, cli.output
    assert sync_server.hashes(app.config["DEVICE_ID"]) == stall_hashes(conn)
    # The registered key stays: the same token cannot swap it (a thief with a stolen token
    # would need a new pairing code from the administrator).
    token = settings.read(conn, "sync_token")
    swap = requests.put(f"{sync_server.url}/api/v1/device-key", timeout=10,
                        headers={"Authorization": f"Bearer {token}"},
                        json={"public_key": "cd" * 32})
    assert swap.status_code == 409 and swap.json()["error"]["code"] == "signing_key_registered"
    garbage = requests.put(f"{sync_server.url}/api/v1/device-key", timeout=10,
                           headers={"Authorization": f"Bearer {token}"},
                           json={"public_key": "not a key"})
    assert garbage.status_code == 400
    with read_transaction(sync_server.engine) as server_conn:
        assert server_conn.execute(select(device_tokens.c.signing_key)).scalars().all() == \
            [public_key]
    assert paired.sync_once().ok and read_state(conn).pending == 0


def test_a_stall_keeps_its_key_through_a_new_client(app, conn, paired, sync_server, tmp_path):
    """The key lives in the stall's database beside the token, made at pairing: another client
    (the CLI, the worker after a restart) keeps it and registers nothing more."""
    first = settings.read(conn, "sync_signing_key")
    assert first and settings.read(conn, "sync_signing_key_registered")
    other = SyncClient(app.config["DATABASE"])
    try:
        assert other.sync_once().ok
    finally:
        other.close()
    assert settings.read(conn, "sync_signing_key") == first
    assert not [row for row in sync_server.log if row[1] == "/api/v1/device-key"]


def test_a_copy_of_the_server_database_cannot_redeem_an_unused_pairing_code(
        app, conn, paired, sync_server, tmp_path):
    """An unused pairing code in the copy would let its holder pair a device of their own with
    the victim's stall (and register their own bundle key). A code has only 31**8 values, so a
    plain SHA-256 of it is searched in minutes; the server keeps an HMAC keyed with its secret,
    which lives outside the database. Every key the copy offers fails, and the code itself still
    pairs on the real server."""
    from sync.protocol import PAIRING_ALPHABET, token_hash
    from sync.server import pairing
    from sync.server.db import devices, utcnow
    from sync.server.server_secret import server_secret

    victim = app.config["DEVICE_ID"]
    with write_transaction(sync_server.engine) as db_conn:
        stall_id = db_conn.execute(select(devices.c.stall_id).where(
            devices.c.device_id == victim)).scalar_one()
        code = pairing.issue_pairing_code(db_conn, stall_id, utcnow()).replace("-", "")
    copy = tmp_path / "stolen.sqlite3"
    sync_server.snapshot(copy)
    tables = read_every_table(copy)
    [stored] = [row["code_hash"] for row in tables["pairing_codes"] if row["used_at"] is None]
    # What a searcher would compare each of the 31**8 candidates against: none matches.
    candidate_keys = [b""] + [bytes.fromhex(value) for value in secrets_in(tables)] + [
        str(value).encode() for rows in tables.values() for row in rows for value in row.values()
        if isinstance(value, str) and 16 <= len(value) <= 128]
    assert token_hash(code) != stored
    assert hashlib.sha256(code.encode()).hexdigest() != stored
    assert all(hmac.new(key, code.encode(), hashlib.sha256).hexdigest() != stored
               for key in candidate_keys)
    assert server_secret() not in json.dumps(tables, default=str)
    assert set(code) <= set(PAIRING_ALPHABET)
    # The code is real: the server that holds the secret redeems it.
    answer = requests.post(f"{sync_server.url}/api/v1/pair", timeout=10,
                           json={"code": code, "head_seq": 0, "device_id": victim,
                                 "public_key": "cd" * 32})
    assert answer.status_code == 200, answer.text
