"""Unlocking with a PIN, locking, the owner's override and the language switch."""
from __future__ import annotations

import time
from typing import Any

from flask import Blueprint, redirect, render_template, request, session, url_for

from .. import access
from sync.web import LANGUAGES

from ..db import get_db
from sync.errors import AppError
from .guards import OWNER_OVERRIDE_SECONDS, safe_next

bp = Blueprint("auth", __name__)


@bp.route("/unlock", methods=["GET", "POST"])
def unlock() -> Any:
    """Ask for a PIN and open the stall for its role."""
    conn = get_db()
    if not access.has_owner(conn):
        return redirect(url_for("setup.first_run"))
    error, status = None, 200
    if request.method == "POST":
        try:
            role = access.unlock(conn, request.form.get("pin", ""))
        except AppError as exc:
            error, status = str(exc.message), exc.status
        else:
            lang = session.get("lang")
            session.clear()
            session["role"] = role
            if lang:
                session["lang"] = lang
            return redirect(safe_next(request.args.get("next"), url_for("sell.index")))
    return render_template("pos/pin.html", mode="unlock", error=error), status


@bp.route("/owner", methods=["GET", "POST"])
def owner() -> Any:
    """Let a helper hand the device to the owner for one privileged action."""
    if session.get("role") not in access.ROLES:
        return redirect(url_for("auth.unlock"))
    target = safe_next(request.args.get("next"), url_for("sell.index"))
    error, status = None, 200
    if request.method == "POST":
        try:
            access.unlock(get_db(), request.form.get("pin", ""), only_role="owner")
        except AppError as exc:
            error, status = str(exc.message), exc.status
        else:
            session["owner_until"] = time.time() + OWNER_OVERRIDE_SECONDS
            return redirect(target)
    return render_template("pos/pin.html", mode="owner", error=error, back=target), status


@bp.route("/lock", methods=["POST"])
def lock() -> Any:
    """Lock the stall; the next person needs a PIN."""
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    return redirect(url_for("auth.unlock"))


@bp.route("/lang", methods=["POST"])
def language() -> Any:
    """Switch the interface between Vietnamese and English."""
    lang = request.form.get("lang")
    if lang in LANGUAGES:
        session["lang"] = lang
    return redirect(safe_next(request.form.get("next"), url_for("sell.index")))
