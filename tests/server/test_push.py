"""POST /api/v1/journal: docs/SYNC.md "Push", on both backends."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from sync.protocol import GENESIS_HASH, canonical_json, utc_timestamp
from sync.server.db import devices, integrity_alerts, journal, read_transaction

from .chain import Chain, forged, make_entry, sale_chain, wire
from .conftest import pair_stall, push


def journal_count(engine, device_id=None):
    with read_transaction(engine) as conn:
        query = select(func.count()).select_from(journal)
        if device_id:
            query = query.where(journal.c.device_id == device_id)
        return conn.execute(query).scalar_one()


def alerts(engine, device_id):
    with read_transaction(engine) as conn:
        return conn.execute(select(integrity_alerts).where(
            integrity_alerts.c.device_id == device_id).order_by(integrity_alerts.c.seq)
        ).mappings().all()


def test_first_batch_is_stored_and_acknowledged(client, engine, stall):
    entries = sale_chain(stall.device_id, 5)
    response = push(client, stall, entries)
    assert response.status_code == 200
    body = response.get_json()
    assert body["acked_seq"] == 5 and body["head_hash"] == entries[-1].hash
    assert (body["stored"], body["duplicates"]) == (5, 0)
    assert body["server_time"] == response.headers["X-Server-Time"]
    assert journal_count(engine, stall.device_id) == 5


def test_resending_a_batch_is_all_duplicates(client, engine, stall):
    entries = sale_chain(stall.device_id, 5)
    push(client, stall, entries)
    body = push(client, stall, entries).get_json()
    assert (body["acked_seq"], body["stored"], body["duplicates"]) == (5, 0, 5)
    assert journal_count(engine) == 5


def test_overlapping_batch_stores_only_the_new_entries(client, engine, stall):
    entries = sale_chain(stall.device_id, 8)
    push(client, stall, entries[:5])
    body = push(client, stall, entries[2:]).get_json()
    assert (body["acked_seq"], body["stored"], body["duplicates"]) == (8, 3, 3)
    assert journal_count(engine) == 8


def test_empty_batch_answers_the_head(client, stall):
    body = push(client, stall, []).get_json()
    assert body["acked_seq"] == 0 and body["head_hash"] == GENESIS_HASH


def test_gap_is_refused_without_alert(client, engine, stall):
    entries = sale_chain(stall.device_id, 6)
    push(client, stall, entries[:3])
    response = push(client, stall, entries[4:])
    assert response.status_code == 409
    body = response.get_json()
    assert body["error"]["code"] == "sequence_gap" and body["error"]["seq"] == 5
    assert body["acked_seq"] == 3 and body["head_hash"] == entries[2].hash
    assert "server_time" in body
    assert alerts(engine, stall.device_id) == []
    assert journal_count(engine) == 3


def test_conflict_keeps_the_stored_entry_commits_the_prefix_and_raises_an_alert(
        client, engine, stall):
    entries = sale_chain(stall.device_id, 5)
    push(client, stall, entries[:3])
    other = forged(entries[2], payload={**entries[2].payload, "total": 1})
    response = push(client, stall, [entries[3], entries[4], other])
    assert response.status_code == 409
    body = response.get_json()
    assert body["error"]["code"] == "conflict" and body["error"]["seq"] == 3
    assert body["acked_seq"] == 5  # the good prefix (4, 5) was committed
    with read_transaction(engine) as conn:
        stored_hash = conn.execute(select(journal.c.hash).where(
            journal.c.device_id == stall.device_id, journal.c.seq == 3)).scalar_one()
    assert stored_hash == entries[2].hash  # never overwritten
    [alert] = alerts(engine, stall.device_id)
    assert alert["kind"] == "conflict" and alert["seq"] == 3
    assert json.loads(alert["stored_entry"]) == entries[2].to_dict()
    assert json.loads(alert["received_entry"]) == other.to_dict()
    assert alert["resolved_at"] is None


def test_repeated_conflict_raises_one_alert(client, engine, stall):
    entries = sale_chain(stall.device_id, 3)
    push(client, stall, entries)
    other = forged(entries[1], at="2026-01-01T00:00:00.000Z")
    for _ in range(3):
        assert push(client, stall, [other]).status_code == 409
    assert len(alerts(engine, stall.device_id)) == 1


def test_broken_chain_is_refused_after_the_good_prefix(client, engine, stall):
    entries = sale_chain(stall.device_id, 5)
    push(client, stall, entries[:2])
    broken = forged(entries[3], prev_hash="ab" * 32)
    response = push(client, stall, [entries[2], broken, entries[4]])
    assert response.status_code == 409
    body = response.get_json()
    assert body["error"]["code"] == "broken_chain" and body["error"]["seq"] == 4
    assert body["acked_seq"] == 3
    [alert] = alerts(engine, stall.device_id)
    assert alert["kind"] == "broken_chain"
    assert json.loads(alert["received_entry"])["prev_hash"] == "ab" * 32
    assert json.loads(alert["stored_entry"])["seq"] == 3  # the head it should have followed
    assert journal_count(engine) == 3


def test_bad_hash_is_refused_with_an_alert(client, engine, stall):
    entries = sale_chain(stall.device_id, 2)
    tampered = entries[1].to_dict()
    tampered["payload"]["total"] += 1000
    response = push(client, stall, [entries[0], tampered])
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "bad_hash"
    assert response.get_json()["acked_seq"] == 1
    [alert] = alerts(engine, stall.device_id)
    assert alert["kind"] == "bad_hash"
    assert json.loads(alert["received_entry"]) == tampered


def test_first_entry_must_link_to_genesis(client, engine, stall):
    entry = make_entry(stall.device_id, 1, "cd" * 32, "sale", {"number": 1})
    response = push(client, stall, [entry])
    assert response.get_json()["error"]["code"] == "broken_chain"
    assert alerts(engine, stall.device_id)[0]["stored_entry"] is None


def test_clock_flags_are_accepted_and_alerted(client, engine, stall):
    now = datetime.now(timezone.utc)
    chain = Chain(stall.device_id)
    chain.sale()
    chain.append("cash_move", {"type": "in", "amount": 1, "reason": "x",
                               "business_day": "2026-11-22", "made_by": "owner"},
                 at=utc_timestamp(now + timedelta(hours=2)))
    chain.append("cash_move", {"type": "in", "amount": 1, "reason": "y",
                               "business_day": "2026-11-22", "made_by": "owner"},
                 at=utc_timestamp(now - timedelta(days=3)))
    chain.sale()
    response = push(client, stall, chain.entries)
    assert response.status_code == 200 and response.get_json()["stored"] == 4
    found = alerts(engine, stall.device_id)
    assert [(a["kind"], a["seq"]) for a in found] == [("clock", 2), ("clock", 3)]
    assert json.loads(found[0]["received_entry"]) == chain.entries[1].to_dict()
    with read_transaction(engine) as conn:
        flags = dict(conn.execute(select(journal.c.seq, journal.c.clock_flag)).all())
    assert flags == {1: None, 2: "ahead", 3: "behind", 4: None}


def test_a_wrong_clock_raises_one_open_alert_not_one_per_entry(client, engine, stall):
    chain = Chain(stall.device_id, start=datetime.now(timezone.utc) + timedelta(days=30))
    chain.sales_run(5)
    push(client, stall, chain.entries[:3])
    push(client, stall, chain.entries[3:])
    [alert] = alerts(engine, stall.device_id)
    assert alert["seq"] == 1 and "2 later entries" in alert["message"]
    with read_transaction(engine) as conn:
        assert conn.execute(select(func.count()).select_from(journal).where(
            journal.c.clock_flag == "ahead")).scalar_one() == 5


def test_wrong_device_in_body_is_forbidden_and_stores_nothing(client, engine, stall):
    other = pair_stall(client, engine, "Sạp cá chú Tư")
    response = push(client, stall, sale_chain(other.device_id, 2), device_id=other.device_id)
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "wrong_device"
    assert journal_count(engine) == 0


def test_other_devices_entries_under_own_id_are_forbidden(client, engine, stall):
    other = pair_stall(client, engine, "Sạp cá chú Tư")
    mixed = sale_chain(stall.device_id, 1) + sale_chain(other.device_id, 2)[1:]
    response = push(client, stall, mixed)
    assert response.status_code == 403
    assert journal_count(engine) == 0


def test_more_than_1000_entries_is_too_large(client, stall):
    entry = sale_chain(stall.device_id, 1)[0].to_dict()
    response = push(client, stall, [entry] * 1001)
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "too_many_entries"


def test_body_over_4_mib_is_too_large(client, stall):
    body = b'{"device_id": "x", "entries": [], "pad": "' + b"x" * (4 * 1024 * 1024) + b'"}'
    response = client.post("/api/v1/journal", headers=stall.headers, data=body,
                           content_type="application/json")
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "too_large"
    assert "server_time" in response.get_json()


def test_malformed_json_is_a_clear_400(client, stall):
    response = client.post("/api/v1/journal", headers=stall.headers, data=b'{"entries": [',
                           content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "malformed_json"
    assert "not valid JSON" in response.get_json()["error"]["message"]


def test_floats_in_a_payload_are_refused(client, engine, stall):
    entry = sale_chain(stall.device_id, 1)[0].to_dict()
    entry["payload"]["total"] = 80000.0
    response = push(client, stall, [entry])
    assert response.status_code == 400
    assert "float" in response.get_json()["error"]["message"]
    assert journal_count(engine) == 0


def test_malformed_entries_are_refused(client, stall):
    good = sale_chain(stall.device_id, 1)[0].to_dict()
    cases = [
        {k: v for k, v in good.items() if k != "hash"},
        {**good, "extra": 1},
        {**good, "seq": 0},
        {**good, "seq": "1"},
        {**good, "at": "yesterday"},
        {**good, "hash": "XYZ"},
        {**good, "payload": {"name": "Cafe\u0301"}},  # not NFC: not canonical
        "not an object",
    ]
    for case in cases:
        response = push(client, stall, [case])
        assert response.status_code == 400, case
        assert response.get_json()["error"]["message"].startswith("entries[0]")
    response = push(client, stall, [{**good, "seq": 2**70}])  # refused as the body is parsed
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "bad_number"
    nan = json.dumps({"device_id": stall.device_id,
                      "entries": [{**good, "payload": {"x": float("nan")}}]})
    response = client.post("/api/v1/journal", headers=stall.headers, data=nan,
                           content_type="application/json")
    assert response.status_code == 400 and "NaN" in response.get_json()["error"]["message"]


def test_bodies_that_are_not_objects_or_lack_entries_are_refused(client, stall):
    for body in ([], {"device_id": stall.device_id}, {"device_id": 5, "entries": []},
                 {"device_id": stall.device_id, "entries": {}}):
        response = client.post("/api/v1/journal", headers=stall.headers, json=body)
        assert response.status_code == 400, body


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(body=st.one_of(
    st.binary(max_size=200),
    st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
                 lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
                     st.sampled_from(["device_id", "entries", "seq", "payload", "hash", "x"]),
                     inner, max_size=4), max_leaves=20).map(
        lambda value: json.dumps(value).encode())))
def test_no_body_makes_the_server_fail(client, stall, body):
    response = client.post("/api/v1/journal", headers=stall.headers, data=body,
                           content_type="application/json")
    assert response.status_code < 500
    assert "error" in response.get_json() or response.status_code == 200


def test_device_row_tracks_the_head_and_last_sync(client, engine, stall):
    entries = sale_chain(stall.device_id, 3)
    push(client, stall, entries)
    with read_transaction(engine) as conn:
        row = conn.execute(select(devices).where(devices.c.device_id == stall.device_id)
                           ).mappings().one()
    assert (row["acked_seq"], row["head_hash"]) == (3, entries[-1].hash)
    assert row["last_sync_at"] is not None


def test_device_time_header_records_the_clock_offset(client, engine, stall):
    device_time = datetime.now(timezone.utc) - timedelta(minutes=5)
    client.post("/api/v1/journal", json={"device_id": stall.device_id, "entries": []},
                headers={**stall.headers, "X-Device-Time": utc_timestamp(device_time)})
    with read_transaction(engine) as conn:
        offset = conn.execute(select(devices.c.clock_offset_ms)).scalar_one()
    assert 299_000 <= offset <= 310_000


def test_payload_is_stored_exactly_as_hashed(client, engine, stall):
    entries = sale_chain(stall.device_id, 2)
    push(client, stall, entries)
    with read_transaction(engine) as conn:
        stored = conn.execute(select(journal.c.payload).order_by(journal.c.seq)).scalars().all()
    assert stored == [canonical_json(e.payload).decode() for e in entries]


def test_push_of_500_entries_is_fast_enough(client, engine, stall):
    import time
    entries = wire(sale_chain(stall.device_id, 500))
    started = time.perf_counter()
    response = push(client, stall, entries)
    elapsed = time.perf_counter() - started
    assert response.status_code == 200 and response.get_json()["stored"] == 500
    assert elapsed < 5, f"500 entries took {elapsed:.2f}s"


def test_entries_dated_before_pairing_are_flagged_and_stored(client, engine, stall):
    chain = Chain(stall.device_id, start=datetime.now(timezone.utc) - timedelta(minutes=30))
    chain.sales_run(2)  # sold offline before the officer paired the stall
    response = push(client, stall, chain.entries)
    assert response.status_code == 200 and response.get_json()["stored"] == 2
    [alert] = alerts(engine, stall.device_id)
    assert alert["kind"] == "clock" and "before the device was paired" in alert["message"]
    with read_transaction(engine) as conn:
        assert set(dict(conn.execute(select(journal.c.seq, journal.c.clock_flag)).all())
                   .values()) == {"behind"}
