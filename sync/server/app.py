"""The provincial server's Flask application factory, and what its error answers say."""
from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from flask import Flask, g, redirect, request, send_from_directory, url_for
from flask_babel import Babel
from flask_wtf.csrf import CSRFProtect
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from sync.protocol import utc_timestamp
from sync.web import (ErrorAnswers, add_security_headers, asset_folder, error_response,
                      register_error_handlers, select_locale, translation_directories)

from .db import default_database_url, make_engine, utcnow
from sync.errors import AppError
from . import admin, api, bank_api, catalogue_admin, dashboard, receipt_check, user_admin
from .einvoice import views as einvoice_views
from .errors import RateLimited
from .ratelimit import DatabaseRateLimiter
from .server_secret import server_secret

logger = logging.getLogger(__name__)
PACKAGE_DIR = Path(__file__).resolve().parent
REPO_DIR = PACKAGE_DIR.parents[1]
csrf = CSRFProtect()
babel = Babel()


_HTTP_MESSAGES = {
    404: "There is nothing at this address.",
    405: "This method is not allowed here.",
    413: "The request is too large (at most 4 MiB for the sync API).",
}


def _http_message(exc: HTTPException) -> str:
    """Plain English for the sync API's clients; a bad request says what werkzeug found."""
    status = exc.code or 500
    if status == 400 and exc.description:
        return exc.description
    return _HTTP_MESSAGES.get(status, exc.description or "The request was refused.")


def _refusal_headers(exc: AppError) -> dict[str, str]:
    headers = {}
    if isinstance(exc, RateLimited):
        headers["Retry-After"] = str(exc.retry_after)
    if exc.status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="market-server"'
    return headers


def _database_unavailable(exc: OperationalError) -> Any:
    logger.warning("database unavailable on %s %s: %s", request.method, request.path, exc.orig)
    return error_response(503, {"code": "unavailable", "message":
                                "The database is busy or unavailable; nothing was stored. Try"
                                " again shortly."}, {"Retry-After": "5"})


ERROR_ANSWERS = ErrorAnswers(
    page="server/error.html", http_message=_http_message,
    unexpected_message=lambda: ("Something went wrong on the server; nothing was stored. Try"
                                " again later."),
    # Every JSON answer carries the server's clock, errors too (stalls correct their own by it).
    json_extra=lambda: {"server_time": utc_timestamp(getattr(g, "now", None) or utcnow())},
    headers=_refusal_headers, handlers={OperationalError: _database_unavailable})


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the server app. DATABASE_URL comes from config, else MARKET_SERVER_DATABASE, else
    a SQLite file in the data folder. The schema must be migrated (`market-server init`).

    Other settings: SECRET_KEY (else MARKET_SERVER_SECRET_KEY, else a key file in the data
    folder), PAIR_RATE_LIMIT per PAIR_RATE_WINDOW seconds and address (CHECK_… for /check),
    counted in the database across processes; PROXY_COUNT (trusted reverse proxies in front,
    else MARKET_SERVER_PROXY_COUNT: then X-Forwarded-For/-Proto/-Host are believed for that many
    hops); DATABASE_POOL_SIZE (connections per process, one per serving thread).
    """
    # The server's own templates and static files, under `server/` in either place.
    app = Flask(__name__, template_folder=asset_folder(PACKAGE_DIR, "templates", REPO_DIR),
                static_folder=asset_folder(PACKAGE_DIR, "static", REPO_DIR))
    config = dict(config or {})
    app.config.update(
        DATABASE_URL=default_database_url(), MAX_CONTENT_LENGTH=64 * 1024 * 1024,
        PAIR_RATE_LIMIT=10, PAIR_RATE_WINDOW=60, CHECK_RATE_LIMIT=30, CHECK_RATE_WINDOW=60,
        PROXY_COUNT=int(os.environ.get("MARKET_SERVER_PROXY_COUNT", "0") or 0),
        SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
        # Behind HTTPS (the normal deployment) the session cookie must never travel in clear;
        # the demo and tests on http://127.0.0.1 leave it off.
        SESSION_COOKIE_SECURE=os.environ.get("MARKET_SERVER_HTTPS", "") == "1",
        WTF_CSRF_TIME_LIMIT=None, BABEL_DEFAULT_LOCALE="vi",
        BABEL_DEFAULT_TIMEZONE="Asia/Ho_Chi_Minh",
        BABEL_TRANSLATION_DIRECTORIES=translation_directories(PACKAGE_DIR / "translations"))
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.config.update(config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = server_secret()
    engine = make_engine(app.config["DATABASE_URL"],
                         pool_size=app.config.get("DATABASE_POOL_SIZE"))

    def setting(name: str, default: Any = None) -> Any:
        return lambda: app.config.get(name, default)

    # Counted in the database, so that every process behind the balancer sees the same count.
    app.extensions["market_server"] = {
        "engine": engine,
        "pair_limiter": DatabaseRateLimiter(engine, "pair", setting("PAIR_RATE_LIMIT"),
                                            setting("PAIR_RATE_WINDOW")),
        "check_limiter": DatabaseRateLimiter(engine, "check", setting("CHECK_RATE_LIMIT"),
                                             setting("CHECK_RATE_WINDOW")),
        "check_code_limiter": DatabaseRateLimiter(
            engine, "check_code",
            setting("CHECK_CODE_TAG_LIMIT", receipt_check.CHECK_CODE_TAG_LIMIT),
            setting("CHECK_CODE_TAG_WINDOW", receipt_check.CHECK_CODE_TAG_WINDOW)),
    }
    if app.config["PROXY_COUNT"]:  # behind nginx/caddy: rate-limit the stall, not the proxy
        from werkzeug.middleware.proxy_fix import ProxyFix
        hops = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops,  # type: ignore
                                x_host=hops)
    babel.init_app(app, locale_selector=select_locale)
    csrf.init_app(app)

    @app.before_request
    def _clock() -> None:
        g.now = utcnow()  # one server time per request: the body, the header and the stored rows

    @app.after_request
    def _server_time(response: Any) -> Any:
        response.headers["X-Server-Time"] = utc_timestamp(getattr(g, "now", None) or utcnow())
        return response

    # Every blueprint of the server, in one place. The sync API and the bank's webhook take
    # bearer tokens or a webhook secret, no cookies: no CSRF token there.
    for module in (api, bank_api, admin, catalogue_admin, user_admin, dashboard, receipt_check,
                   einvoice_views):
        app.register_blueprint(module.bp)
    for module in (api, bank_api):
        csrf.exempt(module.bp)

    @app.get("/")
    def root() -> Any:
        """The server's own address: its pages begin at the dashboard, which sends a person who
        is not signed in to the login."""
        return redirect(url_for("dashboard.home"))

    @app.get("/favicon.ico")
    def favicon() -> Any:
        """The icon browsers ask every site for (static/favicon.ico, shipped with both apps)."""
        return send_from_directory(app.static_folder or "", "favicon.ico",
                                   mimetype="image/vnd.microsoft.icon", max_age=7 * 24 * 3600)

    @app.get("/healthz")
    def healthz() -> Any:
        """For the load balancer: a worker of this instance answers. It does not touch the
        database on purpose: when the shared database is down every instance would fail the
        check and the balancer would answer a bare 503, where the app says what happened and
        when to come back (Retry-After)."""
        return {"ok": True}

    register_error_handlers(app, ERROR_ANSWERS)
    app.after_request(add_security_headers)
    return app
