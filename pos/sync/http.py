"""The stall's one HTTP client for the provincial server (sync, recover, e-invoice status).

`ServerHttp` knows the base URL and the bearer token, applies the timeouts, parses every answer
with `sync.numbers.loads_json` (numbers bounded by their text before they are built), notes the
server's clock, and maps every failure to the sync errors: no answer or a cut answer is
SyncRetryable (unknown outcome), an aborted client raises SyncCancelled. Its sockets can be cut
from another thread (`abort()`), so that a request blocked on a silent or drip-feeding server ends
at once instead of at its read timeout (the watchdog and `stop()` rely on it).
"""
from __future__ import annotations

import email.utils
import socket
import threading
import time
from dataclasses import dataclass
from datetime import timezone
from typing import Any, Callable, Mapping

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from sync.numbers import loads_json
from sync.protocol import ProtocolError, parse_timestamp

from .errors import SyncCancelled, SyncError, SyncRetryable

DEFAULT_TIMEOUT = (5.0, 30.0)
MAX_RETRY_AFTER = 3600.0
UNREADABLE = object()   # Answer.data of a body that is not JSON (or not bounded JSON)
_OWN = object()         # "the client's own token"


@dataclass(frozen=True)
class Answer:
    status: int
    data: Any
    headers: Any


class _AbortableAdapter(HTTPAdapter):
    """Remembers the sockets it opens so that `abort()` can shut them."""

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


class ServerHttp:
    """Requests to the provincial server at `base_url`, with the stall's `token`.

    `session` replaces the HTTP session (tests mount a transport on it; then `abort()` can only
    close it, not cut its sockets). `clock` is the device's time: the server's time in each answer
    gives `offset_ms`. `heartbeat` is called on every answer (the worker's watchdog)."""

    def __init__(self, base_url: str | None = None, token: str | None = None, *,
                 session: requests.Session | None = None,
                 timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
                 clock: Callable[[], float] = time.time,
                 parse: Callable[[bytes], Any] = loads_json):
        self.base_url = base_url
        self.token = token
        self.timeout = timeout
        self.clock = clock
        self.parse = parse
        if session is None:
            self.session, self._adapter = _new_session()
        else:
            self.session, self._adapter = session, None
        self.heartbeat: Callable[[], None] = lambda: None
        self.offset_ms: int | None = None   # device clock behind the server's, from the last answer
        self._cancelled = threading.Event()

    # life cycle

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    def check_cancelled(self) -> None:
        if self._cancelled.is_set():
            raise SyncCancelled("this sync was stopped", code="cancelled")

    def abort(self) -> None:
        """From another thread: cut the sockets; every later request raises SyncCancelled."""
        self._cancelled.set()
        if self._adapter is not None:
            self._adapter.abort()
        else:
            self.session.close()

    def close(self) -> None:
        self.session.close()

    def take_offset(self) -> int | None:
        """The clock offset of the last answer, once (it is stored with the next write)."""
        offset, self.offset_ms = self.offset_ms, None
        return offset

    # requests

    def get(self, path: str, **kwargs: Any) -> Answer:
        return self.request("GET", path, **kwargs)

    def post_json(self, path: str, body: bytes, headers: Mapping[str, str] | None = None,
                  **kwargs: Any) -> Answer:
        return self.request("POST", path, body,
                            headers={"Content-Type": "application/json", **(headers or {})},
                            **kwargs)

    def request(self, method: str, path: str, body: bytes | None = None, *,
                headers: Mapping[str, str] | None = None, params: Mapping[str, Any] | None = None,
                base_url: str | None = None, token: Any = _OWN,
                timeout: float | tuple[float, float] | None = None) -> Answer:
        """One request; the answer with its body parsed (UNREADABLE when it is not JSON). Raises
        SyncRetryable when there is no complete answer, SyncCancelled once aborted."""
        self.check_cancelled()
        token = self.token if token is _OWN else token
        all_headers = {"Accept": "application/json", **(headers or {})}
        if token:
            all_headers["Authorization"] = f"Bearer {token}"
        started = self.clock()
        try:
            response = self.session.request(
                method, f"{base_url or self.base_url}{path}", data=body, params=params,
                headers=all_headers, timeout=timeout or self.timeout, allow_redirects=False)
            content = response.content   # a body cut short raises here
        except requests.Timeout as exc:
            raise self._cancelled_or(SyncRetryable(f"No answer in time: {exc}", code="timeout"))
        except (requests.RequestException, OSError) as exc:
            raise self._cancelled_or(SyncRetryable(f"No connection to the server: {exc}",
                                                   code="network"))
        self.check_cancelled()
        middle = (started + self.clock()) / 2   # device time halfway through the exchange
        self.heartbeat()
        data: Any = None
        if content:
            try:
                data = self.parse(content)
            except (UnicodeDecodeError, ValueError):
                data = UNREADABLE
        elif response.status_code not in (204, 304):
            data = UNREADABLE
        server_time = data.get("server_time") if isinstance(data, dict) else None
        if not isinstance(server_time, str):
            server_time = response.headers.get("X-Server-Time")
        try:
            self.offset_ms = round((parse_timestamp(server_time).timestamp() - middle) * 1000)
        except (ProtocolError, TypeError, ValueError):
            pass
        return Answer(response.status_code, data, response.headers)

    def _cancelled_or(self, exc: SyncError) -> SyncError:
        if self._cancelled.is_set():
            return SyncCancelled("this sync was stopped", code="cancelled")
        return exc

    def raise_for_transient(self, answer: Answer) -> None:
        """5xx and 429 (and an unreadable body) are unknown outcomes: try again later."""
        if answer.status == 429 or answer.status >= 500:
            retry_after = parse_retry_after(answer.headers.get("Retry-After"), self.clock())
            code = "server_busy" if answer.status in (429, 503) else "server_error"
            raise SyncRetryable(f"The server answered HTTP {answer.status}", code=code,
                                retry_after=retry_after)
        if answer.data is UNREADABLE:
            raise SyncRetryable(f"The server's answer (HTTP {answer.status}) could not be read",
                                code="bad_answer")


def error_of(answer: Answer) -> dict[str, Any]:
    """The server's `{"error": {...}}` of an answer, or {}."""
    data = answer.data
    error = data.get("error") if isinstance(data, dict) else None
    return error if isinstance(error, dict) else {}
