"""Do push and dashboard timings stay flat as months accumulate? 12 months of data against 1.

    python -m benchmarks.partitions [--stalls 300] [--sales-per-month 300] [--pushes 300]
        [--batch 5] [--repeat 20] [--seed 1]

Two PostgreSQL databases on one throwaway cluster (tests/server/pgcluster.py, fsync off), both
at the newest schema (partitioned by month, revision 0016), with the same stalls and the same
volume per month: "1 month" holds this month's sales only, "12 months" the same month and the
eleven before it, each month in its own partitions. The history is written in bulk (INSERT …
SELECT per month: journal entries, sales, two lines and a payment per sale), then the rollups
are computed by `rollups.rebuild` and the tables vacuumed and analysed.

Then, interleaved so that both databases see the same machine at the same moments, through the
real app served by waitress on 127.0.0.1:

- pushes: `--pushes` POST /api/v1/journal per database, each of `--batch` new entries (sales,
  and a void of one of this month's stored sales: the void updates the sale's row, which the
  push finds among all partitions), for 50 stalls in turn; every tenth push is sent again
  whole (all duplicates: the stored hashes are looked up among all partitions);
- the dashboard: the province's month and day, a stall's month and its sales CSV, each
  `--repeat` times after two warm-up requests.

Reported: push p50/p95 (new entries) and p50 (a resent batch), each page's median, and the
ratio of "12 months" to the "1 month" baseline measured in the same run. Results go to
benchmarks/results/partitions_postgresql.md.
"""
from __future__ import annotations

import argparse
import platform
import random
import re
import statistics
import sys
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import select, text

from sync.protocol import utc_timestamp
from sync.server import migrations, partitions, rollups
from sync.server.app import create_app
from sync.server.db import communes, make_engine, provinces, write_transaction
from sync.server.pairing import issue_token
from sync.server.users import create_user
from tests.harness.live import serve_in_thread
from tests.server import pgcluster
from tests.server.chain import make_entry, sale_payload

from .generate_province import PRODUCTS, _places

RESULTS = Path(__file__).resolve().parent / "results"
PASSWORD = "benchmark-password"
PUSH_DEVICES = 50


def _percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000 if ordered else 0.0


def _median(samples: list[float]) -> float:
    return statistics.median(samples) * 1000 if samples else 0.0


# --- the history ---------------------------------------------------------------------------------

GENERATE = """
CREATE TEMP TABLE gen AS
SELECT d.device_id, :base + g.i AS seq, t.ts, t.day,
       (g.i + d.n) % 30 + 1 AS p1, (g.i * 7 + d.n) % 30 + 1 AS p2,
       500 * (1 + g.i % 4) AS q1, 1000 AS q2, (g.i + d.n) % 20 < 7 AS by_qr
FROM bench_devices d
CROSS JOIN generate_series(1, :per) AS g(i)
CROSS JOIN LATERAL (
    SELECT CAST(:start AS timestamptz) + ((g.i - 1) * :span / :per + d.n % 60)
           * interval '1 second' AS ts) t0
CROSS JOIN LATERAL (
    SELECT t0.ts, to_char(t0.ts AT TIME ZONE 'Asia/Ho_Chi_Minh', 'YYYY-MM-DD') AS day) t;
ALTER TABLE gen ADD COLUMN a1 bigint, ADD COLUMN a2 bigint, ADD COLUMN total bigint;
UPDATE gen SET a1 = (q1 * (CAST(:prices AS bigint[]))[p1] + 500) / 1000,
               a2 = (q2 * (CAST(:prices AS bigint[]))[p2] + 500) / 1000;
UPDATE gen SET total = a1 + a2;
"""

