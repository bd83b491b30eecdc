"""Sync on the stall's screens: the state at a glance, "Sync now", and a bundle for a USB stick."""
from __future__ import annotations

import logging
import tempfile
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from flask import (Blueprint, Response, current_app, flash, jsonify, redirect, render_template,
                   request, url_for)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from .. import settings
from sync.errors import Conflict
from sync.web import wants_json

from ..db import get_db
from ..sync.bundles import export_bundle
from ..sync.client import SyncClient
from ..sync.errors import SyncError
from ..sync.state import SyncState, read_state
from ..sync.worker import running_worker
from sync.protocol import parse_timestamp
from .guards import login_required, owner_required

logger = logging.getLogger(__name__)
bp = Blueprint("sync", __name__)

ERROR_TEXT = {
    "network": _l("No connection to the server"),
    "timeout": _l("The server did not answer in time"),
    "server_busy": _l("The server is busy; the stall tries again later"),
    "server_error": _l("The server had a problem; the stall tries again later"),
    "bad_answer": _l("The server's answer could not be read"),
    "no_progress": _l("The server does not take the entries"),
    "unauthorised": _l("The server refused this stall's key: pair it again"),
    "unexpected_answer": _l("Unexpected answer from the server"),
}
ATTENTION_TEXT = {
    "conflict": _l("Entry %(seq)s differs from the copy on the server"),
    "broken_chain": _l("Entry %(seq)s does not follow on from the one before"),
    "bad_hash": _l("Entry %(seq)s was changed after it was recorded"),
    "wrong_device": _l("Entry %(seq)s belongs to another device"),
    "stall_behind": _l("The server holds more entries than this stall"),
    "diverged": _l("The server's copy differs from this stall's journal"),
    "unreadable_entry": _l("Entry %(seq)s cannot be read"),
}
BUNDLE_ERROR_TEXT = {
    "key_not_registered": _l("The provincial server does not know this stall's bundle key yet:"
                             " connect to the network and sync once (or pair the stall again),"
                             " then save for USB."),
}

# "Sync now" without a worker in this process (e.g. under `flask run`): one sync in a thread.
_one_off: dict[Path, threading.Thread] = {}
_one_off_lock = threading.Lock()


def _run_one_sync(db_path: Path) -> None:
    client = SyncClient(db_path)
    try:
        client.sync_once(lock_wait=1.0)
    except SyncError as exc:  # recorded in the settings by the client; the screen shows it
        logger.info("sync now failed: %s", exc.message)
    except Exception:
        logger.exception("sync now crashed")
    finally:
        client.close()


def trigger(db_path: str | Path) -> str:
    """Start a sync without waiting for it: wake this process's worker, else run one in a thread.
    Returns "woken", "started" or "running"."""
    worker = running_worker(db_path)
    if worker is not None:
        worker.wake()
        return "woken"
    key = Path(db_path).resolve()
    with _one_off_lock:
        thread = _one_off.get(key)
        if thread is not None and thread.is_alive():
            return "running"
        thread = threading.Thread(target=_run_one_sync, args=(key,), name="sync-now",
                                  daemon=True)
        _one_off[key] = thread
        thread.start()
    return "started"


def is_syncing(db_path: str | Path) -> bool:
    """A sync started from this process is under way."""
    worker = running_worker(db_path)
    if worker is not None:
        return worker.syncing
    thread = _one_off.get(Path(db_path).resolve())
    return thread is not None and thread.is_alive()


