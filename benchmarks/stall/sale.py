"""Recording a sale through the real JSON API over HTTP, against a bare SQLite commit.

The sale is the 3-line cash sale of the sell screen, POSTed to /api/sales of `market-pos serve`
(waitress, its own process) over a keep-alive connection with a bearer token; it is acknowledged
only after its transaction is committed with synchronous=FULL. The client writes the request's
bytes (made once) to a keep-alive socket and reads the answer by its Content-Length: it checks
the status line and reads every byte, as a browser's C++ HTTP stack does, at about the cost of
one. Python's own clients spend much of a sale's time in their own code: `http.client` parses
each answer's headers with the `email` package (about 0.3 ms here), `requests` adds about half a
millisecond more. Both are measured beside it and reported as notes, so the client's share is
visible, and so is the same body posted to `floor_app.py`: Flask and waitress with nothing but
the bare commit behind them, the lowest a sale through this stack can go here. The baseline,
measured in the same run and interleaved with it (so that both see the same load on the
machine), is a bare sqlite3 transaction that inserts one journal-shaped row of the same size
into a file on the same disk with the same pragmas: the physical price of a durable commit,
below which no sale can go.
"""
from __future__ import annotations

import contextlib
import http.client
import json
import re
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

from .stalls import Served, free_port, sale_request, session
from .timing import Stat

BLOCK = 10   # API sales and bare commits alternate in blocks of this many
# The samples of a figure are taken in ROUNDS rounds PAUSE_S seconds apart. Other programs on
# this shared machine load it in bursts of a few seconds that slow everything the Python servers
# do by up to half; taken in one go, a figure lands in or out of such a burst whole. Spread out,
# a burst spoils one round, and the rounds' own ratios are reported beside the figure.
ROUNDS = 5
PAUSE_S = 3.0


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


_CONTENT_LENGTH = re.compile(rb"\r\ncontent-length:[ \t]*(\d+)", re.IGNORECASE)


def poster(port: int, headers: dict[str, str], body: bytes,
           stack: contextlib.ExitStack) -> Callable[[], bytes]:
    """POST the sale to /api/sales of a server on this machine over one keep-alive socket (closed
    with `stack`), with the least client work: the request's bytes are made once; each answer
    must be 201, and its body is read to its Content-Length and returned."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    stack.callback(sock.close)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    head = "".join(f"{name}: {value}\r\n" for name, value in {
        "Host": f"127.0.0.1:{port}", "Content-Length": str(len(body)), **headers}.items())
    request = f"POST /api/sales HTTP/1.1\r\n{head}\r\n".encode("latin-1") + body

    def receive(buffer: bytes) -> bytes:
        chunk = sock.recv(65536)
        if not chunk:
            raise RuntimeError("the server closed the connection")
        return buffer + chunk

    def sale() -> bytes:
        sock.sendall(request)
        buffer = b""
        while (end := buffer.find(b"\r\n\r\n")) < 0:
            buffer = receive(buffer)
        length = _CONTENT_LENGTH.search(buffer, 0, end + 2)
        if not buffer.startswith(b"HTTP/1.1 201 ") or length is None:
            raise RuntimeError(f"sale refused: {buffer[:300]!r}")
        stop = end + 4 + int(length.group(1))
        while len(buffer) < stop:
            buffer = receive(buffer)
        if len(buffer) > stop:   # one request at a time: more bytes than the answer is an error
            raise RuntimeError(f"the server sent more than its answer: {buffer[stop:][:100]!r}")
        return buffer[end + 4:stop]

    return sale


def http_client_poster(port: int, headers: dict[str, str], body: bytes) -> Callable[[], bytes]:
    """The same over the standard library's `http.client` (keep-alive)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def sale() -> bytes:
        connection.request("POST", "/api/sales", body=body, headers=headers)
        answer = connection.getresponse()
        text = answer.read()
        if answer.status != 201:
            raise RuntimeError(f"sale refused: {answer.status} {text[:300]!r}")
        return text

    return sale


def _with_requests(served: Served, token: str, body: bytes) -> Callable[[], bytes]:
    """The same sale through a `requests` session."""
    other = session(served.url, token)
    other.headers["Content-Type"] = "application/json"
    url = served.url + "/api/sales"

    def sale() -> bytes:
        answer = other.post(url, data=body, timeout=30)
        if answer.status_code != 201:
            raise RuntimeError(f"sale refused: {answer.status_code} {answer.text[:300]}")
        return answer.content

    return sale


