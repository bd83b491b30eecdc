"""Stalls to measure: a data directory with a catalogue, PINs and a token, and big journals.

A journal of a million entries is built once, fast, and kept in benchmarks/.cache/ (git-ignored):
valid chained sale entries generated in bulk (the same payload, hash and projections as
pos.sales writes: `sales`, `sale_lines`, `payments`, `day_totals`), inserted with executemany
in large transactions through the real schema and its triggers. Each run measures on a copy.
"""
from __future__ import annotations

import logging
import os
import shutil
import socket
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Iterator

import requests

from pos import access, catalog, db, demo, settings, stall
from pos import migrations
from sync.money import line_amount
from sync.protocol import GENESIS_HASH, canonical_json, entry_hash_canonical, new_entry_id

logger = logging.getLogger(__name__)

CACHE = Path(__file__).resolve().parent.parent / ".cache"
BUILDER_VERSION = 3          # bump when the generated entries change shape (3: time-ordered ids)
OWNER_PIN = "1234"
SALES_PER_DAY = 200          # a busy stall: a million sales is some thirteen years of trade
# The sale every benchmark makes: three catalogue lines (one by weight), cash with change.
SALE_LINES = [(1, "1"), (4, "0.25"), (6, "3")]
SALE_TENDERED = 500_000


def sale_request(prices: dict[int, int]) -> dict[str, Any]:
    """The 3-line cash sale, as the sell screen posts it to /api/sales."""
    total = sum(line_amount(_milli(q), prices[p]) for p, q in SALE_LINES)
    return {"lines": [{"product_id": p, "quantity": q} for p, q in SALE_LINES],
            "payments": [{"method": "cash", "amount": total, "tendered": SALE_TENDERED}]}


def _milli(quantity: str) -> int:
    whole, _, frac = quantity.partition(".")
    return int(whole) * 1000 + int((frac + "000")[:3])


def work_dir(name: str) -> Path:
    """A fresh folder under the cache, on the same disk as the cached journals (not a tmpfs)."""
    folder = CACHE / "work" / f"{name}-{os.getpid()}-{time.monotonic_ns()}"
    folder.mkdir(parents=True)
    return folder


def make_stall(folder: Path, *, products: int = 0, database: Path | None = None) -> dict[str, Any]:
    """A ready stall in `folder`: the demo catalogue (plus `products` more), owner PIN, a token.

    With `database`, that file (a cached journal) is copied in first and migrated.
    """
    folder.mkdir(parents=True, exist_ok=True)
    if database is not None:
        shutil.copyfile(database, stall.database_path(folder))
    device_id = stall.prepare(folder)
    conn = db.connect(stall.database_path(folder))
    try:
        if not conn.execute("SELECT 1 FROM products").fetchone():
            _add_products(conn, device_id, products)
        if not access.has_owner(conn):
            access.set_pin(conn, "owner", OWNER_PIN)
        with db.write_transaction(conn):
            for key, value in demo.DEMO_STALL.items():
                settings.write(conn, key, value)
        token = access.issue_token(conn, "bench")
        prices = {r[0]: r[1] for r in conn.execute("SELECT id, price FROM products")}
        entries = conn.execute("SELECT IFNULL(MAX(seq), 0) FROM journal").fetchone()[0]
    finally:
        conn.close()
    return {"folder": folder, "device_id": device_id, "token": token, "prices": prices,
            "entries": entries}


CATEGORIES = ("Chè", "Khô", "Rau", "Gia vị", "Đặc sản", "Thảo dược", "Quả", "Gạo")
UNITS = ("kg", "lạng", "gói", "bó", "chai", "cái")


def _add_products(conn: Any, device_id: str, extra: int) -> None:
    """The demo catalogue, then `extra` more products (as journal entries, like a vendor's)."""
    for product in demo.DEMO_PRODUCTS:
        catalog.save_product(conn, device_id, product)
    for n in range(extra):
        catalog.save_product(conn, device_id, {
            "name": f"Hàng {n + 1:03d} {CATEGORIES[n % len(CATEGORIES)].lower()} Bắc Hà",
            "unit": UNITS[n % len(UNITS)], "price": 5_000 + (n * 7_919) % 500_000,
            "category": CATEGORIES[n % len(CATEGORIES)],
            "ocop_stars": 3 + n % 3 if n % 7 == 0 else None})