INSERTS = [
    """INSERT INTO journal (device_id, seq, id, kind, at, payload, prev_hash, hash, received_at,
                            month)
    SELECT device_id, seq, CAST(CAST(md5(device_id || ':id:' || seq) AS uuid) AS text), 'sale',
           to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
           '{"business_day":"' || day || '","lines":[{"amount":' || a1
           || ',"name":"' || (CAST(:names AS text[]))[p1] || '","product_id":' || 'null,'
           || '"quantity_milli":' || q1 || ',"unit":"' || (CAST(:units AS text[]))[p1]
           || '","unit_price":' || (CAST(:prices AS bigint[]))[p1] || '},{"amount":' || a2
           || ',"name":"' || (CAST(:names AS text[]))[p2] || '","product_id":' || 'null,'
           || '"quantity_milli":' || q2 || ',"unit":"' || (CAST(:units AS text[]))[p2]
           || '","unit_price":' || (CAST(:prices AS bigint[]))[p2] || '}],"number":' || seq
           || ',"payments":[{"amount":' || total || ',"method":"'
           || CASE WHEN by_qr THEN 'qr' ELSE 'cash' END || '"}],"sold_by":"owner","total":'
           || total || '}',
           md5(device_id || ':' || (seq - 1)) || md5((seq - 1) || ':' || device_id),
           md5(device_id || ':' || seq) || md5(seq || ':' || device_id),
           ts + interval '20 seconds', CAST(:month AS date)
    FROM gen""",
    """INSERT INTO sales (device_id, seq, sale_id, number, at, business_day, total, cash, qr,
                          sold_by, month)
    SELECT device_id, seq, CAST(CAST(md5(device_id || ':id:' || seq) AS uuid) AS text), seq,
           to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), day, total,
           CASE WHEN by_qr THEN 0 ELSE total END, CASE WHEN by_qr THEN total ELSE 0 END,
           'owner', CAST(:month AS date)
    FROM gen""",
    """INSERT INTO sale_lines (device_id, seq, line_no, name, unit, quantity_milli, unit_price,
                               amount, month)
    SELECT device_id, seq, 1, (CAST(:names AS text[]))[p1], (CAST(:units AS text[]))[p1], q1,
           (CAST(:prices AS bigint[]))[p1], a1, CAST(:month AS date) FROM gen
    UNION ALL
    SELECT device_id, seq, 2, (CAST(:names AS text[]))[p2], (CAST(:units AS text[]))[p2], q2,
           (CAST(:prices AS bigint[]))[p2], a2, CAST(:month AS date) FROM gen""",
    """INSERT INTO payments (device_id, seq, line_no, method, amount, state, month)
    SELECT device_id, seq, 1, CASE WHEN by_qr THEN 'qr' ELSE 'cash' END, total,
           CASE WHEN by_qr THEN 'vendor_confirmed' END, CAST(:month AS date)
    FROM gen""",
]


