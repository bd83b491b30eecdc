"""The stall's tax settings: the receipt mode and the MTT e-invoice registration.

Kept as `tax.*` rows of the settings table (local to the stall, like the printer). The seller's
tax code is the stall's own `tax_code` setting, so there is one copy of it. `mode` is "receipt"
(a plain sales receipt, the default) or "mtt" (a legal e-invoice generated from the cash register,
Decree 70/2025); switching to "mtt" needs the whole registration.
"""
from __future__ import annotations

import re
import sqlite3
from dataclasses import asdict, dataclass
from typing import Any

from flask_babel import lazy_gettext as _l

from .. import limits
from .. import settings as stall_settings
from sync.errors import InvalidInput
from ..text import clean_text
from sync.numbers import whole_number_or_none
from . import rates

MODES = ("receipt", "mtt")
FORMS = (1, 2)                       # 1 VAT invoice, 2 sales invoice (households)
BOOKS = ("s1a", "s2a")               # S1a-HKD (≤ 500 million), S2a-HKD (tax on revenue)
_PREFIX = "tax."
SYMBOL = re.compile(r"^C\d{2}M[A-Z]{2}$")
MTT_RANGE = re.compile(r"^[A-Z0-9]{5}$")
LOCATION_CODE = re.compile(r"^[A-Za-z0-9\-.]{1,20}$")
DEADLINE = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
TAX_CODE = re.compile(r"^\d{10}(-\d{3})?$|^\d{12}$")
MAX_BLOCK = 99


@dataclass(frozen=True)
class TaxSettings:
    """Everything the invoice code, the XML and the warnings need, read once per use."""

    mode: str = "receipt"
    tax_code: str = ""
    invoice_form: int = 2
    symbol: str = ""
    mtt_range: str = ""
    location_code: str = ""
    device_block: int = 0
    send_deadline: str = "22:00"
    default_group: str = "goods"
    book: str = "s1a"

    @property
    def mtt(self) -> bool:
        return self.mode == "mtt"

    def to_api(self) -> dict[str, Any]:
        """The `tax` object of GET /api/settings."""
        return asdict(self)


_DEFAULTS = TaxSettings()
LABELS: dict[str, Any] = {
    "tax_code": _l("Tax code"), "symbol": _l("Invoice symbol"), "mtt_range": _l("MTT range"),
    "location_code": _l("Business-location code"), "send_deadline": _l("Sending deadline"),
    "mode": _l("Receipt mode"), "default_group": _l("Tax group"), "book": _l("Sales book")}
_STORED = ("mode", "invoice_form", "symbol", "mtt_range", "location_code", "device_block",
           "send_deadline", "default_group", "book")
FIELDS = ("tax_code", *_STORED)


def load(conn: sqlite3.Connection) -> TaxSettings:
    """The stall's tax settings (defaults for anything never set)."""
    found = stall_settings.read_all(conn)
    values: dict[str, Any] = {"tax_code": found["tax_code"]}
    stored = {key[len(_PREFIX):]: value for key, value in found.items() if key.startswith(_PREFIX)}
    for key in _STORED:
        if key in stored:
            default = getattr(_DEFAULTS, key)
            values[key] = int(stored[key]) if isinstance(default, int) else stored[key]
    return TaxSettings(**values)


def _whole(value: Any, field: str, low: int, high: int, message: Any) -> int:
    if isinstance(value, str):
        value = whole_number_or_none(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidInput(message, field=field)
    return value


def validate(changes: Any, current: TaxSettings) -> TaxSettings:
    """The settings after `changes` (a partial `tax` object), or InvalidInput before any write."""
    if not isinstance(changes, dict):
        raise InvalidInput(_l("tax must be an object."), field="tax")
    unknown = sorted(set(changes) - set(FIELDS))
    if unknown:
        raise InvalidInput(_l("Unknown setting: %(name)s", name=unknown[0]),
                           field=f"tax.{unknown[0]}")
    merged = asdict(current)
    for key in ("tax_code", "symbol", "mtt_range", "location_code", "send_deadline", "mode",
                "default_group", "book"):
        if key in changes:
            merged[key] = clean_text(changes[key], field=f"tax.{key}", label=LABELS[key],
                                     max_length=limits.LOCATION_CODE_CHARS, required=False)
    for key in ("symbol", "mtt_range"):
        merged[key] = merged[key].upper()
    if "invoice_form" in changes:
        merged["invoice_form"] = _whole(changes["invoice_form"], "tax.invoice_form", 1, 2,
                                        _l("The invoice form is 1 (VAT invoice) or 2 (sales"
                                           " invoice)."))
    if "device_block" in changes:
        merged["device_block"] = _whole(changes["device_block"], "tax.device_block", 0,
                                        MAX_BLOCK, _l("The device block is a number from 0 to"
                                                      " 99, different on each till."))
    if merged["mode"] not in MODES:
        raise InvalidInput(_l("The receipt mode is receipt or mtt."), field="tax.mode")
    if merged["book"] not in BOOKS:
        raise InvalidInput(_l("The sales book is s1a or s2a."), field="tax.book")
    if merged["default_group"] not in rates.group_codes():
        raise InvalidInput(_l("Unknown tax group: %(name)s", name=merged["default_group"]),
                           field="tax.default_group")
    if merged["tax_code"] and not TAX_CODE.match(merged["tax_code"]):
        raise InvalidInput(_l("A tax code has 10 digits (or 10-3 for a branch, or 12 for a"
                              " citizen ID)."), field="tax.tax_code")
    if merged["symbol"] and not SYMBOL.match(merged["symbol"]):
        raise InvalidInput(_l("The invoice symbol looks like C26MAB: C, two digits of the year,"
                              " M, two capital letters."), field="tax.symbol")
    if merged["mtt_range"] and not MTT_RANGE.match(merged["mtt_range"]):
        raise InvalidInput(_l("The MTT range is the 5 letters or digits the tax authority"
                              " issued."), field="tax.mtt_range")
    if merged["location_code"] and not LOCATION_CODE.match(merged["location_code"]):
        raise InvalidInput(_l("The business-location code has at most 20 letters or digits."),
                           field="tax.location_code")
    if not DEADLINE.match(merged["send_deadline"]):
        raise InvalidInput(_l("The sending deadline is a time such as 22:00."),
                           field="tax.send_deadline")
    if merged["mode"] == "mtt":
        for key, label in (("tax_code", _l("Tax code")), ("symbol", _l("Invoice symbol")),
                           ("mtt_range", _l("MTT range"))):
            if not merged[key]:
                raise InvalidInput(_l("E-invoices need the registration: %(label)s is"
                                      " missing.", label=label), field=f"tax.{key}",
                                   code="registration_incomplete")
    return TaxSettings(**merged)


def save(conn: sqlite3.Connection, new: TaxSettings) -> None:
    """Write the settings (inside the caller's transaction)."""
    stall_settings.write(conn, "tax_code", new.tax_code)
    for key in _STORED:
        stall_settings.write(conn, _PREFIX + key, str(getattr(new, key)))


def validate_with_stall(conn: sqlite3.Connection, stall_clean: dict[str, str],
                        tax_changes: Any) -> TaxSettings:
    """The tax settings after a PATCH /api/settings that may change the stall's `tax_code` and
    the `tax` object together (InvalidInput before anything is written)."""
    current = load(conn)
    if "tax_code" in stall_clean:
        current = TaxSettings(**{**asdict(current), "tax_code": stall_clean["tax_code"]})
    return validate({} if tax_changes is None else tax_changes, current)
