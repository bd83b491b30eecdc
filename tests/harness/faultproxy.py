"""A fault-injecting HTTP proxy on 127.0.0.1, between a real stall and a real server.

Each request meets one fault, drawn from a seeded random generator (or forced by a test):
the request is dropped before the server sees it, the answer is dropped after the server
committed, the request is sent twice, delayed, answered with a truncated body, or refused with
503 and Retry-After. Loopback only: it never forwards anywhere but the upstream it was given.
"""
from __future__ import annotations

import http.client
import random
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

FAULTS = ("none", "drop_request", "drop_response", "duplicate", "delay", "truncate", "unavailable")
HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade",
              "te", "trailer"}


@dataclass
class FaultPlan:
    """How often each fault happens (weights), plus faults a test forces for the next requests."""

    weights: dict[str, float] = field(default_factory=lambda: {"none": 1.0})
    seed: int = 0
    delay_seconds: float = 0.2
    forced: deque[str] = field(default_factory=deque)

    def __post_init__(self) -> None:
        unknown = set(self.weights) - set(FAULTS)
        if unknown:
            raise ValueError(f"unknown faults {sorted(unknown)}")
        self._random = random.Random(self.seed)
        self._lock = threading.Lock()

    def next_fault(self) -> str:
        with self._lock:
            if self.forced:
                return self.forced.popleft()
            names = list(self.weights)
            return self._random.choices(names, [self.weights[n] for n in names])[0]


class FaultProxy:
    """Start with `FaultProxy(upstream_port, plan).start()`; `url` is where the client goes."""

    def __init__(self, upstream_port: int, plan: FaultPlan | None = None,
                 upstream_host: str = "127.0.0.1"):
        if upstream_host not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError("the fault proxy only forwards to loopback")
        self.upstream = (upstream_host, upstream_port)
        self.plan = plan or FaultPlan()
        self.counts: Counter[str] = Counter()
        self.enabled = True  # False: forward everything untouched (healing)
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_args: Any) -> None:  # quiet
                pass

            def _relay(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                fault = proxy.plan.next_fault() if proxy.enabled else "none"
                proxy.counts[fault] += 1
                if fault == "drop_request":
                    self.close_connection = True
                    return
                if fault == "unavailable":
                    self.send_response(503)
                    self.send_header("Retry-After", "1")
                    self.send_header("Content-Type", "application/json")
                    payload = b'{"error":{"code":"unavailable","message":"proxy fault"}}'
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                if fault == "delay":
                    time.sleep(proxy.plan.delay_seconds)
                try:
                    status, headers, answer = proxy._forward(self.command, self.path,
                                                             self.headers, body)
                    if fault == "duplicate":
                        status, headers, answer = proxy._forward(self.command, self.path,
                                                                 self.headers, body)
                except OSError:
                    self.close_connection = True  # upstream down: the client sees a reset
                    return
                if fault == "drop_response":
                    self.close_connection = True
                    return
                self.send_response(status)
                for key, value in headers:
                    if key.lower() not in HOP_BY_HOP and key.lower() != "content-length":
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(answer)))
                if fault == "truncate":
                    self.send_header("Connection", "close")
                    self.end_headers()
                    self.wfile.write(answer[: len(answer) // 2])
                    self.close_connection = True
                    return
                self.end_headers()
                self.wfile.write(answer)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _relay

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def _forward(self, method: str, path: str, headers: Any, body: bytes
                 ) -> tuple[int, list[tuple[str, str]], bytes]:
        conn = http.client.HTTPConnection(*self.upstream, timeout=60)
        try:
            forwarded = {k: v for k, v in headers.items() if k.lower() not in HOP_BY_HOP}
            conn.request(method, path, body=body or None, headers=forwarded)
            response = conn.getresponse()
            return response.status, response.getheaders(), response.read()
        finally:
            conn.close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> FaultProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
