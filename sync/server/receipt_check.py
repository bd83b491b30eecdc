"""The public receipt check: does the sale a receipt describes exist in the journal?

A receipt's QR carries `MP1;<sale id>;<device id>;<seq>;<first 16 hex of the entry hash>;<total>`
(pos/receipts.py `check_code`), as `<server>/check?c=<that text>`; under the QR it prints a short
check code to type instead, such as `7KQ2-M9XD-4HRT` (sync/checkcode.py: the seq, three hex
digits of the device id and 30 bits of the entry hash). Both are taken here, the short one in any
case, with or without spaces and dashes. Anyone may ask, with no login; the answer names only
the stall and its market, the business day and the total (for the asker to compare with the
paper), and says whether the sale was voided. Anything else, a sale not synced yet as much as a
forged receipt, gets one and the same answer; a short code with a mistyped character is told so
by its check character, before any look-up.

Asking is rate-limited per address, like pairing, so the page cannot be used to sweep journals;
typed short codes are also rationed per device tag (CHECK_CODE_TAG_LIMIT per
CHECK_CODE_TAG_WINDOW seconds, whoever asks), since their 30 bits of hash are all that stands
between a holder of one receipt and the stall's others: a botnet guessing them gets 60 tries an
hour, about 20,000 years per receipt. A flood of them only makes that stall's buyers scan the
QR, which is not rationed this way.
"""
from __future__ import annotations

import hmac
import re
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from flask import Blueprint, current_app, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.engine import Connection

from sync import checkcode
from sync.protocol import is_uuid

from .db import get_engine
from .db import devices, journal, markets, read_transaction, sales, stalls
from .errors import RateLimited
from .ratelimit import RateLimiter

bp = Blueprint("receipt_check", __name__)
MAX_CODE = 300
CHECK_CODE_TAG_LIMIT = 60          # typed short codes per device tag …
CHECK_CODE_TAG_WINDOW = 3600       # … in this many seconds, from every address together
_HEX16 = re.compile(r"[0-9a-f]{16}")
_NUMBER = re.compile(r"[0-9]{1,18}")


class BadCode(ValueError):
    """Text that is not a receipt's verification code; the message says what is wrong."""

    def __init__(self, message: Any):
        super().__init__(str(message))
        self.message = message


@dataclass(frozen=True)
class ReceiptCode:
    """The fields of a receipt's verification text."""

    sale_id: str
    device_id: str
    seq: int
    hash_prefix: str
    total: int


def parse_code(text: str) -> ReceiptCode | checkcode.CheckCode:
    """Read the verification text, also when pasted as the whole QR address or still
    URL-encoded (`MP1%3B…`), or the short check code printed under the QR."""
    text = (text or "").strip()
    if len(text) > MAX_CODE:
        raise BadCode(_l("This is too long to be a receipt code."))
    if "?" in text and "c=" in text:  # the whole address from the QR
        values = parse_qs(urlsplit(text).query).get("c")
        text = values[0].strip() if values else ""
    if "%3b" in text.lower():
        text = unquote(text)
    if ";" not in text:
        try:
            return checkcode.parse(text)
        except checkcode.CheckCodeError as exc:
            if exc.reason == "typo":
                raise BadCode(_l("This check code has a typing mistake: compare each character"
                                 " with the receipt and type it again (0 and O, 1 and I are the"
                                 " same).")) from None
            raise BadCode(_l("This is not a receipt's check code: type the 12 to 15 letters and"
                             " digits printed under the receipt's QR, such as 7KQ2-M9XD-4HRT,"
                             " or scan the QR.")) from None
    parts = text.split(";")
    if len(parts) != 6 or parts[0] != "MP1":
        raise BadCode(_l("This is not a receipt code: it starts with MP1; and has six parts "
                         "separated by semicolons."))
    _, sale_id, device_id, seq, prefix, total = parts
    if not (is_uuid(sale_id) and is_uuid(device_id) and _NUMBER.fullmatch(seq)
            and _HEX16.fullmatch(prefix) and _NUMBER.fullmatch(total)):
        raise BadCode(_l("This receipt code is damaged: a part of it is not what a receipt "
                         "prints. Type it again or scan the QR."))
    return ReceiptCode(sale_id, device_id, int(seq), prefix, int(total))


# Compared against when the receipt's seq is not stored, so that a missing entry and a stored
# one that does not match take the same work and give the same answer (see `check`).
_NO_ENTRY = SimpleNamespace(id="", kind="", hash="", total=None, business_day=None,
                            voided_seq=None, name=None, market=None)


def _matches(row: Any, code: ReceiptCode) -> bool:
    """Every field of the receipt agrees with the entry, all of them compared every time."""
    same = [row.kind == "sale", hmac.compare_digest(row.id, code.sale_id),
            row.total == code.total, hmac.compare_digest(row.hash[:16], code.hash_prefix)]
    return all(same)


