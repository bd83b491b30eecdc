"""The server's one secret kept outside its database: session cookies and pairing codes.

A copy of the database must not be enough to pair a device (issue 15): a pairing code has only
31**8 values, so its plain SHA-256 could be searched in minutes. Codes are stored as an HMAC keyed
with this secret instead, which lives in MARKET_SERVER_SECRET_KEY or in a file of the server's
data folder, never in the database. The web app and the command line read it the same way, so a
code issued by one is redeemed by the other. Changing it ends sessions and unused codes.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import secrets

from .db import default_data_dir

SECRET_ENV = "MARKET_SERVER_SECRET_KEY"


def server_secret() -> str:
    """MARKET_SERVER_SECRET_KEY, else a key kept in the server's data folder (made once)."""
    env = os.environ.get(SECRET_ENV)
    if env:
        return env
    path = default_data_dir() / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # never world-readable
        except FileExistsError:          # another process made it first: read theirs
            pass
        else:
            with os.fdopen(fd, "w") as file:
                file.write(secrets.token_hex(32))
    return path.read_text().strip()


def pairing_code_digest(code: str) -> str:
    """What the database keeps of a pairing code: HMAC-SHA256 under the server's secret."""
    key = hashlib.sha256(b"market-pos pairing code\x00" + server_secret().encode()).digest()
    return hmac.new(key, code.encode("ascii"), hashlib.sha256).hexdigest()
