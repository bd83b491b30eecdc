"""The stall's side of sync (docs/SYNC.md): pairing, journal push, catalogue pull, USB bundles, and
the background worker that runs it all beside the sales.

No Flask here: the `market-pos` CLI, the worker thread in `market-pos serve` and the tests use it
directly. Rules kept throughout:
- the cursor is the server's `acked_seq`, stored after every answer, even when it goes down;
- no database transaction is ever open while waiting on the network (reads are single SELECTs,
  writes short transactions after the answer);
- one sync at a time per stall, across processes (a lock file in the data directory);
- a refused entry stops the push and is kept as "needs attention" with the server's reason.
"""
from __future__ import annotations

import email.utils
import errno
import fcntl
import json
import logging
import os
import random
import socket
import sqlite3
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterator

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from pos import bankcheck, catalog, db, qrpay, settings
from pos.stall import DATABASE_NAME
from sync.protocol import (BUNDLE_FORMAT, CLIENT_BATCH_BYTES, CLIENT_BATCH_ENTRIES, ProtocolError,
                           canonical_json, new_signing_key, parse_timestamp, public_key_of,
                           sign_bundle, utc_timestamp)
from sync.qrref import stall_id_of

logger = logging.getLogger(__name__)

# Settings keys (the stall's `settings` table).
KEY_DEVICE = "device_id"
KEY_SERVER = "sync_server_url"
KEY_TOKEN = "sync_token"
KEY_ACKED = "sync_acked_seq"
KEY_HEAD_HASH = "sync_head_hash"
KEY_LAST_AT = "sync_last_at"
KEY_LAST_ERROR = "sync_last_error"
KEY_LAST_ERROR_CODE = "sync_last_error_code"
KEY_LAST_ERROR_AT = "sync_last_error_at"
KEY_OFFSET = "sync_clock_offset_ms"
KEY_ATTENTION = "sync_needs_attention"
KEY_ETAG = "sync_catalogue_etag"
KEY_CATALOGUE_VERSION = "sync_catalogue_version"
KEY_PAIRED_AT = "sync_paired_at"
KEY_BUNDLE_AT = "sync_last_bundle_at"
KEY_BUNDLE_SEQ = "sync_last_bundle_seq"
KEY_BANK_CURSOR = "sync_bank_cursor"
# The Ed25519 key that signs USB bundles (hex of its private seed), kept beside the token: a
# backup restores both together, and the server holds only the public half.
KEY_SIGNING = "sync_signing_key"
KEY_SIGNING_REGISTERED = "sync_signing_key_registered"   # the public key the server confirmed
BANK_PAGES_PER_SYNC = 20

LOCK_NAME = "sync.lock"
DEFAULT_TIMEOUT = (5.0, 30.0)
BACKOFF_FIRST = 1.0
BACKOFF_CAP = 300.0
PULL_INTERVAL = 300.0
WATCHDOG_SECONDS = 120.0
ATTENTION_RETRY = 3600.0
MAX_RETRY_AFTER = 3600.0
REFUSED_CODES = ("conflict", "broken_chain", "bad_hash")
# Stall details that flow down: the server's key -> the stall's setting.
STALL_DETAILS = {"name": "stall_name", "market": "market", "commune": "commune",
                 "province": "province"}


# --- errors and results --------------------------------------------------------------------------

class SyncError(Exception):
    """A sync that did not complete; `code` is stable (for the screen), `message` for people."""

    def __init__(self, message: str, *, code: str = "error"):
        super().__init__(message)
        self.message = message
        self.code = code


class SyncRetryable(SyncError):
    """Unknown outcome (no answer, timeout, 5xx, 429, unreadable answer): send the same again later,
    not before `retry_after` seconds when the server said so."""

    def __init__(self, message: str, *, code: str = "network", retry_after: float | None = None):
        super().__init__(message, code=code)
        self.retry_after = retry_after


class SyncRefused(SyncError):
    """The server refuses the stall itself (revoked token, unknown device): pair again."""


class PairingError(SyncError):
    """Pairing did not succeed (wrong, used or expired code; too many attempts; bad address)."""

    def __init__(self, message: str, *, code: str = "pairing_failed",
                 retry_after: float | None = None):
        super().__init__(message, code=code)
        self.retry_after = retry_after


class SyncCancelled(SyncError):
    """This sync was aborted (watchdog or stop) and must not write anything more."""


@dataclass
class SyncResult:
    """What one sync did. `status`: ok, busy (another sync holds the lock), not_paired, or
    needs_attention (the server refused an entry; see `needs_attention`)."""

    status: str
    pushed: int = 0
    duplicates: int = 0
    batches: int = 0
    acked_seq: int = 0
    head_seq: int = 0
    catalogue: str | None = None      # "updated", "unchanged", or None when not pulled
    bank: int = 0                     # bank notifications applied (pos/bankcheck.py)
    needs_attention: dict[str, Any] | None = None

    @property
    def pending(self) -> int:
        return max(self.head_seq - self.acked_seq, 0)

    @property
    def ok(self) -> bool:
        """Everything went and nothing waits."""
        return self.status == "ok" and self.pending == 0


@dataclass(frozen=True)
class _Answer:
    status: int
    data: Any
    headers: Any


# --- the lock shared by every sync of this stall ------------------------------------------------

class SyncLock:
    """An exclusive `flock` on the data directory's lock file: one sync per stall, whichever
    process or thread runs it. `release` may be called from another thread (the watchdog)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._fd: int | None = None
        self._guard = threading.Lock()

    def acquire(self, wait: float = 0.0) -> bool:
        """Take the lock, trying for up to `wait` seconds; False if another sync holds it."""
        deadline = time.monotonic() + wait
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK) \
                        or time.monotonic() >= deadline:
                    os.close(fd)
                    return False
                time.sleep(0.05)
                continue
            with self._guard:
                self._fd = fd
            return True

    def release(self) -> None:
        """Give the lock back (idempotent)."""
        with self._guard:
            fd, self._fd = self._fd, None
        if fd is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_UN)
            finally:
                os.close(fd)

    @property
    def held(self) -> bool:
        return self._fd is not None


def lock_path(db_path: str | Path) -> Path:
    """The lock file beside the stall's database, in its data directory."""
    return Path(db_path).parent / LOCK_NAME


