"""Time the dashboard's overview and commune drill-down on a generated province.

    python -m benchmarks.dashboard [--sales 5000000] [--stalls 20000] [--markets 300]
        [--days 90] [--backend sqlite|postgresql|both] [--repeat 25]

For each backend: generate the province (benchmarks/generate_province.py), serve the real app
with waitress on 127.0.0.1, log in as an administrator, and request each page `--repeat` times
after two warm-up requests. Reported: the median and 90th percentile of the whole HTTP request
(rollup queries, template, SVG chart), and the median of a bare `SELECT count(*) FROM sales` on
the same database in the same run, with the ratio between the two. The goal is < 300 ms.
Results go to benchmarks/results/dashboard.md.
"""
from __future__ import annotations

import argparse
import platform
import re
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

import requests
from sqlalchemy import select, text

from sync.server.app import create_app
from sync.server.db import communes, make_engine, markets, provinces, write_transaction
from sync.server.users import create_user
from tests.harness.live import serve_in_thread

from .generate_province import generate

RESULTS = Path(__file__).resolve().parent / "results"
PASSWORD = "benchmark-password"
LIMIT_MS = 300


def _median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def _p90_ms(samples: list[float]) -> float:
    return sorted(samples)[max(0, int(len(samples) * 0.9) - 1)] * 1000


def count_times(url: str, repeat: int) -> list[float]:
    """Seconds for a bare count of the sales table, each in its own round trip."""
    engine = make_engine(url)
    samples = []
    try:
        with engine.connect() as conn:
            for n in range(repeat + 2):
                started = time.perf_counter()
                conn.execute(text("SELECT count(*) FROM sales")).scalar_one()
                if n >= 2:
                    samples.append(time.perf_counter() - started)
    finally:
        engine.dispose()
    return samples


def page_times(url: str, end: str, repeat: int) -> dict[str, list[float]]:
    """Seconds per request for the overview (day, week, month) and a commune drill-down."""
    engine = make_engine(url)
    with write_transaction(engine) as conn:
        create_user(conn, "bench", PASSWORD, "admin")
        province_id = conn.execute(select(provinces.c.id)).scalars().first()
        commune_id = conn.execute(select(communes.c.id).order_by(communes.c.id)).scalars().first()
        market_id = conn.execute(select(markets.c.id).where(markets.c.commune_id == commune_id)
                                 .order_by(markets.c.id)).scalars().first()
    engine.dispose()
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "benchmark"})
    pages = {
        "overview, day": f"/dashboard/province/{province_id}?period=day&date={end}",
        "overview, week": f"/dashboard/province/{province_id}?period=week&date={end}",
        "overview, month": f"/dashboard/province/{province_id}?period=month&date={end}",
        "commune, day": f"/dashboard/commune/{commune_id}?period=day&date={end}",
        "commune, month": f"/dashboard/commune/{commune_id}?period=month&date={end}",
        "market, month": f"/dashboard/market/{market_id}?period=month&date={end}",
    }
    out: dict[str, list[float]] = {}
    try:
        with serve_in_thread(app, threads=4) as base:
            session = requests.Session()
            login = session.get(base + "/admin/login").text
            token = re.search(r'name="csrf_token" value="([^"]+)"', login).group(1)
            answer = session.post(base + "/admin/login", data={
                "username": "bench", "password": PASSWORD, "csrf_token": token},
                allow_redirects=False)
            assert answer.status_code == 302, answer.text
            for name, path in pages.items():
                samples = []
                for n in range(repeat + 2):
                    started = time.perf_counter()
                    response = session.get(base + path)
                    elapsed = time.perf_counter() - started
                    assert response.status_code == 200, (path, response.status_code)
                    if n >= 2:
                        samples.append(elapsed)
                out[name] = samples
    finally:
        app.extensions["market_server"]["engine"].dispose()
    return out


def run(backend: str, workdir: Path, args: argparse.Namespace) -> tuple[list[str], dict]:
    cluster = None
    if backend == "sqlite":
        url = f"sqlite:///{workdir / 'province.sqlite3'}"
    else:
        from tests.server import pgcluster
        bindir = pgcluster.find_bindir()
        if bindir is None:
            raise SystemExit("PostgreSQL binaries not found (install postgresql)")
        cluster = pgcluster.Cluster(bindir).start()
        pgcluster.admin_execute(cluster.url(), 'CREATE DATABASE "province"')
        url = pgcluster.with_database(cluster.url(), "province")
    try:
        made = generate(url, n_markets=args.markets, n_stalls=args.stalls, n_sales=args.sales,
                        days=args.days)
        print(backend, made, flush=True)
        pages = page_times(url, made["end"], args.repeat)
        counts = count_times(url, args.repeat)
    finally:
        if cluster:
            cluster.stop()
    count_ms = _median_ms(counts)
    rows = []
    for name, samples in pages.items():
        median = _median_ms(samples)
        rows.append(f"| {backend} | {name} | {median:.1f} | {_p90_ms(samples):.1f} | "
                    f"{count_ms:.1f} | {median / count_ms:.2f} | "
                    f"{'yes' if median < LIMIT_MS else '**no**'} |")
        print(rows[-1], flush=True)
    return rows, made


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sales", type=int, default=5_000_000)
    parser.add_argument("--stalls", type=int, default=20_000)
    parser.add_argument("--markets", type=int, default=300)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--repeat", type=int, default=25)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    args = parser.parse_args()
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    table = ["| backend | page | median ms | p90 ms | `SELECT count(*) FROM sales` median ms "
             "| ratio | < 300 ms |", "| --- | --- | ---: | ---: | ---: | ---: | --- |"]
    made_lines = []
    with tempfile.TemporaryDirectory() as tmp:
        for backend in backends:
            rows, made = run(backend, Path(tmp), args)
            table += rows
            t = made["timings"]
            made_lines.append(f"- {backend}: places {t['places']:.1f} s, sales "
                              f"{t['sales']:.1f} s, rollups {t['rollups']:.1f} s; rollup rows "
                              f"{made['rollup_rows']}")
    out = [f"# Dashboard benchmark ({args.markets} markets, {args.stalls:,} stalls, "
           f"{args.sales:,} sales over {args.days} days)", "",
           f"Machine: {platform.machine()}, {platform.processor() or 'cpu'}, 2 cores shared with "
           f"other work; Python {platform.python_version()}; SQLite {sqlite3.sqlite_version}; "
           "PostgreSQL from the test cluster helper (fsync off).", "",
           f"Each page requested {args.repeat} times through waitress on 127.0.0.1 after two "
           "warm-up requests, logged in as an administrator (the province page is the "
           "overview). The ratio is the page's median over the median of a bare "
           "`SELECT count(*) FROM sales` in the same run.", "", *table, "",
           "Generation (python -m benchmarks.generate_province):", "", *made_lines, ""]
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "dashboard.md").write_text("\n".join(out))
    print("\n".join(out))


if __name__ == "__main__":
    sys.exit(main())
