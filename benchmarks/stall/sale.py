"""Recording a sale through the real JSON API over HTTP, against a bare SQLite commit.

The sale is the 3-line cash sale of the sell screen, POSTed to /api/sales of `market-pos serve`
(waitress, its own process) over a keep-alive connection with a bearer token; it is acknowledged
only after its transaction is committed with synchronous=FULL. The client is the standard
library's `http.client`, which costs about as little as the browser of the sell screen does; the
same sale through `requests` (about half a millisecond more of the client's own Python per call
on this machine) is measured beside it and reported as a note, so the client's share is visible. The baseline, measured in the
same run and interleaved with it (so that both see the same load on the machine), is a bare
sqlite3 transaction that inserts one journal-shaped row of the same size into a file on the same
disk with the same pragmas: the physical price of a durable commit, below which no sale can go.
"""
from __future__ import annotations

import contextlib
import http.client
import json
import sqlite3
import time
from pathlib import Path
from typing import Any, Callable

from .stalls import Served, sale_request, session
from .timing import Stat

BLOCK = 10   # API sales and bare commits alternate in blocks of this many


def bare_commit(folder: Path, payload_bytes: int) -> tuple[Callable[[], None], sqlite3.Connection]:
    """One durable transaction inserting one row like a sale's journal entry (no layers)."""
    path = folder / "bare.sqlite3"
    for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        leftover.unlink(missing_ok=True)
    conn = sqlite3.connect(str(path), isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("CREATE TABLE IF NOT EXISTS bare (seq INTEGER PRIMARY KEY, id TEXT, kind TEXT,"
                 " at TEXT, payload TEXT, hash TEXT)")
    payload = "x" * payload_bytes
    counter = [0]

    def run() -> None:
        counter[0] += 1
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO bare VALUES (?, ?, 'sale', ?, ?, ?)",
                     (counter[0], f"{counter[0]:036d}", "2026-11-23T08:00:00.000Z", payload,
                      f"{counter[0]:064x}"))
        conn.execute("COMMIT")

    return run, conn


def _seller(served: Served, made: dict[str, Any]) -> tuple[Callable[[], None], Callable[[], None]]:
    """One sale through the API of a served stall over one keep-alive connection (http.client),
    and the same through a `requests` session."""
    body = json.dumps(sale_request(made["prices"])).encode("utf-8")
    headers = {"Authorization": f"Bearer {made['token']}", "Content-Type": "application/json"}
    connection = http.client.HTTPConnection("127.0.0.1", served.port, timeout=30)

    def sale() -> None:
        connection.request("POST", "/api/sales", body=body, headers=headers)
        answer = connection.getresponse()
        text = answer.read()
        if answer.status != 201:
            raise RuntimeError(f"sale refused: {answer.status} {text[:300]!r}")

    other = session(served.url, made["token"])
    other.headers["Content-Type"] = "application/json"
    url = served.url + "/api/sales"

    def sale_with_requests() -> None:
        answer = other.post(url, data=body, timeout=30)
        if answer.status_code != 201:
            raise RuntimeError(f"sale refused: {answer.status_code} {answer.text[:300]}")

    return sale, sale_with_requests


def measure(made: dict[str, Any], samples: int, warmup: int = 20) -> dict[str, Any]:
    """p50/p99 of a sale over HTTP and of the bare commit, interleaved, sales per second."""
    folder = Path(made["folder"])
    with contextlib.ExitStack() as stack:
        served = stack.enter_context(Served(folder))
        served.wait_first_page()
        sale, sale_with_requests = _seller(served, made)
        sale()
        http = session(served.url, made["token"])
        last = http.get(served.url + "/api/sales", params={"since_seq": made["entries"],
                                                            "limit": 1}, timeout=30).json()
        payload_bytes = len(json.dumps(last["sales"][0], ensure_ascii=False).encode("utf-8"))
        bare, bare_conn = bare_commit(folder, payload_bytes)
        stack.callback(bare_conn.close)
        runs: list[tuple[str, Callable[[], None]]] = [
            ("api", sale), ("bare", bare), ("requests", sale_with_requests)]
        for _ in range(warmup):
            for _, run in runs:
                run()
        times: dict[str, list[float]] = {name: [] for name, _ in runs}
        while len(times["api"]) < samples:
            for name, run in runs:
                for _ in range(min(BLOCK, samples - len(times[name]))):
                    started = time.perf_counter()
                    run()
                    times[name].append((time.perf_counter() - started) * 1000)
        locked = served.log_text().count("database is locked")
    api = Stat(times["api"])
    return {"api": api, "bare": Stat(times["bare"]), "requests": Stat(times["requests"]),
            "sales_per_s": len(api.samples) / (sum(api.samples) / 1000),
            "locked": locked, "entries_before": made["entries"]}
