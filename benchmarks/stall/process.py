"""The serving process: time from `market-pos serve` to the first page, and its memory after use.

Start: a fresh process of the real command on a prepared stall, timed until GET /unlock answers
200; the baseline, in the same run, is the floor of the same stack: a process serving a one-route
Flask app with waitress, timed the same way. Memory: the VmRSS of `market-pos serve` after 10,000
sales through the API (and a sell page, a receipt PDF and an X report, so every part of a day's
work has been loaded), against its VmRSS right after its first page.
"""
from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import requests

from .stalls import Served, free_port, sale_request, session, unlocked_session
from .timing import Stat

CLIENTS = 4
HELLO = """
import sys
from flask import Flask
from waitress import serve
app = Flask("hello")
app.add_url_rule("/", "hello", lambda: "ok")
serve(app, host="127.0.0.1", port=int(sys.argv[1]), threads=8)
"""


def bare_start() -> float:
    """Seconds from spawning a one-route Flask + waitress process to its first answer."""
    port = free_port()
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-c", HELLO, str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = started + 30
        while time.perf_counter() < deadline:
            try:
                if requests.get(f"http://127.0.0.1:{port}/", timeout=2).status_code == 200:
                    return time.perf_counter() - started
            except requests.ConnectionError:
                time.sleep(0.005)
        raise RuntimeError("the baseline server did not answer")
    finally:
        process.terminate()
        process.wait(10)


def start_time(made: dict[str, Any], samples: int) -> dict[str, Any]:
    """Seconds (as ms) from `market-pos serve` to the first page, alternating with the floor."""
    serve_ms, bare_ms = [], []
    for _ in range(samples):
        with Served(Path(made["folder"])) as served:
            serve_ms.append(served.wait_first_page() * 1000)
        bare_ms.append(bare_start() * 1000)
    return {"serve": Stat(serve_ms), "bare": Stat(bare_ms)}


def memory(made: dict[str, Any], sales: int, clients: int = CLIENTS) -> dict[str, Any]:
    """RSS of the serving process at its first page and after `sales` sales and a day's pages.

    The sales come from a few clients at once (like a stall's tablet, the vendor's phone and a
    sync), which is also the quickest way through ten thousand of them.
    """
    body = json.dumps(sale_request(made["prices"])).encode("utf-8")
    with Served(Path(made["folder"])) as served:
        served.wait_first_page()
        at_start = served.rss_mb()
        failures: list[str] = []
        sale_ids: list[str] = []

        def client(count: int) -> None:
            http = session(served.url, made["token"])
            http.headers["Content-Type"] = "application/json"
            for _ in range(count):
                answer = http.post(served.url + "/api/sales", data=body, timeout=60)
                if answer.status_code != 201:
                    failures.append(f"{answer.status_code} {answer.text[:300]}")
                    return
                sale_ids.append(answer.json()["id"])

        started = time.perf_counter()
        threads = [threading.Thread(target=client, args=(sales // clients + (i < sales % clients),))
                   for i in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
        if failures:
            raise RuntimeError(f"sale refused: {failures[0]}")
        sale_id = sale_ids[-1]
        browser = unlocked_session(served.url)
        for path in ("/", f"/sales/{sale_id}/receipt.pdf", "/day/x"):
            browser.get(served.url + path, timeout=60)
        after = served.rss_mb()
        peak = _peak_mb(served.process.pid)
    return {"start_mb": at_start, "after_mb": after, "peak_mb": peak, "sales": len(sale_ids),
            "sales_per_s": len(sale_ids) / elapsed, "clients": clients}


def _peak_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0
