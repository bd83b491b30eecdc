"""Load on the provincial server: D devices syncing at once against `market-server serve`.

    python -m benchmarks.load_server [--devices 200] [--entries 100] [--batch 25]
                                     [--backend sqlite|postgresql]

The stalls are created and paired in the database first; then every device, in a thread of its
own and all released together, pushes its journal in batches (POST /api/v1/journal), asks for its
head and pulls the catalogue, over loopback HTTP to a real `market-server serve` process.
Reported: requests, errors (any answer but 200/304, any connection error), "database is locked"
in the server's log, latency percentiles; then each device's head must be exactly its last entry.
Exit status 1 if anything went wrong. Results go to benchmarks/results/load_server.md.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import requests

from sync.protocol import GENESIS_HASH, canonical_json, entry_hash, new_entry_id, utc_timestamp

RESULTS = Path(__file__).resolve().parent / "results"
BIN = Path(sys.executable).parent
PAYLOAD = {"business_day": "2026-11-23", "total": 345000, "sold_by": "owner",
           "lines": [{"product_id": 1, "name": "Chè Shan tuyết Bắc Hà", "unit": "gói",
                      "quantity_milli": 1000, "unit_price": 120000, "amount": 120000},
                     {"product_id": 4, "name": "Tôm khô Cà Mau", "unit": "kg",
                      "quantity_milli": 250, "unit_price": 900000, "amount": 225000}],
           "payments": [{"method": "cash", "amount": 345000, "tendered": 400000,
                         "change": 55000}]}


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


def paired_devices(url: str, count: int) -> list[tuple[str, str]]:
    """`count` stalls in one market, each paired: (device_id, token)."""
    from sync.server import migrations, store
    from sync.server.db import make_engine, utcnow, write_transaction
    engine = make_engine(url)
    migrations.upgrade(engine)
    devices = []
    with write_transaction(engine) as conn:
        for index in range(count):
            _, device_id, code = store.add_stall(conn, "Lào Cai", "Xã Bắc Hà", "Chợ Bắc Hà",
                                                 f"Sạp {index + 1}", now=utcnow())
            answer = store.pair(conn, code, None, 0, utcnow())
            devices.append((answer["device_id"], answer["token"]))
    engine.dispose()
    return devices


def chain(device_id: str, count: int) -> list[dict[str, Any]]:
    entries, prev = [], GENESIS_HASH
    for seq in range(1, count + 1):
        entry_id, at = new_entry_id(), utc_timestamp()
        payload = {**PAYLOAD, "number": seq}
        digest = entry_hash(prev, device_id, seq, entry_id, "sale", at, payload)
        entries.append({"device_id": device_id, "seq": seq, "id": entry_id, "kind": "sale",
                        "at": at, "payload": payload, "prev_hash": prev, "hash": digest})
        prev = digest
    return entries


def start_server(url: str, port: int, log: Path, threads: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "MARKET_SERVER_DATABASE": url,
           "MARKET_SERVER_DATA": str(log.parent), "MARKET_SERVER_SECRET_KEY": "load"}
    process = subprocess.Popen([str(BIN / "market-server"), "serve", "--port", str(port),
                                "--threads", str(threads)], env=env,
                               stdout=open(log, "wb"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/api/v1/openapi.json", timeout=1).ok:
                return process
        except requests.RequestException:
            time.sleep(0.05)
    process.kill()
    raise SystemExit("the server did not start")


def run(url: str, devices_count: int, entries: int, batch: int, workdir: Path,
        threads: int = 8) -> dict[str, Any]:
    devices = paired_devices(url, devices_count)
    journals = {device: chain(device, entries) for device, _ in devices}
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    log = workdir / "server.log"
    process = start_server(url, port, log, threads)
    base = f"http://127.0.0.1:{port}/api/v1"
    latencies: dict[str, list[float]] = {"push": [], "head": [], "catalogue": []}
    errors: list[str] = []
    heads: dict[str, int] = {}
    lock = threading.Lock()
    start = threading.Barrier(devices_count)

    def timed(name: str, call: Any) -> Any:
        began = time.perf_counter()
        try:
            answer = call()
        except requests.RequestException as exc:
            with lock:
                errors.append(f"{name}: {exc.__class__.__name__}")
            return None
        with lock:
            latencies[name].append(time.perf_counter() - began)
            if answer.status_code not in (200, 304):
                errors.append(f"{name} {answer.status_code}: {answer.text[:120]}")
        return answer

    def device_sync(device_id: str, token: str) -> None:
        session = requests.Session()
        session.headers.update({"Authorization": f"Bearer {token}",
                                "Content-Type": "application/json"})
        entries_ = journals[device_id]
        start.wait()
        for first in range(0, len(entries_), batch):
            body = canonical_json({"device_id": device_id, "entries": entries_[first:first + batch]})
            timed("push", lambda: session.post(f"{base}/journal", data=body, timeout=120,
                                               headers={"X-Device-Time": utc_timestamp()}))
        answer = timed("head", lambda: session.get(f"{base}/journal/head", timeout=120))
        if answer is not None and answer.ok:
            with lock:
                heads[device_id] = answer.json()["acked_seq"]
        timed("catalogue", lambda: session.get(f"{base}/catalogue", timeout=120))

    began = time.monotonic()
    workers = [threading.Thread(target=device_sync, args=pair) for pair in devices]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    wall = time.monotonic() - began
    process.terminate()
    process.wait(timeout=10)
    text = log.read_text(errors="replace")
    incomplete = [d for d, _ in devices if heads.get(d) != entries]
    return {
        "backend": url.split(":")[0], "devices": devices_count, "entries_per_device": entries,
        "batch": batch, "server_threads": threads, "seconds": round(wall, 1),
        "requests": sum(len(v) for v in latencies.values()) + len(errors),
        "entries_stored": devices_count * entries - len(incomplete) * entries,
        "errors": len(errors), "error_samples": sorted(set(errors))[:5],
        "database_is_locked": text.count("database is locked"),
        "devices_incomplete": len(incomplete),
        "latency_ms": {name: {"p50": round(percentile(v, .5) * 1000, 1),
                              "p95": round(percentile(v, .95) * 1000, 1),
                              "max": round(percentile(v, 1.0) * 1000, 1)}
                       for name, v in latencies.items()}}


def report(result: dict[str, Any]) -> str:
    lines = [f"# Server load: {result['devices']} devices syncing at once ({result['backend']})",
             "",
             f"Machine: {platform.machine()}, Python {platform.python_version()}"
             f" ({time.strftime('%Y-%m-%d')}); `market-server serve` with"
             f" {result['server_threads']} waitress threads over loopback. Each device pushes"
             f" {result['entries_per_device']} entries in batches of {result['batch']}, then asks"
             " for its head and pulls the catalogue; all start together.", "",
             f"Requests: {result['requests']}, entries stored: {result['entries_stored']},"
             f" errors: {result['errors']}, \"database is locked\": "
             f"{result['database_is_locked']}, devices incomplete: "
             f"{result['devices_incomplete']}, wall time: {result['seconds']} s.", "",
             "| request | p50 ms | p95 ms | max ms |", "| --- | ---: | ---: | ---: |"]
    for name, figures in result["latency_ms"].items():
        lines.append(f"| {name} | {figures['p50']} | {figures['p95']} | {figures['max']} |")
    return "\n".join(lines) + "\n"


def passed(result: dict[str, Any]) -> bool:
    return not (result["errors"] or result["database_is_locked"] or result["devices_incomplete"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=200)
    parser.add_argument("--entries", type=int, default=100)
    parser.add_argument("--batch", type=int, default=25)
    parser.add_argument("--threads", type=int, default=8, help="waitress threads")
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        cluster = None
        if args.backend == "postgresql":
            from tests.server import pgcluster
            bindir = pgcluster.find_bindir()
            if bindir is None:
                raise SystemExit("PostgreSQL binaries not found (install postgresql)")
            cluster = pgcluster.Cluster(bindir).start()
            pgcluster.admin_execute(cluster.url(), 'CREATE DATABASE "load"')
            url = pgcluster.with_database(cluster.url(), "load")
        else:
            url = f"sqlite:///{workdir / 'server.sqlite3'}"
        try:
            result = run(url, args.devices, args.entries, args.batch, workdir, args.threads)
        finally:
            if cluster is not None:
                cluster.stop()
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"load_server_{args.backend}.md").write_text(report(result))
    print(json.dumps(result, indent=2) if args.json else report(result))
    sys.exit(0 if passed(result) else 1)


if __name__ == "__main__":
    main()
