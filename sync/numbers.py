"""Numbers from outside, bounded by their text before Python builds them (issue 15).

Python builds an int or a Decimal of any size, and slowly: `int(Decimal("1e999999"))` took half a
minute and `1e9999999` more than ten, while the stall answered nobody. So every number that comes
from outside (JSON bodies, forms, CSV cells) is refused here by its text first: more than
MAX_NUMBER_CHARS characters, anything but ASCII digits, NaN or Infinity, or a value past what
SQLite and PostgreSQL store (a signed 64-bit integer). Both ends use these, and no other parser.
"""
from __future__ import annotations

import json
import re
from decimal import Decimal, InvalidOperation
from typing import Any, Callable

MAX_NUMBER_CHARS = 24       # "-9223372036854775808" is 20; a legitimate number is far shorter
MAX_WHOLE = 2 ** 63 - 1     # what SQLite's INTEGER and PostgreSQL's BIGINT hold
MAX_DECIMALS = 12           # places after the point: quantities need three
# The business bound on one amount in đồng (a price, a sale, a payment), far above any stall's
# sale and far below MAX_WHOLE: millions of such amounts still add up inside a 64-bit total.
MAX_AMOUNT = 10**12
_WHOLE_TEXT = re.compile(r"-?[0-9]+")
_EXCERPT = 16


class NumberRefused(ValueError):
    """A number refused by its text (too long, too large, not ASCII digits) before it was built."""


def excerpt(text: str) -> str:
    """The start of a refused text, short enough to quote in an error message."""
    return text if len(text) <= _EXCERPT else text[:_EXCERPT] + "…"


def whole_number(text: str) -> int:
    """The int written in `text` (ASCII digits, an optional minus), or NumberRefused.

    Costs at most MAX_NUMBER_CHARS steps whatever the text: the length is checked first.
    """
    if len(text) > MAX_NUMBER_CHARS:
        raise NumberRefused(f"the number {excerpt(text)} is too long "
                            f"(at most {MAX_NUMBER_CHARS} characters)")
    if not _WHOLE_TEXT.fullmatch(text):
        raise NumberRefused(f"{excerpt(text)} is not a whole number")
    value = int(text)
    if not -MAX_WHOLE <= value <= MAX_WHOLE:
        raise NumberRefused(f"the number {excerpt(text)} is too large")
    return value


def whole_number_or_none(text: str) -> int | None:
    """`whole_number`, or None if refused: for a field whose own check then says what is wrong."""
    try:
        return whole_number(text)
    except NumberRefused:
        return None


def bounded_decimal(value: Decimal) -> Decimal:
    """`value` if finite, within ±MAX_WHOLE and with at most MAX_DECIMALS places; else refused.

    Checked on the exponent alone, so `Decimal("1e999999")` is refused without being expanded.
    """
    if not value.is_finite():
        raise NumberRefused(f"{value} is not a number")
    if value.adjusted() > 18 or (value.adjusted() == 18 and value.copy_abs() > MAX_WHOLE):
        raise NumberRefused(f"the number {excerpt(str(value))} is too large")
    if len(value.as_tuple().digits) > MAX_NUMBER_CHARS or value.as_tuple().exponent < -MAX_DECIMALS:
        raise NumberRefused(f"the number {excerpt(str(value))} has too many decimals")
    return value


def decimal_number(text: str) -> Decimal:
    """The Decimal written in `text` (as JSON writes numbers), bounded like `bounded_decimal`."""
    if len(text) > MAX_NUMBER_CHARS:
        raise NumberRefused(f"the number {excerpt(text)} is too long "
                            f"(at most {MAX_NUMBER_CHARS} characters)")
    if not text.isascii():
        raise NumberRefused(f"{excerpt(text)} is not a number")
    try:
        return bounded_decimal(Decimal(text))
    except InvalidOperation:
        raise NumberRefused(f"{excerpt(text)} is not a number") from None


def _json_whole_number(text: str) -> int:
    """`whole_number` for the JSON scanner, whose texts are already digits: up to 18 characters
    no check is needed (below 10^18), which keeps a 1,000-entry push quick to parse."""
    return int(text) if len(text) < 19 else whole_number(text)


def _refuse_constant(name: str) -> Any:
    raise NumberRefused(f"{name} is not a number")


def loads_json(raw: bytes | str, *, parse_float: Callable[[str], Any] = decimal_number) -> Any:
    """Parse JSON with each number bounded by its text before it is built (at C speed otherwise):
    whole numbers by `whole_number`, others by `parse_float`, NaN and Infinity refused."""
    return json.loads(raw, parse_int=_json_whole_number, parse_float=parse_float,
                      parse_constant=_refuse_constant)
