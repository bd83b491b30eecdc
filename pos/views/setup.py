"""Setting up the stall: the first-run page, and the owner's settings page."""
from __future__ import annotations

from typing import Any

from flask import (Blueprint, current_app, flash, redirect, render_template, request, session,
                   url_for)
from flask_babel import gettext as _

from .. import access, haggling, personal_data, settings
from ..db import get_db
from ..db import write_transaction
from sync import localtime
from sync.errors import AppError, Forbidden, InvalidInput
from . import sync as sync_view
from .guards import owner_required
from ..sync.client import SyncClient
from ..sync.errors import PairingError
from ..sync.state import read_state

PAIR_TIMEOUT = (5.0, 15.0)  # the owner waits for the answer; never longer than this

bp = Blueprint("setup", __name__)


def _save_stall(form: dict[str, str]) -> None:
    clean = settings.validate_stall({k: form.get(k, "") for k in settings.STALL_FIELDS},
                                    partial=False)
    conn = get_db()
    with write_transaction(conn):
        for key, value in clean.items():
            settings.write(conn, key, value)


def _pair(form: dict[str, str]) -> None:
    """Pair with the provincial server (owner's form); PairingError becomes a message."""
    server_url, code = form.get("server_url", "").strip(), form.get("code", "").strip()
    if "code=" in code:  # a scanned pairing link: …?server=URL&code=ABCD-EFGH
        from urllib.parse import parse_qs, urlsplit
        query = parse_qs(urlsplit(code).query)
        code = (query.get("code") or [""])[0]
        server_url = server_url or (query.get("server") or [""])[0]
    client = SyncClient(current_app.config["DATABASE"], timeout=PAIR_TIMEOUT)
    try:
        answer = client.pair(server_url, code)
    except PairingError as exc:
        messages = {
            "bad_server_url": _("The server address must start with http:// or https://."),
            "bad_pairing_code": _("The pairing code is wrong, used or expired."),
            "too_many_attempts": _("Too many tries. Wait a minute and try again."),
            "device_mismatch": _("This stall has sold already under its own device id; the"
                                 " server offers another one. Ask the administrator."),
            "network": _("No connection to the server. Check the address and the network."),
            "timeout": _("The server did not answer in time. Try again."),
        }
        raise InvalidInput(messages.get(exc.code, _("Pairing failed: %(reason)s",
                                                    reason=exc.message)), field="code")
    finally:
        client.close()
    current_app.config["DEVICE_ID"] = read_state(get_db()).device_id
    sync_view.trigger(current_app.config["DATABASE"])
    name = (answer.get("stall") or {}).get("name") or ""
    flash(_("Paired with the provincial server.") + (f" {name}" if name else ""))


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
        except AppError as exc:
            error, status = str(exc.message), exc.status
        else:
            session["role"] = "owner"
            return redirect(url_for("sell.index"))
    return render_template("pos/setup.html", values=values, fields=settings.STALL_FIELDS,
                           error=error), status


# Settings that outlive the session: a helper under the owner's two-minute override may not.
OWNER_SESSION_ACTIONS = frozenset({"token_new", "token_revoke", "pin", "pair", "helper_limit",
                                   "recovery_code_ack"})


def _recovery_card(conn: Any) -> dict[str, Any] | None:
    """The recovery code card: none before the stall has a personal data key (the credit book
    makes it on first use); the code itself only to the owner unlocked with her own PIN, and
    only until she says she wrote it down."""
    try:
        if personal_data.stored_key(conn) is None:
            return None
        shown_at = personal_data.code_shown_at(conn)
        own = session.get("role") == "owner"
        code = personal_data.recovery_code(conn) if own and not shown_at else None
    except personal_data.SealedDataError as exc:
        return {"error": str(exc.message), "groups": None, "shown_day": None, "own": False}
    return {"error": None, "groups": code.split("-") if code else None, "own": own,
            "shown_day": localtime.format_day(localtime.business_day(shown_at))
            if shown_at else None}


def _acknowledge_code(conn: Any) -> None:
    if personal_data.stored_key(conn) is None:
        raise InvalidInput(_("There is no recovery code yet: it is made with the first"
                             " customer of the credit book."))
    personal_data.mark_code_shown(conn)
    flash(_("Noted: the recovery code will not be shown again."))


@bp.route("/settings", methods=["GET", "POST"])
@owner_required
def stall_settings() -> Any:
    """Change the stall's details, the PINs and the API tokens."""
    conn = get_db()
    error, status, new_token = None, 200, None
    values = settings.stall_settings(conn)
    if request.method == "POST":
        form = request.form
        try:
            if form.get("action") == "recovery_code_ack" and session.get("role") != "owner":
                raise Forbidden(_("Only the owner, unlocked with her own PIN, can see the"
                                  " recovery code."))
            if form.get("action") in OWNER_SESSION_ACTIONS and session.get("role") != "owner":
                # The owner's PIN typed on a helper's session opens one void for two minutes;
                # it must not leave the helper a permanent token, new PINs or another server.
                raise Forbidden(_("Only the owner, unlocked with her own PIN, can change PINs,"
                                  " API tokens or the server."))
            if form.get("action") == "token_new":
                new_token = access.issue_token(conn, form.get("label", ""))
            elif form.get("action") == "token_revoke":
                access.revoke_token(conn, form.get("token_id", ""))
                flash(_("Token revoked: it no longer opens the API."))
            elif form.get("action") == "pin":
                role = form.get("role", "")
                if role not in access.ROLES:
                    raise InvalidInput(_("Unknown role."), field="role")
                access.set_pin(conn, role, _check_new_pin(form.get("pin", ""),
                                                          form.get("pin2", "")))
                flash(_("PIN saved."))
            elif form.get("action") == "pair":
                _pair(form)
            elif form.get("action") == "recovery_code_ack":
                _acknowledge_code(conn)
            elif form.get("action") == "helper_limit":
                limit = haggling.clean_limit(form.get(haggling.LIMIT_KEY, "").strip())
                with write_transaction(conn):
                    settings.write(conn, haggling.LIMIT_KEY, str(limit))
                flash(_("Saved: the helper may take up to %(n)d%% off.", n=limit))
            else:
                values = {k: form.get(k, "") for k in settings.STALL_FIELDS}
                _save_stall(form)
                flash(_("Settings saved."))
        except AppError as exc:
            error, status = str(exc.message), exc.status
        else:
            if new_token is None:
                return redirect(url_for("setup.stall_settings"))
    # A new token is shown on this answer only, never again (only its hash is kept); the
    # recovery code until the owner says she wrote it down. Neither is kept by a cache.
    recovery = _recovery_card(conn)
    secret_shown = bool(new_token or (recovery and recovery["groups"]))
    return render_template("pos/settings.html", values=values, fields=settings.STALL_FIELDS,
                           error=error, sync=sync_view.current_screen_state(),
                           tokens=access.list_tokens(conn), new_token=new_token,
                           helper_limit=request.form.get(haggling.LIMIT_KEY)
                           if request.form.get("action") == "helper_limit"
                           else haggling.helper_limit(conn),
                           pair_form={"server_url": request.form.get("server_url", "")
                                      if request.form.get("action") == "pair" else ""},
                           recovery=recovery), \
        status, {"Cache-Control": "no-store"} if secret_shown else {}
