"""Access checks shared by the stall's pages: unlocked with a PIN, and the owner's override."""
from __future__ import annotations

import time
from functools import wraps
from typing import Any, Callable
from urllib.parse import urlsplit

from flask import redirect, request, session, url_for
from flask_wtf.csrf import CSRFProtect

from .. import access
from ..db import get_db

OWNER_OVERRIDE_SECONDS = 120
# Forms carry a CSRF token (the factory initialises this; the API checks it for cookie sessions).
csrf = CSRFProtect()


def safe_next(target: str | None, default: str = "/") -> str:
    """Only follow `next` to a path on this site, never to another host."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target


def is_owner_now() -> bool:
    """The owner is unlocked, or a helper entered the owner's PIN in the last two minutes."""
    return session.get("role") == "owner" or session.get("owner_until", 0) > time.time()


def login_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Send a locked device to the PIN pad (or to first-run set-up)."""
    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not access.has_owner(get_db()):
            return redirect(url_for("setup.first_run"))
        if session.get("role") not in access.ROLES:
            return redirect(url_for("auth.unlock", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)
    return wrapped


def owner_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Voids, prices and settings need the owner, or the owner's PIN typed by the helper."""
    @wraps(view)
    @login_required
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not is_owner_now():
            back = request.full_path.rstrip("?") if request.method == "GET" else request.referrer
            return redirect(url_for("auth.owner", next=safe_next(back and urlsplit(back).path)))
        return view(*args, **kwargs)
    return wrapped
