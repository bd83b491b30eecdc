"""Bank notifications through the real provincial server: webhook in, routed to the stall by its
payment reference, applied on the next sync, and the stall's verdict back up as an entry."""
from __future__ import annotations

import requests
from sqlalchemy import select

from sync.server import bank
from sync.server.db import (bank_notifications, payments, qr_checks, read_transaction,
                            write_transaction, utcnow)
from tests.test_sync_client import paired, server_template, sync_server  # noqa: F401

ONE_KG = [{"product_id": 1, "quantity": "1"}]   # 120.000 ₫


def _secret(server) -> str:
    with write_transaction(server.engine) as conn:
        return bank.create_secret(conn, "casso", utcnow())


def _notify(server, secret, body, **headers):
    return requests.post(f"{server.url}/api/v1/bank/notifications", json=body, timeout=10,
                         headers={"Authorization": f"Bearer {secret}", **headers})


def _pending(api, kg="1", amount=120000):
    response = api.post("/api/qr-payments", json={
        "lines": [{"product_id": 1, "quantity": kg}],
        "payments": [{"method": "qr", "amount": amount}]})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_webhook_to_stall_and_back(api, conn, paired, sync_server):  # noqa: F811
    api.post("/api/bank-accounts", json={"bank_bin": "970436", "account": "0011001932418",
                                         "holder": "Nguyen Thi Dao"})
    first = _pending(api)
    code = first["reference"].split()[0]
    assert code.startswith("SAP") and code != "SAP0"    # the stall's number from the server
    under = _pending(api, "5", 600000)
    secret = _secret(sync_server)

    # Casso's shape: a list under "data", the time in Vietnam's wall clock.
    casso = {"error": 0, "data": [
        {"id": 1, "tid": "FT2632701", "amount": 120000, "when": "2026-11-23 10:15:00",
         "description": f"MBVCB.8812.{first['reference'].replace(' ', '')}.CT tu NGUYEN VAN A",
         "bank_sub_acc_id": "0011001932418"},
        {"id": 2, "tid": "FT2632702", "amount": 600, "when": "2026-11-23 10:16:00",
         "description": f"{under['reference']} thanh toan", "bank_sub_acc_id": "0011001932418"},
        {"id": 3, "tid": "FT2632703", "amount": 50000, "when": "2026-11-23 10:17:00",
         "description": "SAP99999 0001", "bank_sub_acc_id": "0011001932418"}]}
    response = _notify(sync_server, secret, casso)
    assert response.status_code == 200, response.text
    assert {k: response.json()[k] for k in ("received", "stored", "duplicates", "unrouted")} == \
        {"received": 3, "stored": 3, "duplicates": 0, "unrouted": 1}
    again = _notify(sync_server, secret, casso).json()     # the service retries: nothing new
    assert (again["stored"], again["duplicates"]) == (0, 3)
    # SePay's shape: one object; an outgoing transfer is ignored.
    sepay = {"id": 92704, "gateway": "Vietcombank", "transactionDate": "2026-11-23 10:20:00",
             "accountNumber": "0011001932418", "content": "chuyen tien", "transferType": "out",
             "transferAmount": 20000, "referenceCode": "MBVCB.3278907687"}
    assert _notify(sync_server, secret, sepay, Authorization=f"Apikey {secret}").json()[
        "received"] == 0

    result = paired.sync_once()
    assert result.bank == 2 and result.ok
    shown = api.get(f"/api/qr-payments/{first['id']}").get_json()
    assert shown["state"] == "recorded" and shown["bank_confirmed"]
    left = api.get(f"/api/qr-payments/{under['id']}").get_json()
    assert left["state"] == "pending" and left["mismatch"]["reason"] == "underpaid"
    assert paired.sync_once().bank == 0                    # applied once

    with read_transaction(sync_server.engine) as server:
        checks = {row.bank_txn: (row.state, row.reason) for row in server.execute(
            select(qr_checks))}
        states = [row.state for row in server.execute(
            select(payments).where(payments.c.method == "qr"))]
        unrouted = bank.unrouted(server)
    assert checks == {"FT2632701": ("bank_confirmed", None),
                      "FT2632702": ("mismatch", "underpaid")}
    assert states == ["bank_confirmed"]
    assert [row["txn_id"] for row in unrouted] == ["FT2632703"]


def test_webhook_refuses_bad_secrets_and_bad_bodies(sync_server):  # noqa: F811
    secret = _secret(sync_server)
    good = {"id": "FT1", "amount": 1000, "description": "x"}
    assert _notify(sync_server, "wh_wrong", good).status_code == 401
    assert requests.post(f"{sync_server.url}/api/v1/bank/notifications", json=good,
                         timeout=10).status_code == 401
    for body in ([1], {"amount": 1000, "description": "no id"},
                 {"id": "FT1", "amount": "lots", "description": "x"},
                 {"id": "FT1", "amount": 1000, "description": "x", "time": "yesterday"},
                 {"id": "FT1", "amount": 1000.5, "description": "x"}):
        response = _notify(sync_server, secret, body)
        assert response.status_code == 400, body
        assert response.json()["error"]["message"]
    with read_transaction(sync_server.engine) as conn:
        assert conn.execute(select(bank_notifications)).first() is None
    with write_transaction(sync_server.engine) as conn:
        assert bank.revoke_secret(conn, "casso", utcnow()) == 1
    assert _notify(sync_server, secret, good).status_code == 401


def test_a_device_sees_only_its_own_notifications(api, paired, sync_server):  # noqa: F811
    token = paired.conn.execute("SELECT value FROM settings WHERE key = 'sync_token'").fetchone()[0]
    with write_transaction(sync_server.engine) as conn:
        bank.store(conn, bank.parse_notifications(
            {"id": "FT7", "amount": 1000, "description": "SAP424242 0001"}), utcnow())
    answer = requests.get(f"{sync_server.url}/api/v1/bank/notifications?after=0", timeout=10,
                          headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200 and answer.json()["notifications"] == []
    assert requests.get(f"{sync_server.url}/api/v1/bank/notifications?after=x", timeout=10,
                        headers={"Authorization": f"Bearer {token}"}).status_code == 400
    assert requests.get(f"{sync_server.url}/api/v1/bank/notifications",
                        timeout=10).status_code == 401