# --- HTTP: a session whose sockets can be cut from another thread --------------------------------

class _AbortableAdapter(HTTPAdapter):
    """Remembers the sockets it opens so that `abort()` can shut them: a request blocked on a
    silent or drip-feeding server then ends at once instead of at its read timeout."""

    def __init__(self) -> None:
        self.sockets: set[socket.socket] = set()
        self.aborted = False
        self._sockets_lock = threading.Lock()
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        adapter = self

        class Conn(HTTPConnection):
            def connect(self) -> None:
                super().connect()
                adapter._track(self.sock)

        class SConn(HTTPSConnection):
            def connect(self) -> None:
                super().connect()
                adapter._track(self.sock)

        class Pool(HTTPConnectionPool):
            ConnectionCls = Conn

        class SPool(HTTPSConnectionPool):
            ConnectionCls = SConn

        self.poolmanager.pool_classes_by_scheme = {"http": Pool, "https": SPool}

    def _track(self, sock: socket.socket | None) -> None:
        if sock is None:
            return
        with self._sockets_lock:
            if not self.aborted:
                self.sockets = {s for s in self.sockets if s.fileno() != -1} | {sock}
                return
        _shut(sock)   # connected just after abort(): cut at once

    def abort(self) -> None:
        with self._sockets_lock:
            self.aborted = True
            sockets, self.sockets = self.sockets, set()
        for sock in sockets:
            _shut(sock)


