"""Setting up the stall: the first-run page, and the owner's settings page."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from .. import access, settings
from ..app import get_db
from ..db import write_transaction
from ..errors import InvalidInput, PosError
from .guards import owner_required

bp = Blueprint("setup", __name__)


def _save_stall(form: dict[str, str]) -> None:
    clean = settings.validate_stall({k: form.get(k, "") for k in settings.STALL_FIELDS},
                                    partial=False)
    conn = get_db()
    with write_transaction(conn):
        for key, value in clean.items():
            settings.write(conn, key, value)


def _check_new_pin(pin: str, confirm: str) -> str:
    access.check_pin_format(pin)
    if pin != confirm:
        raise InvalidInput(_("The two PINs are not the same."), field="pin")
    return pin


@bp.route("/setup", methods=["GET", "POST"])
def first_run() -> Any:
    """Set up a new stall: who sells here and the owner's PIN."""
    conn = get_db()
    if access.has_owner(conn):
        return redirect(url_for("sell.index"))
    error, status = None, 200
    values = dict(request.form) if request.method == "POST" else settings.stall_settings(conn)
    if request.method == "POST":
        try:
            pin = _check_new_pin(request.form.get("pin", ""), request.form.get("pin2", ""))
            _save_stall(request.form)
            access.set_pin(conn, "owner", pin)
        except PosError as exc:
            error, status = str(exc.message), exc.status
        else:
            session["role"] = "owner"
            return redirect(url_for("sell.index"))
    return render_template("pos/setup.html", values=values, fields=settings.STALL_FIELDS,
                           error=error), status


@bp.route("/settings", methods=["GET", "POST"])
@owner_required
def stall_settings() -> Any:
    """Change the stall's details and the PINs."""
    conn = get_db()
    error, status = None, 200
    values = settings.stall_settings(conn)
    if request.method == "POST":
        form = request.form
        try:
            if form.get("action") == "pin":
                role = form.get("role", "")
                if role not in access.ROLES:
                    raise InvalidInput(_("Unknown role."), field="role")
                access.set_pin(conn, role, _check_new_pin(form.get("pin", ""),
                                                          form.get("pin2", "")))
                flash(_("PIN saved."))
            else:
                values = {k: form.get(k, "") for k in settings.STALL_FIELDS}
                _save_stall(form)
                flash(_("Settings saved."))
        except PosError as exc:
            error, status = str(exc.message), exc.status
        else:
            return redirect(url_for("setup.stall_settings"))
    return render_template("pos/settings.html", values=values, fields=settings.STALL_FIELDS,
                           error=error), status
