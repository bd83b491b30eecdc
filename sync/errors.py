"""The one exception hierarchy of both programs: a refusal a person or a client can act on.

Each app maps `AppError` to an HTTP answer in one place (a page or the JSON error shape of
DESIGN.md, `{"error": {"code", "message", ...}}`); the server adds its own refusals
(`sync/server/errors.py`) as subclasses of these.
"""
from __future__ import annotations

from typing import Any


class AppError(Exception):
    """A refusal with a stable code and an HTTP status. `message` is already translated, or a
    lazy string; `field` names the form field at fault; `extra` goes into the JSON answer."""

    status = 400
    code = "bad_request"

    def __init__(self, message: Any, *, code: str | None = None, field: str | None = None,
                 **extra: Any):
        super().__init__(str(message))
        self.message = message
        if code:
            self.code = code
        self.field = field
        self.extra = extra

    def to_dict(self) -> dict[str, Any]:
        """The JSON error shape: {"error": {"code", "message", "field"?, ...extra}}."""
        error: dict[str, Any] = {"code": self.code, "message": str(self.message)}
        if self.field:
            error["field"] = self.field
        return {"error": {**error, **self.extra}}


class InvalidInput(AppError):
    status = 400
    code = "invalid_input"


class NotAuthenticated(AppError):
    status = 401
    code = "not_authenticated"


class Forbidden(AppError):
    status = 403
    code = "forbidden"


class NotFound(AppError):
    status = 404
    code = "not_found"


class Conflict(AppError):
    status = 409
    code = "conflict"


class TooLarge(AppError):
    status = 413
    code = "too_large"


class TooManyAttempts(AppError):
    status = 429
    code = "locked"