def _shut(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


def _new_session() -> tuple[requests.Session, _AbortableAdapter]:
    session = requests.Session()
    adapter = _AbortableAdapter()
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.trust_env = False  # a stall's proxy variables must not reroute its journal
    return session, adapter


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Retry-After as seconds (delta-seconds or an HTTP date), capped at an hour; None if absent."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), MAX_RETRY_AFTER)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    now = time.time() if now is None else now
    return min(max(moment.timestamp() - now, 0.0), MAX_RETRY_AFTER)


def normalise_server_url(url: str) -> str:
    """http(s)://host[:port][/prefix] without a trailing slash, or PairingError."""
    url = (url or "").strip().rstrip("/")
    if not url.startswith(("http://", "https://")) or len(url) > 300 or " " in url \
            or len(url.split("//", 1)[1]) == 0:
        raise PairingError("The server address must start with http:// or https://",
                           code="bad_server_url")
    return url


def normalise_code(code: str) -> str:
    """The pairing code as the server shows it (ABCD-EFGH), whatever spaces or case were typed."""
    letters = "".join(ch for ch in (code or "").upper() if ch.isalnum())
    if len(letters) != 8:
        raise PairingError("A pairing code has 8 letters and digits (ABCD-EFGH)",
                           code="bad_pairing_code")
    return f"{letters[:4]}-{letters[4:]}"


# --- reading the stall's state --------------------------------------------------------------------

@dataclass(frozen=True)
class SyncState:
    """The sync settings and figures of one stall, read in one go (for the screen and the API)."""

    device_id: str
    server_url: str | None
    paired: bool
    head_seq: int
    acked_seq: int
    last_sync_at: str | None
    last_error: str | None
    last_error_code: str | None
    last_error_at: str | None
    needs_attention: dict[str, Any] | None
    clock_offset_ms: int | None
    last_bundle_at: str | None
    catalogue_version: str | None

    @property
    def pending(self) -> int:
        return max(self.head_seq - self.acked_seq, 0)

    @property
    def last_any_at(self) -> str | None:
        """The latest sync of either kind: over the network, or a bundle written for a USB stick."""
        times = [t for t in (self.last_sync_at, self.last_bundle_at) if t]
        return max(times) if times else None

    def to_dict(self) -> dict[str, Any]:
        """The `GET /api/sync/status` answer."""
        return {"pending": self.pending, "acked_seq": self.acked_seq,
                "last_sync_at": self.last_sync_at, "last_error": self.last_error,
                "last_error_code": self.last_error_code, "needs_attention": self.needs_attention,
                "server_url": self.server_url, "paired": self.paired,
                "device_id": self.device_id, "head_seq": self.head_seq,
                "last_bundle_at": self.last_bundle_at, "clock_offset_ms": self.clock_offset_ms}


def _int(value: str | None, default: int = 0) -> int:
    try:
        return int(value) if value not in (None, "") else default
    except ValueError:
        return default


def read_state(conn: sqlite3.Connection) -> SyncState:
    """The stall's sync state from its database (one SELECT each; no transaction held)."""
    values = {row["key"]: row["value"] for row in conn.execute(
        "SELECT key, value FROM settings WHERE key = 'device_id' OR key LIKE 'sync\\_%' ESCAPE '\\'")}
    head = conn.execute("SELECT IFNULL(MAX(seq), 0) FROM journal").fetchone()[0]
    attention = None
    if values.get(KEY_ATTENTION):
        try:
            attention = json.loads(values[KEY_ATTENTION])
        except ValueError:
            attention = {"seq": None, "code": "unknown", "message": values[KEY_ATTENTION]}
    offset = values.get(KEY_OFFSET)
    return SyncState(
        device_id=values.get(KEY_DEVICE, ""), server_url=values.get(KEY_SERVER) or None,
        paired=bool(values.get(KEY_SERVER) and values.get(KEY_TOKEN)), head_seq=head,
        acked_seq=_int(values.get(KEY_ACKED)), last_sync_at=values.get(KEY_LAST_AT) or None,
        last_error=values.get(KEY_LAST_ERROR) or None,
        last_error_code=values.get(KEY_LAST_ERROR_CODE) or None,
        last_error_at=values.get(KEY_LAST_ERROR_AT) or None, needs_attention=attention,
        clock_offset_ms=_int(offset) if offset not in (None, "") else None,
        last_bundle_at=values.get(KEY_BUNDLE_AT) or None,
        catalogue_version=values.get(KEY_CATALOGUE_VERSION) or None)


def _entry_json(row: sqlite3.Row) -> bytes:
    """One stored journal row in its wire form, serialised canonically."""
    try:
        payload = json.loads(row["payload"])
    except ValueError as exc:
        raise ProtocolError(f"entry {row['seq']} has an unreadable payload: {exc}") from exc
    return canonical_json({"device_id": row["device_id"], "seq": row["seq"], "id": row["id"],
                           "kind": row["kind"], "at": row["at"], "payload": payload,
                           "prev_hash": row["prev_hash"], "hash": row["hash"]})


def _iter_entries(conn: sqlite3.Connection, after: int, limit: int) -> Iterator[sqlite3.Row]:
    # fetchall: the read transaction of this one SELECT ends before anything else happens.
    return iter(conn.execute(
        "SELECT seq, id, device_id, kind, at, payload, prev_hash, hash FROM journal"
        " WHERE seq > ? ORDER BY seq LIMIT ?", (after, limit)).fetchall())


# --- the client -----------------------------------------------------------------------------------

class SyncClient:
    """Pair with the provincial server, push the journal, pull the catalogue: one stall database.

    `clock` gives the device's time (seconds since the epoch): tests move it. `session` replaces
    the HTTP session (then `abort()` can only close it, not cut its sockets)."""

    def __init__(self, db_path: str | Path, *, session: requests.Session | None = None,
                 clock: Callable[[], float] = time.time,
                 timeout: tuple[float, float] = DEFAULT_TIMEOUT,
                 batch_entries: int = CLIENT_BATCH_ENTRIES,
                 batch_bytes: int = CLIENT_BATCH_BYTES):
        self.db_path = Path(db_path)
        self.clock = clock
        self.timeout = timeout
        self.batch_entries = min(batch_entries, CLIENT_BATCH_ENTRIES)
        self.batch_bytes = min(batch_bytes, CLIENT_BATCH_BYTES)
        if session is None:
            self.session, self._adapter = _new_session()
        else:
            self.session, self._adapter = session, None
        self.lock = SyncLock(lock_path(self.db_path))
        self.heartbeat: Callable[[], None] = lambda: None   # called on every answer (watchdog)
        self._cancelled = threading.Event()
        self._conn: sqlite3.Connection | None = None
        self._offset_ms: int | None = None   # from the last answer; stored with the next write

    # life cycle

    def close(self) -> None:
        """Close the database connection and the HTTP session."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        self.session.close()

    def abort(self) -> None:
        """Stop this client from another thread: cut its sockets, write nothing more, and give
        up the sync lock so that a fresh sync can start."""
        self._cancelled.set()
        if self._adapter is not None:
            self._adapter.abort()
        else:
            self.session.close()
        self.lock.release()

    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            self._conn = db.connect(self.db_path)
        return self._conn

    def state(self) -> SyncState:
        """The stall's sync state now."""
        return read_state(self.conn)

    # pairing

    def pair(self, server_url: str, code: str) -> dict[str, Any]:
        """Exchange a one-time code for this stall's token; adopt the server's device id if the
        journal is still empty. Returns the server's answer without the token."""
        server_url = normalise_server_url(server_url)
        code = normalise_code(code)
        if not self.lock.acquire(10.0):
            raise PairingError("A sync is running; try again in a moment", code="busy")
        try:
            return self._pair_locked(server_url, code)
        finally:
            self.lock.release()

    def _pair_locked(self, server_url: str, code: str) -> dict[str, Any]:
        conn = self.conn
        device_id = settings.read(conn, KEY_DEVICE) or ""
        head = conn.execute("SELECT IFNULL(MAX(seq), 0) FROM journal").fetchone()[0]
        signing_key = new_signing_key()   # a new pairing, a new key (the old one may be lost)
        public_key = public_key_of(signing_key)
        body = canonical_json({"code": code, "device_id": device_id, "head_seq": head,
                               "public_key": public_key})
        try:
            answer = self._post(server_url, "/api/v1/pair", body, token=None)
        except SyncRetryable as exc:
            raise PairingError(f"The server did not answer: {exc.message}", code=exc.code,
                               retry_after=exc.retry_after) from exc
        data = answer.data if isinstance(answer.data, dict) else {}
        if answer.status == 429:
            raise PairingError("Too many pairing attempts; wait and try again",
                               code="too_many_attempts",
                               retry_after=parse_retry_after(answer.headers.get("Retry-After")))
        if answer.status != 200:
            error = data.get("error") if isinstance(data.get("error"), dict) else {}
            raise PairingError(str(error.get("message") or f"HTTP {answer.status}"),
                               code=str(error.get("code") or "pairing_failed"))
        new_device, token, acked = data.get("device_id"), data.get("token"), data.get("acked_seq")
        if not isinstance(new_device, str) or not isinstance(token, str) or not token \
                or isinstance(acked, bool) or not isinstance(acked, int) or acked < 0:
            raise PairingError("The server's answer is not a pairing answer", code="bad_answer")
        with self._writing():
            now_head = conn.execute("SELECT IFNULL(MAX(seq), 0) FROM journal").fetchone()[0]
            if new_device != device_id:
                if now_head != 0:
                    raise PairingError("The server gave another device id, but this stall has"
                                       " already recorded entries under its own",
                                       code="device_mismatch")
                settings.write(conn, KEY_DEVICE, new_device)
            for key, value in ((KEY_SERVER, server_url), (KEY_TOKEN, token),
                               (KEY_PAIRED_AT, utc_timestamp(self._now())),
                               (KEY_SIGNING, signing_key)):
                settings.write(conn, key, value)
            for key in (KEY_ETAG, KEY_CATALOGUE_VERSION, KEY_LAST_ERROR, KEY_LAST_ERROR_CODE,
                        KEY_LAST_ERROR_AT, KEY_ATTENTION, KEY_HEAD_HASH, KEY_SIGNING_REGISTERED):
                conn.execute("DELETE FROM settings WHERE key = ?", (key,))
            if data.get("public_key") == public_key:   # an older server ignores the key
                settings.write(conn, KEY_SIGNING_REGISTERED, public_key)
            _stored, problem = self._store_cursor(conn, acked, data.get("head_hash"), now_head)
            if problem:
                settings.write(conn, KEY_ATTENTION, json.dumps(problem, ensure_ascii=False))
            if isinstance(data.get("stall"), dict):
                self._store_stall_details(conn, data["stall"])
        return {key: value for key, value in data.items() if key != "token"}

    # one sync

    def sync_once(self, *, progress: Callable[[int, int], None] | None = None,
                  lock_wait: float = 0.5, retry_refused: bool = True) -> SyncResult:
        """Push every entry the server lacks, then pull the catalogue. Raises SyncRetryable
        (unknown outcome: try again later), SyncRefused (pair again); returns the result
        otherwise. With `retry_refused` False, a stall that needs attention does not push."""
        if not self.lock.acquire(lock_wait):
            return SyncResult("busy")
        try:
            return self._sync_locked(progress, retry_refused)
        except SyncCancelled:
            raise
        except SyncError as exc:
            self._record_error(exc)
            raise
        finally:
            self.lock.release()

    def _sync_locked(self, progress: Callable[[int, int], None] | None,
                     retry_refused: bool) -> SyncResult:
        state = self.state()
        if not state.paired:
            return SyncResult("not_paired", acked_seq=state.acked_seq, head_seq=state.head_seq)
        result = SyncResult("ok", acked_seq=state.acked_seq, head_seq=state.head_seq)
        self._register_signing_key(state)
        # Bank notifications first: a payment they confirm becomes an entry that goes up now.
        result.bank = self._pull_bank(state)
        if result.bank:
            result.head_seq = self.state().head_seq
        if state.needs_attention is None or retry_refused:
            self._push(state, result, progress)
        else:
            result.status, result.needs_attention = "needs_attention", state.needs_attention
        result.catalogue = self._pull(state)
        from pos.tax import settings as tax_settings, status as tax_status  # they import this
        if tax_settings.load(self.conn).mode == "mtt":   # which e-invoices the tax office holds
            tax_status.refresh(self.conn, session=self.session)
        with self._writing() as conn:
            settings.write(conn, KEY_LAST_AT, utc_timestamp(self._now()))
            for key in (KEY_LAST_ERROR, KEY_LAST_ERROR_CODE, KEY_LAST_ERROR_AT):
                conn.execute("DELETE FROM settings WHERE key = ?", (key,))
        return result

    # push

    def _push(self, state: SyncState, result: SyncResult,
              progress: Callable[[int, int], None] | None) -> None:
        acked = state.acked_seq
        batch_entries = self.batch_entries
        rewinds = stalls = 0
        refused: dict[str, Any] | None = None
        if state.pending == 0:
            # Nothing to send: still ask how far the server holds the journal, so that a server
            # restored from an older backup is noticed (and refilled) without waiting for a sale.
            acked, refused = self._check_head(state, acked)
        while refused is None:
            head = self.conn.execute("SELECT IFNULL(MAX(seq), 0) FROM journal").fetchone()[0]
            result.head_seq = head
            if progress:
                progress(acked, head)
            try:
                body = self._batch(state.device_id, acked, batch_entries)
            except ProtocolError as exc:
                refused = {"seq": acked + 1, "code": "unreadable_entry", "message": str(exc)}
                break
            if body is None:
                break
            answer = self._post(state.server_url, "/api/v1/journal", body, token=self._token(),
                                extra={"X-Device-Time": utc_timestamp(self._now())})
            self._raise_for_transient(answer)
            data = answer.data if isinstance(answer.data, dict) else {}
            error = data.get("error") if isinstance(data.get("error"), dict) else {}
            code = str(error.get("code") or f"http_{answer.status}")
            if answer.status == 413 and batch_entries > 1:
                batch_entries = max(1, batch_entries // 2)   # the server's cap is lower: halve
                continue
            if answer.status in (401, 403) and code != "wrong_device":
                raise SyncRefused(f"The server refused this stall ({error.get('message') or code});"
                                  " pair it again", code="unauthorised")
            if answer.status not in (200, 400, 403, 409, 413):
                raise SyncError(f"Unexpected answer from the server: HTTP {answer.status}",
                                code="unexpected_answer")
            problem = None
            if "acked_seq" in data:
                new_acked = self._acked_from(data)
                # Stored from every answer, even lower than before (the server lost entries).
                stored, problem = self._save_answer(data, new_acked, head)
                if stored < acked:
                    rewinds += 1
                    logger.warning("the server holds only up to seq %d: resending from there",
                                   stored)
                stalls = stalls + 1 if stored == acked else 0
                acked = stored
            elif answer.status == 200:
                raise SyncRetryable("The server's answer has no acked_seq", code="bad_answer")
            if answer.status == 200:
                result.batches += 1
                result.pushed += _count(data.get("stored"))
                result.duplicates += _count(data.get("duplicates"))
            elif not (answer.status == 409 and code == "sequence_gap"):
                # Refused (conflict, broken_chain, bad_hash, malformed…): the server's reason.
                refused = {"seq": _count(error.get("seq")) or acked + 1, "code": code,
                           "message": str(error.get("message") or f"HTTP {answer.status}")}
            refused = refused or problem   # else: rewound above, send again from there
            if refused is None and (rewinds > 3 or stalls >= 3):
                raise SyncRetryable("The server does not move on with the journal",
                                    code="no_progress")
        result.acked_seq = acked
        with self._writing() as conn:
            if refused is None:
                conn.execute("DELETE FROM settings WHERE key = ?", (KEY_ATTENTION,))
            else:
                logger.error("entry %s needs attention: %s (%s)", refused["seq"],
                             refused["code"], refused["message"])
                settings.write(conn, KEY_ATTENTION, json.dumps(refused, ensure_ascii=False))
        if refused is not None:
            result.status, result.needs_attention = "needs_attention", refused
        if progress:
            progress(acked, result.head_seq)

    def _check_head(self, state: SyncState, acked: int) -> tuple[int, dict[str, Any] | None]:
        answer = self._request("GET", state.server_url, "/api/v1/journal/head", None,
                               token=self._token())
        self._raise_for_transient(answer)
        data = answer.data if isinstance(answer.data, dict) else {}
        if answer.status in (401, 403):
            raise SyncRefused("The server refused this stall; pair it again", code="unauthorised")
        if answer.status != 200:
            raise SyncError(f"Unexpected answer from the server: HTTP {answer.status}",
                            code="unexpected_answer")
        head = self.conn.execute("SELECT IFNULL(MAX(seq), 0) FROM journal").fetchone()[0]
        stored, problem = self._save_answer(data, self._acked_from(data), head)
        if stored < acked:
            logger.warning("the server holds only up to seq %d: resending from there", stored)
        return stored, problem

    def _batch(self, device_id: str, acked: int, max_entries: int) -> bytes | None:
        """The next batch after `acked` as a request body, within the entry and byte caps."""
        parts: list[bytes] = []
        size = 64
        for row in _iter_entries(self.conn, acked, max_entries):
            part = _entry_json(row)
            if parts and size + len(part) + 1 > self.batch_bytes:
                break
            parts.append(part)
            size += len(part) + 1
        if not parts:
            return None
        # The envelope around entries already in canonical form: {"device_id":…,"entries":[…]}
        return (b'{"device_id":' + canonical_json(device_id) + b',"entries":['
                + b",".join(parts) + b"]}")

    def _acked_from(self, data: dict[str, Any]) -> int:
        acked = data.get("acked_seq")
        if isinstance(acked, bool) or not isinstance(acked, int) or acked < 0:
            raise SyncRetryable("The server's answer has no acked_seq", code="bad_answer")
        return acked

    def _save_answer(self, data: dict[str, Any], server_acked: int,
                     head: int) -> tuple[int, dict[str, Any] | None]:
        """Store the server's cursor and clock; returns the stored cursor and any problem."""
        with self._writing() as conn:
            stored, problem = self._store_cursor(conn, server_acked, data.get("head_hash"), head)
        self.heartbeat()
        return stored, problem

    def _store_cursor(self, conn: sqlite3.Connection, server_acked: int, head_hash: Any,
                      head: int) -> tuple[int, dict[str, Any] | None]:
        """Keep the server's acked_seq, even lower than before; never one beyond this stall's own
        journal (a stall restored from an old backup): that would skip its next entries."""
        problem = None
        if server_acked > head:
            problem = {"seq": head + 1, "code": "stall_behind",
                       "message": f"The server holds {server_acked} entries of this stall, the"
                                  f" stall only {head}: was it restored from an old backup?"}
            stored = head
        else:
            stored = server_acked
            if isinstance(head_hash, str) and server_acked > 0:
                local = conn.execute("SELECT hash FROM journal WHERE seq = ?",
                                     (server_acked,)).fetchone()
                if local is not None and local["hash"] != head_hash:
                    problem = {"seq": server_acked, "code": "diverged",
                               "message": f"The server's entry {server_acked} differs from"
                                          " this stall's"}
        settings.write(conn, KEY_ACKED, str(stored))
        if isinstance(head_hash, str):
            settings.write(conn, KEY_HEAD_HASH, head_hash)
        return stored, problem

    # the bundle signing key

    def _register_signing_key(self, state: SyncState) -> None:
        """Make sure the server holds this stall's bundle key (stalls paired before keys had
        none): make one if needed and register it with the token, once."""
        signing_key = settings.read(self.conn, KEY_SIGNING)
        if not signing_key:
            with self._writing() as conn:
                signing_key = settings.read(conn, KEY_SIGNING) or new_signing_key()
                settings.write(conn, KEY_SIGNING, signing_key)
        public_key = public_key_of(signing_key)
        if settings.read(self.conn, KEY_SIGNING_REGISTERED) == public_key:
            return
        answer = self._request("PUT", state.server_url, "/api/v1/device-key",
                               canonical_json({"public_key": public_key}), token=self._token(),
                               headers={"Content-Type": "application/json"})
        if answer.status == 404:
            return             # a server from before bundle keys: it takes no bundles of ours
        self._raise_for_transient(answer)
        if answer.status in (401, 403):
            raise SyncRefused(f"The server refused this stall (HTTP {answer.status}); pair it"
                              " again", code="unauthorised")
        if answer.status != 200:
            logger.warning("the server did not take this stall's bundle key (HTTP %s): USB"
                           " bundles need a new pairing", answer.status)
            return             # sales still sync; export-bundle says what to do
        with self._writing() as conn:
            settings.write(conn, KEY_SIGNING_REGISTERED, public_key)

    # pull

    def _pull_bank(self, state: SyncState) -> int:
        """Apply the bank notifications the server routed to this stall (docs/SYNC.md). Each is
        applied once: the stall remembers every bank transaction id it has seen, so the cursor
        may lag behind after a crash without anything being counted twice."""
        cursor = _int(settings.read(self.conn, KEY_BANK_CURSOR))
        applied = 0
        for _page in range(BANK_PAGES_PER_SYNC):
            answer = self._request("GET", state.server_url,
                                   f"/api/v1/bank/notifications?after={cursor}", None,
                                   token=self._token())
            if answer.status == 404:
                return applied          # a server without bank notifications
            self._raise_for_transient(answer)
            data = answer.data
            if answer.status in (401, 403):
                raise SyncRefused(f"The server refused this stall (HTTP {answer.status});"
                                  " pair it again", code="unauthorised")
            if answer.status != 200 or not isinstance(data, dict) \
                    or not isinstance(data.get("notifications"), list):
                raise SyncRetryable(f"Bank notifications could not be read (HTTP"
                                    f" {answer.status})", code="bad_answer")
            for item in data["notifications"]:
                txn = _bank_transaction(item)
                if txn is None:
                    logger.warning("bank notification skipped: %r", item)
                else:
                    if self._cancelled.is_set():
                        raise SyncCancelled("this sync was stopped", code="cancelled")
                    outcome = bankcheck.apply(self.conn, state.device_id or "", txn, "server")
                    applied += outcome.state != "duplicate"
                if isinstance(item, dict) and isinstance(item.get("id"), int):
                    cursor = max(cursor, item["id"])
            with self._writing() as conn:
                settings.write(conn, KEY_BANK_CURSOR, str(cursor))
            if not data.get("more"):
                break
        return applied

    def _pull(self, state: SyncState) -> str:
        etag = settings.read(self.conn, KEY_ETAG)
        headers = {"If-None-Match": etag} if etag else {}
        answer = self._request("GET", state.server_url, "/api/v1/catalogue", None,
                               token=self._token(), headers=headers)
        if answer.status == 304:
            with self._writing():
                pass   # the clock offset of this answer
            return "unchanged"
        self._raise_for_transient(answer)
        data = answer.data
        if answer.status != 200 or not isinstance(data, dict) \
                or not isinstance(data.get("products"), list):
            error = data.get("error") if isinstance(data, dict) and \
                isinstance(data.get("error"), dict) else {}
            if answer.status in (401, 403):
                raise SyncRefused(f"The server refused this stall"
                                  f" ({error.get('message') or answer.status}); pair it again",
                                  code="unauthorised")
            raise SyncRetryable(f"The catalogue could not be read (HTTP {answer.status})",
                                code="bad_answer")
        with self._writing() as conn:
            counts = catalog.merge_server_catalogue(conn, data["products"])
            if isinstance(data.get("stall"), dict):
                self._store_stall_details(conn, data["stall"])
            if answer.headers.get("ETag"):
                settings.write(conn, KEY_ETAG, answer.headers["ETag"])
            if data.get("version") is not None:
                settings.write(conn, KEY_CATALOGUE_VERSION, str(data["version"]))
        logger.info("catalogue version %s merged: %s", data.get("version"), counts)
        return "updated"

    # bits

    def _token(self) -> str:
        return settings.read(self.conn, KEY_TOKEN) or ""

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), timezone.utc)

    @contextmanager
    def _writing(self) -> Iterator[sqlite3.Connection]:
        """A short write transaction, refused once this client has been aborted."""
        if self._cancelled.is_set():
            raise SyncCancelled("this sync was stopped", code="cancelled")
        with db.write_transaction(self.conn) as conn:
            if self._offset_ms is not None:   # the clock of every answer, with the next write
                settings.write(conn, KEY_OFFSET, str(self._offset_ms))
                self._offset_ms = None
            yield conn

    @staticmethod
    def _store_stall_details(conn: sqlite3.Connection, stall: dict[str, Any]) -> None:
        for server_key, setting in STALL_DETAILS.items():
            value = stall.get(server_key)
            if not isinstance(value, str):
                continue
            value = " ".join(value.split())
            if value and len(value) <= settings.STALL_FIELDS[setting][1]:
                settings.write(conn, setting, value)
        code = stall.get("payment_code")
        if isinstance(code, str) and stall_id_of(code):
            settings.write(conn, qrpay.KEY_STALL_CODE, code)

    def _record_error(self, exc: SyncError) -> None:
        try:
            with self._writing() as conn:
                settings.write(conn, KEY_LAST_ERROR, exc.message[:500])
                settings.write(conn, KEY_LAST_ERROR_CODE, exc.code)
                settings.write(conn, KEY_LAST_ERROR_AT, utc_timestamp(self._now()))
        except (SyncCancelled, sqlite3.Error):
            logger.exception("could not record the sync error")

    def _raise_for_transient(self, answer: _Answer) -> None:
        """5xx and 429 (and an unreadable body) are unknown outcomes: try again later."""
        if answer.status == 429 or answer.status >= 500:
            retry_after = parse_retry_after(answer.headers.get("Retry-After"), self.clock())
            code = "server_busy" if answer.status in (429, 503) else "server_error"
            raise SyncRetryable(f"The server answered HTTP {answer.status}", code=code,
                                retry_after=retry_after)
        if answer.data is _UNREADABLE:
            raise SyncRetryable(f"The server's answer (HTTP {answer.status}) could not be read",
                                code="bad_answer")

    def _post(self, server_url: str | None, path: str, body: bytes, token: str | None,
              extra: dict[str, str] | None = None) -> _Answer:
        return self._request("POST", server_url, path, body, token=token,
                             headers={"Content-Type": "application/json", **(extra or {})})

    def _request(self, method: str, server_url: str | None, path: str, body: bytes | None, *,
                 token: str | None, headers: dict[str, str] | None = None) -> _Answer:
        if self._cancelled.is_set():
            raise SyncCancelled("this sync was stopped", code="cancelled")
        all_headers = {"Accept": "application/json", **(headers or {})}
        if token:
            all_headers["Authorization"] = f"Bearer {token}"
        started = self.clock()
        try:
            response = self.session.request(method, f"{server_url}{path}", data=body,
                                            headers=all_headers, timeout=self.timeout,
                                            allow_redirects=False)
            content = response.content   # a body cut short raises here
        except requests.Timeout as exc:
            raise self._cancelled_or(SyncRetryable(f"No answer in time: {exc}", code="timeout"))
        except (requests.RequestException, OSError) as exc:
            raise self._cancelled_or(SyncRetryable(f"No connection to the server: {exc}",
                                                   code="network"))
        if self._cancelled.is_set():
            raise SyncCancelled("this sync was stopped", code="cancelled")
        middle = (started + self.clock()) / 2   # device time halfway through the exchange
        self.heartbeat()
        data: Any = None
        if content:
            try:
                data = json.loads(content.decode("utf-8"))
            except (UnicodeDecodeError, ValueError):
                data = _UNREADABLE
        elif response.status_code not in (204, 304):
            data = _UNREADABLE
        server_time = data.get("server_time") if isinstance(data, dict) else None
        if not isinstance(server_time, str):
            server_time = response.headers.get("X-Server-Time")
        try:
            self._offset_ms = round((parse_timestamp(server_time).timestamp() - middle) * 1000)
        except (ProtocolError, TypeError, ValueError):
            pass
        return _Answer(response.status_code, data, response.headers)

    def _cancelled_or(self, exc: SyncError) -> SyncError:
        if self._cancelled.is_set():
            return SyncCancelled("this sync was stopped", code="cancelled")
        return exc


