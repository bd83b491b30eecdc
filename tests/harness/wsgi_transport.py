"""A `requests` transport that hands each request to a WSGI app in this process, with faults.

It lets the stall's real sync client talk to the real server app without sockets, so that a
Hypothesis state machine can run thousands of steps quickly. Faults happen where a network
would make them: before the server sees the request, after it committed, twice, or in transit.
"""
from __future__ import annotations

from collections import deque
from typing import Any
from urllib.parse import urlsplit

import requests
from flask import Flask
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

TRANSPORT_FAULTS = ("drop_request", "drop_response", "duplicate", "http_503", "http_429",
                    "truncated")


class WSGITransport(BaseAdapter):
    """Mount on a `requests.Session` for the server's base URL; `faults` is consumed per request."""

    def __init__(self, app: Flask):
        super().__init__()
        self.app = app
        self.faults: deque[str] = deque()
        self.requests_seen = 0

    def _call(self, request: requests.PreparedRequest) -> Any:
        parts = urlsplit(request.url or "")
        client = self.app.test_client()
        return client.open(parts.path, method=request.method or "GET", query_string=parts.query,
                           headers={k: v for k, v in request.headers.items()
                                    if k.lower() != "content-length"},
                           data=request.body)

    def send(self, request: requests.PreparedRequest, **_kwargs: Any) -> requests.Response:
        self.requests_seen += 1
        fault = self.faults.popleft() if self.faults else None
        if fault == "drop_request":
            raise requests.ConnectionError("fault: the request never reached the server")
        if fault in ("http_503", "http_429"):
            return self._response(request, 503 if fault == "http_503" else 429,
                                  {"Retry-After": "1", "Content-Type": "application/json"},
                                  b'{"error":{"code":"busy","message":"fault"}}')
        answer = self._call(request)
        if fault == "duplicate":
            answer = self._call(request)
        if fault == "drop_response":
            raise requests.ConnectionError("fault: the answer was lost after the server acted")
        body = answer.get_data()
        if fault == "truncated":
            body = body[: len(body) // 2]
        return self._response(request, answer.status_code, dict(answer.headers), body)

    @staticmethod
    def _response(request: requests.PreparedRequest, status: int, headers: dict[str, str],
                  body: bytes) -> requests.Response:
        response = requests.Response()
        response.status_code = status
        response.headers = CaseInsensitiveDict(headers)
        response._content = body  # noqa: SLF001 (requests has no public constructor for this)
        response.url = request.url or ""
        response.request = request
        response.encoding = "utf-8"
        return response

    def close(self) -> None:
        pass
