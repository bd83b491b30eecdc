"""The administrator's pages: log in, stalls and their pairing codes, integrity alerts, bundles."""
from __future__ import annotations

import io
import time
from functools import wraps
from typing import Any, Callable
from urllib.parse import urlsplit

import qrcode
import qrcode.image.svg
from flask import (Blueprint, abort, flash, g, redirect, render_template, request, session,
                   url_for)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from sync.protocol import loads_without_floats

from . import bank, store
from sync.web import LANGUAGES, select_locale

from .db import get_engine
from .db import communes, devices, integrity_alerts, markets, provinces, read_transaction
from .db import stalls as stall_table
from .db import write_transaction
from sync.errors import AppError
from .users import UserError, authenticate, end_sessions, session_user

bp = Blueprint("admin", __name__, url_prefix="/admin")
ALERT_KINDS = {"conflict": _l("Conflict"), "broken_chain": _l("Broken chain"),
               "bad_hash": _l("Wrong hash"), "clock": _l("Clock off"),
               "einvoice_range": _l("E-invoice range used by two sellers"),
               "einvoice_seller": _l("Tax code used by two stalls")}
# Why a bundle was refused, in the administrator's language (store.import_bundle's codes).
BUNDLE_REFUSALS = {
    "old_bundle_format": _l("This bundle has the old format, which a copy of the server's"
                            " database could forge, so it is no longer accepted. Update"
                            " market-pos on the stall, connect it to the network once to sync,"
                            " then export the bundle again."),
    "no_signing_key": _l("The server holds no bundle signing key for this stall (or the stall"
                         " is unknown or revoked). Connect the stall to the network once to"
                         " sync (or pair it again), then export the bundle again."),
    "bad_signature": _l("The bundle's signature does not match this stall's key: it was changed"
                        " after the stall wrote it, or another machine wrote it. Nothing was"
                        " stored."),
}


def _safe_next(target: str | None, default: str) -> str:
    parts = urlsplit(target or "")
    if not target or parts.scheme or parts.netloc or not target.startswith("/") \
            or target.startswith("//"):
        return default
    return target


@bp.before_app_request
def _load_user() -> None:
    g.user = None
    if session.get("user_id") is not None and request.blueprint in ("admin", "catalogue_admin", "user_admin", "dashboard"):
        with read_transaction(get_engine()) as conn:
            g.user = session_user(conn, session["user_id"], session.get("session_key"))


@bp.app_context_processor
def _globals() -> dict[str, Any]:
    open_alerts = 0
    if getattr(g, "user", None) is not None and g.user.is_admin:
        with read_transaction(get_engine()) as conn:
            open_alerts = conn.execute(select(func.count()).select_from(integrity_alerts).where(
                integrity_alerts.c.resolved_at.is_(None))).scalar_one()
    return {"user": getattr(g, "user", None), "lang": select_locale(), "open_alerts": open_alerts}


@bp.app_template_filter("vn_time")
def vn_time(moment: Any) -> str:
    """A server time as dd/mm/yyyy HH:MM in Vietnam."""
    if moment is None:
        return ""
    from sync.localtime import VIETNAM
    return moment.astimezone(VIETNAM).strftime("%d/%m/%Y %H:%M")


