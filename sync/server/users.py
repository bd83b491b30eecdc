"""People who use the provincial server: password login with lock-out, roles and scopes.

Roles: `admin` (everything) and `viewer`, scoped to a province or to one commune/ward. Passwords
are hashed with scrypt (werkzeug). Five wrong passwords lock a user name for 15 minutes, the
next lock-outs of the streak for an hour, then four hours (sync/lockout.py), whether the name
exists or not. A user's `session_key` travels in the session cookie and changes at log-out and at
a password change, which ends every session of that user.
"""
from __future__ import annotations

import hmac
import math
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import cache
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.engine import Connection
from flask_babel import lazy_gettext as _l
from werkzeug.security import check_password_hash, generate_password_hash

from sync.lockout import Policy, Streak

from .db import insert_ignoring_duplicates, login_guard, users, utcnow
from .places import ensure_scope

ROLES = ("admin", "viewer")
LOGIN_GUARD = Policy(max_failures=5, lock_seconds=(15 * 60, 60 * 60, 4 * 60 * 60))
MIN_PASSWORD = 10
_USERNAME = re.compile(r"^[a-z0-9._-]{3,40}$")


class UserError(ValueError):
    """A refusal with a message for the person at the keyboard (translated when shown)."""

    def __init__(self, message: Any):
        super().__init__(str(message))
        self.message = message


@dataclass(frozen=True)
class User:
    """A logged-in person and what they may see."""

    id: int
    username: str
    role: str
    province_id: int | None
    commune_id: int | None
    session_key: str = field(default="", repr=False, compare=False)

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def create_user(conn: Connection, username: str, password: str, role: str, *,
                province: str | None = None, commune: str | None = None) -> User:
    """Add a user; a viewer needs a province (and optionally one commune/ward of it)."""
    username = (username or "").strip().lower()
    if not _USERNAME.match(username):
        raise UserError(_l("A user name is 3 to 40 lowercase letters, digits, dots, dashes or _."))
    if len(password or "") < MIN_PASSWORD:
        raise UserError(_l("A password has at least %(n)d characters.", n=MIN_PASSWORD))
    if role not in ROLES:
        raise UserError(_l("The role is admin or viewer."))
    if role == "viewer" and not province:
        raise UserError(_l("A viewer needs a province (and may be limited to one commune/ward)."))
    if commune and not province:
        raise UserError(_l("A commune/ward belongs to a province: give both."))
    if conn.execute(select(users.c.id).where(users.c.username == username)).first():
        raise UserError(_l("This user name is taken."))
    province_id = commune_id = None
    if province:
        scope = ensure_scope(conn, province, commune)
        province_id, commune_id = scope["province_id"], scope["commune_id"]
    result = conn.execute(users.insert().values(
        username=username, password_hash=generate_password_hash(password), role=role,
        province_id=province_id, commune_id=commune_id, created_at=utcnow()))
    return User(result.inserted_primary_key[0], username, role, province_id, commune_id)


def _user(row: Any) -> User:
    return User(row.id, row.username, row.role, row.province_id, row.commune_id,
                row.session_key or "")


def get_user(conn: Connection, user_id: int) -> User | None:
    """The user with this id, if any."""
    row = conn.execute(select(users).where(users.c.id == user_id)).first()
    return _user(row) if row else None


def session_user(conn: Connection, user_id: Any, session_key: Any) -> User | None:
    """The user of a session cookie, or None once that session was ended (log-out, new
    password, user removed) or when the cookie carries no key."""
    user = get_user(conn, user_id) if isinstance(user_id, int) else None
    if user is None or not user.session_key or not isinstance(session_key, str):
        return None
    return user if hmac.compare_digest(user.session_key, session_key) else None


def end_sessions(conn: Connection, user_id: int) -> None:
    """Log a user out everywhere: every session cookie issued so far stops working."""
    conn.execute(update(users).where(users.c.id == user_id).values(
        session_key=secrets.token_hex(16)))


