"""Push a backlog of journal entries from a real stall to a real server over loopback.

    python -m benchmarks.sync_push [--entries 100000] [--backend sqlite|postgresql|both]

For each backend it reports entries per second for the whole push (the stall's SyncClient
sending batches over HTTP to `market-server` served by waitress on 127.0.0.1, every hash and
link checked, every entry projected) and, measured in the same run on the same kind of
database, a bare INSERT of the same rows into a table of the same shape: the ratio between the
two is what the checks and the protocol cost. With --profile it prints where the server's time
goes (cProfile, in-process server). Results go to benchmarks/results/sync_push.md.
"""
from __future__ import annotations

import argparse
import cProfile
import io
import platform
import pstats
import sqlite3
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import text

from pos import db as stall_db
from pos import journal, stall
from pos.sync.client import SyncClient
from sync.server import migrations, store
from sync.server.app import create_app
from sync.server.db import make_engine, write_transaction

RESULTS = Path(__file__).resolve().parent / "results"
PAYLOAD = {"number": 0, "business_day": "2026-11-23", "total": 345000, "sold_by": "owner",
           "lines": [{"product_id": 1, "name": "Chè Shan tuyết Bắc Hà", "unit": "gói",
                      "quantity_milli": 1000, "unit_price": 120000, "amount": 120000},
                     {"product_id": 4, "name": "Tôm khô Cà Mau", "unit": "kg",
                      "quantity_milli": 250, "unit_price": 900000, "amount": 225000}],
           "payments": [{"method": "cash", "amount": 345000, "tendered": 400000,
                         "change": 55000}]}


def serve(app: Any) -> tuple[str, Any]:
    from waitress.server import create_server
    server = create_server(app, host="127.0.0.1", port=0, threads=4)
    threading.Thread(target=server.run, daemon=True).start()
    return f"http://127.0.0.1:{server.effective_port}", server


def push_rate(url: str, entries: int, workdir: Path, profile: bool) -> tuple[float, str]:
    """Entries per second for pushing the whole backlog through the real client and server."""
    engine = make_engine(url)
    migrations.upgrade(engine)
    with write_transaction(engine) as conn:
        _, _, code = store.add_stall(conn, "Lào Cai", "Xã Bắc Hà", "Chợ Bắc Hà",
                                     f"Sạp {uuid.uuid4().hex[:6]}")
    engine.dispose()
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench"})
    base, server = serve(app)
    folder = workdir / f"stall-{uuid.uuid4().hex[:6]}"
    stall.prepare(folder)
    client = SyncClient(stall.database_path(folder))
    client.pair(base, code)                     # adopt the server's device id while empty
    device = client.state().device_id
    conn = stall_db.connect(stall.database_path(folder))
    with stall_db.write_transaction(conn):
        for number in range(1, entries + 1):
            journal.append(conn, device, "sale", {**PAYLOAD, "number": number})
    conn.close()
    profiler = cProfile.Profile() if profile else None
    if profiler:
        profiler.enable()
    started = time.perf_counter()
    result = client.sync_once()
    elapsed = time.perf_counter() - started
    if profiler:
        profiler.disable()
    client.close()
    server.close()
    assert result.pushed == entries, result
    report = ""
    if profiler:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(18)
        report = out.getvalue()
    return entries / elapsed, report


def bare_insert_rate(url: str, entries: int) -> float:
    """Entries per second for a bare INSERT of journal-shaped rows, one transaction a batch."""
    engine = make_engine(url)
    row = {"device_id": str(uuid.uuid4()), "id": "", "kind": "sale", "at": "2026-11-23T08:00:00.000Z",
           "payload": '{"x":1}' * 60, "prev_hash": "0" * 64, "hash": "f" * 64}
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS bench_bare (device_id VARCHAR(36), seq BIGINT,"
                          " id VARCHAR(36), kind VARCHAR(32), at VARCHAR(24), payload TEXT,"
                          " prev_hash VARCHAR(64), hash VARCHAR(64),"
                          " PRIMARY KEY (device_id, seq))"))
    started = time.perf_counter()
    for start in range(0, entries, 500):
        rows = [{**row, "seq": seq, "id": str(uuid.uuid4())}
                for seq in range(start + 1, min(start + 500, entries) + 1)]
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO bench_bare VALUES (:device_id, :seq, :id, :kind, :at,"
                              " :payload, :prev_hash, :hash)"), rows)
    elapsed = time.perf_counter() - started
    engine.dispose()
    return entries / elapsed


def postgres_url() -> tuple[str, Any]:
    from tests.server import pgcluster
    bindir = pgcluster.find_bindir()
    if bindir is None:
        raise SystemExit("PostgreSQL binaries not found (install postgresql)")
    cluster = pgcluster.Cluster(bindir, fsync=True).start()
    return cluster, cluster.url()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    lines = [f"# Sync push benchmark ({args.entries:,} entries)", "",
             f"Machine: {platform.machine()}, {platform.processor() or 'cpu'}; Python "
             f"{platform.python_version()}; SQLite {sqlite3.sqlite_version}.", "",
             "| backend | push entries/s | bare INSERT rows/s (same run) | ratio |",
             "| --- | ---: | ---: | ---: |"]
    profiles = []
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
        for backend in backends:
            cluster = None
            if backend == "sqlite":
                url, bare_url = (f"sqlite:///{workdir / 'server.sqlite3'}",
                                 f"sqlite:///{workdir / 'bare.sqlite3'}")
            else:
                cluster, base = postgres_url()
                from tests.server import pgcluster
                pgcluster.admin_execute(base, 'CREATE DATABASE "bench"', 'CREATE DATABASE "bare"')
                url, bare_url = pgcluster.with_database(base, "bench"), \
                    pgcluster.with_database(base, "bare")
            try:
                bare = bare_insert_rate(bare_url, args.entries)
                rate, profile = push_rate(url, args.entries, workdir, args.profile)
            finally:
                if cluster:
                    cluster.stop()
            lines.append(f"| {backend} | {rate:,.0f} | {bare:,.0f} | {rate / bare:.2f} |")
            if profile:
                profiles.append(f"## Profile: {backend}\n\n```\n{profile}```\n")
            print(lines[-1], flush=True)
    text_out = "\n".join(lines) + "\n\n" + "\n".join(profiles)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "sync_push.md").write_text(text_out)
    print(text_out)


if __name__ == "__main__":
    sys.exit(main())
