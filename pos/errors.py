"""The one exception hierarchy for domain errors; `pos.app` maps it to HTTP answers in one place."""
from __future__ import annotations

from typing import Any


class PosError(Exception):
    """A refusal a person can understand. `message` is already translated (or a lazy string)."""

    status = 400
    code = "bad_request"

    def __init__(self, message: Any, *, code: str | None = None, field: str | None = None):
        super().__init__(str(message))
        self.message = message
        if code:
            self.code = code
        self.field = field

    def to_dict(self) -> dict[str, Any]:
        """The JSON error shape of DESIGN.md: {"error": {"code", "message"}}."""
        error: dict[str, Any] = {"code": self.code, "message": str(self.message)}
        if self.field:
            error["field"] = self.field
        return {"error": error}


class InvalidInput(PosError):
    status = 400
    code = "invalid_input"


class NotAuthenticated(PosError):
    status = 401
    code = "not_authenticated"


class Forbidden(PosError):
    status = 403
    code = "forbidden"


class NotFound(PosError):
    status = 404
    code = "not_found"


class Conflict(PosError):
    status = 409
    code = "conflict"


class TooManyAttempts(PosError):
    status = 429
    code = "locked"
