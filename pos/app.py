"""The stall's Flask application factory."""
from __future__ import annotations

import logging
import sqlite3
from decimal import Decimal
from pathlib import Path
from typing import Any

from flask import Flask, request, send_from_directory, session
from flask.sessions import SecureCookieSessionInterface
from flask_babel import Babel
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from sync import localtime, money
from sync.web import (ErrorAnswers, add_security_headers, asset_folder, error_response,
                      register_error_handlers, select_locale, translation_directories,
                      unexpected_error)

from . import db, settings, stall
from .views import (api, api_credit, api_parked, api_purchases, api_qr, auth, bank, buying, day,
                    printer, products, sales, sell, setup, sync as sync_view, tax)
from .views import api_margin, margin as margin_page
from .views.guards import csrf

logger = logging.getLogger(__name__)
PACKAGE_DIR = Path(__file__).resolve().parent
babel = Babel()


def _http_message(exc: HTTPException) -> str:
    messages = {
        404: _("This page does not exist."),
        405: _("This action is not allowed here."),
        413: _("The request is too large (at most 1 MB)."),
    }
    return messages.get(exc.code or 500, _("The request could not be handled."))


def _csrf_error(exc: CSRFError) -> Any:
    return error_response(400, {"code": "csrf", "message": _(
        "The form has expired. Go back, reload the page and try again.")})


def _number_too_large(exc: OverflowError) -> Any:
    # An id in the address beyond SQLite's 64-bit integers names nothing: 404, not a 500.
    if any(isinstance(v, int) and not -2**63 <= v < 2**63
           for v in (request.view_args or {}).values()):
        return error_response(404, {"code": "not_found", "message": _("This page does not exist.")})
    return unexpected_error(exc)


def _storage_error(exc: sqlite3.OperationalError) -> Any:
    code = getattr(exc, "sqlite_errorcode", 0) & 0xFF
    if code in (sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR):  # disk full, or the card failing
        logger.error("cannot write the database on %s %s: %s", request.method, request.path, exc)
        return error_response(507, {"code": "storage_full", "message": _(
            "Nothing was saved: the stall's storage is full or failing. Free some space"
            " (old files or backups) and try again.")})
    if code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
        logger.warning("database busy on %s %s: %s", request.method, request.path, exc)
        return error_response(503, {"code": "busy", "message": _(
            "The stall is busy; nothing was saved. Please try again.")})
    return unexpected_error(exc)


ERROR_ANSWERS = ErrorAnswers(
    page="pos/error.html", http_message=_http_message,
    unexpected_message=lambda: _("Something went wrong. Nothing was saved; please try again."),
    handlers={CSRFError: _csrf_error, OverflowError: _number_too_large,
              sqlite3.OperationalError: _storage_error})


def _register_template_helpers(app: Flask) -> None:
    app.jinja_env.filters.update(
        vnd=money.format_vnd, number=money.format_number,
        datetime=localtime.format_datetime, time=localtime.format_time,
        day=localtime.format_day)

    @app.template_filter("qty")
    def _qty(quantity_milli: int) -> str:
        return money.format_quantity(quantity_milli, "," if select_locale() == "vi" else ".")

    @app.template_filter("stock_qty")
    def _stock_qty(text: str | None) -> str:
        """A stock figure as the API gives it ("-0.75") in the reader's decimal sign."""
        if text is None:
            return ""
        milli = int(Decimal(text) * 1000)
        return ("−" if milli < 0 else "") + _qty(abs(milli)) if milli else "0"

    @app.context_processor
    def _globals() -> dict[str, Any]:
        try:
            stall_details = settings.stall_settings(db.get_db())
        except sqlite3.Error:  # the error page must render even when the database cannot
            logger.exception("cannot read the stall settings")
            stall_details = {key: "" for key in settings.STALL_FIELDS}
        return {"stall": stall_details, "role": session.get("role"), "lang": select_locale()}


class CookieSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, minus the signer built for every request without a cookie.

    The sell screen's API client is a bearer token that sends no cookie; Flask would still build
    an itsdangerous serializer for it on each request (about a tenth of a sale's time in Flask,
    benchmarks/stall/findings.md). An absent cookie is an empty session either way.
    """

    def open_session(self, app: Flask, request: Any) -> Any:
        if self.get_cookie_name(app) not in request.cookies:
            return self.session_class()
        return super().open_session(app, request)


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the stall app for a data directory (config DATA_DIR, else MARKET_POS_DATA)."""
    app = Flask(__name__, template_folder=asset_folder(PACKAGE_DIR, "templates", PACKAGE_DIR.parent),
                static_folder=asset_folder(PACKAGE_DIR, "static", PACKAGE_DIR.parent))
    config = dict(config or {})
    data_dir = Path(config.pop("DATA_DIR", None) or stall.default_data_dir())
    device_id = stall.prepare(data_dir)
    app.config.update(
        DATA_DIR=data_dir, DATABASE=stall.database_path(data_dir), DEVICE_ID=device_id,
        SECRET_KEY=stall.secret_key(data_dir), MAX_CONTENT_LENGTH=1024 * 1024,
        SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Strict",
        WTF_CSRF_TIME_LIMIT=None, BABEL_DEFAULT_LOCALE="vi",
        BABEL_DEFAULT_TIMEZONE="Asia/Ho_Chi_Minh",
        BABEL_TRANSLATION_DIRECTORIES=translation_directories(PACKAGE_DIR / "translations"))
    app.session_interface = CookieSessions()
    app.json.ensure_ascii = False
    app.json.sort_keys = False
    app.config.update(config)
    babel.init_app(app, locale_selector=select_locale)
    csrf.init_app(app)
    app.extensions["market_pos_connections"] = db.ConnectionPool(app.config["DATABASE"])
    app.teardown_appcontext(db.close_db)

    # Every blueprint of the stall, in one place.
    for module in (auth, sell, sync_view, sales, day, products, buying, setup, bank, printer, api,
                   api_qr, api_parked, api_credit, api_purchases, api_margin, margin_page, tax):
        app.register_blueprint(module.bp)
    # The API checks CSRF itself for cookie sessions (api_base).
    for module in (api, api_qr, api_parked, api_credit, api_purchases):
        csrf.exempt(module.bp)

    @app.get("/favicon.ico")
    def favicon() -> Any:
        """The icon browsers ask every site for (static/favicon.ico, shipped with both apps)."""
        return send_from_directory(app.static_folder or "", "favicon.ico",
                                   mimetype="image/vnd.microsoft.icon", max_age=7 * 24 * 3600)

    register_error_handlers(app, ERROR_ANSWERS)
    _register_template_helpers(app)
    app.after_request(add_security_headers)
    return app
