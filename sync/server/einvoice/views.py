"""Invoices not yet received by the tax authority: for each stall (device token) and for the
province's staff (a small page and its JSON, for the dashboard)."""
from __future__ import annotations

from typing import Any

from flask import (Blueprint, abort, current_app, g, jsonify, redirect, render_template, request,
                   session, url_for)

from ..device_auth import authenticated_device
from ..db import read_transaction, utcnow
from . import queue

bp = Blueprint("einvoice", __name__)


def _engine() -> Any:
    return current_app.extensions["market_server"]["engine"]


@bp.get("/api/v1/einvoices/pending")
def device_pending() -> Any:
    """A stall's invoices that the tax authority has not received yet (device token)."""
    device_id = authenticated_device()
    with read_transaction(_engine()) as conn:
        codes = queue.pending_codes(conn, device_id)
        counts = queue.counts(conn, device_id)
    return jsonify({"codes": codes, "counts": counts,
                    "server_time": utcnow().strftime("%Y-%m-%dT%H:%M:%S.000Z")})


def _staff_only() -> Any:
    """Administrators only (a viewer sees her own province on the dashboard): the login page
    for people, 401 for the JSON, 403 for a viewer."""
    from ..users import session_user
    g.user = None
    if session.get("user_id") is not None:
        with read_transaction(_engine()) as conn:
            g.user = session_user(conn, session["user_id"], session.get("session_key"))
    if g.user is None:
        if request.path.endswith(".json"):
            abort(401)
        return redirect(url_for("admin.login", next=request.full_path.rstrip("?")))
    if not g.user.is_admin:
        abort(403)
    return None


@bp.get("/admin/einvoices")
def page() -> Any:
    """The invoices still out, oldest first, with the counts by state."""
    redirect_to = _staff_only()
    if redirect_to is not None:
        return redirect_to
    with read_transaction(_engine()) as conn:
        rows = queue.outstanding(conn, device_id=request.args.get("device") or None)
        counts = queue.counts(conn)
    return render_template("server/einvoices.html", rows=rows, counts=counts)


@bp.get("/admin/einvoices.json")
def page_json() -> Any:
    """The same as JSON (for the dashboard): counts by state and the invoices still out."""
    _staff_only()
    with read_transaction(_engine()) as conn:
        rows = queue.outstanding(conn, device_id=request.args.get("device") or None)
        counts = queue.counts(conn)
    for row in rows:
        for key in ("queued_at", "sent_at", "received_at"):
            row[key] = row[key].isoformat() if row[key] else None
    return jsonify({"counts": counts, "outstanding": rows})
