"""Canonical JSON and the entry hash: the rules both the stall and the server rely on."""
import hashlib
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync.protocol import (GENESIS_HASH, Entry, ProtocolError, canonical_json, check_link,
                           entry_hash, is_uuid, new_entry_id, parse_timestamp,
                           utc_timestamp)

DEVICE = "5b8c1f9e-2a7d-4e3b-9c1d-0f6a2b3c4d5e"
ENTRY_ID = "0b3c1f9e-2a7d-4e3b-9c1d-0f6a2b3c4d5e"


def test_canonical_form_matches_the_design():
    value = {"b": 1, "a": ["Chè", {"z": None, "y": True}]}
    assert canonical_json(value) == '{"a":["Chè",{"y":true,"z":null}],"b":1}'.encode()


def test_the_hash_is_sha256_of_prev_hash_and_canonical_body():
    body = {"device_id": DEVICE, "seq": 1, "id": ENTRY_ID, "kind": "sale",
            "at": "2026-11-22T08:15:30.123Z", "payload": {"total": 180000}}
    expected = hashlib.sha256(GENESIS_HASH.encode() + canonical_json(body)).hexdigest()
    assert entry_hash(GENESIS_HASH, DEVICE, 1, ENTRY_ID, "sale", "2026-11-22T08:15:30.123Z",
                      {"total": 180000}) == expected


def test_nfc_and_decomposed_vietnamese_hash_the_same():
    composed = "Chè Shan tuyết Đặc sản"
    decomposed = unicodedata.normalize("NFD", composed)
    assert composed != decomposed
    args = (GENESIS_HASH, DEVICE, 1, ENTRY_ID, "product", "2026-11-22T08:15:30.123Z")
    assert entry_hash(*args, {"name": composed}) == entry_hash(*args, {"name": decomposed})


@pytest.mark.parametrize("bad", [1.5, {"x": 0.1}, [float("nan")], {1: "a"}, {"s": {1, 2}}])
def test_floats_and_odd_types_are_refused(bad):
    with pytest.raises(ProtocolError):
        canonical_json(bad)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children,
                                                                      max_size=4),
    max_leaves=12)


@given(json_values, json_values)
def test_any_change_to_the_payload_changes_the_hash(first, second):
    args = (GENESIS_HASH, DEVICE, 1, ENTRY_ID, "sale", "2026-11-22T08:15:30.123Z")
    if canonical_json(first) != canonical_json(second):
        assert entry_hash(*args, first) != entry_hash(*args, second)


@pytest.mark.parametrize("field, value", [("device_id", "other"), ("seq", 2), ("id", "x"),
                                          ("kind", "void"), ("at", "2026-11-22T08:15:30.124Z")])
def test_any_change_to_a_field_changes_the_hash(field, value):
    fields = {"device_id": DEVICE, "seq": 1, "id": ENTRY_ID, "kind": "sale",
              "at": "2026-11-22T08:15:30.123Z"}
    original = entry_hash(GENESIS_HASH, *fields.values(), {"total": 1})
    fields[field] = value
    assert entry_hash(GENESIS_HASH, *fields.values(), {"total": 1}) != original


def _entry(seq, prev_hash, payload):
    at = "2026-11-22T08:15:30.123Z"
    digest = entry_hash(prev_hash, DEVICE, seq, f"{seq:08d}-0000-4000-8000-000000000000", "sale",
                        at, payload)
    return Entry(DEVICE, seq, f"{seq:08d}-0000-4000-8000-000000000000", "sale", at, payload,
                 prev_hash, digest)


def test_check_link():
    first = _entry(1, GENESIS_HASH, {"n": 1})
    second = _entry(2, first.hash, {"n": 2})
    assert check_link(first, None) is None
    assert check_link(second, first) is None
    assert "gap" in check_link(_entry(3, first.hash, {}), first)
    assert "prev_hash" in check_link(_entry(2, GENESIS_HASH, {}), first)
    forged = Entry(**{**second.__dict__, "payload": {"n": 3}})
    assert "content" in check_link(forged, first)


def test_timestamps():
    at = utc_timestamp()
    assert len(at) == 24 and at.endswith("Z")
    assert utc_timestamp(parse_timestamp("2026-11-22T08:15:30.123Z")) == "2026-11-22T08:15:30.123Z"
    with pytest.raises(ProtocolError):
        parse_timestamp("2026-11-22 08:15:30")


def test_entry_from_dict_round_trips_and_refuses_bad_shapes():
    from sync.protocol import entry_from_dict
    entry = _entry(1, GENESIS_HASH, {"n": 1})
    entry = Entry(**{**entry.__dict__, "device_id": DEVICE.lower()})
    assert entry_from_dict(entry.to_dict()) == entry
    for change in ({"seq": 0}, {"seq": True}, {"seq": "1"}, {"id": "x"}, {"kind": "Sale!"},
                   {"at": "yesterday"}, {"hash": "F" * 64}, {"payload": {"x": 1.5}}):
        with pytest.raises(ProtocolError):
            entry_from_dict({**entry.to_dict(), **change})
    with pytest.raises(ProtocolError):
        entry_from_dict({**entry.to_dict(), "extra": 1})
    with pytest.raises(ProtocolError):
        entry_from_dict([1])


def test_bundle_signature_covers_every_part():
    from sync.protocol import bundle_signed_by, new_signing_key, public_key_of, sign_bundle
    key, at = new_signing_key(), "2026-11-22T08:15:30.123Z"
    public = public_key_of(key)
    signature = sign_bundle(key, DEVICE, at, [{"seq": 1}])
    assert len(signature) == 128 and bundle_signed_by(public, signature, DEVICE, at, [{"seq": 1}])
    assert not bundle_signed_by(public, signature, DEVICE, at, [{"seq": 2}])
    assert not bundle_signed_by(public, signature, DEVICE, "2026-11-22T08:15:30.124Z",
                                [{"seq": 1}])
    assert not bundle_signed_by(public_key_of(new_signing_key()), signature, DEVICE, at,
                                [{"seq": 1}])
    assert not bundle_signed_by(public, "zz", DEVICE, at, [{"seq": 1}])


def test_entry_ids_are_time_ordered_uuids():
    # Version 7 (RFC 9562): lowercase, valid for is_uuid, and later ids sort after earlier ones,
    # so that the id indexes of both ends grow at their end (benchmarks/stall/findings.md).
    import time
    import uuid
    first = [new_entry_id() for _ in range(50)]
    time.sleep(0.003)
    later = new_entry_id()
    assert len(set(first)) == 50
    for entry_id in first + [later]:
        assert is_uuid(entry_id)
        parsed = uuid.UUID(entry_id)
        assert parsed.version == 7 and parsed.variant == uuid.RFC_4122
        assert abs(int(entry_id[:8] + entry_id[9:13], 16) - time.time() * 1000) < 60_000
    assert max(first) < later
