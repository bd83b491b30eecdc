"""Who may do what at the stall: hashed PINs with a lock-out, and hashed API bearer tokens."""
from __future__ import annotations

import hashlib
import math
import re
import secrets
import sqlite3
import time
from typing import Any

from flask_babel import lazy_gettext as _l
from werkzeug.security import check_password_hash, generate_password_hash

from .db import write_transaction
from sync.errors import Conflict, InvalidInput, NotAuthenticated, NotFound, TooManyAttempts
from sync.lockout import Policy, Streak
from sync.protocol import utc_timestamp

ROLES = ("owner", "helper")
# Five wrong PINs lock the pad for 1, then 5, 15 and 60 minutes: a 4-digit PIN then takes weeks
# to guess, a 6-digit one years, and a vendor who mistypes loses only a minute.
PIN_GUARD = Policy(max_failures=5, lock_seconds=(60, 5 * 60, 15 * 60, 60 * 60))
_PIN = re.compile(r"^\d{4,8}$")


def check_pin_format(pin: object) -> str:
    """A PIN is 4 to 8 digits."""
    if not isinstance(pin, str) or not _PIN.match(pin):
        raise InvalidInput(_l("A PIN is 4 to 8 digits."), field="pin")
    return pin


def set_pin(conn: sqlite3.Connection, role: str, pin: str) -> None:
    """Store a role's PIN, hashed; the owner's and the helper's PINs must differ."""
    if role not in ROLES:
        raise InvalidInput(_l("Unknown role."), field="role")
    check_pin_format(pin)
    other = conn.execute("SELECT pin_hash FROM pins WHERE role != ?", (role,)).fetchone()
    if other and check_password_hash(other["pin_hash"], pin):
        raise InvalidInput(_l("The owner and the helper need different PINs."), field="pin")
    with write_transaction(conn):
        conn.execute("INSERT INTO pins (role, pin_hash) VALUES (?, ?) ON CONFLICT (role)"
                     " DO UPDATE SET pin_hash = excluded.pin_hash",
                     (role, generate_password_hash(pin)))


def has_owner(conn: sqlite3.Connection) -> bool:
    """Whether the stall has been set up with an owner PIN."""
    return conn.execute("SELECT 1 FROM pins WHERE role = 'owner'").fetchone() is not None


def seconds_locked(conn: sqlite3.Connection, now: float | None = None) -> int:
    """How many seconds the PIN pad stays locked after too many wrong tries (0 if open)."""
    now = time.time() if now is None else now
    return PIN_GUARD.seconds_locked(_read_streak(conn), now)


def unlock(conn: sqlite3.Connection, pin: object, *, only_role: str | None = None,
           now: float | None = None) -> str:
    """Return the role whose PIN this is; count wrong PINs with lock-outs that grow.

    Every wrong PIN counts against the one guard of the stall, whoever types it. The lock-out
    state is read, the PIN checked and the count written in one IMMEDIATE transaction, so
    parallel guesses queue and at most five are checked before the pad locks. Only time (a day
    without a wrong PIN) or the owner's correct PIN forgives a streak: the helper's correct PIN
    leaves it as it is, or a helper could guess at the owner's PIN forever by unlocking herself
    after every four guesses. The count lives in the database, so restarting does not reset it.
    """
    now = time.time() if now is None else now
    with write_transaction(conn):
        streak = PIN_GUARD.current(_read_streak(conn), now)
        wait = PIN_GUARD.seconds_locked(streak, now)
        if wait:
            raise TooManyAttempts(_locked_message(wait))
        role = _role_of(conn, pin, (only_role,) if only_role else ROLES)
        if role == "owner":
            streak = Streak()
        elif role is None:
            streak = PIN_GUARD.fail(streak, now)
        _write_streak(conn, streak)
    if role is not None:
        return role
    wait = PIN_GUARD.seconds_locked(streak, now)
    if wait:
        raise TooManyAttempts(_locked_message(wait))
    raise NotAuthenticated(_l("Wrong PIN. %(n)d tries left.", n=PIN_GUARD.tries_left(streak)),
                           code="wrong_pin")


def _role_of(conn: sqlite3.Connection, pin: object, roles: tuple[str, ...]) -> str | None:
    """The role among `roles` whose stored PIN this is, if any."""
    if not isinstance(pin, str) or not _PIN.match(pin):
        return None
    for row in conn.execute("SELECT role, pin_hash FROM pins").fetchall():
        if row["role"] in roles and check_password_hash(row["pin_hash"], pin):
            return row["role"]
    return None


