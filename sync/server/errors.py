"""The server's own refusals, beside the shared ones of `sync/errors.py`; `app.py` maps every
`AppError` to an HTTP answer in one place."""
from __future__ import annotations

from sync.errors import AppError, Conflict, Forbidden, InvalidInput


class BadPairingCode(InvalidInput):
    code = "bad_pairing_code"


class BadBundle(InvalidInput):
    code = "bad_bundle"


class WrongDevice(Forbidden):
    code = "wrong_device"


class DeviceInUse(Conflict):
    code = "device_in_use"


class SigningKeyTaken(Conflict):
    code = "signing_key_registered"


class RateLimited(AppError):
    status = 429
    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after
