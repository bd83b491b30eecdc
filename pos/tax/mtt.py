"""The MTT invoice code (Circular 78/2021 Art. 4, 8): `M<form>-<yy>-<range>-<11 digits>`.

The 5-character range is issued once by the tax authority; the year and the 11 digits are made
here, offline, at the moment of sale. The 11 digits are the device's block (2 digits, one per till
sharing the range, so two tills never collide) and a 9-digit number that counts 1, 2, 3 … per
(range, year, block). The number comes from the `mtt_counters` row, read and moved in the same
transaction as the sale's journal entry; a database trigger refuses any number that is not the
next one. A crash before the commit leaves neither the sale nor the number; after it, both.

The year is the year of issue: the calendar year of the invoice's date (NLap), not of the
business day, which after a Z on 31 December is already in the next year.
"""
from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from sync.errors import Conflict

CODE = re.compile(r"^M([1-6])-(\d{2})-([A-Z0-9]{5})-(\d{2})(\d{9})$")
# The invoice number (SHDon) is the count itself: one continuous series from 1 each year per
# symbol and form (Decree 123 Art. 10 cl. 3), so a till sharing the range with another needs its
# own symbol as well as its own block (docs/TAX.md). SHDon has at most 8 digits.
MAX_NUMBER = 99_999_999


@dataclass(frozen=True)
class MttCode:
    """The parts of an MTT code."""

    form: int
    year: int
    mtt_range: str
    block: int
    number: int

    def __str__(self) -> str:
        return format_code(self.form, self.year, self.mtt_range, self.block, self.number)

    @property
    def invoice_number(self) -> int:
        """The invoice number (SHDon): the count in this till's series, at most 8 digits."""
        return self.number


def format_code(form: int, year: int, mtt_range: str, block: int, number: int) -> str:
    """The 23-character code: M2-26-A1B2C-00000001234 (block 00, number 1234)."""
    if not (1 <= form <= 6 and 2000 <= year <= 2099 and 0 <= block <= 99
            and 1 <= number <= 999_999_999 and re.fullmatch(r"[A-Z0-9]{5}", mtt_range)):
        raise ValueError("not an MTT code's parts")
    return f"M{form}-{year % 100:02d}-{mtt_range}-{block:02d}{number:09d}"


def parse_code(code: str) -> MttCode:
    """Read a code back into its parts; ValueError if it is not one."""
    match = CODE.match(code)
    if match is None:
        raise ValueError(f"not an MTT code: {code!r}")
    form, yy, mtt_range, block, number = match.groups()
    return MttCode(int(form), 2000 + int(yy), mtt_range, int(block), int(number))


def next_code(conn: sqlite3.Connection, form: int, year: int, mtt_range: str,
              block: int) -> MttCode:
    """The next code of this till's block; the caller holds the write transaction in which the
    invoice's entry is appended (the trigger then moves the counter)."""
    if not conn.in_transaction:
        raise RuntimeError("next_code must run inside the sale's write transaction")
    row = conn.execute("SELECT last FROM mtt_counters WHERE mtt_range = ? AND year = ? AND"
                       " block = ?", (mtt_range, year, block)).fetchone()
    number = (row["last"] if row else 0) + 1
    if number > MAX_NUMBER:
        raise Conflict(_l("This till has used up its invoice numbers for the year: give it"
                          " another device block in the tax settings."), code="mtt_block_full")
    return MttCode(form, year, mtt_range, block, number)


def symbol_for_year(symbol: str, year: int) -> str:
    """The registered symbol with the issue year: C25MAB issued in 2026 is C26MAB."""
    return f"{symbol[0]}{year % 100:02d}{symbol[3:]}"
