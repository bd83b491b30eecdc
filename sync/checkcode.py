"""A receipt's check code: the short text printed under its QR, typed into the provincial
server's public receipt check (/check) by anyone whose phone cannot scan the QR.

    7KQ2-M9XD-4HRT      (12 to 14 characters while a stall has written fewer than 8 million
                         journal entries; three groups, case and dashes do not matter)

It is one number written in Crockford's base 32 (digits and capitals without I, L, O and U, so
that 0/O and 1/I/L cannot be confused; a typed O reads as 0, I and L as 1), followed by one
check character (Luhn mod 32: any single mistyped character and most swaps of two neighbours are
caught before the server is asked). The number holds, from the top:

- the entry's `seq` in the stall's journal (as many bits as it needs; the code grows by one
  character each time the stall's journal grows 32-fold),
- `TAG_BITS` of the device id (its first three hex digits): enough for the server to find the
  device through its primary key, not enough to name it (a province has thousands),
- `HASH_BITS` of the entry's hash (its first 30 bits): the proof. A code for a sale the stall
  did not write must guess them.

What it gives away: the seq, as the receipt's own sale number does. What it does not: who the
stall is, or any other receipt. Guessing another receipt of a stall whose code one holds means
guessing 30 bits of a hash (one chance in a billion a try); the server rations typed codes per
address and per device tag (sync/server/receipt_check.py) so that such a sweep takes centuries.
The QR keeps carrying the long, unguessable text (sale id and 64 bits of the hash).

Pure logic, shared by the stall (which prints it) and the server (which reads it). The alphabet,
the reading of typed text and the check character are public (`typed_values`, `digits`,
`number`, `check_value`, `spell`): the stall's recovery code of its personal data key
(pos/personal_data.py) is written the same way.
"""
from __future__ import annotations

from dataclasses import dataclass

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_VALUE = {ch: i for i, ch in enumerate(ALPHABET)}
_VALUE.update({"O": 0, "I": 1, "L": 1})
_IGNORED = str.maketrans("", "", " \t\r\n-–—_.·/")
TAG_BITS = 12
HASH_BITS = 30
MIN_DATA_CHARS = 11          # 55 bits: a seq below 8192 and the code is 12 characters
MAX_CHARS = 22               # any seq the journal can hold (< 2**63), with its check character
MAX_SEQ = 2 ** 63 - 1


class CheckCodeError(ValueError):
    """Text that is not a check code: `typo` when its check character disagrees (a character
    was mistyped), `shape` when it cannot be one at all."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class CheckCode:
    """What a check code says: the first hex digits of the device id, the entry's seq and the
    first bits of its hash."""

    device_prefix: str       # three lowercase hex digits
    seq: int
    hash_bits: int

    def matches(self, device_id: str, seq: int, entry_hash: str) -> bool:
        """Whether an entry is the one the code names (all three parts, compared every time)."""
        same = [device_id.lower().startswith(self.device_prefix), seq == self.seq,
                _hash_bits(entry_hash) == self.hash_bits]
        return all(same)


def _hash_bits(entry_hash: str) -> int:
    try:
        return int(entry_hash[:8], 16) >> (32 - HASH_BITS)
    except ValueError:
        return -1


def check_value(values: list[int]) -> int:
    """The Luhn mod 32 check value of `values` (digits most significant first): it catches any
    one mistyped character and most swaps of two neighbours."""
    total, factor = 0, 2
    for value in reversed(values):
        addend = factor * value
        total += addend // 32 + addend % 32
        factor = 3 - factor
    return (32 - total % 32) % 32


def digits(number: int, length: int) -> list[int]:
    """`number` (≥ 0) as base-32 digit values, most significant first, zero-padded to `length`
    (more digits if it needs them)."""
    out: list[int] = []
    while number:
        number, digit = divmod(number, 32)
        out.append(digit)
    return [0] * (length - len(out)) + out[::-1]


def number(values: list[int]) -> int:
    """The number that base-32 digit values (most significant first) write."""
    result = 0
    for value in values:
        result = result * 32 + value
    return result


def spell(values: list[int]) -> str:
    """Digit values as the characters of the alphabet."""
    return "".join(ALPHABET[v] for v in values)


def typed_values(text: str, min_chars: int, max_chars: int) -> list[int]:
    """The digit values of a typed code: case, spaces and dashes do not matter, nor a label
    before a colon; O reads as 0, I and L as 1. CheckCodeError("shape") unless it holds
    `min_chars` to `max_chars` characters of the alphabet."""
    text = text.rsplit(":", 1)[-1].translate(_IGNORED).upper()
    if not min_chars <= len(text) <= max_chars:
        raise CheckCodeError("shape")
    try:
        return [_VALUE[ch] for ch in text]
    except KeyError:
        raise CheckCodeError("shape") from None


def _groups(code: str) -> str:
    """Three groups as even as possible, the longer ones last: 4-4-4, 4-4-5, 4-5-5, 5-5-5 …"""
    size, extra = divmod(len(code), 3)
    sizes = [size + (1 if i >= 3 - extra else 0) for i in range(3)]
    parts, start = [], 0
    for n in sizes:
        parts.append(code[start:start + n])
        start += n
    return "-".join(parts)


def make(device_id: str, seq: int, entry_hash: str) -> str:
    """The check code of journal entry `seq` (hash `entry_hash`) of device `device_id`."""
    try:
        tag = int(device_id[:3], 16) if len(device_id) >= 3 else -1
    except ValueError:
        tag = -1
    bits = _hash_bits(entry_hash)
    if tag < 0 or bits < 0 or not 1 <= seq <= MAX_SEQ:
        raise ValueError("a check code needs a hex device id, a seq and a hex hash")
    values = digits((seq << (TAG_BITS + HASH_BITS)) | (tag << HASH_BITS) | bits, MIN_DATA_CHARS)
    values.append(check_value(values))
    return _groups(spell(values))


def parse(text: str) -> CheckCode:
    """Read a typed check code: case, spaces and dashes do not matter, nor a label before a
    colon ("Mã kiểm tra: …"); O reads as 0, I and L as 1. CheckCodeError if it is not one."""
    values = typed_values(text, MIN_DATA_CHARS + 1, MAX_CHARS)
    if check_value(values[:-1]) != values[-1]:
        raise CheckCodeError("typo")
    whole = number(values[:-1])
    seq = whole >> (TAG_BITS + HASH_BITS)
    if not 1 <= seq <= MAX_SEQ:
        raise CheckCodeError("shape")
    tag = (whole >> HASH_BITS) & ((1 << TAG_BITS) - 1)
    return CheckCode(f"{tag:03x}", seq, whole & ((1 << HASH_BITS) - 1))
