"""Device tokens: missing, wrong and revoked tokens get 401; a token writes only its device."""
from __future__ import annotations

from sqlalchemy import func, select, update

from sync.server import store
from sync.server.db import journal, read_transaction, stalls, utcnow, write_transaction

from .chain import sale_chain
from .conftest import bearer, pair_stall, push

PROTECTED = (("post", "/api/v1/journal"), ("get", "/api/v1/journal/head"),
             ("get", "/api/v1/catalogue"))


def test_missing_token_is_401(client, stall):
    for method, path in PROTECTED:
        response = getattr(client, method)(path, json={"device_id": stall.device_id,
                                                       "entries": []})
        assert response.status_code == 401, path
        assert response.get_json()["error"]["code"] == "not_authenticated"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert "server_time" in response.get_json()


def test_wrong_token_is_401(client, stall):
    for token in ("dt_" + "A" * 43, "nonsense", stall.token + "x"):
        for method, path in PROTECTED:
            response = getattr(client, method)(path, headers=bearer(token),
                                               json={"device_id": stall.device_id, "entries": []})
            assert response.status_code == 401
            assert response.get_json()["error"]["code"] == "bad_token"


def test_basic_auth_is_not_a_token(client, stall):
    response = client.get("/api/v1/journal/head", headers={"Authorization": "Basic abc"})
    assert response.status_code == 401


def test_revoked_token_is_401(client, engine, stall):
    assert client.get("/api/v1/journal/head", headers=stall.headers).status_code == 200
    with write_transaction(engine) as conn:
        assert store.revoke_device(conn, stall.device_id, utcnow()) == 1
    for method, path in PROTECTED:
        response = getattr(client, method)(path, headers=stall.headers,
                                           json={"device_id": stall.device_id, "entries": []})
        assert response.status_code == 401


def test_revoked_stall_token_is_401(client, engine, stall):
    with write_transaction(engine) as conn:
        conn.execute(update(stalls).values(revoked_at=utcnow()))
    assert client.get("/api/v1/journal/head", headers=stall.headers).status_code == 401


def test_a_token_cannot_push_another_devices_journal(client, engine, stall):
    other = pair_stall(client, engine, "Sạp cá chú Tư")
    theirs = sale_chain(other.device_id, 3)
    response = push(client, stall, theirs, device_id=other.device_id)
    assert response.status_code == 403
    with read_transaction(engine) as conn:
        assert conn.execute(select(func.count()).select_from(journal)).scalar_one() == 0
    assert push(client, other, theirs).status_code == 200


def test_head_answers_for_the_tokens_device(client, engine, stall):
    push(client, stall, sale_chain(stall.device_id, 2))
    body = client.get("/api/v1/journal/head", headers=stall.headers).get_json()
    assert body["device_id"] == stall.device_id and body["acked_seq"] == 2
    assert body["server_time"]
