"""Amounts in Vietnamese words, for the invoice's mandatory `TgTTTBChu` ("bằng chữ").

397500 → "Ba trăm chín mươi bảy nghìn năm trăm đồng". Northern usage ("nghìn", "linh"), as the
tax authority's own examples write it; "tỷ" repeats for larger amounts ("một nghìn tỷ").
"""
from __future__ import annotations

DIGITS = ("không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín")
_SCALES = ("", "nghìn", "triệu")
BILLION = 10**9


def _triple(n: int, full: bool) -> list[str]:
    """Words for 0 < n < 1000; `full` when a higher group was read, so 5 reads "không trăm linh năm"."""
    hundreds, tens, units = n // 100, n // 10 % 10, n % 10
    words: list[str] = []
    if hundreds or full:
        words += [DIGITS[hundreds], "trăm"]
    if tens == 0:
        if units:
            if hundreds or full:
                words.append("linh")
            words.append(DIGITS[units])
    elif tens == 1:
        words.append("mười")
        if units:
            words.append("lăm" if units == 5 else DIGITS[units])
    else:
        words += [DIGITS[tens], "mươi"]
        if units:
            words.append({1: "mốt", 5: "lăm"}.get(units, DIGITS[units]))
    return words


def _below_billion(n: int, full: bool) -> list[str]:
    groups = [n // 1_000_000, n // 1000 % 1000, n % 1000]
    words: list[str] = []
    for group, scale in zip(groups, reversed(_SCALES)):
        if not group:
            continue
        words += _triple(group, full)
        if scale:
            words.append(scale)
        full = True
    return words


def _words(n: int, full: bool = False) -> list[str]:
    if n < BILLION:
        return _below_billion(n, full)
    high, low = divmod(n, BILLION)
    return _words(high, full) + ["tỷ"] + (_below_billion(low, True) if low else [])


def number_words(n: int) -> str:
    """A whole number in lower-case Vietnamese words: 21 → "hai mươi mốt"."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"a whole number of đồng ≥ 0 is needed, not {n!r}")
    return "không" if n == 0 else " ".join(_words(n))


def amount_in_words(amount: int) -> str:
    """An amount of đồng as the invoice writes it: capitalised, ending in "đồng"; a negative
    adjustment reads "Âm …"."""
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise ValueError(f"a whole number of đồng is needed, not {amount!r}")
    text = number_words(abs(amount)) + " đồng"
    if amount < 0:
        text = "âm " + text
    return text[0].upper() + text[1:]
