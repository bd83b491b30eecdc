"""Personal data that travels sealed: buyers' names and phones in the credit book (issue 18),
growers' names, ID numbers and addresses (issue 19).

Journal entries go up to the provincial server, which must never hold these in clear (Decree
13/2023, the Personal Data Protection Law from 1 January 2026). So the stall seals each such
field before it goes into a payload, with a key only the vendor holds (docs/SYNC.md, "Personal
data"):

    pd1:<base64url, no padding, of nonce (12 bytes) + AES-GCM ciphertext and tag>

AES-128-GCM from `cryptography`, a random nonce for every value (two seals of the same name
differ), and a fixed associated text, so a value sealed for something else does not open here.
The key is 16 random bytes kept in the stall's `settings` table (`personal_data_key`, base64),
which is never synced (only journal entries go up) and is in every backup. It is made on first
use (`ensure_key`, inside the caller's transaction), and shown to the owner once as a
**recovery code** (`recovery_code`: 26 characters of Crockford's base 32 and a check character,
sync/checkcode.py) to write down; `market-pos recover` asks for it to open the sealed values
of a stall rebuilt from the server's copy (pos/sync/recover.py). Without it the names are gone;
the figures are not.

Every refusal is a `SealedDataError` (409, code `sealed_data`) or, for a mistyped code,
`InvalidInput`: never a stack trace. Sizes are bounded before anything is decoded.
"""
from __future__ import annotations

import base64
import binascii
import hmac
import re
import secrets
import sqlite3

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask_babel import lazy_gettext as _l

from . import settings
from .db import write_transaction
from sync import checkcode
from sync.errors import Conflict, InvalidInput
from sync.protocol import utc_timestamp

SEALED_PREFIX = "pd1:"
KEY_SETTING = "personal_data_key"
CODE_SHOWN_SETTING = "personal_data_code_shown_at"
KEY_BYTES = 16
NONCE_BYTES = 12
TAG_BYTES = 16
_CONTEXT = b"market-pos personal data v1"
# The longest text sealed (a grower's address is the longest field, 200 characters of up to
# 3 bytes each in NFC) and so the longest sealed value: 1,428 bytes are 1,904 characters of
# base64, within the 2,000 the payload schemas allow.
MAX_TEXT_BYTES = 1400
MAX_SEALED_BODY = 2000
_MIN_SEALED_BODY = -(-(NONCE_BYTES + TAG_BYTES) * 4 // 3)   # 38: nonce and tag, no text
_BODY = re.compile(r"[A-Za-z0-9_-]*")
# The recovery code: 128 bits are 26 digits of base 32 (the first 0-7), then the check digit.
CODE_DATA_CHARS = 26
CODE_CHARS = CODE_DATA_CHARS + 1
CODE_GROUP = 4


class SealedDataError(Conflict):
    """No key to seal or open personal data with, or a value that is not a sealed value or does
    not open with this stall's key (another key, or changed)."""

    code = "sealed_data"


def _no_key() -> SealedDataError:
    return SealedDataError(_l("This stall has no key for its customers' personal data. Rebuild"
                              " it with the recovery code written down from Settings."))


def _unreadable() -> SealedDataError:
    return SealedDataError(_l("Some personal data cannot be read: it was sealed with another"
                              " stall's key, or it was changed."))


def stored_key(conn: sqlite3.Connection) -> bytes | None:
    """The stall's key, or None before the first use."""
    raw = settings.read(conn, KEY_SETTING)
    if not raw:
        return None
    try:
        key = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != KEY_BYTES:
        raise SealedDataError(_l("The stall's personal data key is damaged."))
    return key


def ensure_key(conn: sqlite3.Connection) -> None:
    """Make the stall's key if it has none: inside the caller's transaction when one is open
    (rolled back with it), else in a write transaction of its own."""
    if conn.in_transaction:
        _make_key(conn)
    else:
        with write_transaction(conn):
            _make_key(conn)


def _make_key(conn: sqlite3.Connection) -> None:
    fresh = base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode("ascii")
    conn.execute("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING",
                 (KEY_SETTING, fresh))


def install_key(conn: sqlite3.Connection, key: bytes, *, replace: bool = False) -> None:
    """Store `key` (from a recovery code) as the stall's key, inside the caller's transaction
    if one is open. A different key already there is kept, with SealedDataError, unless
    `replace`: values sealed with it would no longer open."""
    if not isinstance(key, bytes) or len(key) != KEY_BYTES:
        raise InvalidInput(_l("A personal data key is 16 bytes."))
    if conn.in_transaction:
        _install(conn, key, replace)
    else:
        with write_transaction(conn):
            _install(conn, key, replace)


def _install(conn: sqlite3.Connection, key: bytes, replace: bool) -> None:
    current = settings.read(conn, KEY_SETTING)
    if current is not None and hmac.compare_digest(current, base64.b64encode(key).decode()):
        return
    if current is not None and not replace:
        raise SealedDataError(_l("This stall already holds another personal data key."))
    settings.write(conn, KEY_SETTING, base64.b64encode(key).decode("ascii"))


def _aead(conn: sqlite3.Connection) -> AESGCM:
    key = stored_key(conn)
    if key is None:
        raise _no_key()
    return AESGCM(key)


def is_sealed(value: object) -> bool:
    """Whether `value` has the shape of a sealed value (the prefix, then base64url of at least a
    nonce and a tag, within the size bound). It says nothing of whether it opens."""
    if not isinstance(value, str) or not value.startswith(SEALED_PREFIX):
        return False
    body = value[len(SEALED_PREFIX):]
    return _MIN_SEALED_BODY <= len(body) <= MAX_SEALED_BODY and len(body) % 4 != 1 \
        and _BODY.fullmatch(body) is not None


def seal(conn: sqlite3.Connection, text: str) -> str:
    """`text` sealed with the stall's key (made now if it has none, in the caller's
    transaction): `pd1:` and base64url of a fresh nonce, the ciphertext and its tag."""
    if not isinstance(text, str):
        raise InvalidInput(_l("Only text can be sealed."))
    data = text.encode("utf-8")
    if len(data) > MAX_TEXT_BYTES:
        raise InvalidInput(_l("This personal data is too long to keep."))
    ensure_key(conn)
    nonce = secrets.token_bytes(NONCE_BYTES)
    sealed = nonce + _aead(conn).encrypt(nonce, data, _CONTEXT)
    return SEALED_PREFIX + base64.urlsafe_b64encode(sealed).rstrip(b"=").decode("ascii")


def unseal(conn: sqlite3.Connection, sealed: str) -> str:
    """The text of a sealed value; SealedDataError if the stall has no key, or the value is not
    a sealed value, or it does not open with the stall's key."""
    return open_with(_aead(conn) if is_sealed(sealed) else None, sealed)


def try_unseal(conn: sqlite3.Connection, sealed: str) -> str | None:
    """The text of a sealed value, or None when it does not open here: for a projection replayed
    by `market-pos recover --without-personal-data` (the vendor lost her code), which keeps the
    figures and shows a placeholder instead of the name."""
    try:
        return unseal(conn, sealed)
    except SealedDataError:
        return None


def open_with(aead: AESGCM | None, sealed: object) -> str:
    """Open `sealed` with a given cipher (recover tries a typed recovery code with it before
    the key is stored); None stands for no key."""
    if not is_sealed(sealed):
        raise _unreadable()
    if aead is None:
        raise _no_key()
    body = sealed[len(SEALED_PREFIX):]      # type: ignore[index]
    try:
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        return aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], _CONTEXT).decode("utf-8")
    except (binascii.Error, ValueError, InvalidTag):
        raise _unreadable() from None