def build(url: str, months: int, args: argparse.Namespace, now: datetime) -> dict[str, Any]:
    """One database: the stalls, `months` months of history ending with this one, rollups."""
    engine = make_engine(url)
    timings: dict[str, float] = {}
    try:
        migrations.upgrade(engine)
        started = time.perf_counter()
        stall_list = _places(engine, max(3, args.stalls // 20), args.stalls, now,
                             random.Random(args.seed))
        with write_transaction(engine) as conn:
            create_user(conn, "bench", PASSWORD, "admin")
            conn.execute(text("CREATE TABLE bench_devices (device_id text, n int)"))
            conn.execute(text("INSERT INTO bench_devices VALUES (:d, :n)"),
                         [{"d": device, "n": n} for n, (device, _m) in enumerate(stall_list)])
        this_month = partitions.month_of(now)
        per = args.sales_per_month
        names = [p[0] for p in PRODUCTS]
        units = [p[1] for p in PRODUCTS]
        prices = [p[2] for p in PRODUCTS]
        for index in range(months):
            month = partitions.next_month(this_month, index - months + 1)
            start = datetime(month.year, month.month, 1, tzinfo=timezone.utc)
            end = (now - timedelta(hours=1)) if month == this_month else datetime(
                *partitions.next_month(month).timetuple()[:3], tzinfo=timezone.utc)
            span = int((end - start).total_seconds()) - 120
            with write_transaction(engine) as conn:
                partitions.ensure_month(conn, month)
                params = {"base": index * per, "per": per, "start": start, "span": span,
                          "prices": prices, "names": names, "units": units, "month": month}
                for statement in GENERATE.strip().split(";\n"):
                    if statement.strip():
                        conn.execute(text(statement), params)
                for statement in INSERTS:
                    conn.execute(text(statement), params)
                conn.execute(text("DROP TABLE gen"))
        with write_transaction(engine) as conn:
            last = months * per
            conn.execute(text(
                "UPDATE devices SET acked_seq = :last, head_hash = md5(device_id || ':' || :last)"
                " || md5(:last || ':' || device_id), last_sync_at = :now"),
                {"last": last, "now": now})
            conn.execute(text("DROP TABLE bench_devices"))
        timings["history"] = time.perf_counter() - started
        started = time.perf_counter()
        with write_transaction(engine) as conn:
            rollups.rebuild(conn)
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
        timings["rollups and vacuum"] = time.perf_counter() - started
        with engine.connect() as conn:
            rows = {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
                    for t in ("journal", "sales", "sale_lines", "payments")}
            size = conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one()
            parts = len(partitions.attached(conn))
            province_id = conn.execute(select(provinces.c.id)).scalar_one()
            commune_id = conn.execute(select(communes.c.id).order_by(communes.c.id)).scalars(
                ).first()
    finally:
        engine.dispose()
    return {"url": url, "months": months, "rows": rows, "bytes": size, "partitions": parts,
            "timings": timings, "devices": [d for d, _m in stall_list], "last_seq": last,
            "province_id": province_id, "commune_id": commune_id}


# --- the workload --------------------------------------------------------------------------------

class Pusher:
    """The stalls that push into one database: their tokens, heads and sales to void."""

    def __init__(self, made: dict[str, Any], now: datetime, seed: int) -> None:
        self.devices = made["devices"][:PUSH_DEVICES]
        engine = make_engine(made["url"])
        self.heads: dict[str, tuple[int, str]] = {}
        self.voidable: dict[str, list[Any]] = {}
        first = made["last_seq"] - made["per"] + 1
        rng = random.Random(seed)
        try:
            with write_transaction(engine) as conn:
                self.tokens = {d: issue_token(conn, d, now) for d in self.devices}
                for device in self.devices:
                    row = conn.execute(text("SELECT acked_seq, head_hash FROM devices"
                                            " WHERE device_id = :d"), {"d": device}).one()
                    self.heads[device] = (row.acked_seq, row.head_hash)
                    sales = conn.execute(text(
                        "SELECT seq, sale_id, number, total, business_day FROM sales"
                        " WHERE device_id = :d AND seq >= :first ORDER BY seq"),
                        {"d": device, "first": first}).all()
                    self.voidable[device] = rng.sample(list(sales), min(len(sales), 40))
        finally:
            engine.dispose()
        self.turn = 0
        self.sent: list[tuple[str, list[dict[str, Any]]]] = []

    def batch(self, size: int, day: str) -> tuple[str, list[dict[str, Any]]]:
        device = self.devices[self.turn % len(self.devices)]
        self.turn += 1
        seq, head = self.heads[device]
        entries = []
        for index in range(size):
            seq += 1
            if index == size - 1 and self.voidable[device]:
                sale = self.voidable[device].pop()
                kind, payload = "void", {"sale_id": sale.sale_id, "sale_seq": sale.seq,
                                         "sale_number": sale.number, "amount": sale.total,
                                         "business_day": sale.business_day,
                                         "reason": "Khách đổi ý", "voided_by": "owner"}
            else:
                kind, payload = "sale", {**sale_payload(seq, day=day, variant=seq),
                                         "number": seq}
            entry = make_entry(device, seq, head, kind, payload, utc_timestamp())
            entries.append(entry.to_dict())
            head = entry.hash
        self.heads[device] = (seq, head)
        self.sent.append((device, entries))
        return device, entries


def push_times(bases: dict[str, str], pushers: dict[str, Pusher], args: argparse.Namespace
               ) -> dict[str, dict[str, list[float]]]:
    """Seconds per push, new entries and resent batches, per database, interleaved."""
    session = requests.Session()
    out = {label: {"new": [], "resent": []} for label in bases}
    day = datetime.now(timezone(timedelta(hours=7))).date().isoformat()
    labels = list(bases)
    for n in range(args.pushes + 4):
        order = labels if n % 2 == 0 else labels[::-1]
        for label in order:
            pusher = pushers[label]
            resend = n % 10 == 9
            device, entries = pusher.sent[-1] if resend else pusher.batch(args.batch, day)
            started = time.perf_counter()
            answer = session.post(bases[label] + "/api/v1/journal", json={
                "device_id": device, "entries": entries},
                headers={"Authorization": f"Bearer {pusher.tokens[device]}"})
            elapsed = time.perf_counter() - started
            body = answer.json()
            assert answer.status_code == 200, (label, answer.status_code, body)
            assert body["stored"] == (0 if resend else len(entries)), body
            if n >= 4:   # the first two rounds warm the connections and the caches
                out[label]["resent" if resend else "new"].append(elapsed)
    return out


def page_times(bases: dict[str, str], made: dict[str, dict[str, Any]], repeat: int
               ) -> dict[str, dict[str, list[float]]]:
    today = datetime.now(timezone(timedelta(hours=7))).date().isoformat()
    sessions = {}
    for label, base in bases.items():
        session = requests.Session()
        login = session.get(base + "/admin/login").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', login).group(1)
        answer = session.post(base + "/admin/login", data={
            "username": "bench", "password": PASSWORD, "csrf_token": token},
            allow_redirects=False)
        assert answer.status_code == 302, answer.text
        sessions[label] = session

    def pages(info: dict[str, Any]) -> dict[str, str]:
        stall = info["devices"][PUSH_DEVICES + 1]   # a stall nobody pushed to in the run
        return {
            "province, month": f"/dashboard/province/{info['province_id']}?period=month"
                               f"&date={today}",
            "province, day": f"/dashboard/province/{info['province_id']}?period=day"
                             f"&date={today}",
            "commune, month": f"/dashboard/commune/{info['commune_id']}?period=month"
                              f"&date={today}",
            "stall, month": f"/dashboard/stall/{stall}?period=month&date={today}",
            "stall's sales CSV, month": f"/dashboard/stall/{stall}/sales.csv?period=month"
                                        f"&date={today}",
        }
    out: dict[str, dict[str, list[float]]] = {label: {} for label in bases}
    names = list(pages(next(iter(made.values()))))
    for name in names:
        for n in range(repeat + 2):
            for label in (list(bases) if n % 2 == 0 else list(bases)[::-1]):
                path = pages(made[label])[name]
                started = time.perf_counter()
                response = sessions[label].get(bases[label] + path)
                elapsed = time.perf_counter() - started
                assert response.status_code == 200, (label, path, response.status_code)
                if n >= 2:
                    out[label].setdefault(name, []).append(elapsed)
    return out


# --- the report ----------------------------------------------------------------------------------

def report(args: argparse.Namespace, made: dict[str, dict[str, Any]],
           pushes: dict[str, dict[str, list[float]]],
           pages: dict[str, dict[str, list[float]]], elapsed: float, command: str) -> str:
    base, big = "1 month", f"{args.months} months"
    lines = [
        f"# Partition flatness: {args.months} months of data against 1 (PostgreSQL)",
        "",
        f"Command: `{command}`",
        "",
        f"Machine: {platform.machine()}, {platform.processor() or 'cpu'}, 2 cores shared with"
        f" the load generator (client, server threads and PostgreSQL on the same cores);"
        f" Python {platform.python_version()}; PostgreSQL from the test cluster helper"
        f" (tests/server/pgcluster.py: fsync off, so the timings are the work, not the"
        f" disk). Whole run: {elapsed:.0f} s.",
        "",
        f"Data, the same per month in both: {args.stalls} stalls, {args.sales_per_month} sales"
        f" per stall per month ({args.stalls * args.sales_per_month:,} sales a month, each a"
        " journal entry, a sale, two lines and a payment), every month in its own partitions"
        " (revision 0016). The baseline holds this month only; the other database holds this"
        f" month and the {args.months - 1} before it.",
        "",
        "| database | journal entries | sales | sale lines | payments | partitions attached |"
        " size | history written | rollups + VACUUM ANALYZE |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for label, info in made.items():
        rows = info["rows"]
        lines.append(f"| {label} | {rows['journal']:,} | {rows['sales']:,} |"
                     f" {rows['sale_lines']:,} | {rows['payments']:,} | {info['partitions']} |"
                     f" {info['bytes'] / 2**20:,.0f} MiB |"
                     f" {info['timings']['history']:.1f} s |"
                     f" {info['timings']['rollups and vacuum']:.1f} s |")
    lines += [
        "",
        f"Pushes: {args.pushes} per database through the real app (waitress, 127.0.0.1), one"
        f" client, the two databases interleaved; each new push is {args.batch} entries"
        f" ({args.batch - 1} sales and a void of one of this month's stored sales) of one of"
        f" {PUSH_DEVICES} stalls in turn; every tenth push resends the previous batch (all"
        " duplicates). Dashboard: each page requested"
        f" {args.repeat} times per database after two warm-up requests, interleaved, logged in"
        f" as an administrator. Ratio: {big} over the 1-month baseline of the same run"
        " (1.00 is flat).",
        "",
        f"| measure | {base} ms | {big} ms | ratio |",
        "| --- | ---: | ---: | ---: |",
    ]

    def row(name: str, a: float, b: float) -> None:
        lines.append(f"| {name} | {a:.1f} | {b:.1f} | {b / a:.2f} |")
    row("push p50 (new entries)", _median(pushes[base]["new"]), _median(pushes[big]["new"]))
    row("push p95 (new entries)", _percentile(pushes[base]["new"], 0.95),
        _percentile(pushes[big]["new"], 0.95))
    row("push p50 (resent batch, duplicates)", _median(pushes[base]["resent"]),
        _median(pushes[big]["resent"]))
    for name in pages[base]:
        row(f"dashboard: {name}, median", _median(pages[base][name]),
            _median(pages[big][name]))
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stalls", type=int, default=300)
    parser.add_argument("--sales-per-month", type=int, default=300)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--pushes", type=int, default=300)
    parser.add_argument("--batch", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--output", type=Path,
                        default=RESULTS / "partitions_postgresql.md")
    args = parser.parse_args()
    command = " ".join(["python -m benchmarks.partitions", *sys.argv[1:]])
    bindir = pgcluster.find_bindir()
    if bindir is None:
        raise SystemExit("PostgreSQL binaries not found (install postgresql)")
    began = time.perf_counter()
    now = datetime.now(timezone.utc)
    cluster = pgcluster.Cluster(bindir).start()
    apps = []
    try:
        made: dict[str, dict[str, Any]] = {}
        for label, months in (("1 month", 1), (f"{args.months} months", args.months)):
            name = f"bench_{months}"
            pgcluster.admin_execute(cluster.url(), f'CREATE DATABASE "{name}"')
            info = build(cluster.url(name), months, args, now)
            info["per"] = args.sales_per_month
            made[label] = info
            print(label, {k: v for k, v in info.items() if k != "devices"}, flush=True)
        pushers = {label: Pusher(info, now, args.seed) for label, info in made.items()}
        apps = [create_app({"DATABASE_URL": info["url"], "SECRET_KEY": "benchmark"})
                for info in made.values()]
        with serve_in_thread(apps[0], threads=4) as first, \
                serve_in_thread(apps[1], threads=4) as second:
            bases = dict(zip(made, (first, second)))
            pushes = push_times(bases, pushers, args)
            pages = page_times(bases, made, args.repeat)
    finally:
        for app in apps:
            app.extensions["market_server"]["engine"].dispose()
        cluster.stop()
    text_ = report(args, made, pushes, pages, time.perf_counter() - began, command)
    args.output.write_text(text_)
    print(text_)


if __name__ == "__main__":
    main()
