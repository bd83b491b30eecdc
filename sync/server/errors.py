"""The server's one exception hierarchy; `app.py` maps it to HTTP answers in one place."""
from __future__ import annotations

from typing import Any


class ServerError(Exception):
    """A refusal the caller can act on, with a stable code and an HTTP status."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None, **extra: Any):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.extra = extra

    def to_dict(self) -> dict[str, Any]:
        """The JSON error shape: {"error": {"code", "message", ...}}."""
        return {"error": {"code": self.code, "message": self.message, **self.extra}}


class InvalidInput(ServerError):
    status = 400
    code = "invalid_input"


class BadPairingCode(ServerError):
    status = 400
    code = "bad_pairing_code"


class BadBundle(ServerError):
    status = 400
    code = "bad_bundle"


class NotAuthenticated(ServerError):
    status = 401
    code = "not_authenticated"


class WrongDevice(ServerError):
    status = 403
    code = "wrong_device"


class NotFound(ServerError):
    status = 404
    code = "not_found"


class DeviceInUse(ServerError):
    status = 409
    code = "device_in_use"


class SigningKeyTaken(ServerError):
    status = 409
    code = "signing_key_registered"


class TooLarge(ServerError):
    status = 413
    code = "too_large"


class RateLimited(ServerError):
    status = 429
    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after
