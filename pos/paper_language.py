"""The language of printed paper: receipts, invoices, reports and the standee.

Paper is printed in a language chosen at print time (the buyer's, or the one the vendor prints a
report in), not the interface's current one, so its words are looked up with an explicit
language instead of flask-babel's per-request locale. They live in the stall's catalogue
(pos/translations) under the message context "paper", apart from interface strings that read
the same in English: the msgids are the English words, as everywhere else.
"""
from __future__ import annotations

import gettext
from functools import lru_cache
from pathlib import Path

CATALOGUE = Path(__file__).resolve().parent / "translations"


@lru_cache(maxsize=None)
def paper_translations(lang: str) -> gettext.NullTranslations:
    """English (the msgids) for `en`; Vietnamese for anything else, as the stall's default."""
    if lang == "en":
        return gettext.NullTranslations()
    return gettext.translation("messages", localedir=CATALOGUE, languages=["vi"])


def decimal_mark(lang: str) -> str:
    """The decimal mark of quantities on paper: 1,5 kg in Vietnamese, 1.5 kg in English."""
    return "." if lang == "en" else ","