# --- big journals -----------------------------------------------------------------------------

def cached_journal(sales: int) -> Path:
    """A stall database with the demo catalogue and `sales` past 3-line cash sales, built once,
    and brought up to the current schema (a new migration changes what a sale stores)."""
    path = CACHE / f"journal-{sales}-v{BUILDER_VERSION}.sqlite3"
    if path.exists():
        migrations.migrate(path)
        return path
    CACHE.mkdir(parents=True, exist_ok=True)
    folder = CACHE / f"building-{sales}-{os.getpid()}"
    shutil.rmtree(folder, ignore_errors=True)
    made = make_stall(folder)
    started = time.perf_counter()
    print(f"  building a journal of {sales:,} sales (once; cached in {CACHE.name}/) ...",
          file=sys.stderr, flush=True)
    conn = db.connect(stall.database_path(folder))
    conn.execute("PRAGMA cache_size = -400000")  # 400 MB while building: the indexes stay in RAM
    conn.execute("PRAGMA synchronous = OFF")     # a build that fails is thrown away anyway
    try:
        fill_journal(conn, made["device_id"], sales, made["prices"])
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    os.replace(stall.database_path(folder), path)
    shutil.rmtree(folder, ignore_errors=True)
    print(f"  built in {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
    return path


def fill_journal(conn: Any, device_id: str, sales: int, prices: dict[int, int],
                 batch: int = 20_000) -> None:
    """Append `sales` chained sale entries with their projections, `batch` per transaction."""
    head = conn.execute("SELECT seq, hash FROM journal ORDER BY seq DESC LIMIT 1").fetchone()
    number = conn.execute("SELECT IFNULL(MAX(number), 0) FROM sales").fetchone()[0]
    seq, prev = (head[0], head[1]) if head else (0, GENESIS_HASH)
    names = {r[0]: (r[1], r[2]) for r in conn.execute("SELECT id, name, unit FROM products")}
    first_day = date.today() - timedelta(days=sales // SALES_PER_DAY + 2)
    rows = _sale_rows(device_id, seq, prev, number, sales, prices, names, first_day)
    done = 0
    while done < sales:
        chunk = [next(rows) for _ in range(min(batch, sales - done))]
        with db.write_transaction(conn):
            conn.executemany("INSERT INTO journal (seq, id, device_id, kind, at, payload,"
                             " prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                             [c[0] for c in chunk])
            conn.executemany("INSERT INTO sales (id, seq, number, at, business_day, total,"
                             " sold_by) VALUES (?, ?, ?, ?, ?, ?, ?)", [c[1] for c in chunk])
            conn.executemany("INSERT INTO sale_lines (sale_seq, line_no, product_id, name, unit,"
                             " quantity_milli, unit_price, amount) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                             [line for c in chunk for line in c[2]])
            conn.executemany("INSERT INTO payments (sale_seq, line_no, method, amount, tendered,"
                             " change) VALUES (?, 1, 'cash', ?, ?, ?)", [c[3] for c in chunk])
            conn.executemany(
                "INSERT INTO day_totals (business_day, sales_count, revenue, cash, qr)"
                " VALUES (?, 1, ?, ?, 0) ON CONFLICT (business_day) DO UPDATE SET"
                " sales_count = sales_count + 1, revenue = revenue + excluded.revenue,"
                " cash = cash + excluded.cash", [(c[1][4], c[1][5], c[1][5]) for c in chunk])
        done += len(chunk)
        if done % 200_000 == 0:
            print(f"    {done:,}", file=sys.stderr, flush=True)


def _sale_rows(device_id: str, seq: int, prev: str, number: int, count: int,
               prices: dict[int, int], names: dict[int, tuple[str, str]],
               first_day: date) -> Iterator[tuple[Any, ...]]:
    """Journal, sale, line and payment rows of each generated sale, chained to the last."""
    for n in range(count):
        seq += 1
        number += 1
        day = first_day + timedelta(days=n // SALES_PER_DAY)
        minute = 60 + (n % SALES_PER_DAY) * 3     # from 08:00 Vietnam time, every 3 minutes
        at = f"{day.isoformat()}T{minute // 60:02d}:{minute % 60:02d}:00.000Z"
        lines = []
        for product_id, quantity in SALE_LINES:
            milli = _milli(quantity)
            name, unit = names[product_id]
            lines.append({"product_id": product_id, "name": name, "unit": unit,
                          "quantity_milli": milli, "unit_price": prices[product_id],
                          "amount": line_amount(milli, prices[product_id])})
        total = sum(line["amount"] for line in lines)
        payment = {"method": "cash", "amount": total, "tendered": SALE_TENDERED,
                   "change": SALE_TENDERED - total}
        payload = {"number": number, "business_day": day.isoformat(), "total": total,
                   "sold_by": "owner", "lines": lines, "payments": [payment]}
        payload_json = canonical_json(payload)
        entry_id = new_entry_id()
        digest = entry_hash_canonical(prev, device_id, seq, entry_id, "sale", at, payload_json)
        yield ((seq, entry_id, device_id, "sale", at, payload_json.decode("utf-8"), prev, digest),
               (entry_id, seq, number, at, day.isoformat(), total, "owner"),
               [(seq, i + 1, line["product_id"], line["name"], line["unit"],
                 line["quantity_milli"], line["unit_price"], line["amount"])
                for i, line in enumerate(lines)],
               (seq, total, SALE_TENDERED, SALE_TENDERED - total))
        prev = digest


# --- serving --------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def market_pos() -> list[str]:
    """The `market-pos` command of this interpreter's environment."""
    script = Path(sys.executable).parent / "market-pos"
    return [str(script)] if script.exists() else [sys.executable, "-m", "pos.cli"]


class Served:
    """`market-pos serve` on a free port in a child process (pinned if we are), and its log;
    `env` replaces the child's environment (compare.py serves another source tree with it)."""

    def __init__(self, folder: Path, env: dict[str, str] | None = None):
        self.folder = folder
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(folder / "serve.log", "wb")
        self.started = time.perf_counter()
        self.process = subprocess.Popen(
            [*market_pos(), "serve", "--data", str(folder), "--port", str(self.port)],
            stdout=self.log, stderr=subprocess.STDOUT, env=env)

    def wait_first_page(self, path: str = "/unlock", timeout: float = 60.0) -> float:
        """Seconds from the start of the process to the first page answered."""
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"market-pos serve exited: {self.log_text()[-2000:]}")
            try:
                if requests.get(self.url + path, timeout=2).status_code == 200:
                    return time.perf_counter() - self.started
            except requests.ConnectionError:
                time.sleep(0.005)
        raise RuntimeError(f"market-pos serve did not answer in {timeout} s")

    def rss_mb(self) -> float:
        """Resident memory of the serving process (VmRSS), in MB."""
        with open(f"/proc/{self.process.pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        raise RuntimeError("no VmRSS")

    def log_text(self) -> str:
        self.log.flush()
        return (self.folder / "serve.log").read_text(errors="replace")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()

    def __enter__(self) -> "Served":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def session(url: str, token: str) -> requests.Session:
    """A keep-alive HTTP session that sends the API token."""
    http = requests.Session()
    http.headers["Authorization"] = f"Bearer {token}"
    return http


def unlocked_session(url: str) -> requests.Session:
    """A keep-alive browser-like session unlocked with the owner's PIN (the CSRF form flow)."""
    import re
    http = requests.Session()
    page = http.get(url + "/unlock", timeout=10).text
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page) or \
        re.search(r'value="([^"]+)"[^>]*name="csrf_token"', page)
    form = {"pin": OWNER_PIN, **({"csrf_token": match.group(1)} if match else {})}
    answer = http.post(url + "/unlock", data=form, timeout=10, allow_redirects=False)
    if answer.status_code not in (302, 303):
        raise RuntimeError(f"unlock failed: {answer.status_code}")
    return http