def check(conn: Connection, code: ReceiptCode) -> dict[str, Any]:
    """What the server knows of this receipt: `registered` or `voided` (with the stall's name
    and market), else `not_registered`. A seq the server holds under another sale and a seq it
    does not hold get the one answer, or about 20 checks with the device id of any receipt
    would tell anyone how many entries the stall has."""
    row = conn.execute(
        select(journal.c.id, journal.c.kind, journal.c.hash, sales.c.total,
               sales.c.business_day, sales.c.voided_seq, stalls.c.name,
               markets.c.name.label("market"))
        .select_from(journal.join(devices, devices.c.device_id == journal.c.device_id)
                     .join(stalls, stalls.c.id == devices.c.stall_id)
                     .join(markets, markets.c.id == stalls.c.market_id)
                     .outerjoin(sales, (sales.c.device_id == journal.c.device_id)
                                & (sales.c.seq == journal.c.seq)))
        .where(journal.c.device_id == code.device_id, journal.c.seq == code.seq)).first()
    if not _matches(row or _NO_ENTRY, code):
        return {"state": "not_registered"}
    return {"state": "voided" if row.voided_seq is not None else "registered",
            "stall": row.name, "market": row.market, "business_day": row.business_day,
            "total": row.total}


def check_typed(conn: Connection, code: checkcode.CheckCode) -> dict[str, Any]:
    """What the server knows of the sale a short check code names, with the answers of `check`.

    The device is found through its primary key by the three hex digits the code carries (a
    province has a few devices under each), the entry by its seq; every candidate is compared
    whole, so that no device, a seq not held and a hash that differs all take the same work
    and get the one answer."""
    low = code.device_prefix
    rows = conn.execute(
        select(journal.c.device_id, journal.c.seq, journal.c.kind, journal.c.hash,
               sales.c.total, sales.c.business_day, sales.c.voided_seq, stalls.c.name,
               markets.c.name.label("market"))
        .select_from(journal.join(devices, devices.c.device_id == journal.c.device_id)
                     .join(stalls, stalls.c.id == devices.c.stall_id)
                     .join(markets, markets.c.id == stalls.c.market_id)
                     .outerjoin(sales, (sales.c.device_id == journal.c.device_id)
                                & (sales.c.seq == journal.c.seq)))
        .where(devices.c.device_id >= low, devices.c.device_id < low + "g",
               journal.c.seq == code.seq)
        .limit(16)).all()
    found = [row for row in rows
             if all([row.kind == "sale", row.total is not None,
                     code.matches(row.device_id, row.seq, row.hash)])]
    if len(found) != 1:   # none, or (one chance in 2**30 per device pair) two alike
        return {"state": "not_registered"}
    row = found[0]
    return {"state": "voided" if row.voided_seq is not None else "registered",
            "stall": row.name, "market": row.market, "business_day": row.business_day,
            "total": row.total}


def _tag_limiter() -> RateLimiter:
    """Typed short codes counted per device tag (the module docstring says why)."""
    extensions = current_app.extensions["market_server"]
    limiter = extensions.get("check_code_limiter")
    if limiter is None:
        limiter = extensions.setdefault("check_code_limiter", RateLimiter(
            current_app.config.get("CHECK_CODE_TAG_LIMIT", CHECK_CODE_TAG_LIMIT),
            current_app.config.get("CHECK_CODE_TAG_WINDOW", CHECK_CODE_TAG_WINDOW)))
    return limiter


@bp.get("/check")
def receipt_check() -> Any:
    """Check a receipt's code (from its QR, or typed or pasted into the form)."""
    text = request.args.get("c", "")
    if not text.strip():
        return render_template("server/check.html", text="", result=None, error=None)
    limiter = current_app.extensions["market_server"]["check_limiter"]
    wait = limiter.hit(request.remote_addr or "unknown")
    if wait is not None:
        raise RateLimited(_("Too many receipt checks from this address; wait a minute and "
                            "try again."), retry_after=wait)
    try:
        code = parse_code(text)
    except BadCode as exc:
        return render_template("server/check.html", text=text[:MAX_CODE], result=None,
                               error=str(exc.message)), 400
    if isinstance(code, checkcode.CheckCode):
        wait = _tag_limiter().hit(code.device_prefix)
        if wait is not None:
            raise RateLimited(_("Too many check codes like this one were typed in the last "
                                "hour. Scan the QR printed on the receipt instead, or try again "
                                "later."), retry_after=wait)
    with read_transaction(get_engine()) as conn:
        result = (check_typed(conn, code) if isinstance(code, checkcode.CheckCode)
                  else check(conn, code))
    return render_template("server/check.html", text=text[:MAX_CODE], result=result,
                           code=code, error=None)
