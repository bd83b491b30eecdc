"""People who use the provincial server: password login with lock-out, roles and scopes.

Roles: `admin` (everything) and `viewer`, scoped to a province or to one commune/ward. Passwords
are hashed with scrypt (werkzeug); five wrong passwords lock the account for 15 minutes.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Connection
from flask_babel import lazy_gettext as _l
from werkzeug.security import check_password_hash, generate_password_hash

from .db import users, utcnow
from .places import ensure_scope

ROLES = ("admin", "viewer")
MAX_FAILURES = 5
LOCK_MINUTES = 15
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
    return User(row.id, row.username, row.role, row.province_id, row.commune_id)


def get_user(conn: Connection, user_id: int) -> User | None:
    """The user with this id, if any."""
    row = conn.execute(select(users).where(users.c.id == user_id)).first()
    return _user(row) if row else None


def authenticate(conn: Connection, username: str, password: str,
                 now: datetime | None = None) -> User:
    """Check a password; count failures and lock the account for 15 minutes after five.

    The same message answers an unknown user and a wrong password, so the form does not tell
    which user names exist. The caller must commit even when this raises: the failure count is
    the lock-out.
    """
    now = now or utcnow()
    row = conn.execute(select(users).where(users.c.username == (username or "").strip().lower())
                       ).first()
    if row is not None and row.locked_until and row.locked_until > now:
        raise UserError(_l("Too many wrong passwords. Try again in 15 minutes."))
    if row is None or not check_password_hash(row.password_hash, password or ""):
        if row is not None:
            failures = row.failed_logins + 1
            locked = now + timedelta(minutes=LOCK_MINUTES) if failures >= MAX_FAILURES else None
            conn.execute(update(users).where(users.c.id == row.id).values(
                failed_logins=0 if locked else failures, locked_until=locked))
        raise UserError(_l("Wrong user name or password."))
    conn.execute(update(users).where(users.c.id == row.id).values(failed_logins=0,
                                                                  locked_until=None))
    return _user(row)


def list_users(conn: Connection) -> list[dict[str, Any]]:
    """Every user with the names of their scope, for the administrator's page."""
    from .db import communes, provinces
    rows = conn.execute(
        select(users.c.id, users.c.username, users.c.role, users.c.locked_until,
               users.c.created_at, provinces.c.name.label("province"),
               communes.c.name.label("commune"))
        .select_from(users.outerjoin(provinces, provinces.c.id == users.c.province_id)
                     .outerjoin(communes, communes.c.id == users.c.commune_id))
        .order_by(users.c.username)).mappings().all()
    return [dict(row) for row in rows]


def set_password(conn: Connection, user_id: int, password: str) -> bool:
    """Give a user a new password (and lift a lock-out); False if there is no such user."""
    if len(password or "") < MIN_PASSWORD:
        raise UserError(_l("A password has at least %(n)d characters.", n=MIN_PASSWORD))
    return conn.execute(update(users).where(users.c.id == user_id).values(
        password_hash=generate_password_hash(password), failed_logins=0, locked_until=None)
    ).rowcount == 1


def delete_user(conn: Connection, user_id: int) -> bool:
    """Remove a user; False if there is no such user."""
    return conn.execute(users.delete().where(users.c.id == user_id)).rowcount == 1
