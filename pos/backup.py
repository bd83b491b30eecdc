"""Backups of the stall database: a consistent copy while selling, daily copies to a folder (a USB
stick) with rotation, and a restore that checks the copy before it replaces anything.

A copy is taken with SQLite's online backup API in one step: in WAL mode that is one read
snapshot, so sales go on while it runs and the copy holds every sale committed before it started,
each whole. The copy is written beside its target as `.part`, checked (integrity_check and the
journal's chain), synced to disk and only then renamed into place: a backup file that exists is
a sound backup.
"""
from __future__ import annotations

import fcntl
import logging
import os
import re
import sqlite3
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from sync import localtime

from . import db, journal, settings

logger = logging.getLogger(__name__)

KEY_FOLDER = "backup_folder"
KEY_KEEP = "backup_keep"
KEY_LAST_AT = "backup_last_at"
KEY_LAST_FILE = "backup_last_file"
KEY_LAST_ERROR = "backup_last_error"
DEFAULT_KEEP = 14
DAILY_PREFIX = "market-pos-"
_DAILY_NAME = re.compile(r"^market-pos-(\d{4}-\d{2}-\d{2})\.sqlite3$")
CHECK_SECONDS = 600.0  # how often the worker looks whether today's copy is still missing


class BackupError(Exception):
    """A backup or restore that did not happen; the message says why, for a person."""


@dataclass(frozen=True)
class Check:
    """What a database file holds and whether it is sound."""

    entries: int
    head_seq: int
    head_hash: str | None
    device_id: str | None
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