def authenticate(conn: Connection, username: str, password: str,
                 now: datetime | None = None) -> User:
    """Check a password, counting wrong ones per user name with lock-outs that grow.

    Unknown names are counted, locked and hashed against a dummy like known ones, so neither
    the answers nor their timing tell which user names exist. The guard's row is locked, read,
    the password checked and the count written in the caller's one transaction, so parallel
    guesses cannot slip past the count; the caller must commit even when this raises. Only
    time (a day without a wrong password) or this user's right password forgives a streak.
    """
    now = now or utcnow()
    name = (username or "").strip().lower()[:40]
    streak = LOGIN_GUARD.current(_locked_streak(conn, name), now.timestamp())
    wait = LOGIN_GUARD.seconds_locked(streak, now.timestamp())
    if wait:
        raise UserError(_locked_message(wait))
    row = conn.execute(select(users).where(users.c.username == name)).first()
    right = check_password_hash(row.password_hash if row else _dummy_hash(), password or "")
    if row is None or not right:
        _save_streak(conn, name, LOGIN_GUARD.fail(streak, now.timestamp()))
        _forget_quiet_streaks(conn, now)
        raise UserError(_l("Wrong user name or password."))
    conn.execute(login_guard.delete().where(login_guard.c.username == name))
    if not row.session_key:
        conn.execute(update(users).where(users.c.id == row.id).values(
            session_key=secrets.token_hex(16)))
        row = conn.execute(select(users).where(users.c.id == row.id)).one()
    return _user(row)


@cache
def _dummy_hash() -> str:
    """A hash of no one's password, checked for unknown names so they take as long."""
    return generate_password_hash(secrets.token_urlsafe(16))


def _locked_message(wait: int) -> Any:
    return _l("Too many wrong passwords. Try again in %(m)d minutes.", m=math.ceil(wait / 60))


def _locked_streak(conn: Connection, name: str) -> Streak:
    """The name's streak, its row created if need be and locked until the transaction ends."""
    conn.execute(insert_ignoring_duplicates(conn, login_guard).values(username=name))
    row = conn.execute(select(login_guard).where(login_guard.c.username == name)
                       .with_for_update()).one()
    return Streak(row.failures, row.lockouts, _seconds(row.locked_until),
                  _seconds(row.last_failure_at))


def _save_streak(conn: Connection, name: str, streak: Streak) -> None:
    conn.execute(update(login_guard).where(login_guard.c.username == name).values(
        failures=streak.failures, lockouts=streak.lockouts,
        locked_until=_moment(streak.locked_until), last_failure_at=_moment(streak.last_failure)))


def _forget_quiet_streaks(conn: Connection, now: datetime) -> None:
    """Drop the rows of streaks already forgiven, so guessed names do not pile up."""
    quiet_since = now - timedelta(seconds=LOGIN_GUARD.forget_after)
    conn.execute(login_guard.delete().where(and_(
        login_guard.c.last_failure_at < quiet_since,
        or_(login_guard.c.locked_until.is_(None), login_guard.c.locked_until < now))))


def _seconds(moment: datetime | None) -> float:
    return moment.timestamp() if moment else 0.0


def _moment(seconds: float) -> datetime | None:
    return datetime.fromtimestamp(seconds, timezone.utc) if seconds else None


def list_users(conn: Connection) -> list[dict[str, Any]]:
    """Every user with the names of their scope, for the administrator's page."""
    from .db import communes, provinces
    rows = conn.execute(
        select(users.c.id, users.c.username, users.c.role, login_guard.c.locked_until,
               users.c.created_at, provinces.c.name.label("province"),
               communes.c.name.label("commune"))
        .select_from(users.outerjoin(login_guard, and_(
            login_guard.c.username == users.c.username, login_guard.c.locked_until > utcnow()))
                     .outerjoin(provinces, provinces.c.id == users.c.province_id)
                     .outerjoin(communes, communes.c.id == users.c.commune_id))
        .order_by(users.c.username)).mappings().all()
    return [dict(row) for row in rows]


def set_password(conn: Connection, user_id: int, password: str) -> bool:
    """Give a user a new password, lift a lock-out and end the user's sessions; False if there
    is no such user."""
    if len(password or "") < MIN_PASSWORD:
        raise UserError(_l("A password has at least %(n)d characters.", n=MIN_PASSWORD))
    name = conn.execute(select(users.c.username).where(users.c.id == user_id)).scalar()
    if name is None:
        return False
    conn.execute(update(users).where(users.c.id == user_id).values(
        password_hash=generate_password_hash(password), session_key=secrets.token_hex(16)))
    conn.execute(login_guard.delete().where(login_guard.c.username == name))
    return True


def delete_user(conn: Connection, user_id: int) -> bool:
    """Remove a user; False if there is no such user."""
    return conn.execute(users.delete().where(users.c.id == user_id)).rowcount == 1
