"""The administrator's page of users: add a viewer or administrator, reset a password, remove.

Routes are attached to the admin blueprint (`/admin/users`), so they share its login, its
administrator check and its CSRF-protected forms.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from .admin import admin_required
from .db import get_engine
from .db import read_transaction, write_transaction
from sync.errors import InvalidInput
from .users import ROLES, UserError, create_user, delete_user, list_users, set_password

bp = Blueprint("user_admin", __name__, url_prefix="/admin")

FIELDS = ("username", "role", "province", "commune")


def _page(form: dict[str, str], error: str | None = None, status: int = 200) -> Any:
    with read_transaction(get_engine()) as conn:
        rows = list_users(conn)
    return render_template("server/users.html", users=rows, form=form, roles=ROLES,
                           error=error), status


@bp.get("/users")
@admin_required
def users() -> Any:
    """List the users and a form to add one."""
    return _page({"role": "viewer"})


@bp.post("/users")
@admin_required
def add_user() -> Any:
    """Add a user (a viewer needs a province, and may be limited to one commune/ward)."""
    form = {key: " ".join(request.form.get(key, "").split()) for key in FIELDS}
    try:
        with write_transaction(get_engine()) as conn:
            create_user(conn, form["username"], request.form.get("password", ""), form["role"],
                        province=form["province"] or None, commune=form["commune"] or None)
    except UserError as exc:
        return _page(form, str(exc.message), 400)
    except InvalidInput as exc:
        return _page(form, _(exc.message), 400)
    flash(_("User %(name)s added.", name=form["username"].lower()))
    return redirect(url_for("user_admin.users"))


@bp.post("/users/<int:user_id>/password")
@admin_required
def reset_password(user_id: int) -> Any:
    """Set a new password for a user (and lift a lock-out)."""
    try:
        with write_transaction(get_engine()) as conn:
            if not set_password(conn, user_id, request.form.get("password", "")):
                abort(404)
    except UserError as exc:
        return _page({"role": "viewer"}, str(exc.message), 400)
    flash(_("Password changed."))
    return redirect(url_for("user_admin.users"))


@bp.post("/users/<int:user_id>/delete")
@admin_required
def remove_user(user_id: int) -> Any:
    """Remove a user (not yourself: an administrator cannot lock the office out by mistake)."""
    if user_id == g.user.id:
        return _page({"role": "viewer"}, _("You cannot remove yourself."), 400)
    with write_transaction(get_engine()) as conn:
        if not delete_user(conn, user_id):
            abort(404)
    flash(_("User removed."))
    return redirect(url_for("user_admin.users"))