def ago(at: str | None, now: datetime | None = None) -> str:
    """'3 giờ trước': how long ago a journal-style UTC time was, in the interface language."""
    if not at:
        return str(_("never"))
    try:
        seconds = ((now or datetime.now(timezone.utc)) - parse_timestamp(at)).total_seconds()
    except ValueError:
        return str(_("never"))
    if seconds < 60:
        return str(_("just now"))
    if seconds < 3600:
        return str(_("%(n)d min ago", n=int(seconds // 60)))
    if seconds < 86400:
        return str(_("%(n)d h ago", n=int(seconds // 3600)))
    return str(_("%(n)d days ago", n=int(seconds // 86400)))


def attention_text(attention: dict[str, Any] | None) -> str:
    """The headline of a refused entry, in the interface language."""
    if not attention:
        return ""
    template = ATTENTION_TEXT.get(str(attention.get("code")),
                                  _l("Entry %(seq)s was refused by the server"))
    return str(template % {"seq": attention.get("seq") or "?"})


def screen_state(state: SyncState, *, syncing: bool = False) -> dict[str, Any]:
    """What the sell screen and the sync page show, with texts ready in the interface language."""
    last = state.last_any_at
    via_bundle = bool(last and last == state.last_bundle_at and last != state.last_sync_at)
    error = ""
    if state.last_error and (not state.last_sync_at or not state.last_error_at
                             or state.last_error_at >= state.last_sync_at):
        error = str(ERROR_TEXT.get(state.last_error_code or "", state.last_error))
    if not state.paired:
        level = "off"
    elif state.needs_attention:
        level = "attention"
    elif error:
        level = "error"
    elif state.pending:
        level = "waiting"
    else:
        level = "ok"
    days = None
    if last:
        try:
            days = int((datetime.now(timezone.utc) - parse_timestamp(last)).total_seconds()
                       // 86400)
        except ValueError:
            days = None
    return {
        "paired": state.paired, "level": level, "syncing": syncing,
        "pending": state.pending, "acked_seq": state.acked_seq, "head_seq": state.head_seq,
        "server_url": state.server_url or "", "device_id": state.device_id,
        "last_at": last, "last_ago": ago(last), "via_bundle": via_bundle, "days": days,
        "last_sync_ago": ago(state.last_sync_at), "last_bundle_ago": ago(state.last_bundle_at),
        "error": error, "error_detail": state.last_error or "",
        "attention": attention_text(state.needs_attention),
        "attention_message": (state.needs_attention or {}).get("message", ""),
        "clock_offset_ms": state.clock_offset_ms,
    }


def current_screen_state() -> dict[str, Any]:
    """The screen state of this app's stall."""
    return screen_state(read_state(get_db()),
                        syncing=is_syncing(current_app.config["DATABASE"]))


@bp.before_app_request
def _follow_device_id() -> None:
    """Pairing an empty stall adopts the server's device id, possibly from another process
    (`market-pos pair`): new entries must carry the id the settings hold now."""
    if request.endpoint == "static":
        return
    device_id = settings.read(get_db(), "device_id")
    if device_id and device_id != current_app.config["DEVICE_ID"]:
        logger.warning("device id changed to %s (paired)", device_id)
        current_app.config["DEVICE_ID"] = device_id


@bp.get("/sync")
@login_required
def page() -> Any:
    """Show the sync state in full."""
    return render_template("pos/sync.html", sync=current_screen_state())


@bp.get("/sync/state")
@login_required
def state_json() -> Any:
    """The sync state for the sell screen's indicator (texts already translated)."""
    return jsonify(current_screen_state())


@bp.post("/sync/now")
@login_required
def sync_now() -> Any:
    """Start a sync now, without waiting for the network."""
    started = trigger(current_app.config["DATABASE"])
    if wants_json():
        return jsonify({"sync": started, "state": current_screen_state()}), 202
    flash(_("Syncing…"))
    return redirect(request.referrer or url_for("sync.page"))


@bp.post("/sync/bundle")
@owner_required
def bundle() -> Any:
    """Download a bundle of the entries the server lacks, for a USB stick."""
    db_path = Path(current_app.config["DATABASE"])
    if not read_state(get_db()).paired:
        raise Conflict(_("Pair the stall with the provincial server first."), code="not_paired")
    with tempfile.TemporaryDirectory(dir=db_path.parent) as folder:
        path = Path(folder) / "bundle.json"
        try:
            summary = export_bundle(db_path, path)
        except SyncError as exc:
            raise Conflict(BUNDLE_ERROR_TEXT.get(exc.code, exc.message), code=exc.code)
        data = path.read_bytes()
    name = f"market-pos-{current_app.config['DEVICE_ID'][:8]}-{summary['last_seq'] or 0}.json"
    return Response(data, mimetype="application/json",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
