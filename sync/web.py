"""The web skeleton both apps share: the language of an answer, JSON or a page, the error
answers, and the security headers every answer carries.

Both apps register the same error handlers (`register_error_handlers`): an `AppError` becomes
its status and the JSON error shape of DESIGN.md, or the app's error page; an HTTP error a short
message; anything unexpected a logged 500 that says nothing was saved. What differs between the
stall and the server is passed in as `ErrorAnswers` (pos/app.py, sync/server/app.py): the page,
the words, the server's `server_time`, and the handlers of each one's own storage failures.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

from flask import Flask, current_app, jsonify, make_response, render_template, request, session
from werkzeug.exceptions import HTTPException

from .errors import AppError

logger = logging.getLogger(__name__)

LANGUAGES = ("vi", "en")
CORE_TRANSLATIONS = Path(__file__).resolve().parent / "translations"


def asset_folder(package_dir: Path, name: str, repository: Path) -> str:
    """An app's templates or static folder: the installed copy inside its package (package
    data) if present, else the repository's top-level folder of that name (a source checkout)."""
    installed = package_dir / name
    return str(installed if installed.is_dir() else repository / name)


def translation_directories(own: Path) -> str:
    """BABEL_TRANSLATION_DIRECTORIES for an app: its own catalogue, then the core's."""
    return f"{own};{CORE_TRANSLATIONS}"

# No inline script anywhere: scripts, styles, fonts and images come from this origin only (data
# islands are <script type="application/json">, which CSP does not run). Same-origin frames are
# allowed for the receipt PDF in the stall's print view.
CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self';"
                           " img-src 'self' data:; font-src 'self'; connect-src 'self';"
                           " object-src 'none'; base-uri 'none'; form-action 'self';"
                           " frame-ancestors 'self'")


def select_locale() -> str:
    """The language chosen in the session; else the browser's for the API; else Vietnamese,
    which the pages speak first (English is one tap away)."""
    chosen = session.get("lang")
    if chosen in LANGUAGES:
        return chosen
    if request.path.startswith("/api/"):
        return request.accept_languages.best_match(LANGUAGES, default="vi") or "vi"
    return "vi"


def wants_json() -> bool:
    """API paths and clients that prefer JSON get JSON errors; people get pages."""
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def add_security_headers(response: Any) -> Any:
    """Headers every answer of both apps carries (the CSP on pages, where it means something)."""
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
    if response.mimetype == "text/html":
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    return response


def _no_headers(_exc: AppError) -> dict[str, str]:
    return {}


@dataclass(frozen=True)
class ErrorAnswers:
    """What differs between the two apps' error answers.

    The callables run inside the failing request, so the stall's words are translated then.
    `handlers` are each app's own failures (its storage's, its CSRF check's) mapped to answers
    with `error_response`; Flask picks the most specific class first.
    """

    page: str                                             # template given `status`, `message`
    http_message: Callable[[HTTPException], str]
    unexpected_message: Callable[[], str]
    json_extra: Callable[[], dict[str, Any]] = dict       # the server adds its `server_time`
    headers: Callable[[AppError], dict[str, str]] = _no_headers
    handlers: Mapping[type[Exception], Callable[[Exception], Any]] = field(default_factory=dict)


def error_response(status: int, error: dict[str, Any],
                   headers: Mapping[str, str] | None = None) -> Any:
    """One error answer: `{"error": {...}}` as JSON, or the app's error page, by who asked."""
    answers: ErrorAnswers = current_app.extensions["error_answers"]
    if wants_json():
        response = jsonify({"error": error, **answers.json_extra()})
    else:
        try:
            response = make_response(render_template(answers.page, status=status,
                                                     message=error["message"]))
        except Exception:  # the error page must not fail in turn
            logger.exception("cannot render the error page")
            response = make_response(str(error["message"]))
            response.mimetype = "text/plain"
    response.status_code = status
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def http_error_code(exc: HTTPException) -> str:
    """A stable code for an HTTP error: `too_large` (as `TooLarge`), else its snake-cased name."""
    if exc.code == 413:
        return "too_large"
    return (exc.name or "error").lower().replace(" ", "_")


def unexpected_error(exc: Exception) -> Any:
    """The logged 500 for anything no handler knows: nothing was saved, try again."""
    logger.exception("unexpected error on %s %s", request.method, request.path)
    answers: ErrorAnswers = current_app.extensions["error_answers"]
    return error_response(500, {"code": "internal", "message": answers.unexpected_message()})


def register_error_handlers(app: Flask, answers: ErrorAnswers) -> None:
    """The error handlers of an app, the same in both (see the module's docstring)."""
    app.extensions["error_answers"] = answers

    @app.errorhandler(AppError)
    def _app_error(exc: AppError) -> Any:
        return error_response(exc.status, exc.to_dict()["error"], answers.headers(exc))

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Any:
        return error_response(exc.code or 500, {"code": http_error_code(exc),
                                                "message": answers.http_message(exc)})

    for kind, handler in answers.handlers.items():
        app.register_error_handler(kind, handler)
    app.register_error_handler(Exception, unexpected_error)