def check_database(path: Path) -> Check:
    """PRAGMA integrity_check and the journal's chain of a stall database file (read only)."""
    if not Path(path).is_file():
        return Check(0, 0, None, None, f"{path} does not exist")
    try:
        conn = sqlite3.connect(f"file:{Path(path).resolve()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        return Check(0, 0, None, None, f"cannot open {path}: {exc}")
    conn.row_factory = sqlite3.Row
    try:
        integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
        if integrity != "ok":
            return Check(0, 0, None, None, f"the database is damaged: {integrity:.200}")
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE"
                                                 " type = 'table'")}
        if not {"journal", "settings"} <= tables:
            return Check(0, 0, None, None, "this is not a market-pos stall database")
        device_id = settings.read(conn, "device_id")
        result = journal.verify(conn, device_id)
        head = conn.execute("SELECT seq, hash FROM journal ORDER BY seq DESC LIMIT 1").fetchone()
    except (sqlite3.DatabaseError, ValueError) as exc:  # a damaged file may not even decode
        return Check(0, 0, None, None, f"the database is damaged or unreadable: {exc!r:.200}")
    finally:
        conn.close()
    head_seq, head_hash = (head["seq"], head["hash"]) if head else (0, None)
    problem = None if result.ok else (f"the journal is broken at seq {result.broken_seq}:"
                                      f" {result.reason}")
    return Check(result.checked, head_seq, head_hash, device_id, problem)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _copy(source: sqlite3.Connection, target: Path) -> None:
    """The whole database in one backup step (one snapshot), as a self-contained file."""
    for suffix in ("", "-journal", "-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    dest = sqlite3.connect(target)
    try:
        source.backup(dest, pages=-1)
        dest.execute("PRAGMA journal_mode = DELETE")  # one file, nothing beside it to lose
    finally:
        dest.close()
    with open(target, "rb+") as file:
        os.fsync(file.fileno())


def backup(db_path: Path, target: Path) -> Check:
    """Write a checked copy of the stall database to `target`, replacing it only once sound."""
    target = Path(target)
    if target.resolve() == Path(db_path).resolve():
        raise BackupError("The backup cannot overwrite the stall's own database.")
    if not target.parent.is_dir():
        raise BackupError(f"The folder {target.parent} does not exist (is the USB stick in?).")
    part = target.with_name(target.name + ".part")
    source = db.connect(db_path)
    try:
        _copy(source, part)
    except (sqlite3.Error, OSError) as exc:
        Path(part).unlink(missing_ok=True)
        raise BackupError(f"No backup written to {target}: {exc}") from exc
    finally:
        source.close()
    checked = check_database(part)
    if not checked.ok:
        part.unlink(missing_ok=True)
        raise BackupError(f"No backup written: the copy is not sound ({checked.problem}).")
    os.replace(part, target)
    _fsync_dir(target.parent)
    logger.info("backup of %d entries written to %s", checked.entries, target)
    return checked


# --- daily backups to a folder ----------------------------------------------------------------

def daily_backups(folder: Path) -> list[Path]:
    """The daily backup files in a folder, oldest first."""
    if not Path(folder).is_dir():
        return []
    return sorted(p for p in Path(folder).iterdir() if _DAILY_NAME.match(p.name))


def rotate(folder: Path, keep: int) -> list[Path]:
    """Delete the oldest daily backups beyond `keep`; returns what was deleted."""
    old = daily_backups(folder)[:-keep] if keep > 0 else []
    for path in old:
        path.unlink(missing_ok=True)
    return old


def daily_backup(db_path: Path, folder: Path, keep: int = DEFAULT_KEEP,
                 day: str | None = None) -> Path | None:
    """Today's copy in `folder` (if it is not there yet) and rotation; the new file, or None."""
    day = day or localtime.today()
    target = Path(folder) / f"{DAILY_PREFIX}{day}.sqlite3"
    if target.exists():
        return None
    backup(db_path, target)
    rotate(folder, keep)
    return target


def configure(conn: sqlite3.Connection, folder: str | None, keep: int = DEFAULT_KEEP) -> None:
    """Set (or with None, switch off) the folder for automatic daily backups."""
    if keep < 1:
        raise BackupError("Keep at least one daily backup.")
    with db.write_transaction(conn):
        if folder:
            settings.write(conn, KEY_FOLDER, str(Path(folder).expanduser().resolve()))
            settings.write(conn, KEY_KEEP, str(keep))
        else:
            conn.execute("DELETE FROM settings WHERE key IN (?, ?)", (KEY_FOLDER, KEY_KEEP))


def status(conn: sqlite3.Connection) -> dict[str, str | int | None]:
    """The automatic backup's folder, how many it keeps, and its last result."""
    keep = settings.read(conn, KEY_KEEP)
    return {"folder": settings.read(conn, KEY_FOLDER),
            "keep": int(keep) if keep and keep.isdigit() else DEFAULT_KEEP,
            "last_at": settings.read(conn, KEY_LAST_AT),
            "last_file": settings.read(conn, KEY_LAST_FILE),
            "last_error": settings.read(conn, KEY_LAST_ERROR)}


class BackupWorker:
    """Makes the daily backup in a daemon thread of the serving process, beside the sales.

    Holds `<database>.backup-lock` while alive, so that `market-pos restore` can tell that the
    stall is being served (and so that two servers never write the same file).
    """

    def __init__(self, db_path: Path, *, check_seconds: float = CHECK_SECONDS):
        self.db_path = Path(db_path)
        self.check_seconds = check_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock_fd: int | None = None

    def start(self) -> None:
        """Take the lock and start the thread (once)."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._lock_fd = _take_lock(self.db_path)
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="backup-worker", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the thread and give the lock back."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def run_once(self, day: str | None = None) -> Path | None:
        """One look: write today's backup if a folder is set and the copy is missing."""
        conn = db.connect(self.db_path)
        try:
            state = status(conn)
            if not state["folder"]:
                return None
            try:
                written = daily_backup(self.db_path, Path(str(state["folder"])),
                                       int(state["keep"] or DEFAULT_KEEP), day)
            except (BackupError, OSError) as exc:
                logger.warning("daily backup failed: %s", exc)
                with db.write_transaction(conn):
                    settings.write(conn, KEY_LAST_ERROR, str(exc))
                return None
            if written is not None:
                with db.write_transaction(conn):
                    settings.write(conn, KEY_LAST_AT, _utc_now())
                    settings.write(conn, KEY_LAST_FILE, str(written))
                    conn.execute("DELETE FROM settings WHERE key = ?", (KEY_LAST_ERROR,))
            return written
        finally:
            conn.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception:  # the worker must outlive any one failure
                logger.exception("backup worker round failed")
            self._stop.wait(self.check_seconds)


def _utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _take_lock(db_path: Path) -> int:
    fd = os.open(f"{db_path}.backup-lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        raise BackupError("Another process already serves this stall.") from None
    return fd


def is_served(db_path: Path) -> bool:
    """Whether a `market-pos serve` holds this database (its backup or print lock)."""
    for name in (f"{db_path}.backup-lock", f"{db_path}.print-lock"):
        if not Path(name).exists():
            continue
        fd = os.open(name, os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return True
        finally:
            os.close(fd)  # closing drops the lock if we got it
    return False


# --- restore -----------------------------------------------------------------------------------

def _hash_at(path: Path, seq: int) -> str | None:
    conn = sqlite3.connect(f"file:{path.resolve()}?mode=ro", uri=True)
    try:
        row = conn.execute("SELECT hash FROM journal WHERE seq = ?", (seq,)).fetchone()
        return row[0] if row else None
    finally:
        conn.close()


def _database_files(db_path: Path) -> Iterator[Path]:
    for suffix in ("", "-wal", "-shm", "-journal"):
        path = Path(f"{db_path}{suffix}")
        if path.exists():
            yield path


def restore(source: Path, data_dir: Path, *, force: bool = False) -> tuple[Check, Path | None]:
    """Replace the stall's database with a checked backup; the old files are kept aside.

    Refused, with nothing changed, when the backup is not sound, when the stall is being served,
    or (unless `force`) when the current database holds entries the backup lacks or belongs to
    another chain: restoring then would lose sales. Returns the backup's check and the folder
    where the replaced files were moved (None if there was no database).
    """
    from . import stall
    source = Path(source)
    checked = check_database(source)
    if not checked.ok:
        raise BackupError(f"Nothing restored: {checked.problem}.")
    db_path = stall.database_path(data_dir)
    if is_served(db_path):
        raise BackupError("Nothing restored: the stall is being served. Stop `market-pos serve`"
                          " first.")
    if db_path.exists() and not force:
        current = check_database(db_path)
        if current.ok and current.head_seq > checked.head_seq:
            raise BackupError(
                f"Nothing restored: the stall holds {current.head_seq} entries and the backup"
                f" only {checked.head_seq}; restoring would lose the sales after it. Use --force"
                " if the stall's database must be replaced all the same.")
        if current.ok and current.head_seq and _hash_at(source, current.head_seq) != \
                current.head_hash:
            raise BackupError("Nothing restored: the backup is another journal than the stall's"
                              " (another stall, or a fork). Use --force to replace it anyway.")
    Path(data_dir).mkdir(parents=True, exist_ok=True)
    incoming = db_path.with_name(db_path.name + ".restoring")
    src = sqlite3.connect(f"file:{source.resolve()}?mode=ro", uri=True)
    try:
        _copy(src, incoming)
    finally:
        src.close()
    if not check_database(incoming).ok:  # the copy on this disk, not only the original
        incoming.unlink(missing_ok=True)
        raise BackupError("Nothing restored: the copy of the backup on this disk is not sound.")
    kept: Path | None = None
    existing = list(_database_files(db_path))
    if existing:
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        kept = Path(data_dir) / f"before-restore-{stamp}"
        kept.mkdir()
        for path in existing:
            os.replace(path, kept / path.name)
    os.replace(incoming, db_path)
    _fsync_dir(Path(data_dir))
    stall.prepare(Path(data_dir))  # an older backup gets the newer migrations
    logger.info("restored %d entries from %s (old files in %s)", checked.entries, source, kept)
    return checked, kept