def _locked_message(wait: int) -> Any:
    if wait <= 120:
        return _l("Too many wrong PINs. Try again in %(s)d seconds.", s=wait)
    return _l("Too many wrong PINs. Try again in %(m)d minutes.", m=math.ceil(wait / 60))


def _read_streak(conn: sqlite3.Connection) -> Streak:
    row = conn.execute("SELECT failures, lockouts, locked_until, last_failure_at FROM pin_guard"
                       " WHERE id = 1").fetchone()
    return Streak(row["failures"], row["lockouts"], row["locked_until"], row["last_failure_at"])


def _write_streak(conn: sqlite3.Connection, streak: Streak) -> None:
    conn.execute("UPDATE pin_guard SET failures = ?, lockouts = ?, locked_until = ?,"
                 " last_failure_at = ? WHERE id = 1",
                 (streak.failures, streak.lockouts, streak.locked_until, streak.last_failure))


def clear_pin_guard(conn: sqlite3.Connection) -> bool:
    """Forget the PIN pad's streak of wrong PINs (the owner, at the machine's command line: a
    helper who keeps typing wrong PINs must not keep her locked out). True if it was locked."""
    with write_transaction(conn):
        locked = _read_streak(conn).locked_until > time.time()
        _write_streak(conn, Streak())
    return locked


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


TOKEN_LABEL_MAX = 80


def _check_label(label: object) -> str:
    """A token's label names where it is used; one printable line, so that `token --list`
    stays one token a line."""
    text = label.strip() if isinstance(label, str) else ""
    if not text or len(text) > TOKEN_LABEL_MAX or not text.isprintable():
        raise InvalidInput(_l("A token's label is 1 to %(n)d characters on one line.",
                              n=TOKEN_LABEL_MAX), field="label")
    return text


def issue_token(conn: sqlite3.Connection, label: str = "api") -> str:
    """Create an API bearer token; only its SHA-256 is stored."""
    label = _check_label(label)
    token = "mp_" + secrets.token_urlsafe(32)
    with write_transaction(conn):
        conn.execute("INSERT INTO api_tokens (token_hash, label, created_at) VALUES (?, ?, ?)",
                     (_token_digest(token), label, utc_timestamp()))
    return token


def list_tokens(conn: sqlite3.Connection) -> list[dict[str, object]]:
    """The tokens that still work, oldest first: id, label and creation time (never the token)."""
    rows = conn.execute("SELECT id, label, created_at FROM api_tokens WHERE revoked_at IS NULL"
                        " ORDER BY id").fetchall()
    return [{"id": row["id"], "label": row["label"], "created_at": row["created_at"]}
            for row in rows]


def revoke_token(conn: sqlite3.Connection, token_id: object) -> None:
    """Revoke a token by its id: from the next request on it gets 401 (it is looked up each
    time, never cached). An unknown or already revoked id is refused, so a typo is noticed."""
    number = _token_id(token_id)
    with write_transaction(conn):
        revoked = conn.execute("UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at"
                               " IS NULL", (utc_timestamp(), number)).rowcount
        if not revoked:
            known = conn.execute("SELECT 1 FROM api_tokens WHERE id = ?", (number,)).fetchone()
            if known:
                raise Conflict(_l("Token %(id)d is already revoked.", id=number),
                               code="already_revoked")
            raise NotFound(_l("There is no token %(id)s.", id=number), code="no_such_token")


def _token_id(raw: object) -> int:
    """A token id as typed in a form or on the command line; anything else names no token."""
    text = str(raw).strip() if isinstance(raw, (str, int)) and not isinstance(raw, bool) else ""
    if not (text.isascii() and text.isdigit() and len(text) <= 18):
        raise NotFound(_l("There is no token %(id)s.", id=text[:40] or "?"),
                       code="no_such_token")
    return int(text)


def token_is_valid(conn: sqlite3.Connection, token: str) -> bool:
    """Whether a bearer token was issued here and not revoked."""
    digest = _token_digest(token)
    row = conn.execute("SELECT token_hash FROM api_tokens WHERE token_hash = ? AND revoked_at IS"
                       " NULL", (digest,)).fetchone()
    return row is not None   # the look-up matched the digest itself
