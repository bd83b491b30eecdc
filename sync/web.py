"""The web skeleton both apps share: the language of an answer, JSON or a page, and the
security headers every answer carries. Each app maps `sync.errors.AppError` and its storage's
own failures to answers with these (pos/app.py, sync/server/app.py)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import request, session

LANGUAGES = ("vi", "en")
CORE_TRANSLATIONS = Path(__file__).resolve().parent / "translations"


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
