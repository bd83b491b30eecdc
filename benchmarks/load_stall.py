"""Load on the stall: N concurrent API clients selling for S seconds against `market-pos serve`.

    python -m benchmarks.load_stall [--clients 20] [--seconds 60] [--data DIR]

Each client is a thread with its own HTTP session posting sales (catalogue and free lines, cash
paid exactly) to a real `market-pos serve` process over loopback, as fast as it is answered.
Reported: sales recorded, errors (any answer but 201, any connection error), "database is locked"
in the server's log, latency percentiles, throughput; then every acknowledged sale is checked in
the database and the journal is verified. Exit status 1 if anything went wrong.
Results go to benchmarks/results/load_stall.md (and --json prints them).
"""
from __future__ import annotations

import argparse
import json
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import requests

from pos import access, catalog, db, demo, journal, stall
from sync.money import line_amount, parse_quantity

RESULTS = Path(__file__).resolve().parent / "results"
BIN = Path(sys.executable).parent


def percentile(values: list[float], share: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def prepare(data: Path) -> tuple[str, dict[int, int]]:
    """A stall with the demo catalogue and an API token."""
    stall.prepare(data)
    conn = db.connect(stall.database_path(data))
    try:
        device = conn.execute("SELECT value FROM settings WHERE key = 'device_id'").fetchone()[0]
        if not conn.execute("SELECT 1 FROM products").fetchone():
            for product in demo.DEMO_PRODUCTS:
                catalog.save_product(conn, device, product)
        prices = {r[0]: r[1] for r in conn.execute("SELECT id, price FROM products WHERE"
                                                   " active = 1")}
        return access.issue_token(conn, "load"), prices
    finally:
        conn.close()


def start_stall(data: Path, port: int) -> subprocess.Popen[bytes]:
    log = open(data / "serve.log", "wb")
    process = subprocess.Popen([str(BIN / "market-pos"), "serve", "--data", str(data),
                                "--port", str(port)], stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/api/openapi.json", timeout=1).ok:
                return process
        except requests.RequestException:
            time.sleep(0.05)
    process.kill()
    raise SystemExit("the stall did not start")


def run(clients: int, seconds: float, data: Path) -> dict[str, Any]:
    import socket
    token, prices = prepare(data)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = start_stall(data, port)
    url = f"http://127.0.0.1:{port}/api/sales"
    latencies: list[float] = []
    errors: list[str] = []
    acknowledged: dict[str, dict[str, Any]] = {}
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def client(seed: int) -> None:
        rng = random.Random(seed)
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {token}"
        ids = sorted(prices)
        while time.monotonic() < deadline:
            lines = [{"product_id": rng.choice(ids), "quantity": rng.choice(["1", "0.5", "2"])}
                     for _ in range(rng.randint(1, 3))]
            total = sum(line_amount(parse_quantity(l["quantity"]), prices[l["product_id"]])
                        for l in lines)
            sale = {"lines": lines, "payments": [{"method": "cash", "amount": total}]}
            started = time.perf_counter()
            try:
                answer = session.post(url, json=sale, timeout=30)
            except requests.RequestException as exc:
                with lock:
                    errors.append(f"connection: {exc.__class__.__name__}")
                continue
            elapsed = time.perf_counter() - started
            with lock:
                if answer.status_code == 201:
                    latencies.append(elapsed)
                    body = answer.json()
                    acknowledged[body["id"]] = body
                else:
                    errors.append(f"{answer.status_code}: {answer.text[:120]}")

    started = time.monotonic()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.monotonic() - started
    process.terminate()
    process.wait(timeout=10)
    log = (data / "serve.log").read_text(errors="replace")
    conn = db.connect(stall.database_path(data))
    try:
        stored = {r[0]: r[1] for r in conn.execute(
            "SELECT s.id, j.hash FROM sales s JOIN journal j ON j.seq = s.seq")}
        missing = [i for i, body in acknowledged.items() if stored.get(i) != body["hash"]]
        verified = journal.verify(conn)
    finally:
        conn.close()
    return {
        "clients": clients, "seconds": round(wall, 1), "sales": len(acknowledged),
        "sales_per_second": round(len(acknowledged) / wall, 1), "errors": len(errors),
        "error_samples": sorted(set(errors))[:5],
        "database_is_locked": log.count("database is locked"),
        "latency_ms": {name: round(percentile(latencies, share) * 1000, 1)
                       for name, share in (("p50", .5), ("p95", .95), ("p99", .99),
                                           ("max", 1.0))},
        "acknowledged_but_missing": len(missing), "journal_verified": verified.checked,
        "journal_ok": verified.ok}


def report(result: dict[str, Any]) -> str:
    lat = result["latency_ms"]
    return (f"# Stall load: {result['clients']} API clients selling for {result['seconds']} s\n\n"
            f"Machine: {platform.machine()}, {platform.python_version()},"
            f" {platform.system()} ({time.strftime('%Y-%m-%d')}); loopback HTTP to"
            " `market-pos serve` (waitress, 8 threads), SQLite WAL + synchronous=FULL.\n\n"
            "| sales | sales/s | errors | database is locked | p50 ms | p95 ms | p99 ms |"
            " max ms | acknowledged but missing | journal |\n"
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n"
            f"| {result['sales']} | {result['sales_per_second']} | {result['errors']} |"
            f" {result['database_is_locked']} | {lat['p50']} | {lat['p95']} | {lat['p99']} |"
            f" {lat['max']} | {result['acknowledged_but_missing']} |"
            f" {result['journal_verified']} entries {'sound' if result['journal_ok'] else 'BROKEN'}"
            " |\n")


def passed(result: dict[str, Any]) -> bool:
    return not (result["errors"] or result["database_is_locked"]
                or result["acknowledged_but_missing"] or not result["journal_ok"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--data", type=Path, default=None, help="Stall data directory (a"
                        " temporary one by default).")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="load-stall-"))
    try:
        result = run(args.clients, args.seconds, args.data or folder / "stall")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "load_stall.md").write_text(report(result))
    print(json.dumps(result, indent=2) if args.json else report(result))
    sys.exit(0 if passed(result) else 1)


if __name__ == "__main__":
    main()