_UNREADABLE = object()


def _bank_transaction(item: Any) -> bankcheck.BankTransaction | None:
    """A notification from the server as a bank transaction, or None if it is malformed."""
    if not isinstance(item, dict):
        return None
    txn_id, amount = item.get("txn_id"), item.get("amount")
    description, paid_at = item.get("description") or "", item.get("paid_at")
    if not isinstance(txn_id, str) or not txn_id or isinstance(amount, bool) \
            or not isinstance(amount, int) or amount <= 0 or not isinstance(description, str):
        return None
    return bankcheck.BankTransaction(txn_id[:64], amount, description,
                                     paid_at if isinstance(paid_at, str) else None)


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


# --- bundles for a USB stick -----------------------------------------------------------------------

def export_bundle(db_path: str | Path, path: str | Path, *,
                  clock: Callable[[], float] = time.time) -> dict[str, Any]:
    """Write every entry the server has not acknowledged into a bundle file (docs/SYNC.md),
    signed with the stall's bundle key. Returns {"entries", "first_seq", "last_seq", "path"}.
    Written to a temporary file and renamed, so a half-written bundle never exists."""
    path = Path(path)
    conn = db.connect(db_path)
    try:
        state = read_state(conn)
        if not settings.read(conn, KEY_TOKEN):
            raise SyncError("Pair the stall with the provincial server first: a bundle is signed"
                            " with the stall's key", code="not_paired")
        signing_key = settings.read(conn, KEY_SIGNING)
        if not signing_key or \
                settings.read(conn, KEY_SIGNING_REGISTERED) != public_key_of(signing_key):
            raise SyncError("The provincial server does not know this stall's bundle key yet:"
                            " connect to the network and sync once (or pair the stall again),"
                            " then save the bundle", code="key_not_registered")
        rows = conn.execute(
            "SELECT seq, id, device_id, kind, at, payload, prev_hash, hash FROM journal"
            " WHERE seq > ? ORDER BY seq", (state.acked_seq,)).fetchall()
        entries = [json.loads(_entry_json(row)) for row in rows]
        created_at = utc_timestamp(datetime.fromtimestamp(clock(), timezone.utc))
        bundle = {"format": BUNDLE_FORMAT, "device_id": state.device_id,
                  "created_at": created_at, "entries": entries}
        bundle["signature"] = sign_bundle(signing_key, state.device_id, created_at, entries)
        tmp = path.with_name(f".{path.name}.tmp")
        with open(tmp, "wb") as f:
            f.write(canonical_json(bundle))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        with db.write_transaction(conn):
            settings.write(conn, KEY_BUNDLE_AT, created_at)
            settings.write(conn, KEY_BUNDLE_SEQ, str(rows[-1]["seq"] if rows else state.acked_seq))
    finally:
        conn.close()
    return {"entries": len(entries), "first_seq": entries[0]["seq"] if entries else None,
            "last_seq": entries[-1]["seq"] if entries else None, "path": str(path)}


