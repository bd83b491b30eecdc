"""A stall's data directory: where it lives, and making it ready (secret key, schema, device id)."""
from __future__ import annotations

import os
import secrets
import uuid
from pathlib import Path

from . import db, migrations, settings

DATABASE_NAME = "pos.sqlite3"


def default_data_dir() -> Path:
    """MARKET_POS_DATA, else the user's data folder."""
    env = os.environ.get("MARKET_POS_DATA")
    if env:
        return Path(env)
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(Path.home(), ".local", "share")
    return Path(base) / "market-pos"


def database_path(data_dir: Path) -> Path:
    """The stall database inside a data directory."""
    return Path(data_dir) / DATABASE_NAME


def prepare(data_dir: Path) -> str:
    """Create the folder, secret key and schema if missing; apply migrations; return the device id.

    Safe to run at every start: each step only does what is still missing.
    """
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    secret_file = data_dir / "secret_key"
    if not secret_file.exists():
        secret_file.write_text(secrets.token_hex(32))
        secret_file.chmod(0o600)
    migrations.migrate(database_path(data_dir))
    conn = db.connect(database_path(data_dir))
    try:
        with db.write_transaction(conn):
            device_id = settings.read(conn, "device_id")
            if device_id is None:
                device_id = str(uuid.uuid4())
                settings.write(conn, "device_id", device_id)
        return device_id
    finally:
        conn.close()


def secret_key(data_dir: Path) -> str:
    """The session-signing key kept beside the database."""
    return (Path(data_dir) / "secret_key").read_text().strip()
