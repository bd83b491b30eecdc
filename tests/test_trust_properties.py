"""Property tests (hypothesis) beside the examples of test_money.py, test_protocol.py and
test_vietqr.py: parsing anything only ever gives an exact integer or a clear refusal, a sale's
total is exact, Vietnamese text hashes the same however it is composed, and any change to any
field of an entry changes its hash."""
from __future__ import annotations

import json
import unicodedata
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from pos import sales
from sync.errors import InvalidInput
from sync.money import (MAX_PRICE, MAX_QUANTITY_MILLI, format_number, format_vnd, line_amount,
                       parse_amount, parse_quantity)
from pos.text import clean_text
from sync.protocol import GENESIS_HASH, canonical_json, entry_hash, loads_without_floats

VIETNAMESE = "aăâbcdđeêghiklmnoôơpqrstuưvxyàảãáạằẳẵắặầẩẫấậèẻẽéẹềểễếệìỉĩíịòỏõóọồổỗốộờởỡớợ" \
             "ùủũúụừửữứựỳỷỹýỵAĂÂĐÊÔƠƯÀÁẠẢÃỆỞ "
vietnamese_text = st.text(alphabet=VIETNAMESE, min_size=1, max_size=40)
anything = st.none() | st.booleans() | st.integers() | st.floats() | st.text() | \
    st.decimals(allow_nan=True) | st.lists(st.integers(), max_size=2)
DEVICE = "5b8c1f9e-2a7d-4e3b-9c1d-0f6a2b3c4d5e"
ENTRY_ID = "0b3c1f9e-2a7d-4e3b-9c1d-0f6a2b3c4d5e"
AT = "2026-11-22T08:15:30.123Z"


@given(anything | st.from_regex(r"^\s*-?\d{0,9}([.,]\d{0,5})?\s*$", fullmatch=True))
def test_a_quantity_is_exact_thousandths_or_a_clear_refusal(value: Any) -> None:
    try:
        milli = parse_quantity(value)
    except InvalidInput as exc:
        assert str(exc.message)
        return
    assert type(milli) is int and 0 < milli <= MAX_QUANTITY_MILLI
    assert not isinstance(value, float), "a float must never be taken as a quantity"
    assert Decimal(str(value).strip()) * 1000 == milli


@given(anything | st.from_regex(r"^\s*-?\d{0,14}(\.\d{0,2})?\s*$", fullmatch=True))
def test_an_amount_is_whole_dong_or_a_clear_refusal(value: Any) -> None:
    try:
        amount = parse_amount(value)
    except InvalidInput as exc:
        assert str(exc.message)
        return
    assert type(amount) is int and 0 <= amount <= MAX_PRICE
    assert not isinstance(value, float)
    assert Decimal(str(value).strip()) == amount


@given(st.integers(0, MAX_PRICE))
def test_formatted_money_reads_back(amount: int) -> None:
    text = format_vnd(amount)
    assert text.endswith(" ₫") and int(format_number(amount).replace(".", "")) == amount
    groups = format_number(amount).split(".")
    assert all(len(g) == 3 for g in groups[1:]) and 1 <= len(groups[0]) <= 3


@settings(max_examples=60, deadline=None,  # prepare_sale only reads: one stall is enough
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.integers(1, 10**6), st.integers(0, 10**7)), min_size=1,
                max_size=12))
def test_a_sale_total_is_the_exact_sum_of_half_up_lines(conn: Any, lines: list[Any]) -> None:
    request = {"lines": [{"name": "Hàng", "unit_price": price,
                          "quantity": f"{milli // 1000}.{milli % 1000:03d}"}
                         for milli, price in lines]}
    expected = [(milli * price * 2 + 1000) // 2000 for milli, price in lines]  # half up, ints
    total = sum(expected)
    assume(total > 0)
    checked = sales.prepare_sale(conn, {**request, "payments": [
        {"method": "cash", "amount": total}]})
    assert [line["amount"] for line in checked["lines"]] == expected
    assert checked["total"] == total and type(total) is int
    assert all(line_amount(m, p) == e for (m, p), e in zip(lines, expected))


@given(st.recursive(vietnamese_text | st.integers(-(2**63 - 1), 2**63 - 1),  # the wire's range
                    lambda inner: st.lists(inner, max_size=3) |
                    st.dictionaries(vietnamese_text, inner, max_size=3), max_leaves=8))
def test_nfc_and_decomposed_text_hash_the_same(payload: Any) -> None:
    def decompose(value: Any) -> Any:
        if isinstance(value, str):
            return unicodedata.normalize("NFD", value)
        if isinstance(value, list):
            return [decompose(v) for v in value]
        if isinstance(value, dict):
            return {decompose(k): decompose(v) for k, v in value.items()}
        return value
    decomposed = decompose(payload)
    assert canonical_json(decomposed) == canonical_json(payload)
    assert entry_hash(GENESIS_HASH, DEVICE, 1, ENTRY_ID, "sale", AT, decomposed) == \
        entry_hash(GENESIS_HASH, DEVICE, 1, ENTRY_ID, "sale", AT, payload)
    # and what is hashed reads back as exactly the same value
    assert loads_without_floats(canonical_json(decomposed)) == json.loads(
        canonical_json(payload))


FIELDS = ("prev_hash", "device_id", "seq", "id", "kind", "at")


@given(st.sampled_from(FIELDS), st.data())
def test_any_change_to_any_field_changes_the_hash(field: str, data: Any) -> None:
    base = {"prev_hash": GENESIS_HASH, "device_id": DEVICE, "seq": 1, "id": ENTRY_ID,
            "kind": "sale", "at": AT}
    strategy = st.integers(1, 2**62) if field == "seq" else \
        st.text(alphabet="0123456789abcdef", min_size=64, max_size=64) if field == "prev_hash" \
        else st.text(min_size=1, max_size=40)
    other = data.draw(strategy)
    changed = {**base, field: other}
    assume(canonical_json(changed[field]) != canonical_json(base[field]))
    payload = data.draw(st.dictionaries(st.text(max_size=5), st.integers(), max_size=3))
    assert entry_hash(*changed.values(), payload) != entry_hash(*base.values(), payload)


@given(st.text(max_size=300) | st.builds(lambda a, b: f"{a}\ud800{b}", st.text(max_size=9),
                                          st.text(max_size=9)))
def test_clean_text_keeps_nothing_invisible(value: str) -> None:
    try:
        text = clean_text(value, field="name", label="Name", max_length=120)
    except InvalidInput:
        return
    assert text == " ".join(unicodedata.normalize("NFC", value).split())
    assert all(unicodedata.category(ch) not in ("Cc", "Cs") for ch in text)
    text.encode("utf-8")   # storable and hashable: no lone surrogate got through