# --- the background worker -------------------------------------------------------------------------

class Backoff:
    """Exponential back-off with full jitter: after the n-th failure in a row wait a random time
    in [0, min(cap, first·2ⁿ⁻¹)], but never less than the server's Retry-After."""

    def __init__(self, first: float = BACKOFF_FIRST, cap: float = BACKOFF_CAP,
                 rand: Callable[[], float] = random.random):
        self.first, self.cap, self.rand = first, cap, rand
        self.failures = 0

    def ceiling(self, failures: int | None = None) -> float:
        n = self.failures if failures is None else failures
        return min(self.cap, self.first * 2 ** max(n - 1, 0)) if n > 0 else 0.0

    def failure(self, retry_after: float | None = None) -> float:
        """Count one more failure; the delay before the next attempt."""
        self.failures += 1
        delay = self.rand() * self.ceiling()
        return max(delay, retry_after or 0.0)

    def reset(self) -> None:
        self.failures = 0


_workers: dict[Path, "SyncWorker"] = {}
_workers_lock = threading.Lock()


def running_worker(db_path: str | Path) -> "SyncWorker | None":
    """The worker started in this process for that database, if any."""
    with _workers_lock:
        worker = _workers.get(Path(db_path).resolve())
    return worker if worker is not None and worker.running else None