def admin_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Administrators only; others are sent to log in (or refused if logged in as a viewer)."""
    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if g.user is None:
            return redirect(url_for("admin.login", next=request.full_path.rstrip("?")))
        if not g.user.is_admin:
            abort(403)
        return view(*args, **kwargs)
    return wrapped


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    """Log in with a user name and password."""
    error, status = None, 200
    username = request.form.get("username", "")
    if request.method == "POST":
        failure: UserError | None = None
        with write_transaction(get_engine()) as conn:  # the failure count must be committed
            try:
                user = authenticate(conn, username, request.form.get("password", ""))
            except UserError as exc:
                failure = exc
        if failure is not None:
            time.sleep(0.2)  # slow down guessing a little more, beside the lock-out
            error, status = str(failure.message), 401
        else:
            lang = session.get("lang")
            session.clear()
            session["user_id"] = user.id
            session["session_key"] = user.session_key
            if lang:
                session["lang"] = lang
            home = url_for("admin.stalls" if user.is_admin else "dashboard.home")
            return redirect(_safe_next(request.args.get("next"), home))
    return render_template("server/login.html", error=error, username=username), status


@bp.post("/logout")
def logout() -> Any:
    """Log out, here and everywhere: a copy of the session cookie stops working too."""
    if g.user is not None:
        with write_transaction(get_engine()) as conn:
            end_sessions(conn, g.user.id)
    session.pop("user_id", None)
    session.pop("session_key", None)
    return redirect(url_for("admin.login"))


@bp.post("/lang")
def language() -> Any:
    """Switch between Vietnamese and English."""
    if request.form.get("lang") in LANGUAGES:
        session["lang"] = request.form["lang"]
    return redirect(_safe_next(request.form.get("next"), url_for("admin.stalls")))


@bp.get("/")
@admin_required
def index() -> Any:
    """Start at the stalls."""
    return redirect(url_for("admin.stalls"))


def _stall_rows(conn: Any) -> list[dict[str, Any]]:
    query = (select(stall_table.c.name, stall_table.c.vendor_name, stall_table.c.revoked_at,
                    devices.c.device_id, devices.c.acked_seq, devices.c.last_sync_at,
                    markets.c.name.label("market"), communes.c.name.label("commune"),
                    provinces.c.name.label("province"))
             .select_from(stall_table.join(devices, devices.c.stall_id == stall_table.c.id)
                          .join(markets, markets.c.id == stall_table.c.market_id)
                          .join(communes, communes.c.id == markets.c.commune_id)
                          .join(provinces, provinces.c.id == communes.c.province_id))
             .order_by(provinces.c.name, communes.c.name, markets.c.name, stall_table.c.name))
    return [dict(row) for row in conn.execute(query).mappings()]


@bp.get("/stalls")
@admin_required
def stalls() -> Any:
    """List the stalls with their last sync, and a form to add one."""
    with read_transaction(get_engine()) as conn:
        rows = _stall_rows(conn)
    return render_template("server/stalls.html", stalls=rows, form={})



def _qr_svg(text: str) -> str:
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=10)
    buffer = io.BytesIO()
    image.save(buffer)
    return buffer.getvalue().decode("utf-8").split("?>", 1)[-1]


def _pairing_page(stall_name: str, device_id: str, code: str) -> Any:
    return render_template("server/pairing.html", stall_name=stall_name, device_id=device_id,
                           code=code, qr_svg=_qr_svg(code))


@bp.post("/stalls")
@admin_required
def add_stall() -> Any:
    """Add a stall and show its pairing code (and the code as a QR for the stall to scan)."""
    form = {key: " ".join(request.form.get(key, "").split()) for key in
            ("province", "commune", "market", "name", "vendor_name")}
    problem = None
    if not all(form[key] for key in ("province", "commune", "market", "name")):
        problem = _("Province, commune/ward, market and stall name are all needed.")
    elif any(len(value) > 100 for value in form.values()):
        problem = _("A name has at most 100 characters.")
    if problem:
        with read_transaction(get_engine()) as conn:
            rows = _stall_rows(conn)
        return render_template("server/stalls.html", stalls=rows, form=form, error=problem), 400
    try:
        with write_transaction(get_engine()) as conn:
            _stall_id, device_id, code = store.add_stall(
                conn, form["province"], form["commune"], form["market"], form["name"],
                form["vendor_name"] or None)
    except AppError as exc:
        with read_transaction(get_engine()) as conn:
            rows = _stall_rows(conn)
        return render_template("server/stalls.html", stalls=rows, form=form,
                               error=_(exc.message)), exc.status
    return _pairing_page(form["name"], device_id, code)


@bp.post("/stalls/<device_id>/code")
@admin_required
def reissue_code(device_id: str) -> Any:
    """Issue a new pairing code for a stall (a new or rebuilt device continues its journal)."""
    with write_transaction(get_engine()) as conn:
        row = conn.execute(select(stall_table.c.id, stall_table.c.name).select_from(
            stall_table.join(devices, devices.c.stall_id == stall_table.c.id)).where(
            devices.c.device_id == device_id)).first()
        if row is None:
            abort(404)
        code = store.issue_pairing_code(conn, row.id, g.now)
    return _pairing_page(row.name, device_id, code)


@bp.post("/stalls/<device_id>/revoke")
@admin_required
def revoke(device_id: str) -> Any:
    """Revoke every token of a device: it can no longer sync until paired again."""
    with write_transaction(get_engine()) as conn:
        count = store.revoke_device(conn, device_id, g.now)
    flash(_("Device revoked (%(n)d tokens).", n=count))
    return redirect(url_for("admin.stalls"))


@bp.get("/alerts")
@admin_required
def alerts() -> Any:
    """List integrity alerts (open ones, or all)."""
    show_all = request.args.get("show") == "all"
    with read_transaction(get_engine()) as conn:
        rows = store.list_alerts(conn, include_resolved=show_all)
        names = {row.device_id: row.name for row in conn.execute(
            select(devices.c.device_id, stall_table.c.name).select_from(
                devices.join(stall_table, stall_table.c.id == devices.c.stall_id)))}
        unrouted = bank.unrouted(conn)
    for row in rows:
        row["stall_name"] = names.get(row["device_id"], "")
    return render_template("server/alerts.html", alerts=rows, show_all=show_all,
                           kinds=ALERT_KINDS, unrouted=unrouted)


@bp.post("/bank/<int:notification_id>/acknowledge")
@admin_required
def acknowledge_transfer(notification_id: int) -> Any:
    """Take an unrouted bank transfer off the list once someone has looked into it."""
    with write_transaction(get_engine()) as conn:
        if not bank.acknowledge(conn, notification_id, g.user.username, g.now):
            abort(404)
    flash(_("Transfer marked as seen."))
    return redirect(url_for("admin.alerts"))


@bp.post("/alerts/<alert_id>/resolve")
@admin_required
def resolve_alert(alert_id: str) -> Any:
    """Mark an alert resolved, with what was done."""
    note = " ".join((request.form.get("note") or "").split())[:500]
    if not note:
        flash(_("Say what was done before resolving the alert."))
        return redirect(url_for("admin.alerts"))
    with write_transaction(get_engine()) as conn:
        if not store.resolve_alert(conn, alert_id, g.user.username, note, g.now):
            abort(404)
    flash(_("Alert resolved."))
    return redirect(url_for("admin.alerts"))


@bp.route("/bundle", methods=["GET", "POST"])
@admin_required
def bundle() -> Any:
    """Upload a bundle file a stall wrote with no network; it is stored like a push."""
    result, error, status = None, None, 200
    if request.method == "POST":
        upload = request.files.get("bundle")
        try:
            data = loads_without_floats((upload.read() if upload else b"").decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            error, status = _("This file is not a bundle (not JSON)."), 400
        else:
            try:
                with write_transaction(get_engine()) as conn:
                    result = store.import_bundle(conn, data, g.now)
            except AppError as exc:
                error, status = BUNDLE_REFUSALS.get(exc.code, exc.message), exc.status
            else:
                if result.refusal is not None:
                    error, status = result.refusal.message, 409
    return render_template("server/bundle.html", result=result, error=error), status