def _floor_server(folder: Path, stack: contextlib.ExitStack) -> int:
    """Start benchmarks/stall/floor_app.py (its own process, pinned if we are); its port."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "benchmarks.stall.floor_app",
                                str(folder / "floor.sqlite3"), str(port)],
                               cwd=Path(__file__).resolve().parents[2],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    stack.callback(process.wait, 10)
    stack.callback(process.terminate)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return port
        except OSError:
            if process.poll() is not None:
                raise RuntimeError("the floor app did not start")
            time.sleep(0.05)
    raise RuntimeError("the floor app did not answer in 30 s")


def measure(made: dict[str, Any], samples: int, warmup: int = 20, compare: bool = False,
            reference: dict[str, Any] | None = None, rounds: int = ROUNDS,
            pause: float = PAUSE_S) -> dict[str, Any]:
    """p50/p99 of a sale over HTTP and of the bare commit, interleaved, sales per second; with
    `compare`, also the same sale through `http.client`, through `requests` and to the floor app;
    with `reference` (another stall, such as one with an empty journal), the same sale to it,
    served at the same time: all interleaved, in `rounds` rounds `pause` seconds apart (each
    round's own Stats are in `rounds`)."""
    folder = Path(made["folder"])
    rounds = max(1, min(rounds, samples))   # every round has samples
    body = json.dumps(sale_request(made["prices"])).encode("utf-8")
    headers = {"Authorization": f"Bearer {made['token']}", "Content-Type": "application/json"}
    with contextlib.ExitStack() as stack:
        served = stack.enter_context(Served(folder))
        served.wait_first_page()
        sale = poster(served.port, headers, body, stack)
        if json.loads(sale())["total"] != sale_request(made["prices"])["payments"][0]["amount"]:
            raise RuntimeError("the answer is not the sale that was sent")
        http = session(served.url, made["token"])
        last = http.get(served.url + "/api/sales", params={"since_seq": made["entries"],
                                                            "limit": 1}, timeout=30).json()
        payload_bytes = len(json.dumps(last["sales"][0], ensure_ascii=False).encode("utf-8"))
        bare, bare_conn = bare_commit(folder, payload_bytes)
        stack.callback(bare_conn.close)
        runs: list[tuple[str, Callable[[], Any]]] = [("api", sale), ("bare", bare)]
        if compare:
            runs += [("http.client", http_client_poster(served.port, headers, body)),
                     ("requests", _with_requests(served, made["token"], body)),
                     ("floor", poster(_floor_server(folder, stack), headers, body, stack))]
        if reference is not None:
            other = stack.enter_context(Served(Path(reference["folder"])))
            other.wait_first_page()
            runs.append(("reference", poster(other.port, {
                **headers, "Authorization": f"Bearer {reference['token']}"}, json.dumps(
                    sale_request(reference["prices"])).encode("utf-8"), stack)))
        for _ in range(warmup):
            for _, run in runs:
                run()
        times: dict[str, list[float]] = {name: [] for name, _ in runs}
        each_round: list[dict[str, Stat]] = []
        for round_no in range(rounds):
            if round_no:
                time.sleep(pause)
                for _, run in runs:     # one untimed call each after the pause, as after warm-up
                    run()
            goal = samples * (round_no + 1) // rounds
            first = len(times["api"])
            while len(times["api"]) < goal:
                for name, run in runs:
                    for _ in range(min(BLOCK, goal - len(times[name]))):
                        started = time.perf_counter()
                        run()
                        times[name].append((time.perf_counter() - started) * 1000)
            each_round.append({name: Stat(values[first:]) for name, values in times.items()})
        locked = served.log_text().count("database is locked")
    api = Stat(times["api"])
    return {**{name: Stat(values) for name, values in times.items()},
            "sales_per_s": len(api.samples) / (sum(api.samples) / 1000),
            "locked": locked, "entries_before": made["entries"], "rounds": each_round}


def in_process(made: dict[str, Any], reference: dict[str, Any], samples: int) -> dict[str, Stat]:
    """The sale's own work without HTTP: pos.sales.record_sale on each stall's database (its
    durable commit included), the two interleaved. Isolates what the journal's size does to a
    sale from the noise of two servers on one machine."""
    from pos import db, sales, stall

    runs = []
    for name, target in (("big", made), ("empty", reference)):
        conn = db.connect(stall.database_path(Path(target["folder"])))
        request = sale_request(target["prices"])
        runs.append((name, conn, target["device_id"], request))
    times: dict[str, list[float]] = {name: [] for name, *_ in runs}
    try:
        for round_no in range(samples // BLOCK + 2):     # the first two rounds warm up
            for name, conn, device_id, request in runs:
                for _ in range(BLOCK):
                    started = time.perf_counter()
                    sales.record_sale(conn, device_id, request, "api")
                    if round_no >= 2:
                        times[name].append((time.perf_counter() - started) * 1000)
    finally:
        for _, conn, *_ in runs:
            conn.close()
    return {name: Stat(values) for name, values in times.items()}
