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
import tempfile

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
        # Written whole to a private temporary file, then linked into place: the key file never
        # exists empty (another process starting at once would read "" and sign with it), and
        # the first process to link wins; the others read its key.
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".secret_key.")  # mode 0600
        try:
            with os.fdopen(fd, "w") as file:
                file.write(secrets.token_hex(32))
                file.flush()
                os.fsync(file.fileno())
            try:
                os.link(temporary, path)
            except FileExistsError:
                pass
        finally:
            os.unlink(temporary)
    return path.read_text().strip()


def pairing_code_digest(code: str) -> str:
    """What the database keeps of a pairing code: HMAC-SHA256 under the server's secret."""
    key = hashlib.sha256(b"market-pos pairing code\x00" + server_secret().encode()).digest()
    return hmac.new(key, code.encode("ascii"), hashlib.sha256).hexdigest()
