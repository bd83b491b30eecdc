"""Money is integer đồng and quantities integer thousandths; no float anywhere."""
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync.errors import InvalidInput
from sync.money import (format_quantity, format_vnd, line_amount, parse_amount, parse_quantity,
                       quantity_text)


@pytest.mark.parametrize("value, milli", [
    ("1.5", 1500), ("0.75", 750), ("0.001", 1), ("2", 2000), (3, 3000), ("10.250", 10250),
    (Decimal("0.25"), 250), (" 1.5 ", 1500)])
def test_quantities_convert_exactly(value, milli):
    assert parse_quantity(value) == milli


@pytest.mark.parametrize("value", [
    "0", "0.000", "-1", -1, 0, "abc", "", None, True, 1.5, "1,5", "1e3", "0.0001", "1.2345",
    Decimal("NaN"), Decimal("Infinity"), Decimal("0.0005"), "99999999", [], {}])
def test_bad_quantities_are_refused(value):
    with pytest.raises(InvalidInput):
        parse_quantity(value)


def test_more_than_three_decimals_says_so():
    with pytest.raises(InvalidInput) as exc:
        parse_quantity("1.2345")
    assert "three decimals" in str(exc.value.message)


@pytest.mark.parametrize("value, amount", [(0, 0), (100, 100), ("15000", 15000),
                                           (Decimal("100"), 100), (10**12, 10**12)])
def test_amounts(value, amount):
    assert parse_amount(value) == amount


@pytest.mark.parametrize("value", [100.5, Decimal("100.5"), "100.5", -1, 10**12 + 1, True, None,
                                   "1.000", "abc", 19.99])
def test_bad_amounts_are_refused(value):
    with pytest.raises(InvalidInput):
        parse_amount(value)


def test_zero_amount_can_be_refused():
    with pytest.raises(InvalidInput):
        parse_amount(0, allow_zero=False)


@pytest.mark.parametrize("milli, price, amount", [
    (1500, 120000, 180000), (750, 33333, 25000), (1, 500, 1), (1, 499, 0), (333, 1500, 500),
    (1000, 0, 0), (250, 900000, 225000), (3, 500, 2)])
def test_line_amount_rounds_half_up(milli, price, amount):
    assert line_amount(milli, price) == amount


@given(st.integers(1, 10**9), st.integers(0, 10**12))
def test_line_amount_matches_decimal_half_up(milli, price):
    exact = (Decimal(milli) * Decimal(price) / 1000).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    assert line_amount(milli, price) == int(exact)


@given(st.integers(1, 10**9))
def test_quantity_text_round_trips(milli):
    assert parse_quantity(quantity_text(milli)) == milli


def test_formatting():
    assert format_vnd(180000) == "180.000 ₫"
    assert format_vnd(0) == "0 ₫"
    assert format_vnd(1234567890) == "1.234.567.890 ₫"
    assert format_vnd(-5000) == "-5.000 ₫"
    assert format_quantity(750) == "0,75"
    assert format_quantity(2000) == "2"
    assert format_quantity(1005, ".") == "1.005"
