"""POST /api/v1/pair: adopt, bind, recover; single-use, expiring codes; rate limit."""
from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select, update

from sync.protocol import PAIRING_ALPHABET, token_hash
from sync.qrref import stall_code
from sync.server import store
from sync.server.server_secret import pairing_code_digest
from sync.server.db import device_tokens, devices, pairing_codes, read_transaction, utcnow, \
    write_transaction

from .chain import sale_chain
from .conftest import COMMUNE, MARKET, PROVINCE, add_stall, bearer, pair_stall, push


def test_add_stall_issues_a_device_id_and_a_hashed_code(engine):
    new = add_stall(engine)
    assert uuid.UUID(new.device_id).version == 4
    code = new.code.replace("-", "")
    assert len(new.code) == 9 and new.code[4] == "-"
    assert len(code) == 8 and set(code) <= set(PAIRING_ALPHABET)
    with read_transaction(engine) as conn:
        row = conn.execute(select(pairing_codes)).mappings().one()
    assert row["code_hash"] == pairing_code_digest(code) and code not in str(dict(row))
    assert row["code_hash"] != token_hash(code)     # keyed: not searchable from the database
    assert row["expires_at"] - row["created_at"] == timedelta(hours=24)


def test_empty_stall_adopts_the_server_device_id(client, engine):
    new = add_stall(engine)
    response = client.post("/api/v1/pair", json={"code": new.code, "device_id": str(uuid.uuid4()),
                                                 "head_seq": 0})
    assert response.status_code == 200
    body = response.get_json()
    assert body["device_id"] == new.device_id and body["acked_seq"] == 0
    assert body["token"].startswith("dt_") and len(body["token"]) >= 40
    assert body["stall"] == {"name": "Sạp rau cô Lan", "vendor_name": "Nguyễn Thị Lan",
                             "market": MARKET, "commune": COMMUNE, "district": None,
                             "province": PROVINCE, "payment_code": stall_code(new.stall_id)}
    assert body["server_time"] == response.headers["X-Server-Time"]
    with read_transaction(engine) as conn:
        stored = conn.execute(select(device_tokens.c.token_hash)).scalars().all()
    assert stored == [token_hash(body["token"])]  # only the hash is kept


def test_codes_are_read_without_dash_case_or_spaces(client, engine):
    new = add_stall(engine)
    sloppy = " " + new.code.replace("-", " ").lower() + " "
    assert client.post("/api/v1/pair", json={"code": sloppy, "head_seq": 0}).status_code == 200


def test_stall_with_entries_binds_its_own_device_id(client, engine):
    new = add_stall(engine)
    own_id = str(uuid.uuid4())
    entries = sale_chain(own_id, 3)
    body = client.post("/api/v1/pair", json={"code": new.code, "device_id": own_id,
                                             "head_seq": 3}).get_json()
    assert body["device_id"] == own_id and body["acked_seq"] == 0
    with read_transaction(engine) as conn:
        assert conn.execute(select(devices.c.device_id).where(
            devices.c.stall_id == new.stall_id)).scalar_one() == own_id
    stall = type(new)(device_id=own_id, headers=bearer(body["token"]))
    response = push(client, stall, entries)
    assert response.status_code == 200 and response.get_json()["acked_seq"] == 3


def test_binding_refuses_a_device_id_another_stall_uses(client, engine):
    first = pair_stall(client, engine)
    second = add_stall(engine, "Sạp cá")
    response = client.post("/api/v1/pair", json={"code": second.code,
                                                 "device_id": first.device_id, "head_seq": 2})
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "device_in_use"
    retry = client.post("/api/v1/pair", json={"code": second.code, "head_seq": 0})
    assert retry.status_code == 200  # the refused attempt did not use the code up


def test_recovery_continues_the_stored_chain(client, engine):
    stall = pair_stall(client, engine)
    push(client, stall, sale_chain(stall.device_id, 4))
    with write_transaction(engine) as conn:
        code = store.issue_pairing_code(conn, stall.stall_id, utcnow())
    body = client.post("/api/v1/pair", json={"code": code, "device_id": str(uuid.uuid4()),
                                             "head_seq": 0}).get_json()
    assert body["device_id"] == stall.device_id
    assert body["acked_seq"] == 4 and len(body["head_hash"]) == 64
    head = client.get("/api/v1/journal/head", headers=bearer(body["token"])).get_json()
    assert head["acked_seq"] == 4


def test_a_code_is_single_use(client, engine):
    new = add_stall(engine)
    assert client.post("/api/v1/pair", json={"code": new.code, "head_seq": 0}).status_code == 200
    again = client.post("/api/v1/pair", json={"code": new.code, "head_seq": 0})
    assert again.status_code == 400
    assert again.get_json()["error"]["code"] == "bad_pairing_code"


def test_expired_code_is_refused(client, engine):
    new = add_stall(engine)
    with write_transaction(engine) as conn:
        conn.execute(update(pairing_codes).values(expires_at=utcnow() - timedelta(seconds=1)))
    response = client.post("/api/v1/pair", json={"code": new.code, "head_seq": 0})
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "bad_pairing_code"


def test_wrong_or_malformed_codes_are_refused(client, engine):
    add_stall(engine)
    for code in ("ABCD-EFGH", "ABCD", "", None, 12345678, "IIII-OOOO"):
        response = client.post("/api/v1/pair", json={"code": code, "head_seq": 0})
        assert response.status_code == 400, code
        assert response.get_json()["error"]["code"] == "bad_pairing_code"


def test_bad_pair_bodies_are_400(client, engine):
    new = add_stall(engine)
    for body in ({"code": new.code, "head_seq": -1}, {"code": new.code, "head_seq": "3"},
                 {"code": new.code, "head_seq": 2, "device_id": "not-a-uuid"},
                 {"code": new.code, "head_seq": 2}):
        response = client.post("/api/v1/pair", json=body)
        assert response.status_code == 400, body
    assert client.post("/api/v1/pair", data=b"{", content_type="application/json"
                       ).status_code == 400


def test_too_many_attempts_from_one_address_get_429(client, engine):
    for _ in range(10):
        client.post("/api/v1/pair", json={"code": "ABCD-EFGH", "head_seq": 0})
    response = client.post("/api/v1/pair", json={"code": "ABCD-EFGH", "head_seq": 0})
    assert response.status_code == 429
    assert response.get_json()["error"]["code"] == "rate_limited"
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    other = client.post("/api/v1/pair", json={"code": "ABCD-EFGH", "head_seq": 0},
                        environ_base={"REMOTE_ADDR": "10.0.0.7"})
    assert other.status_code == 400  # another address is counted apart


def test_revoked_stall_cannot_pair(client, engine):
    from sync.server.db import stalls
    new = add_stall(engine)
    with write_transaction(engine) as conn:
        conn.execute(update(stalls).values(revoked_at=utcnow()))
    response = client.post("/api/v1/pair", json={"code": new.code, "head_seq": 0})
    assert response.get_json()["error"]["code"] == "bad_pairing_code"
