"""A province at its morning peak, scaled to this machine (issue 21, item 6).

    python -m benchmarks.load_province [--app-cores 8 | --rate 50] [--duration 60] [--warmup 15]
                                       [--layouts gunicorn:1,gunicorn:2] [--seed 21] [--json]

The design point (issue 21): a merged province of 60,000 stalls in 400 markets makes 400 sales/s
at its morning peak, so one stall makes a sale every 150 s on average. This benchmark keeps that
per-stall rate and that market size (150 stalls a market) and scales the number of stalls to
the rate asked: `--rate` sales per second *per server process* (so 2 processes get twice the
stalls), the per-process share of the peak. Each simulated stall is a real device of the
server (paired in its database) whose sales come as a Poisson stream; a share of them are QR
payments whose code waits for the buyer's transfer first. Each stall talks to the province by
the real client's policy, `pos.sync.schedule.Schedule` itself, looked at every `TICK` seconds
with a random phase per stall, exactly as `pos.sync.worker` runs it:

- **push** rounds: POST /api/v1/journal of everything pending (coalesced: after `PUSH_QUIET` s
  of quiet, at most one per `PUSH_INTERVAL` s);
- **poll** rounds (every `POLL_INTERVAL` s ± `POLL_JITTER`, in steady state: the first poll of
  each stall falls anywhere in one interval): GET bank notifications, the push when one is due,
  else GET the head (If-None-Match) when no push answered since the last poll, then GET the
  catalogue (If-None-Match);
- **bank** rounds: GET bank notifications every `QR_WATCH_INTERVAL` s while a QR code waits;
- and for each QR sale the bank notification service's **webhook** (POST
  /api/v1/bank/notifications in Casso's shape, routed to the stall by its payment reference).

Each round opens its own connection (a stall that spoke a minute ago finds its keep-alive
closed), as the stall's client would. Not simulated: TLS (loopback is plain HTTP; HAProxy
terminates TLS in production), e-invoice status polls (MTT stalls only), the one-off signing-key
registration, failed rounds' back-off beyond a simple doubling.

The server is `market-server serve --workers N` (gunicorn, gthread) for N ≥ 2, and the same
gunicorn configuration started through gunicorn's own command for N = 1 (`serve --workers 1` is
waitress; `waitress:1` in --layouts measures that too), behind HAProxy started from
deploy/haproxy.cfg itself, on a PostgreSQL cluster with fsync on (a durable commit per push).

Reported per layout, over the measured window (after the warm-up): requests/s and entries/s
(overall, per server process, and per core the server processes used), push p50/p95/p99, the
time from a sale to the server's acknowledgement, errors, the CPU each component used (app,
PostgreSQL, HAProxy, this load generator, from /proc), and PostgreSQL's lock waits sampled from
pg_stat_activity every 0.2 s (plus waits over deadlock_timeout from its log, not-granted
pg_locks and the statements that took the most time, from pg_stat_statements). A baseline from
the same run: sequential one-entry pushes through the balancer with no other load.

Results go to benchmarks/results/load_province.md (and .json); exit status 1 when a layout had
errors or missed the target (push p95 ≤ 2 s).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from sync.protocol import GENESIS_HASH, canonical_json, entry_hash, new_entry_id, utc_timestamp

try:   # the stall's own push policy and back-off (issue 21, item 1)
    from pos.sync import backoff
    from pos.sync import schedule as policy
except ImportError:  # pragma: no cover  (a tree before item 1)
    raise SystemExit("pos/sync/schedule.py is missing: this benchmark runs the stall's own"
                     " push policy")

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
BIN = Path(sys.executable).parent
HAPROXY_CFG = ROOT / "deploy" / "haproxy.cfg"

# The design point (issue 21).
PROVINCE_STALLS = 60_000
PROVINCE_MARKETS = 400
PEAK_SALES_PER_S = 400.0
STALL_RATE = PEAK_SALES_PER_S / PROVINCE_STALLS          # sales/s of one stall at the peak
STALLS_PER_MARKET = PROVINCE_STALLS // PROVINCE_MARKETS  # 150
MARKETS_PER_COMMUNE = 4
TARGET_P95_S = 2.0
QR_SHARE = getattr(policy, "QR_SHARE", 0.3)   # the share of sales paid by QR (assumed)
QR_WAIT = getattr(policy, "QR_WAIT", 40.0)    # mean seconds a QR code waits for the transfer

PRODUCTS = [  # (product_id, name, unit, unit price, typical quantity in thousandths)
    (1, "Rau muống", "bó", 10_000, 2000), (2, "Thịt lợn ba chỉ", "kg", 145_000, 500),
    (3, "Cá rô đồng", "kg", 90_000, 800), (4, "Chè Shan tuyết", "gói", 120_000, 1000),
    (5, "Gạo tám thơm", "kg", 22_000, 5000), (6, "Trứng gà ta", "quả", 4_000, 10_000),
    (7, "Đậu phụ", "bìa", 5_000, 4000), (8, "Cà chua", "kg", 25_000, 1000),
    (9, "Tôm khô", "kg", 900_000, 200), (10, "Nấm hương", "lạng", 45_000, 2000),
    (11, "Chuối tiêu", "nải", 30_000, 1000), (12, "Mật ong bạc hà", "chai", 250_000, 1000),
]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


def spread(values: list[float]) -> dict[str, float]:
    return {"n": len(values), "p50": round(percentile(values, .5) * 1000, 1),
            "p95": round(percentile(values, .95) * 1000, 1),
            "p99": round(percentile(values, .99) * 1000, 1),
            "max": round(max(values) * 1000, 1) if values else 0.0}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- the province's database --------------------------------------------------------------------

@dataclass
class Stall:
    device_id: str
    token: str
    market: int
    stall_id: int = 0
    qr_number: int = 0
    seq: int = 0
    prev_hash: str = GENESIS_HASH


def make_province(url: str, stalls: int) -> list[Stall]:
    """Markets of 150 stalls (4 markets a commune) and the province's catalogue. The first
    stall of each market is added and paired as `market-server add-stall` and a stall's pairing
    do (which makes the places); the others are written in bulk as those leave a paired stall
    (a stall, its device, a token stored as its SHA-256), hundreds of times faster."""
    import secrets
    import uuid

    from sqlalchemy import select

    from sync.protocol import token_hash
    from sync.server import catalogue, migrations, store
    from sync.server.db import device_tokens, devices, make_engine, utcnow, write_transaction
    from sync.server.db import stalls as stall_rows
    from sync.server.pairing import TOKEN_PREFIX
    engine = make_engine(url)
    migrations.upgrade(engine)
    made: list[Stall] = []
    with write_transaction(engine) as conn:
        for _, name, unit, price, _ in PRODUCTS:
            catalogue.set_catalogue_product(conn, province="Lào Cai", name=name, unit=unit,
                                            price=price)
    for market, first in enumerate(range(0, stalls, STALLS_PER_MARKET)):
        size = min(STALLS_PER_MARKET, stalls - first)
        now = utcnow()
        with write_transaction(engine) as conn:
            commune = market // MARKETS_PER_COMMUNE
            _, _, code = store.add_stall(conn, "Lào Cai", f"Xã {commune + 1}",
                                         f"Chợ {market + 1}", f"Sạp {first + 1}", now=now)
            answer = store.pair(conn, code, None, 0, now)
            market_id, first_id = conn.execute(
                select(stall_rows.c.market_id, stall_rows.c.id).join(
                    devices, devices.c.stall_id == stall_rows.c.id)
                .where(devices.c.device_id == answer["device_id"])).one()
            made.append(Stall(answer["device_id"], answer["token"], market, first_id))
            if size == 1:
                continue
            ids = conn.execute(
                stall_rows.insert().returning(stall_rows.c.id, sort_by_parameter_order=True),
                [{"market_id": market_id, "name": f"Sạp {first + i + 1}", "created_at": now}
                 for i in range(1, size)]).scalars().all()
            paired = [(str(uuid.uuid4()), TOKEN_PREFIX + secrets.token_urlsafe(32), stall_id)
                      for stall_id in ids]
            conn.execute(devices.insert(), [{"device_id": d, "stall_id": s, "paired_at": now}
                                            for d, _, s in paired])
            conn.execute(device_tokens.insert(), [{"token_hash": token_hash(t), "device_id": d,
                                                   "created_at": now} for d, t, _ in paired])
            made += [Stall(d, t, market, s) for d, t, s in paired]
    engine.dispose()
    return made


def webhook_secret(url: str) -> str:
    """The bank notification service's shared secret (`market-server webhook-secret`)."""
    from sync.server import bank
    from sync.server.db import make_engine, utcnow, write_transaction
    engine = make_engine(url)
    with write_transaction(engine) as conn:
        secret = bank.create_secret(conn, "load", utcnow())
    engine.dispose()
    return secret


