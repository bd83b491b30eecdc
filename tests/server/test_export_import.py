"""export_journal gives back exactly what was pushed; bundles are stored exactly like a push."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from sync.protocol import BUNDLE_FORMAT, canonical_json, check_link, entry_from_dict, \
    sign_bundle, utc_timestamp
from sync.server import store
from sync.server.db import journal, read_transaction, sales, utcnow, write_transaction
from sync.server.errors import BadBundle

from .chain import Chain, wire
from .conftest import pair_stall, push


def exported(engine, device_id=None):
    with read_transaction(engine) as conn:
        return list(store.export_journal(conn, device_id))


def count(engine, table=journal):
    with read_transaction(engine) as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def test_export_reverifies_and_equals_what_was_pushed_byte_for_byte(client, engine, stall):
    chain = Chain(stall.device_id)
    sale = chain.sale()
    chain.sale(qr_share=20_000)
    chain.void(sale, "Khách trả lại — “hàng hỏng”")
    chain.cash_move("in", 50_000, "Tiền lẻ")
    chain.day_close(expected=90_000, counted=90_000)
    other = pair_stall(client, engine, "Sạp cá")
    other_chain = Chain(other.device_id)
    other_chain.sales_run(3)
    push(client, stall, chain.entries)
    push(client, other, other_chain.entries)

    lines = exported(engine, stall.device_id)
    assert [canonical_json(line) for line in lines] == \
        [canonical_json(e.to_dict()) for e in chain.entries]
    previous = None
    for line in lines:
        entry = entry_from_dict(json.loads(canonical_json(line)))
        assert check_link(entry, previous) is None
        previous = entry
    assert len(exported(engine)) == 8


def bundle(device_id, signing_key, entries, created_at=None):
    created_at = created_at or utc_timestamp()
    items = wire(entries)
    return {"format": BUNDLE_FORMAT, "device_id": device_id, "created_at": created_at,
            "entries": items,
            "signature": sign_bundle(signing_key, device_id, created_at, items)}


def import_(engine, data):
    with write_transaction(engine) as conn:
        return store.import_bundle(conn, data, utcnow())


def test_good_bundle_is_stored_and_projected(engine, stall):
    chain = Chain(stall.device_id)
    chain.sales_run(4)
    result = import_(engine, bundle(stall.device_id, stall.signing_key, chain.entries))
    assert (result.acked_seq, result.stored, result.duplicates, result.refusal) == (4, 4, 0, None)
    assert count(engine) == 4 and count(engine, sales) == 4


def test_importing_twice_doubles_nothing(engine, stall):
    chain = Chain(stall.device_id)
    chain.sales_run(3)
    data = bundle(stall.device_id, stall.signing_key, chain.entries)
    import_(engine, data)
    again = import_(engine, data)
    assert (again.stored, again.duplicates) == (0, 3)
    assert count(engine) == 3 and count(engine, sales) == 3


def test_bundle_then_push_of_the_same_entries_doubles_nothing(client, engine, stall):
    chain = Chain(stall.device_id)
    chain.sales_run(3)
    import_(engine, bundle(stall.device_id, stall.signing_key, chain.entries[:2]))
    body = push(client, stall, chain.entries).get_json()
    assert (body["acked_seq"], body["stored"], body["duplicates"]) == (3, 1, 2)
    assert count(engine) == 3 and count(engine, sales) == 3


def test_tampered_signature_is_refused(engine, stall):
    chain = Chain(stall.device_id)
    chain.sales_run(2)
    data = bundle(stall.device_id, stall.signing_key, chain.entries)
    data["signature"] = "0" * 128
    with pytest.raises(BadBundle) as refused:
        import_(engine, data)
    assert refused.value.code == "bad_signature"
    assert count(engine) == 0


def test_tampered_entry_is_refused(engine, stall):
    chain = Chain(stall.device_id)
    chain.sales_run(2)
    data = bundle(stall.device_id, stall.signing_key, chain.entries)
    data["entries"][1]["payload"]["total"] += 1
    with pytest.raises(BadBundle):
        import_(engine, data)
    assert count(engine) == 0


def test_bundle_signed_with_another_key_or_a_revoked_one_is_refused(client, engine, stall):
    chain = Chain(stall.device_id)
    chain.sales_run(2)
    other = pair_stall(client, engine, "Sạp cá")
    with pytest.raises(BadBundle):
        import_(engine, bundle(stall.device_id, other.signing_key, chain.entries))
    with write_transaction(engine) as conn:
        store.revoke_device(conn, stall.device_id, utcnow())
    with pytest.raises(BadBundle):
        import_(engine, bundle(stall.device_id, stall.signing_key, chain.entries))
    assert count(engine) == 0


def test_malformed_bundles_are_refused(engine, stall):
    chain = Chain(stall.device_id)
    chain.sales_run(1)
    good = bundle(stall.device_id, stall.signing_key, chain.entries)
    for bad in ([], {**good, "format": "zip"}, {**good, "device_id": "x"},
                {**good, "created_at": "today"}, {**good, "entries": "none"},
                {k: v for k, v in good.items() if k != "signature"}):
        with pytest.raises(BadBundle):
            import_(engine, bad)


def test_bundle_with_a_refused_entry_keeps_the_good_prefix(engine, stall):
    chain = Chain(stall.device_id)
    chain.sales_run(3)
    items = wire(chain.entries)
    items[2]["prev_hash"] = "ab" * 32  # broken chain, correctly signed by the device itself
    created_at = utc_timestamp()
    data = {"format": BUNDLE_FORMAT, "device_id": stall.device_id, "created_at": created_at,
            "entries": items, "signature": sign_bundle(stall.signing_key, stall.device_id,
                                                       created_at, items)}
    result = import_(engine, data)
    assert result.acked_seq == 2 and result.refusal.code == "broken_chain"