def key_opens(key: bytes, sealed: object) -> bool:
    """Whether `key` opens the sealed value `sealed`."""
    try:
        open_with(AESGCM(key), sealed)
    except SealedDataError:
        return False
    return True


# --- the recovery code -------------------------------------------------------------------------

def code_of_key(key: bytes) -> str:
    """A key as the code the vendor writes down: 7KQ2-M9XD-4HRT-… (27 characters in groups of
    four, the last one the check character)."""
    values = checkcode.digits(int.from_bytes(key, "big"), CODE_DATA_CHARS)
    values.append(checkcode.check_value(values))
    text = checkcode.spell(values)
    return "-".join(text[i:i + CODE_GROUP] for i in range(0, len(text), CODE_GROUP))


def recovery_code(conn: sqlite3.Connection) -> str:
    """The stall's key as its recovery code; SealedDataError before the key exists."""
    key = stored_key(conn)
    if key is None:
        raise _no_key()
    return code_of_key(key)


def key_from_code(text: str) -> bytes:
    """The key a typed recovery code holds. Case, spaces and dashes do not matter; O reads as 0,
    I and L as 1. InvalidInput if it is not a recovery code, or if its check character says a
    character was mistyped."""
    shape = InvalidInput(_l("This is not a recovery code: it has 27 letters and digits, such as"
                            " 7KQ2-M9XD-4HRT-…"), field="recovery_code", code="bad_recovery_code")
    if not isinstance(text, str) or len(text) > 200:
        raise shape
    try:
        values = checkcode.typed_values(text, CODE_CHARS, CODE_CHARS)
    except checkcode.CheckCodeError:
        raise shape from None
    number = checkcode.number(values[:-1])
    if checkcode.check_value(values[:-1]) != values[-1] or number >> (8 * KEY_BYTES):
        raise InvalidInput(_l("The recovery code has a typo: check each character against the"
                              " paper."), field="recovery_code", code="recovery_code_typo")
    return number.to_bytes(KEY_BYTES, "big")


def code_shown_at(conn: sqlite3.Connection) -> str | None:
    """When the owner said she had written the code down (the journal's time format), or None."""
    return settings.read(conn, CODE_SHOWN_SETTING) or None


def code_shown(conn: sqlite3.Connection) -> bool:
    """Whether the owner has said she wrote the recovery code down (it is not shown again)."""
    return code_shown_at(conn) is not None


def mark_code_shown(conn: sqlite3.Connection) -> None:
    """Remember that the owner wrote the code down (the first time only), inside the caller's
    transaction if one is open."""
    if code_shown(conn):
        return
    if conn.in_transaction:
        settings.write(conn, CODE_SHOWN_SETTING, utc_timestamp())
    else:
        with write_transaction(conn):
            settings.write(conn, CODE_SHOWN_SETTING, utc_timestamp())


def code_pending(conn: sqlite3.Connection) -> bool:
    """A key exists and its code has not been written down yet: a page may remind the owner."""
    return settings.read(conn, KEY_SETTING) is not None and not code_shown(conn)
