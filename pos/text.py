"""Text rules shared by every field a person types: normalisation, limits and diacritic folding."""
from __future__ import annotations

import unicodedata

from flask_babel import lazy_gettext as _l

from sync.errors import InvalidInput

# Zero-width and bidirectional controls make two names look alike or reorder what a receipt shows.
_INVISIBLE = {"\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u200e", "\u200f",
              "\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068",
              "\u2069"}


def fold(text: str) -> str:
    """Lower-case `text` and strip Vietnamese diacritics so that "che" finds "Chè" and "Đậu"."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.lower().split())


def clean_text(value: object, *, field: str, label: str, max_length: int,
               required: bool = True) -> str:
    """Return `value` as an NFC, trimmed, single-line string, or refuse it with a clear message."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidInput(_l("%(label)s must be text.", label=label), field=field)
    text = " ".join(unicodedata.normalize("NFC", value).split())
    # Cc: control characters; Cs: lone surrogates (valid in JSON "\ud800", not in UTF-8 text).
    if any(unicodedata.category(ch) in ("Cc", "Cs") or ch in _INVISIBLE for ch in text):
        raise InvalidInput(_l("%(label)s contains invisible or control characters.", label=label),
                           field=field)
    if required and not text:
        raise InvalidInput(_l("%(label)s is required.", label=label), field=field)
    if len(text) > max_length:
        raise InvalidInput(_l("%(label)s is too long (at most %(n)d characters).", label=label,
                              n=max_length), field=field)
    return text
