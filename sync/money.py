"""Money and quantities as integers: đồng, and thousandths of a unit. Never a float (DESIGN.md, 1)."""
from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l

from sync.numbers import MAX_AMOUNT, NumberRefused, bounded_decimal

from sync.errors import InvalidInput

MAX_PRICE = MAX_AMOUNT      # đồng; a sanity bound well above any stall's sale
MAX_QUANTITY_MILLI = 10**9  # one million units
_QUANTITY_TEXT = re.compile(r"^\d{1,7}(\.\d{1,3})?$", re.ASCII)
_INTEGER_TEXT = re.compile(r"^\d{1,13}$", re.ASCII)
_TOO_MANY_DECIMALS = re.compile(r"^\d{1,7}\.\d{4,}$", re.ASCII)


def _bounded(value: Decimal, message: object, field: str) -> Decimal:
    """`value` once its size is known to be small (an int of Decimal("1e999999") takes half a
    minute to build); InvalidInput with `message` otherwise."""
    try:
        return bounded_decimal(value)
    except NumberRefused:
        raise InvalidInput(message, field=field) from None


def parse_quantity(value: object, *, field: str = "quantity") -> int:
    """Turn "1.5", 2 or Decimal("0.75") into thousandths (1500, 2000, 750), exactly.

    Refuses zero, negatives, non-numbers and more than three decimals.
    """
    if isinstance(value, bool):
        raise InvalidInput(_l("Quantity must be a number, such as 1 or 0.75."), field=field)
    if isinstance(value, int):
        milli = value * 1000
    elif isinstance(value, (str, Decimal)):
        text = value.strip() if isinstance(value, str) else None
        if text is not None and not _QUANTITY_TEXT.match(text):
            if _TOO_MANY_DECIMALS.match(text):
                raise InvalidInput(_l("Quantity can have at most three decimals."), field=field)
            raise InvalidInput(_l("Quantity must be a number, such as 1 or 0.75."), field=field)
        try:
            exact = Decimal(text if text is not None else value)
        except InvalidOperation:
            raise InvalidInput(_l("Quantity must be a number, such as 1 or 0.75."), field=field)
        if not exact.is_finite():
            raise InvalidInput(_l("Quantity must be a number, such as 1 or 0.75."), field=field)
        if exact.adjusted() > 6:  # read off the exponent: nothing is expanded
            raise InvalidInput(_l("Quantity is too large."), field=field)
        scaled = _bounded(exact, _l("Quantity can have at most three decimals."), field) * 1000
        if scaled != scaled.to_integral_value():
            raise InvalidInput(_l("Quantity can have at most three decimals."), field=field)
        milli = int(scaled)
    else:
        raise InvalidInput(_l("Quantity must be a number, such as 1 or 0.75."), field=field)
    if milli <= 0:
        raise InvalidInput(_l("Quantity must be more than zero."), field=field)
    if milli > MAX_QUANTITY_MILLI:
        raise InvalidInput(_l("Quantity is too large."), field=field)
    return milli


def parse_amount(value: object, *, field: str = "amount", allow_zero: bool = True) -> int:
    """Accept a whole number of đồng (int, integral Decimal, or digits) between 0 and 10^12."""
    if isinstance(value, bool):
        raise InvalidInput(_l("Amounts are whole đồng, such as 15000."), field=field)
    if isinstance(value, str) and _INTEGER_TEXT.match(value.strip()):
        value = int(value.strip())
    elif isinstance(value, Decimal) and value.is_finite() and value == value.to_integral_value():
        value = int(_bounded(value, _l("The amount is too large."), field))
    if not isinstance(value, int):
        raise InvalidInput(_l("Amounts are whole đồng, such as 15000."), field=field)
    if value < 0:
        raise InvalidInput(_l("An amount cannot be negative."), field=field)
    if value == 0 and not allow_zero:
        raise InvalidInput(_l("The amount must be more than zero."), field=field)
    if value > MAX_PRICE:
        raise InvalidInput(_l("The amount is too large."), field=field)
    return value


def line_amount(quantity_milli: int, unit_price: int) -> int:
    """Amount of a line: round-half-up(quantity_milli × unit_price / 1000), in whole đồng."""
    return (quantity_milli * unit_price + 500) // 1000


def format_vnd(amount: int) -> str:
    """Format đồng the Vietnamese way in every language: 180000 → '180.000 ₫'."""
    sign = "-" if amount < 0 else ""
    return f"{sign}{abs(amount):,} ₫".replace(",", ".")


def format_number(amount: int) -> str:
    """Group thousands with dots and no currency sign: 180000 → '180.000'."""
    return format_vnd(amount)[:-2]


def format_quantity(quantity_milli: int, decimal_mark: str = ",") -> str:
    """Show thousandths as a quantity: 750 → '0,75', 2000 → '2' (Vietnamese decimal comma)."""
    whole, frac = divmod(quantity_milli, 1000)
    if not frac:
        return str(whole)
    return f"{whole}{decimal_mark}{frac:03d}".rstrip("0")


def quantity_text(quantity_milli: int) -> str:
    """The API's exact decimal string for a quantity: 750 → '0.75'."""
    return format_quantity(quantity_milli, ".")


def share_out(amount: int, weights: list[int]) -> list[int]:
    """Split `amount` over `weights` in proportion, in whole đồng, summing exactly to `amount`.

    A sale's discount is shared out over its lines this way wherever revenue is counted per line
    (the tax books by group, the dashboard by product): largest remainders first, ties to the
    earlier line, so that both ends get the same split from the same entry.
    """
    whole = sum(weights)
    if amount == 0 or whole == 0:
        return [0] * len(weights)
    shares = [amount * w // whole for w in weights]
    remainders = sorted(range(len(weights)), key=lambda i: (-(amount * weights[i] % whole), i))
    for i in remainders[:amount - sum(shares)]:
        shares[i] += 1
    return shares


def net_line_amounts(payload: dict) -> list[int]:
    """Each line's revenue once the sale's discount (if any) is shared out over the lines."""
    amounts = [line["amount"] for line in payload["lines"]]
    discount = (payload.get("discount") or {}).get("amount", 0)
    return [a - s for a, s in zip(amounts, share_out(discount, amounts))]
