"""`market-server` commands, run in-process with click's runner against both backends."""
from __future__ import annotations

import json

from click.testing import CliRunner

from sync.protocol import BUNDLE_FORMAT, canonical_json, sign_bundle, utc_timestamp
from sync.server.cli import main

from .chain import Chain, wire
from .conftest import COMMUNE, MARKET, PROVINCE, bearer, push


def run(server_db, *args, input=None):
    result = CliRunner().invoke(main, [args[0], "--database", server_db, *args[1:]], input=input,
                                catch_exceptions=False)
    return result


def test_add_stall_json_then_pair(server_db, client):
    result = run(server_db, "add-stall", "--province", PROVINCE, "--commune", COMMUNE,
                 "--market", MARKET, "--name", "Sạp rau", "--vendor", "Cô Lan", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) == {"device_id", "pairing_code"}
    response = client.post("/api/v1/pair", json={"code": data["pairing_code"], "head_seq": 0})
    assert response.get_json()["device_id"] == data["device_id"]


def test_add_stall_plain_output_shows_the_code(server_db):
    result = run(server_db, "add-stall", "--province", PROVINCE, "--commune", COMMUNE,
                 "--market", MARKET, "--name", "Sạp cá")
    assert result.exit_code == 0 and "Pairing code:" in result.output


def test_export_journal_writes_canonical_lines(server_db, client, stall, tmp_path):
    chain = Chain(stall.device_id)
    chain.sales_run(3)
    push(client, stall, chain.entries)
    result = run(server_db, "export-journal", "--format", "jsonl")
    assert result.exit_code == 0
    expected = b"".join(canonical_json(e.to_dict()) + b"\n" for e in chain.entries)
    assert result.stdout_bytes == expected
    out = tmp_path / "journal.jsonl"
    assert run(server_db, "export-journal", "--device", stall.device_id, "--format", "jsonl",
               "-o", str(out)).exit_code == 0
    assert out.read_bytes() == expected


def test_import_bundle_and_exit_codes(server_db, stall, tmp_path):
    chain = Chain(stall.device_id)
    chain.sales_run(2)
    created_at = utc_timestamp()
    items = wire(chain.entries)
    data = {"format": BUNDLE_FORMAT, "device_id": stall.device_id, "created_at": created_at,
            "entries": items, "signature": sign_bundle(stall.signing_key, stall.device_id,
                                                       created_at, items)}
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    result = run(server_db, "import-bundle", str(path))
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["stored"] == 2
    assert json.loads(run(server_db, "import-bundle", str(path)).stdout)["duplicates"] == 2
    data["signature"] = "f" * 128
    path.write_text(json.dumps(data))
    refused = run(server_db, "import-bundle", str(path))
    assert refused.exit_code == 1 and "signature" in refused.output
    path.write_text("{not json")
    assert run(server_db, "import-bundle", str(path)).exit_code == 1


def test_revoke_device_then_issue_code_to_recover(server_db, client, stall):
    result = run(server_db, "revoke-device", stall.device_id)
    assert result.exit_code == 0 and "Revoked 1" in result.output
    assert client.get("/api/v1/journal/head", headers=stall.headers).status_code == 401
    issued = run(server_db, "issue-code", "--device", stall.device_id, "--json")
    code = json.loads(issued.stdout)["pairing_code"]
    body = client.post("/api/v1/pair", json={"code": code, "head_seq": 0}).get_json()
    assert body["device_id"] == stall.device_id
    assert client.get("/api/v1/journal/head", headers=bearer(body["token"])).status_code == 200


def test_set_product_reaches_the_stall(server_db, client, stall):
    result = run(server_db, "set-product", "--province", PROVINCE, "--commune", COMMUNE,
                 "--market", MARKET, "--name", "Thịt lợn ba chỉ", "--unit", "kg",
                 "--price", "145000", "--category", "Thịt", "--binding", "--ocop-stars", "4")
    assert result.exit_code == 0, result.output
    product = json.loads(result.stdout)
    assert product["binding"] is True and product["version"] == 1
    [received] = client.get("/api/v1/catalogue", headers=stall.headers).get_json()["products"]
    assert received["name"] == "Thịt lợn ba chỉ" and received["price"] == 145_000
    bad = run(server_db, "set-product", "--province", PROVINCE, "--market", MARKET,
              "--name", "X", "--unit", "kg", "--price", "1")
    assert bad.exit_code == 1 and "commune" in bad.output


def test_alerts_and_resolve_alert(server_db, client, stall):
    chain = Chain(stall.device_id)
    chain.sales_run(2)
    tampered = chain.entries[1].to_dict()
    tampered["payload"]["total"] = 1
    push(client, stall, [chain.entries[0], tampered])
    listed = run(server_db, "alerts").stdout.splitlines()
    assert len(listed) == 1
    alert = json.loads(listed[0])
    assert alert["kind"] == "bad_hash"
    done = run(server_db, "resolve-alert", alert["id"], "--by", "admin", "--note", "checked")
    assert done.exit_code == 0
    assert run(server_db, "alerts").stdout == ""
    assert len(run(server_db, "alerts", "--all").stdout.splitlines()) == 1
    assert run(server_db, "resolve-alert", alert["id"], "--by", "admin").exit_code == 1
