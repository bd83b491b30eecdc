"""QR payment references: the short code a buyer's transfer carries, and finding it again.

A dynamic VietQR code puts `SAP12 0457` (the stall's code from the provincial server, a space, a
four-digit payment number) into the purpose of transaction (62-08). The buyer's bank passes it on
to the vendor's bank, whose notification text then contains it, often mangled: upper-cased,
spaces dropped or added, prefixed with the bank's own transfer codes ("MBVCB.1234.SAP12 0457.CT
tu ..."). The server uses `find_reference` to route a notification to a stall, and the stall uses
the same function to match it to a payment, so both ends agree on what a reference is.
"""
from __future__ import annotations

import re

PREFIX = "SAP"          # "sạp": a market stall
UNPAIRED_CODE = "SAP0"  # a stall not yet paired has no number from the server
NUMBER_DIGITS = 4
MAX_NUMBER = 10 ** NUMBER_DIGITS - 1
MAX_LENGTH = 16

_CODE_RE = re.compile(r"SAP(\d{1,9})")
# The stall number, optional separators, then exactly four digits not followed by another digit.
_FIND_RE = re.compile(r"(?<![A-Z0-9])SAP\s*[-.]?\s*(\d{1,9}?)\s*[-.]?\s*(\d{4})(?!\d)")


def stall_code(stall_id: int | None) -> str:
    """The code the server gives stall `stall_id` ("SAP12"); SAP0 before pairing."""
    return f"{PREFIX}{stall_id}" if stall_id else UNPAIRED_CODE


def stall_id_of(code: str) -> int | None:
    """The stall number inside a code such as "SAP12", or None for anything else."""
    match = _CODE_RE.fullmatch(code or "")
    return int(match.group(1)) if match and int(match.group(1)) > 0 else None


def format_reference(code: str, number: int) -> str:
    """`SAP12 0457`: the stall's code and the payment number, cycling through 1..9999."""
    if not _CODE_RE.fullmatch(code):
        raise ValueError(f"not a stall code: {code!r}")
    return f"{code} {(number - 1) % MAX_NUMBER + 1:0{NUMBER_DIGITS}d}"


def find_reference(text: str) -> str | None:
    """The first payment reference in a bank's description, normalised ("SAP12 0457"), or None.

    Where the bank dropped the space ("SAP120457") the last four digits are the payment number,
    since a payment number always has exactly four digits.
    """
    if not isinstance(text, str):
        return None
    match = _FIND_RE.search(text.upper())
    if match is None or not match.group(1):
        return None
    return f"{PREFIX}{int(match.group(1))} {match.group(2)}"


def stall_id_of_reference(reference: str) -> int | None:
    """The stall number a normalised reference belongs to."""
    return stall_id_of(reference.split(" ", 1)[0]) if reference else None
