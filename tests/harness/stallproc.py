"""`market-pos serve` in a child process that a test can SIGKILL and start again, and the checks
that a stall database is whole afterwards (every acknowledged sale intact, no half sale)."""
from __future__ import annotations

import random
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable

import requests

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def market_pos(*args: str, timeout: float = 60, check: bool = True
               ) -> subprocess.CompletedProcess[str]:
    """Run the installed `market-pos` command."""
    result = subprocess.run([str(BIN / "market-pos"), *args], capture_output=True, text=True,
                            timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(f"market-pos {args} failed ({result.returncode}):\n"
                             f"{result.stdout}\n{result.stderr}")
    return result


class StallProcess:
    """The stall served by waitress in a child process on a free loopback port."""

    def __init__(self, data_dir: Path):
        self.data_dir = Path(data_dir)
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30) -> "StallProcess":
        self.process = subprocess.Popen(
            [str(BIN / "market-pos"), "serve", "--data", str(self.data_dir), "--port",
             str(self.port)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError("the stall did not start:\n"
                                     + self.process.stderr.read().decode(errors="replace"))
            try:
                if requests.get(f"{self.url}/api/openapi.json", timeout=1).ok:
                    return self
            except requests.RequestException:
                time.sleep(0.05)
        raise AssertionError("the stall did not answer in time")

    def kill(self) -> None:
        """SIGKILL: no atexit, no flush, no clean shutdown, as a power cut."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)
        if self.process and self.process.stderr:
            self.process.stderr.close()


def whole_database_problems(db_path: Path, acknowledged: dict[str, dict[str, Any]]) -> list[str]:
    """Everything wrong with a stall database after a crash (an empty list when it is whole).

    - PRAGMA integrity_check is ok;
    - every sale answered 201 is there with the same seq, hash, total, lines and payments;
    - no half sale: each `sale` entry has its sales row, lines and payments, and each sales row
      its entry; lines and payments add up to the total;
    - the day counters equal a recount of the sales.
    """
    conn = sqlite3.connect(db_path)
    conn.row_factory = sqlite3.Row
    problems: list[str] = []
    try:
        integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
        if integrity != "ok":
            return [f"integrity_check: {integrity}"]
        for sale_id, answer in acknowledged.items():
            row = conn.execute("SELECT s.seq, s.total, j.hash FROM sales s JOIN journal j"
                               " ON j.seq = s.seq WHERE s.id = ?", (sale_id,)).fetchone()
            if row is None:
                problems.append(f"acknowledged sale {sale_id} (seq {answer['seq']}) is missing")
                continue
            if (row["seq"], row["hash"], row["total"]) != (answer["seq"], answer["hash"],
                                                           answer["total"]):
                problems.append(f"sale {sale_id} differs from its acknowledgement")
            lines = [tuple(r) for r in conn.execute(
                "SELECT name, quantity_milli, unit_price, amount FROM sale_lines WHERE"
                " sale_seq = ? ORDER BY line_no", (row["seq"],))]
            if lines != [(l["name"], l["quantity_milli"], l["unit_price"], l["amount"])
                         for l in answer["lines"]]:
                problems.append(f"sale {sale_id} has other lines than acknowledged")
        half = conn.execute("""
            SELECT j.seq FROM journal j LEFT JOIN sales s ON s.seq = j.seq
            WHERE j.kind = 'sale' AND (s.id IS NULL
               OR NOT EXISTS (SELECT 1 FROM sale_lines l WHERE l.sale_seq = s.seq)
               OR NOT EXISTS (SELECT 1 FROM payments p WHERE p.sale_seq = s.seq))
            UNION ALL
            SELECT s.seq FROM sales s LEFT JOIN journal j ON j.seq = s.seq WHERE j.seq IS NULL
            UNION ALL
            SELECT s.seq FROM sales s
            WHERE s.total != (SELECT SUM(amount) FROM sale_lines WHERE sale_seq = s.seq)
               OR s.total != (SELECT SUM(amount) FROM payments WHERE sale_seq = s.seq)
            """).fetchall()
        if half:
            problems.append(f"half-written sales at seq {[r[0] for r in half][:5]}")
        recount = {r["business_day"]: (r["n"], r["revenue"]) for r in conn.execute(
            "SELECT business_day, SUM(voided_seq IS NULL) AS n, SUM(CASE WHEN voided_seq IS NULL"
            " THEN total ELSE 0 END) AS revenue FROM sales GROUP BY business_day")}
        counters = {r["business_day"]: (r["sales_count"], r["revenue"]) for r in conn.execute(
            "SELECT business_day, sales_count, revenue FROM day_totals WHERE sales_count > 0"
            " OR revenue > 0")}
        if recount != counters:
            problems.append(f"day counters {counters} differ from the sales {recount}")
    finally:
        conn.close()
    return problems



class Sellers:
    """Threads that post sales to a stall's JSON API until its process dies (a SIGKILL test).

    `make_sale(rng)` builds each request. Every 201 answer is kept in `acknowledged` (sale id →
    the answered sale): those are the sales the test then expects to find intact. A request that
    got no answer counts in `cut_off`; any other status is a failure kept in `refused`.
    """

    def __init__(self, url: str, token: str, make_sale: Callable[[random.Random], dict[str, Any]],
                 *, seed: int, threads: int):
        self.url, self.token, self.make_sale = url, token, make_sale
        self.acknowledged: dict[str, dict[str, Any]] = {}
        self.cut_off = 0
        self.refused: list[str] = []
        self._lock = threading.Lock()
        self._sold = threading.Condition(self._lock)
        self._threads = [threading.Thread(target=self._sell, args=(seed * 100 + i,))
                         for i in range(threads)]

    def start(self) -> "Sellers":
        for thread in self._threads:
            thread.start()
        return self

    def join(self) -> None:
        """Wait for the threads, which stop at the first request the dead process cuts off."""
        for thread in self._threads:
            thread.join(timeout=30)

    def wait_for(self, count: int, timeout: float = 60) -> None:
        """Wait until `count` sales were acknowledged (an event, not a guess at a duration)."""
        with self._sold:
            if not self._sold.wait_for(lambda: len(self.acknowledged) >= count
                                       or not any(t.is_alive() for t in self._threads),
                                       timeout=timeout):
                raise AssertionError(f"{count} sales not acknowledged within {timeout} s")
            if len(self.acknowledged) < count:
                raise AssertionError(f"the sellers stopped after {len(self.acknowledged)} sales:"
                                     f" {self.refused[:3]}")

    def __enter__(self) -> "Sellers":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.join()

    def _sell(self, seed: int) -> None:
        rng = random.Random(seed)
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {self.token}"
        while True:
            try:
                answer = session.post(f"{self.url}/api/sales", json=self.make_sale(rng),
                                      timeout=10)
            except requests.RequestException:
                with self._lock:
                    self.cut_off += 1
                return
            if answer.status_code != 201:
                with self._lock:
                    self.refused.append(f"{answer.status_code} {answer.text[:200]}")
                return
            body = answer.json()
            with self._sold:
                self.acknowledged[body["id"]] = body
                self._sold.notify_all()