def sale_entry(stall: Stall, rng: random.Random, at: datetime, qr: bool) -> dict[str, Any]:
    """The next sale of a stall, as pos/sales.py writes it, hashed and chained."""
    lines = []
    for product_id, name, unit, price, quantity in rng.sample(PRODUCTS, rng.choice((1, 1, 2, 3))):
        amount = (quantity * price + 500) // 1000
        lines.append({"product_id": product_id, "name": name, "unit": unit,
                      "quantity_milli": quantity, "unit_price": price, "amount": amount})
    total = sum(line["amount"] for line in lines)
    if qr:
        payments = [{"method": "qr", "amount": total}]
    else:
        tendered = -(-total // 10_000) * 10_000
        payments = [{"method": "cash", "amount": total, "tendered": tendered,
                     "change": tendered - total}]
    stall.seq += 1
    day = (at + timedelta(hours=7)).date().isoformat()   # the stall's business day (UTC+7)
    payload = {"number": stall.seq, "business_day": day, "total": total, "sold_by": "owner",
               "lines": lines, "payments": payments}
    stamp, entry_id = utc_timestamp(at), new_entry_id()
    digest = entry_hash(stall.prev_hash, stall.device_id, stall.seq, entry_id, "sale", stamp,
                        payload)
    entry = {"device_id": stall.device_id, "seq": stall.seq, "id": entry_id, "kind": "sale",
             "at": stamp, "payload": payload, "prev_hash": stall.prev_hash, "hash": digest}
    stall.prev_hash = digest
    return entry


# --- processes ----------------------------------------------------------------------------------

class Child:
    """A process in its own group, its output in a log file, stopped group and all."""

    def __init__(self, command: list[str], env: dict[str, str], log: Path):
        self.log = log
        with log.open("ab") as out:
            self.popen = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT,
                                          stdin=subprocess.DEVNULL, start_new_session=True,
                                          cwd=ROOT)

    def stop(self) -> None:
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout=30)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(self.popen.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.popen.wait(timeout=10)


def wait_http(port: int, path: str, child: Child, what: str, deadline: float = 60) -> None:
    import requests
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if child.popen.poll() is not None:
            raise SystemExit(f"{what} exited:\n{child.log.read_text(errors='replace')[-3000:]}")
        try:
            if requests.get(f"http://127.0.0.1:{port}{path}", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise SystemExit(f"{what} did not answer within {deadline} s")


def start_app(layout: str, url: str, port: int, threads: int, folder: Path) -> tuple[Child, str]:
    """The provincial server as `layout` says ("gunicorn:N" or "waitress:1"); its command."""
    server, processes = layout.split(":")
    env = {**os.environ, "MARKET_SERVER_DATABASE": url, "MARKET_SERVER_DATA": str(folder),
           "MARKET_SERVER_SECRET_KEY": "load-province", "MARKET_SERVER_PROXY_COUNT": "1",
           "PYTHONPATH": str(ROOT)}
    # The code of this tree (python -m, PYTHONPATH), shown as the installed commands.
    if server == "waitress" or int(processes) >= 2:
        shown = ["market-server", "serve", "--port", str(port), "--workers",
                 "1" if server == "waitress" else processes, "--threads", str(threads),
                 "--proxy-count", "1"]
        command = [sys.executable, "-m", "sync.server.cli", *shown[1:]]
    else:  # one gunicorn worker, configured as `serve --workers N` configures N of them
        factory = f"sync.server.app:create_app({{'DATABASE_POOL_SIZE': {threads}}})"
        shown = ["gunicorn", "--workers", "1", "--worker-class", "gthread", "--threads",
                 str(threads), "--bind", f"127.0.0.1:{port}", "--graceful-timeout", "20",
                 "--forwarded-allow-ips", "", factory]
        command = [sys.executable, "-m", *shown]
    child = Child(command, env, folder / f"app-{layout.replace(':', '-')}.log")
    wait_http(port, "/favicon.ico", child, f"the server ({layout})")
    return child, " ".join(c if c and " " not in c and "(" not in c else f'"{c}"'
                           for c in shown)


def start_haproxy(port: int, app_port: int, folder: Path, config: Path = HAPROXY_CFG) -> Child:
    """deploy/haproxy.cfg itself, on loopback: both of its servers are the one app instance
    (so its per-server maxconn of 32 allows 64 requests in the instance at once)."""
    haproxy = shutil.which("haproxy") or "/usr/sbin/haproxy"
    env = {**os.environ, "MARKET_LB_BIND": f"127.0.0.1:{port}",
           "MARKET_APP1": f"127.0.0.1:{app_port}", "MARKET_APP2": f"127.0.0.1:{app_port}",
           "MARKET_LB_STATS": str(folder / "haproxy.sock"), "MARKET_LB_NO_CHROOT": "1"}
    child = Child([haproxy, "-W", "-db", "-f", str(config)], env, folder / "haproxy.log")
    wait_http(port, "/favicon.ico", child, "HAProxy")
    return child


def balancer_counters(socket_path: Path) -> dict[str, int]:
    """The backend's error counters from HAProxy's admin socket (`show stat`): connection and
    response errors, retries, redispatches, aborts by client and server, 5xx it answered."""
    import csv
    import io
    try:
        with socket.socket(socket.AF_UNIX) as sock:
            sock.settimeout(5)
            sock.connect(str(socket_path))
            sock.sendall(b"show stat\n")
            data = b""
            while chunk := sock.recv(65536):
                data += chunk
    except OSError:
        return {}
    rows = list(csv.DictReader(io.StringIO(data.decode().lstrip("# "))))
    wanted = ("econ", "eresp", "wretr", "wredis", "cli_abrt", "srv_abrt", "hrsp_5xx")
    backend = next((r for r in rows if r.get("pxname") == "market_servers"
                    and r.get("svname") == "BACKEND"), None)
    return {k: int(backend.get(k) or 0) for k in wanted} if backend else {}


# --- CPU from /proc -----------------------------------------------------------------------------

TICKS = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2:].split()   # fields from the state on (field 3)


def _children(parent: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _stat(int(entry))
            if fields is not None and int(fields[1]) == parent:
                found.append(int(entry))
    return found


def cpu_seconds(root: int, *, reaped: bool = False) -> float:
    """CPU time of a process and its live children (and, with `reaped`, the children it has
    waited for: PostgreSQL's postmaster reaps exited backends)."""
    total = 0.0
    fields = _stat(root)
    if fields is not None:
        total += int(fields[11]) + int(fields[12])
        if reaped:
            total += int(fields[13]) + int(fields[14])
    for child in _children(root):
        child_fields = _stat(child)
        if child_fields is not None:
            total += int(child_fields[11]) + int(child_fields[12])
    return total / TICKS


def machine_busy() -> tuple[float, float]:
    """(busy, total) jiffies of all cores since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    return float(sum(values) - idle), float(sum(values))


def self_cpu() -> float:
    times = os.times()
    return times.user + times.system


# --- PostgreSQL's lock waits ----------------------------------------------------------------------

class LockSampler(threading.Thread):
    """pg_stat_activity every `every` seconds: what the province's active backends wait on."""

    def __init__(self, dsn: str, database: str, every: float = 0.2):
        super().__init__(daemon=True)
        self.dsn, self.database, self.every = dsn, database, every
        self.stop_event = threading.Event()
        self.samples = 0
        self.active = 0
        self.waiting: Counter[str] = Counter()
        self.samples_with_lock_wait = 0
        self.not_granted_max = 0

    def run(self) -> None:
        import psycopg
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            while not self.stop_event.wait(self.every):
                rows = conn.execute(
                    "SELECT coalesce(wait_event_type, 'CPU'), coalesce(wait_event, ''),"
                    " count(*) FROM pg_stat_activity WHERE datname = %s AND state = 'active'"
                    " AND pid <> pg_backend_pid() GROUP BY 1, 2", (self.database,)).fetchall()
                not_granted = conn.execute(
                    "SELECT count(*) FROM pg_locks WHERE NOT granted").fetchone()[0]
                self.samples += 1
                self.not_granted_max = max(self.not_granted_max, not_granted)
                lock_wait = False
                for kind, event, count in rows:
                    self.active += count
                    self.waiting[f"{kind}:{event}" if event else kind] += count
                    lock_wait = lock_wait or kind == "Lock"
                self.samples_with_lock_wait += lock_wait

    def summary(self) -> dict[str, Any]:
        n = max(self.samples, 1)
        return {"samples": self.samples, "active_backends_avg": round(self.active / n, 2),
                "lock_wait_backends_avg": round(sum(
                    c for k, c in self.waiting.items() if k.startswith("Lock:")) / n, 3),
                "samples_with_lock_wait_pct": round(100 * self.samples_with_lock_wait / n, 1),
                "not_granted_locks_max": self.not_granted_max,
                "waits_avg": {k: round(c / n, 3) for k, c in self.waiting.most_common(8)}}


# --- the stalls' HTTP --------------------------------------------------------------------------

class Connection:
    """One HTTP/1.1 keep-alive connection, as a stall's client opens for a round."""

    def __init__(self, port: int):
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, headers: dict[str, str],
                      body: bytes = b"") -> tuple[int, dict[str, str], bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self.reader is not None
        head = [f"{method} {path} HTTP/1.1", "Host: province", *(f"{k}: {v}"
                for k, v in headers.items())]
        if body or method == "POST":
            head.append(f"Content-Length: {len(body)}")
        self.writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        status_line = await self.reader.readuntil(b"\r\n")
        status = int(status_line.split()[1])
        answer_headers: dict[str, str] = {}
        while True:
            line = await self.reader.readuntil(b"\r\n")
            if line == b"\r\n":
                break
            name, _, value = line.decode("latin-1").partition(":")
            answer_headers[name.strip().lower()] = value.strip()
        data = b""
        if "content-length" in answer_headers:
            data = await self.reader.readexactly(int(answer_headers["content-length"]))
        elif answer_headers.get("transfer-encoding", "").lower() == "chunked":
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                chunk = await self.reader.readexactly(size + 2)
                if size == 0:
                    break
                data += chunk[:-2]
        if answer_headers.get("connection", "").lower() == "close":
            await self.close()
        return status, answer_headers, data

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            try:
                await self.writer.wait_closed()
            except OSError:
                pass
        self.reader = self.writer = None


# --- one simulated stall -----------------------------------------------------------------------

class Refused(OSError):
    """An answer other than 200/304 (429 and 503 carry Retry-After)."""

    def __init__(self, status: int, retry_after: float | None):
        super().__init__(f"HTTP {status}")
        self.retry_after = retry_after


@dataclass
class Device:
    stall: Stall
    schedule: Any
    phase: int
    plan: list[tuple[float, bool, float]]          # (code shown / sale at, QR, committed at)
    next_plan: int = 0
    entries: list[tuple[float, dict[str, Any]]] = field(default_factory=list)  # committed
    acked: int = 0                                  # the server's cursor (a seq)
    first_seq: int = 0                              # the seq before this layout's sales
    busy: bool = False
    next_attempt: float = 0.0
    backoff: Any = None
    storm_seq: int = 0                              # the last seq of the outage's backlog
    head_etag: str | None = None
    catalogue_etag: str | None = None
    bank_cursor: int = 0

    @property
    def head(self) -> int:
        return self.stall.seq

    def qr_waiting(self, now: float) -> bool:
        return any(qr and shown <= now < committed and now - shown < policy.QR_WATCH_FOR
                   for shown, qr, committed in self.plan[self.next_plan:self.next_plan + 4])


class Province:
    """The simulated stalls of one layout and what they measured."""

    def __init__(self, stalls: list[Stall], port: int, rate: float, seconds: float,
                 warmup: float, rng: random.Random, started_wall: datetime,
                 storm: float = 0.0, secret: str = ""):
        self.port, self.rng, self.started_wall, self.secret = port, rng, started_wall, secret
        self.webhooks: set[asyncio.Task[None]] = set()
        self.warmup, self.end = warmup, warmup + seconds
        self.latency: dict[str, list[float]] = defaultdict(list)   # in the window
        self.statuses: Counter[str] = Counter()
        self.errors: list[str] = []
        self.sale_to_ack: list[float] = []
        self.entries_acked = 0        # acknowledged in the window
        self.sales_in_window = 0
        self.requests_in_window = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.devices = []
        slices = int(round(policy.TICK / 0.1))
        for index, stall in enumerate(stalls):
            # From before the start, so that QR sales (committed when the transfer is seen)
            # already come at the steady rate; only sales committed after 0 are made.
            plan, t = [], -1.75 * QR_WAIT + rng.expovariate(STALL_RATE)
            while t < self.end:
                qr = rng.random() < QR_SHARE
                wait = rng.uniform(0.25, 1.75) * QR_WAIT if qr else 0.0
                if t + wait >= 0:
                    plan.append((t, qr, t + wait))
                t += rng.expovariate(STALL_RATE)
            plan.sort(key=lambda item: item[2])
            schedule = policy.Schedule(rand=rng.random, poll_start_spread=policy.POLL_INTERVAL)
            self.devices.append(Device(stall, schedule, index % slices, plan,
                                       acked=stall.seq, first_seq=stall.seq,
                                       backoff=backoff.Backoff(rand=rng.random)))
        self.slices = slices
        self.rate = rate
        self.storm_acked: list[float] = []    # when each entry of the outage's backlog went up
        self.storm_entries = 0
        if storm:
            self.make_storm(storm)

    def make_storm(self, outage: float) -> None:
        """The server was down for `outage` seconds at the peak and is back at 0: each stall
        holds what it sold meanwhile, and its next try comes after its back-off, which the
        outage drove to the cap: uniform in [0, CAP] (full jitter)."""
        for device in self.devices:
            device.backoff = backoff.Backoff(rand=self.rng.random)
            t = -outage + self.rng.expovariate(STALL_RATE)
            while t < 0:
                at = self.started_wall + timedelta(seconds=t)
                device.entries.append((t, sale_entry(device.stall, self.rng, at,
                                                     self.rng.random() < QR_SHARE)))
                t += self.rng.expovariate(STALL_RATE)
            device.storm_seq = device.stall.seq
            self.storm_entries += device.storm_seq - device.acked
            device.backoff.failures = 99
            device.next_attempt = self.rng.uniform(0, backoff.CAP)

    # the clock of the run: seconds since its start

    def start(self) -> None:
        self.t0 = time.monotonic()

    def now(self) -> float:
        return time.monotonic() - self.t0

    def in_window(self, t: float) -> bool:
        return self.warmup <= t < self.end

    def commit_sales(self, device: Device, now: float, selling: bool) -> None:
        while device.next_plan < len(device.plan) and device.plan[device.next_plan][2] <= now \
                and selling:
            _, qr, committed = device.plan[device.next_plan]
            device.next_plan += 1
            at = self.started_wall + timedelta(seconds=committed)
            entry = sale_entry(device.stall, self.rng, at, qr)
            device.entries.append((committed, entry))
            if self.in_window(committed):
                self.sales_in_window += 1
            if qr and self.secret:   # the buyer's bank tells the province (the webhook)
                task = asyncio.get_running_loop().create_task(
                    self.webhook(device, entry["payload"]["total"], committed))
                self.webhooks.add(task)
                task.add_done_callback(self.webhooks.discard)

    # one round of a stall, as pos.sync.worker runs it

    async def call(self, device: Device, conn: Connection, kind: str, method: str, path: str,
                   headers: dict[str, str], body: bytes = b"") -> tuple[int, dict[str, str],
                                                                     bytes]:
        began = self.now()
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            status, answer_headers, data = await asyncio.wait_for(
                conn.request(method, path, {"Authorization": f"Bearer {device.stall.token}",
                                            **headers}, body), timeout=60)   # headers win
        except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, ValueError) as exc:
            await conn.close()
            if self.in_window(began):
                self.errors.append(f"{kind}: {exc.__class__.__name__} {exc}"[:160])
            raise
        finally:
            self.in_flight -= 1
        took = self.now() - began
        if self.in_window(began):
            self.requests_in_window += 1
            self.latency[kind].append(took)
            self.statuses[f"{kind} {status}"] += 1
            if status not in (200, 304):
                self.errors.append(f"{kind} {status}: {data[:120]!r}")
        if status not in (200, 304):
            retry_after = answer_headers.get("retry-after", "")
            raise Refused(status, float(retry_after) if retry_after.isdigit() else None)
        return status, answer_headers, data

    async def push(self, device: Device, conn: Connection) -> bool:
        """POST the entries after the cursor, batch after batch while any are pending."""
        pushed = False
        while device.head > device.acked:
            first = device.acked - device.first_seq
            batch = [entry for _, entry in device.entries[first:first + 500]]
            body = canonical_json({"device_id": device.stall.device_id, "entries": batch})
            _, _, data = await self.call(device, conn, "push", "POST", "/api/v1/journal",
                                         {"Content-Type": "application/json",
                                          "X-Device-Time": utc_timestamp()}, body)
            acked = json.loads(data)["acked_seq"]
            now = self.now()
            for committed, entry in device.entries[first:acked - device.first_seq]:
                if committed < 0:   # the outage's backlog
                    self.storm_acked.append(now)
                if self.in_window(committed):
                    self.sale_to_ack.append(now - committed)
                if self.in_window(now):
                    self.entries_acked += 1
            device.acked = acked
            pushed = True
        return pushed

    async def bank(self, device: Device, conn: Connection) -> None:
        _, _, data = await self.call(device, conn, "bank", "GET",
                                     f"/api/v1/bank/notifications?after={device.bank_cursor}",
                                     {})
        ids = [item.get("id", 0) for item in json.loads(data).get("notifications", [])]
        device.bank_cursor = max([device.bank_cursor, *ids])

    async def webhook(self, device: Device, amount: int, committed: float) -> None:
        """The notification service posts the buyer's transfer, as Casso does: one request,
        its own connection, the stall's payment reference in the description."""
        stall = device.stall
        stall.qr_number = stall.qr_number % 9999 + 1
        body = canonical_json({"data": [{
            "id": new_entry_id(), "amount": amount, "when": utc_timestamp(),
            "description": f"MBVCB.{self.rng.randrange(10 ** 6)}.SAP{stall.stall_id}"
                           f"{stall.qr_number:04d}.CT tu NGUYEN VAN A",
            "bank_sub_acc_id": "0123456789"}]})
        conn = Connection(self.port)
        try:
            await self.call(device, conn, "webhook", "POST", "/api/v1/bank/notifications",
                            {"Content-Type": "application/json",
                             "Authorization": f"Bearer {self.secret}"}, body)
        except Exception:  # noqa: BLE001  (counted in call())
            pass
        finally:
            await conn.close()

    async def round(self, device: Device, kind: str, started: float) -> None:
        conn = Connection(self.port)
        pushed = False
        try:
            if kind == "push":
                pushed = await self.push(device, conn)
            elif kind == "bank":
                await self.bank(device, conn)
            else:   # poll: bank, then the push if due (else the head), then the catalogue
                push_due = device.schedule.push_due(started)
                check_head = not device.schedule.pushed_since_poll
                await self.bank(device, conn)
                if push_due and device.head > device.acked:
                    pushed = await self.push(device, conn)
                elif check_head and device.head == device.acked:
                    status, headers, data = await self.call(
                        device, conn, "head", "GET", "/api/v1/journal/head",
                        {"If-None-Match": device.head_etag} if device.head_etag else {})
                    if status == 200:
                        device.head_etag = headers.get("etag")
                status, headers, _ = await self.call(
                    device, conn, "catalogue", "GET", "/api/v1/catalogue",
                    {"If-None-Match": device.catalogue_etag} if device.catalogue_etag else {})
                if status == 200:
                    device.catalogue_etag = headers.get("etag")
            device.schedule.done(kind, started, pushed=pushed or kind == "push",
                                 pending=device.head - device.acked)
            device.backoff.reset()
            device.next_attempt = self.now()
        except Exception as exc:  # noqa: BLE001  (counted in call(); the stall backs off)
            device.next_attempt = self.now() + device.backoff.failure(
                exc.retry_after if isinstance(exc, Refused) else None)
        finally:
            await conn.close()
            device.busy = False

    async def run(self, drain: float) -> None:
        """Tick every 0.1 s through one slice of the stalls (each stall every TICK s, its own
        phase); stop selling at the end of the window, then let the stalls push what is left."""
        self.start()
        tasks: set[asyncio.Task[None]] = set()
        tick = 0
        while True:
            now = self.now()
            selling = now < self.end
            if not selling and (now > self.end + drain or all(
                    d.acked == d.head for d in self.devices)):
                break
            for device in self.devices[tick % self.slices::self.slices]:
                self.commit_sales(device, now, selling)
                device.schedule.observe(now, policy.Seen(
                    device.head, device.head - device.acked,
                    qr_waiting=selling and device.qr_waiting(now)))
                if device.busy or now < device.next_attempt:
                    continue
                kind = device.schedule.due(now)
                if not selling and kind in ("poll", "bank"):
                    # After the window only what is pending still goes up, as the policy says.
                    kind = "push" if device.schedule.push_due(now) else None
                if kind is None:
                    continue
                device.busy = True
                task = asyncio.get_running_loop().create_task(self.round(device, kind, now))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
            tick += 1
            await asyncio.sleep(max(0.0, tick * 0.1 - self.now()))
        if tasks or self.webhooks:
            await asyncio.wait(tasks | self.webhooks, timeout=90)


# --- one layout --------------------------------------------------------------------------------

def baseline(port: int, stall: Stall, count: int = 40) -> dict[str, float]:
    """One-entry pushes one after the other through the balancer, nothing else running."""
    import requests
    rng = random.Random(7)
    session = requests.Session()
    took = []
    for _ in range(count):
        entry = sale_entry(stall, rng, datetime.now(timezone.utc), False)
        body = canonical_json({"device_id": stall.device_id, "entries": [entry]})
        began = time.perf_counter()
        answer = session.post(f"http://127.0.0.1:{port}/api/v1/journal", data=body, timeout=30,
                              headers={"Authorization": f"Bearer {stall.token}",
                                       "Content-Type": "application/json"})
        took.append(time.perf_counter() - began)
        if answer.status_code != 200:
            raise SystemExit(f"baseline push: HTTP {answer.status_code} {answer.text[:200]}")
    return spread(took)


def db_counters(dsn: str) -> dict[str, int]:
    import psycopg
    with psycopg.connect(dsn, autocommit=True) as conn:
        row = conn.execute("SELECT xact_commit, xact_rollback, deadlocks FROM pg_stat_database"
                           " WHERE datname = current_database()").fetchone()
    return {"commits": row[0], "rollbacks": row[1], "deadlocks": row[2]}


def top_statements(dsn: str, limit: int = 5) -> list[dict[str, Any]]:
    import psycopg
    with psycopg.connect(dsn, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT calls, total_exec_time, mean_exec_time, left(regexp_replace(query,"
            " '\\s+', ' ', 'g'), 90) FROM pg_stat_statements WHERE dbid = (SELECT oid FROM"
            " pg_database WHERE datname = current_database()) ORDER BY total_exec_time DESC"
            " LIMIT %s", (limit,)).fetchall()
    return [{"calls": c, "total_ms": round(t), "mean_ms": round(m, 3), "query": q}
            for c, t, m, q in rows]


def storm_summary(province: Province) -> dict[str, Any]:
    """When half of the outage's backlog, and all of it, had been stored (None: not within
    the run), counted from the server's return."""
    acked, backlog = sorted(province.storm_acked), province.storm_entries
    return {"outage_s": None, "backlog_entries": backlog, "acked": len(acked),
            "half_after_s": round(acked[(backlog + 1) // 2 - 1], 1)
            if backlog and len(acked) >= (backlog + 1) // 2 else None,
            "drained_after_s": round(acked[-1], 1) if backlog and len(acked) == backlog
            else None}


def run_layout(layout: str, args: argparse.Namespace, cluster: Any, url: str,
               stalls: list[Stall], probe: Stall, folder: Path, secret: str) -> dict[str, Any]:
    import psycopg
    processes = int(layout.split(":")[1])
    rate = args.rate * processes
    count = min(len(stalls), int(round(rate / STALL_RATE)))
    app_port, lb_port = free_port(), free_port()
    app, command = start_app(layout, url, app_port, args.threads, folder)
    balancer = start_haproxy(lb_port, app_port, folder, args.haproxy_cfg)
    dsn = url.replace("postgresql+psycopg://", "postgresql://", 1)
    postmaster = int((cluster.data / "postmaster.pid").read_text().split()[0])
    try:
        idle = baseline(lb_port, probe)
        province = Province(stalls[:count], lb_port, rate, args.duration, args.warmup,
                            random.Random(f"{args.seed}-{layout}"), datetime.now(timezone.utc),
                            storm=args.storm, secret=secret)
        sampler = LockSampler(dsn, "province")
        log_before = len(cluster.log_text())

        marks: dict[str, Any] = {}

        async def main() -> None:
            async def mark(name: str, at: float) -> None:
                await asyncio.sleep(at)
                if name == "start":
                    with psycopg.connect(dsn, autocommit=True) as conn:
                        conn.execute("SELECT pg_stat_statements_reset()")
                marks[name] = {"app": cpu_seconds(app.popen.pid),
                               "postgres": cpu_seconds(postmaster, reaped=True),
                               "haproxy": cpu_seconds(balancer.popen.pid),
                               "loadgen": self_cpu(), "machine": machine_busy(),
                               "db": db_counters(dsn), "wall": time.monotonic()}
                if name == "start":
                    sampler.start()
                else:
                    sampler.stop_event.set()
                    marks["statements"] = top_statements(dsn)
            runner = asyncio.ensure_future(province.run(args.drain))
            await asyncio.gather(mark("start", args.warmup),
                                 mark("end", args.warmup + args.duration))
            await runner

        asyncio.run(main())
        sampler.join(timeout=5)
        lock_log = cluster.log_text()[log_before:]
        counters = balancer_counters(folder / "haproxy.sock")
    finally:
        balancer.stop()
        app.stop()
    odd = [line.strip() for line in balancer.log.read_text(errors="replace").splitlines()
           if "/api/v1/" in line and not any(f" {code} " in line for code in (200, 304))]
    start, end = marks["start"], marks["end"]
    storm = storm_summary(province) if args.storm else None
    if storm:
        storm["outage_s"] = args.storm
    wall = end["wall"] - start["wall"]
    cpu = {name: round(end[name] - start[name], 2)
           for name in ("app", "postgres", "haproxy", "loadgen")}
    busy = (end["machine"][0] - start["machine"][0]) / max(
        end["machine"][1] - start["machine"][1], 1)
    requests_ = province.requests_in_window
    db = {key: end["db"][key] - start["db"][key] for key in start["db"]}
    pending = sum(d.head - d.acked for d in province.devices)
    result = {
        "layout": layout, "processes": processes, "threads": args.threads, "command": command,
        "storm": storm,
        "stalls": count, "markets": math.ceil(count / STALLS_PER_MARKET),
        "planned_sales_per_s": round(count * STALL_RATE, 1), "window_s": round(wall, 1),
        "sales": province.sales_in_window, "entries_acked": province.entries_acked,
        "requests": requests_,
        "requests_per_s": round(requests_ / wall, 1),
        "entries_per_s": round(province.entries_acked / wall, 1),
        "by_kind": {kind: {**spread(values),
                           "per_s": round(len(values) / wall, 2)}
                    for kind, values in sorted(province.latency.items())},
        "statuses": dict(sorted(province.statuses.items())),
        "push": spread(province.latency.get("push", [])),
        "sale_to_ack": spread(province.sale_to_ack),
        "errors": len(province.errors), "error_samples": sorted(set(province.errors))[:5],
        "balancer_log": odd[:5], "balancer_counters": counters,
        "left_pending": pending, "max_in_flight": province.max_in_flight,
        "cpu_s": cpu, "machine_busy_pct": round(100 * busy, 1),
        "baseline_push": idle,
        "db": {**sampler.summary(), **db,
               "lock_waits_over_deadlock_timeout": lock_log.count("still waiting for"),
               "top_statements": marks.get("statements", [])},
    }
    app_cores = cpu["app"] / wall
    result["per_process"] = {"requests_per_s": round(requests_ / wall / processes, 1),
                             "entries_per_s": round(province.entries_acked / wall / processes, 1)}
    result["per_app_core"] = {
        "app_cores_used": round(app_cores, 2),
        "requests_per_s": round(requests_ / wall / app_cores, 1) if app_cores else None,
        "entries_per_s": round(province.entries_acked / wall / app_cores, 1)
        if app_cores else None}
    sales = max(province.sales_in_window, 1)
    result["cpu_ms_per_sale"] = {name: round(1000 * seconds / sales, 2)
                                 for name, seconds in cpu.items()}
    result["target_met"] = (result["errors"] == 0 and pending == 0
                            and result["push"]["p95"] <= TARGET_P95_S * 1000)
    return result


# --- the plan for a whole province -------------------------------------------------------------

def province_plan(results: list[dict[str, Any]], app_cores: int) -> dict[str, Any]:
    """The province at 400 sales/s from the CPU each sale cost here (the highest of the
    layouts): the cores each component keeps busy, and how busy `app_cores` provisioned app
    cores are (the per-core share of the peak the benchmark ran at is 400 / app_cores)."""
    worst = {name: max(r["cpu_ms_per_sale"][name] for r in results)
             for name in ("app", "postgres", "haproxy")}
    busy = {name: round(PEAK_SALES_PER_S * ms / 1000, 2) for name, ms in worst.items()}
    return {"cpu_ms_per_sale": worst, "busy_cores": busy, "app_cores": app_cores,
            "share_sales_per_s": round(PEAK_SALES_PER_S / app_cores, 1),
            "app_utilisation": round(busy["app"] / app_cores, 2),
            "app_core_ceiling_sales_per_s": round(1000 / worst["app"], 1)}


# --- the report ---------------------------------------------------------------------------------

def report(results: list[dict[str, Any]], args: argparse.Namespace, setup: dict[str, Any],
           plan: dict[str, Any]) -> str:
    cmdline = "python -m benchmarks.load_province " + " ".join(sys.argv[1:])
    lines = [
        "# A province at its morning peak, scaled to this machine", "",
        f"Command: `{cmdline.strip()}` ({time.strftime('%Y-%m-%d')}; {setup['seconds']} s in"
        " all).", "",
        f"Code: {setup['commit']}.", "",
        f"Machine: {os.cpu_count()} cores ({platform.processor() or platform.machine()}),"
        f" Python {platform.python_version()}, PostgreSQL {setup['postgres']} with fsync on"
        " (one durable commit per push), HAProxy from deploy/haproxy.cfg, all on loopback, the"
        " load generator on the same cores.", "",
        f"Design point: {PROVINCE_STALLS:,} stalls in {PROVINCE_MARKETS} markets, "
        f"{PEAK_SALES_PER_S:.0f} sales/s at the peak: one sale per"
        f" {1 / STALL_RATE:.0f} s per stall. Simulated here: {args.rate:g} sales/s per server"
        f" process ({args.rate / STALL_RATE:,.0f} stalls per process, {STALLS_PER_MARKET} per"
        f" market), {QR_SHARE:.0%} of sales by QR (the code waits {QR_WAIT:.0f} s on average),"
        f" the stall's policy from pos/sync/schedule.py: push after {policy.PUSH_QUIET:g} s of"
        f" quiet, at most every {policy.PUSH_INTERVAL:g} s; polls every"
        f" {policy.POLL_INTERVAL:g} s ± {policy.POLL_JITTER:.0%}; the bank every"
        f" {policy.QR_WATCH_INTERVAL:g} s while a code waits; a bank webhook per QR sale. Measured: {args.duration:g} s"
        f" after {args.warmup:g} s of warm-up.", "",
        "| layout | stalls | sales/s | requests/s | entries/s | per process req/s |"
        " app cores used | req/s per app core | push p50 / p95 / p99 ms |"
        " sale→ack p50 / p95 / max s | errors | target |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | ---: | --- |"]
    for r in results:
        p, s = r["push"], r["sale_to_ack"]
        lines.append(
            f"| {r['layout']} | {r['stalls']:,} | {r['sales'] / r['window_s']:.1f} |"
            f" {r['requests_per_s']} | {r['entries_per_s']} |"
            f" {r['per_process']['requests_per_s']} | {r['per_app_core']['app_cores_used']} |"
            f" {r['per_app_core']['requests_per_s']} | {p['p50']:.0f} / {p['p95']:.0f} /"
            f" {p['p99']:.0f} | {s['p50'] / 1000:.1f} / {s['p95'] / 1000:.1f} /"
            f" {s['max'] / 1000:.1f} | {r['errors']} | {'met' if r['target_met'] else 'MISSED'} |")
    for r in results:
        if r["storm"]:
            st = r["storm"]
            lines += ["", f"Storm ({r['layout']}): the server back after {st['outage_s']:g} s"
                      f" down at the peak; {st['backlog_entries']:,} entries waited on the"
                      f" stalls, whose first tries fell over {backoff.CAP:g} s (their back-off"
                      f" at its cap, full jitter). Half of them were stored"
                      f" {st['half_after_s']} s after the return, the last after"
                      f" {st['drained_after_s']} s ({st['acked']:,} acknowledged within the"
                      " run; None: not reached)."]
    lines += ["", "Requests by kind (p50 / p95 / p99 ms, per second):", ""]
    for r in results:
        kinds = "; ".join(f"{kind} {v['p50']:.0f} / {v['p95']:.0f} / {v['p99']:.0f}"
                          f" ({v['per_s']}/s)" for kind, v in r["by_kind"].items())
        lines.append(f"- {r['layout']}: {kinds}.")
    lines += ["", "CPU in the window (seconds; ms per sale) and the database:", "",
              "| layout | app | PostgreSQL | HAProxy | load generator | machine busy |"
              " commits | lock-wait backends (avg) | samples with a lock wait |"
              " waits > 1 s | deadlocks | baseline push p50 / p95 ms |",
              "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
              " --- |"]
    for r in results:
        c, ms, db, b = r["cpu_s"], r["cpu_ms_per_sale"], r["db"], r["baseline_push"]
        lines.append(
            f"| {r['layout']} | {c['app']} ({ms['app']}) | {c['postgres']} ({ms['postgres']}) |"
            f" {c['haproxy']} ({ms['haproxy']}) | {c['loadgen']} ({ms['loadgen']}) |"
            f" {r['machine_busy_pct']} % | {db['commits']} | {db['lock_wait_backends_avg']} |"
            f" {db['samples_with_lock_wait_pct']} % | {db['lock_waits_over_deadlock_timeout']} |"
            f" {db['deadlocks']} | {b['p50']:.0f} / {b['p95']:.0f} |")
    lines += ["", "HAProxy's backend counters (`show stat`): " + "; ".join(
        f"{r['layout']}: " + (", ".join(f"{k} {v}" for k, v in r["balancer_counters"].items())
                               or "not read") for r in results) + "."]
    lines += ["", "What the active backends waited on (average count per sample):", ""]
    for r in results:
        waits = ", ".join(f"{k} {v}" for k, v in r["db"]["waits_avg"].items())
        lines.append(f"- {r['layout']}: {waits or 'nothing'} (active backends on average"
                     f" {r['db']['active_backends_avg']}; not-granted locks at most"
                     f" {r['db']['not_granted_locks_max']}).")
    lines += ["", "Statements that took the most database time (pg_stat_statements, in the"
              " window):", ""]
    for r in results:
        lines.append(f"- {r['layout']}: " + "; ".join(
            f"`{s['query']}` {s['calls']} calls, {s['mean_ms']} ms mean"
            for s in r["db"]["top_statements"][:3]) + ".")
    lines += ["", "Server commands (behind `haproxy -f deploy/haproxy.cfg`):", ""]
    lines += [f"- {r['layout']}: `{r['command']}`" for r in results]
    busy, ms = plan["busy_cores"], plan["cpu_ms_per_sale"]
    lines += [
        "", "## The whole province", "",
        f"CPU per sale (with its share of polls and bank looks), the highest of the layouts:"
        f" app {ms['app']} ms, PostgreSQL {ms['postgres']} ms, HAProxy {ms['haproxy']} ms."
        f" At {PEAK_SALES_PER_S:.0f} sales/s that keeps busy **{busy['app']} app cores,"
        f" {busy['postgres']} PostgreSQL cores and {busy['haproxy']} HAProxy cores** (HAProxy"
        f" without TLS). An app core saturates near {plan['app_core_ceiling_sales_per_s']}"
        f" sales/s; the design provisions {plan['app_cores']} app cores, a share of"
        f" {plan['share_sales_per_s']} sales/s each (this run's --rate), at"
        f" {plan['app_utilisation']:.0%} of each core.", ""]
    return "\n".join(lines) + "\n"


NOTES_MARK = ("<!-- The notes below are written by hand; the benchmark keeps them when it"
              " rewrites the tables above. -->")


def write_report(text: str) -> None:
    path = RESULTS / "load_province.md"
    notes = NOTES_MARK + "\n"
    if path.exists() and NOTES_MARK in path.read_text():
        old = path.read_text()
        notes = old[old.index(NOTES_MARK):]
    path.write_text(text + "\n" + notes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--app-cores", type=int, default=8,
                        help="app cores the design gives a province at its peak (docs/SCALE.md)")
    parser.add_argument("--rate", type=float, default=None,
                        help="sales/s per server process (default: the per-core share of the"
                             " peak, 400 / --app-cores)")
    parser.add_argument("--duration", type=float, default=60.0, help="measured seconds")
    parser.add_argument("--warmup", type=float, default=15.0)
    parser.add_argument("--drain", type=float, default=policy.PUSH_BOUND + 10,
                        help="seconds after the window for the last sales to be pushed")
    parser.add_argument("--layouts", default="gunicorn:1,gunicorn:2",
                        help="gunicorn:N (N worker processes) or waitress:1, comma-separated")
    parser.add_argument("--threads", type=int, default=8, help="threads per process")
    parser.add_argument("--max-stalls", type=int, default=20_000)
    parser.add_argument("--storm", type=float, default=0.0, metavar="OUTAGE",
                        help="start each layout as the server comes back after OUTAGE seconds"
                             " down at the peak (a stall storm; give --duration above 300)")
    parser.add_argument("--haproxy-cfg", type=Path, default=HAPROXY_CFG,
                        help="another HAProxy configuration to try (same variables)")
    parser.add_argument("--seed", default="21")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.rate is None:
        args.rate = PEAK_SALES_PER_S / args.app_cores
    if args.storm:
        args.warmup = 0.0   # the storm is what is measured, from the server's return
    layouts = [layout.strip() for layout in args.layouts.split(",") if layout.strip()]
    for layout in layouts:
        server, _, count = layout.partition(":")
        if server not in ("gunicorn", "waitress") or not count.isdigit() or int(count) < 1 \
                or (server == "waitress" and count != "1"):
            raise SystemExit(f"bad layout {layout!r}: gunicorn:N or waitress:1")
    most = max(int(layout.split(":")[1]) for layout in layouts)
    stalls_needed = min(args.max_stalls, int(round(args.rate * most / STALL_RATE)))
    from tests.server import pgcluster
    bindir = pgcluster.find_bindir()
    if bindir is None:
        raise SystemExit("PostgreSQL binaries not found (install postgresql)")
    began = time.monotonic()
    results = []
    with tempfile.TemporaryDirectory(prefix="load-province-") as tmp:
        folder = Path(tmp)
        cluster = pgcluster.RestartableCluster(bindir, fsync=True, settings={
            "shared_buffers": "512MB", "shared_preload_libraries": "pg_stat_statements",
            "max_connections": "300", "log_lock_waits": "on", "deadlock_timeout": "1s",
            "checkpoint_timeout": "15min", "max_wal_size": "4GB"}).start()
        try:
            pgcluster.admin_execute(cluster.url(), 'CREATE DATABASE "province"')
            url = pgcluster.with_database(cluster.url(), "province")
            pgcluster.admin_execute(url, "CREATE EXTENSION pg_stat_statements")
            print(f"pairing {stalls_needed + 1} stalls…", file=sys.stderr)
            made = make_province(url, stalls_needed + 1)
            probe, stalls = made[-1], made[:-1]
            secret = webhook_secret(url)
            version = pgcluster_version(url)
            setup_s = round(time.monotonic() - began)
            for layout in layouts:
                print(f"{layout}: {min(len(stalls), round(args.rate * int(layout.split(':')[1]) / STALL_RATE))}"
                      " stalls…", file=sys.stderr)
                results.append(run_layout(layout, args, cluster, url, stalls, probe, folder,
                                          secret))
                print(json.dumps({k: results[-1][k] for k in (
                    "layout", "requests_per_s", "entries_per_s", "push", "errors",
                    "balancer_counters", "cpu_s", "machine_busy_pct")}), file=sys.stderr)
        finally:
            cluster.stop()
    plan = province_plan(results, args.app_cores)
    setup = {"seconds": round(time.monotonic() - began), "setup_seconds": setup_s,
             "postgres": version, "commit": commit()}
    RESULTS.mkdir(exist_ok=True)
    text = report(results, args, setup, plan)
    write_report(text)
    (RESULTS / "load_province.json").write_text(json.dumps(
        {"args": vars(args), "setup": setup, "results": results, "plan": plan}, indent=2,
        default=str, ensure_ascii=False) + "\n")
    print(json.dumps(results, indent=2, ensure_ascii=False) if args.json else text)
    sys.exit(0 if all(r["target_met"] for r in results) else 1)


def commit() -> str:
    """The commit measured, and whether the tree had changes."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True
                              ).stdout.strip()
    head = git("rev-parse", "--short", "HEAD") or "unknown"
    changed = git("status", "--porcelain", "--untracked-files=no", "--", "sync", "pos")
    return head + (" with uncommitted changes in sync/ or pos/" if changed else " (clean)")


def pgcluster_version(url: str) -> str:
    import psycopg
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://", 1)) as conn:
        return str(conn.execute("SHOW server_version").fetchone()[0]).split()[0]


if __name__ == "__main__":
    main()