class SyncWorker:
    """Syncs in a daemon thread: soon after something is recorded, and every `pull_interval`
    to pull the catalogue; backs off with full jitter after failures (honouring Retry-After);
    `wake()` for "Sync now". A watchdog thread restarts a sync that shows no progress for
    `watchdog_seconds` (its sockets are cut and a fresh thread and client take over)."""

    def __init__(self, target: str | Path,
                 client_factory: Callable[[], SyncClient] | None = None, *,
                 pull_interval: float = PULL_INTERVAL, poll_seconds: float = 2.0,
                 watchdog_seconds: float = WATCHDOG_SECONDS,
                 attention_retry: float = ATTENTION_RETRY,
                 clock: Callable[[], float] = time.monotonic,
                 rand: Callable[[], float] = random.random, backoff_cap: float = BACKOFF_CAP):
        target = Path(target)
        self.db_path = target / DATABASE_NAME if target.is_dir() else target
        self.client_factory = client_factory or (lambda: SyncClient(self.db_path))
        self.pull_interval = pull_interval
        self.poll_seconds = poll_seconds
        self.watchdog_seconds = watchdog_seconds
        self.attention_retry = attention_retry
        self.clock = clock
        self.backoff = Backoff(cap=backoff_cap, rand=rand)
        self.restarts = 0
        self.syncs = 0
        self.last_result: SyncResult | None = None
        self.last_exception: BaseException | None = None
        self.next_attempt_at = 0.0       # on `clock`: not before (back-off, Retry-After)
        self._pull_at = 0.0
        self._attention_retry_at = 0.0
        self._state_lock = threading.Lock()
        self._wake = threading.Event()
        self._manual = False
        self._stop = threading.Event()
        self._generation = 0
        self._thread: threading.Thread | None = None
        self._watchdog: threading.Thread | None = None
        self._client: SyncClient | None = None
        self._sync_started: float | None = None
        self._progress_at = 0.0
        self._conn: sqlite3.Connection | None = None

    # life cycle

    def start(self) -> None:
        """Start the worker and its watchdog (once)."""
        if self.running:
            return
        self._stop.clear()
        with _workers_lock:
            _workers[self.db_path.resolve()] = self
        self._start_thread()
        self._watchdog = threading.Thread(target=self._watch, name="sync-watchdog", daemon=True)
        self._watchdog.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop now: a sync in progress is aborted (its sockets cut), then the threads joined."""
        self._stop.set()
        self._wake.set()
        with _workers_lock:
            if _workers.get(self.db_path.resolve()) is self:
                del _workers[self.db_path.resolve()]
        with self._state_lock:
            client = self._client
        if client is not None:
            client.abort()
        deadline = time.monotonic() + timeout
        if self._watchdog is not None:   # first: it may still replace the worker thread
            self._watchdog.join(max(deadline - time.monotonic(), 0.0))
        if self._thread is not None:
            self._thread.join(max(deadline - time.monotonic(), 0.0))

    def wake(self) -> None:
        """Sync now ("Sync now" button), even during a back-off, refused entries included."""
        with self._state_lock:
            self._manual = True
        self._wake.set()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive() and not self._stop.is_set()

    @property
    def syncing(self) -> bool:
        return self._sync_started is not None

    def _start_thread(self, generation: int | None = None) -> None:
        if generation is None:
            with self._state_lock:
                self._generation += 1
                generation = self._generation
        thread = threading.Thread(target=self._run, args=(generation,),
                                  name=f"sync-worker-{generation}", daemon=True)
        thread.start()
        self._thread = thread

    # the loop

    def _run(self, generation: int) -> None:
        while not self._stop.is_set() and generation == self._generation:
            try:
                self._round(generation)
            except Exception:
                logger.exception("sync worker round failed")
            self._wake.wait(self.poll_seconds)
            self._wake.clear()
        if self._conn is not None and generation == self._generation:
            self._conn.close()
            self._conn = None

    def _round(self, generation: int) -> None:
        now = self.clock()
        with self._state_lock:
            manual, self._manual = self._manual, False
        if not manual:
            if now < self.next_attempt_at:
                return
            if now < self._pull_at:
                state = read_state(self._connection())
                if not (state.paired and state.pending and state.needs_attention is None):
                    return
        retry_refused = manual or now >= self._attention_retry_at
        self._sync(generation, retry_refused)

    def _sync(self, generation: int, retry_refused: bool) -> None:
        client = self.client_factory()
        client.heartbeat = self._beat
        with self._state_lock:
            # Checked under the lock that stop() and the watchdog take: either they see this
            # client (and can abort it), or this sync sees that it must not start.
            if self._stop.is_set() or generation != self._generation:
                client.close()
                return
            self._client = client
            self._sync_started = self._progress_at = self.clock()
        outcome: SyncResult | BaseException
        try:
            outcome = client.sync_once(retry_refused=retry_refused)
        except SyncCancelled:
            return
        except Exception as exc:  # SyncError, or a bug: either way, back off
            outcome = exc
        finally:
            client.close()
            with self._state_lock:
                if self._client is client:
                    self._client = None
                    self._sync_started = None
        if generation != self._generation:
            return   # the watchdog replaced this thread: its outcome is stale
        now = self.clock()
        self.syncs += 1
        if isinstance(outcome, SyncResult):
            self.last_result, self.last_exception = outcome, None
            if outcome.status == "busy":           # another process syncs: look again soon
                self.next_attempt_at = now + self.poll_seconds
                return
            self.backoff.reset()
            self.next_attempt_at = now
            self._pull_at = now + self.pull_interval
            if outcome.status == "needs_attention" and retry_refused:
                self._attention_retry_at = now + self.attention_retry
            return
        self.last_exception = outcome
        if isinstance(outcome, SyncRetryable):
            delay = self.backoff.failure(outcome.retry_after)
            logger.info("sync failed (%s): next try in %.1f s", outcome.message, delay)
        elif isinstance(outcome, SyncError):
            self.backoff.failure()
            delay = self.backoff.cap
            logger.warning("sync refused (%s): next try in %.0f s", outcome.message, delay)
        else:
            delay = self.backoff.failure()
            logger.error("sync crashed: %r", outcome)
        self.next_attempt_at = now + delay

    def _beat(self) -> None:
        self._progress_at = self.clock()

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            self._conn = db.connect(self.db_path)
        return self._conn

    # the watchdog

    def _watch(self) -> None:
        interval = max(min(self.watchdog_seconds / 4, 5.0), 0.05)
        while not self._stop.wait(interval):
            with self._state_lock:
                client = self._client
                if client is None or self._stop.is_set() or \
                        self.clock() - self._progress_at <= self.watchdog_seconds:
                    continue
                self._client, self._sync_started = None, None
                self._generation += 1           # the stuck thread's outcome is now stale
                generation = self._generation
                self.restarts += 1
            logger.warning("sync made no progress for %.1f s: restarting it",
                           self.watchdog_seconds)
            client.abort()
            self._start_thread(generation)
