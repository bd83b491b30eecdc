"""Generate a province for the dashboard benchmark: markets, stalls, and sales over N days.

    python -m benchmarks.generate_province --database URL [--markets 300] [--stalls 20000]
        [--sales 5000000] [--days 90] [--end 2026-11-22] [--seed 1]

Sales, their lines and voids are written straight into the projection tables in bulk (COPY on
PostgreSQL, executemany in large transactions on SQLite), not through the push API: pushing five
million hashed entries would take hours. The rollups are then computed by `rollups.rebuild`, the
same code a repair uses, and tests/server/test_dashboard.py holds rebuild equal to the rollups
kept on push. There is no journal: the dashboard does not read it (only the receipt check does).
Each sale has one line (a product of 30, some of them OCOP products of the catalogue); 1 % of
sales are voided; 35 % are paid by QR and 5 % split; 10 % of stalls last synced 4-9 days ago.
"""
from __future__ import annotations

import argparse
import logging
import random
import time
import uuid
from datetime import date, datetime, timedelta, timezone
from typing import Any, Iterator

from sqlalchemy import Engine, insert

from sync.server import migrations, rollups
from sync.server.catalogue import set_catalogue_product
from sync.server.db import (communes, devices, make_engine, markets, provinces, sale_lines,
                            sales, stalls, voids, write_transaction)

logger = logging.getLogger(__name__)
PROVINCE = "Hà Giang"
PRODUCTS = [  # name, unit, price; the first five are OCOP products in the catalogue
    ("Chè Shan tuyết", "gói", 120_000), ("Mật ong bạc hà", "chai", 250_000),
    ("Thịt bò khô", "gói", 180_000), ("Rượu ngô men lá", "chai", 150_000),
    ("Cam sành Hàm Yên", "kg", 35_000), ("Rau cải mèo", "bó", 10_000),
    ("Rau muống", "bó", 8_000), ("Thịt lợn ba chỉ", "kg", 145_000),
    ("Cá rô đồng", "kg", 90_000), ("Gạo nếp nương", "kg", 40_000),
    ("Trứng gà ta", "chục", 45_000), ("Đậu phụ", "bìa", 5_000),
    ("Bánh tam giác mạch", "cái", 20_000), ("Mèn mén", "bát", 15_000),
    ("Thắng cố", "bát", 50_000), ("Lạp xưởng gác bếp", "kg", 350_000),
    ("Măng khô", "kg", 200_000), ("Nấm hương", "kg", 300_000), ("Gừng", "kg", 30_000),
    ("Tỏi cô đơn", "kg", 250_000), ("Ớt", "kg", 40_000), ("Hành lá", "bó", 5_000),
    ("Khoai lang", "kg", 20_000), ("Bí đỏ", "quả", 25_000), ("Su su", "kg", 12_000),
    ("Chuối", "nải", 30_000), ("Dưa chuột", "kg", 15_000), ("Cà chua", "kg", 25_000),
    ("Đường phên", "kg", 60_000), ("Vải thổ cẩm", "tấm", 400_000)]
OCOP = {"Chè Shan tuyết": 4, "Mật ong bạc hà": 4, "Thịt bò khô": 3, "Rượu ngô men lá": 3,
        "Cam sành Hàm Yên": 5}


def _places(engine: Engine, n_markets: int, n_stalls: int, now: datetime,
            rng: random.Random) -> list[tuple[str, int]]:
    """Communes (one per three markets), markets and paired stalls; (device_id, market_id)."""
    out = []
    with write_transaction(engine) as conn:
        province_id = conn.execute(insert(provinces).values(name=PROVINCE)
                                   ).inserted_primary_key[0]
        for name, unit, price in PRODUCTS:
            set_catalogue_product(conn, province=PROVINCE, name=name, unit=unit, price=price,
                                  category="OCOP" if name in OCOP else "Chợ",
                                  ocop_stars=OCOP.get(name))
        commune_ids = [conn.execute(insert(communes).values(
            province_id=province_id, name=f"Xã {i + 1:03d}")).inserted_primary_key[0]
            for i in range(max(1, n_markets // 3))]
        market_ids = [conn.execute(insert(markets).values(
            commune_id=commune_ids[i % len(commune_ids)], name=f"Chợ {i + 1:03d}"))
            .inserted_primary_key[0] for i in range(n_markets)]
        stall_rows, device_rows = [], []
        for i in range(n_stalls):
            market_id = market_ids[i % n_markets]
            device_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            silent = rng.random() < 0.10
            stall_rows.append({"id": i + 1, "market_id": market_id, "name": f"Sạp {i + 1:05d}",
                               "vendor_name": None, "created_at": now - timedelta(days=120)})
            device_rows.append({"device_id": device_id, "stall_id": i + 1, "acked_seq": 0,
                                "paired_at": now - timedelta(days=120),
                                "last_sync_at": now - timedelta(days=rng.uniform(4, 9)
                                                                if silent else
                                                                rng.uniform(0, 0.5))})
            out.append((device_id, market_id))
        conn.execute(insert(stalls), stall_rows)
        conn.execute(insert(devices), device_rows)
    return out


def _sales(stall_list: list[tuple[str, int]], n_sales: int, days: int, end: date,
           rng: random.Random) -> Iterator[tuple[list[tuple], list[tuple], list[tuple]]]:
    """Sales, lines and voids, one stall at a time (rows as tuples in column order)."""
    per_stall, extra = divmod(n_sales, len(stall_list))
    first = end - timedelta(days=days - 1)
    for index, (device_id, _market) in enumerate(stall_list):
        count = per_stall + (1 if index < extra else 0)
        picks = sorted(rng.randrange(days * 86_400) for _ in range(count))
        sale_rows, line_rows, void_rows = [], [], []
        for number, offset in enumerate(picks, start=1):
            day = first + timedelta(seconds=offset)
            day_text = day.isoformat()
            at = (f"{day_text}T{offset % 86_400 // 3600:02d}:{offset % 3600 // 60:02d}:"
                  f"{offset % 60:02d}.000Z")
            name, unit, price = PRODUCTS[rng.randrange(len(PRODUCTS))]
            quantity = rng.choice((500, 1000, 1000, 2000, 3000))
            total = (quantity * price + 500) // 1000
            roll = rng.random()
            qr = total if roll < 0.35 else (total // 2 if roll < 0.40 else 0)
            sale_rows.append((device_id, number, str(uuid.UUID(int=rng.getrandbits(128),
                                                                version=4)),
                              number, at, day_text, total, total - qr, qr, "owner", None))
            line_rows.append((device_id, number, 1, None, name, unit, quantity, price, total,
                              "", 0))   # typed in: no category, no OCOP stars
        voided_seq = count
        for row_index in range(0, count, 100):   # 1 % voided
            voided_seq += 1
            sale = sale_rows[row_index]
            sale_rows[row_index] = sale[:10] + (voided_seq,)
            void_rows.append((device_id, voided_seq, sale[2], sale[1], "Khách trả hàng",
                              sale[6], sale[5], sale[4]))
        yield sale_rows, line_rows, void_rows


# The database fills `month` (revision 0016: the partition key on PostgreSQL).
SALE_COLUMNS = [c.name for c in sales.columns if c.name != "month"]
LINE_COLUMNS = [c.name for c in sale_lines.columns if c.name != "month"]
VOID_COLUMNS = [c.name for c in voids.columns if c.name != "month"]


def _write_sqlite(engine: Engine, batches: Iterator[tuple[list, list, list]]) -> None:
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("PRAGMA synchronous = OFF")   # a generated dataset: speed over safety
        cursor.execute("BEGIN")
        pending = 0
        for sale_rows, line_rows, void_rows in batches:
            cursor.executemany(f"INSERT INTO sales ({','.join(SALE_COLUMNS)}) VALUES "
                               f"({','.join('?' * len(SALE_COLUMNS))})",
                               sale_rows)
            cursor.executemany(f"INSERT INTO sale_lines ({','.join(LINE_COLUMNS)}) VALUES "
                               f"({','.join('?' * len(LINE_COLUMNS))})", line_rows)
            cursor.executemany(f"INSERT INTO voids ({','.join(VOID_COLUMNS)}) VALUES "
                               f"({','.join('?' * len(VOID_COLUMNS))})", void_rows)
            pending += len(sale_rows)
            if pending > 500_000:
                cursor.execute("COMMIT")
                cursor.execute("BEGIN")
                pending = 0
        cursor.execute("COMMIT")
    finally:
        raw.close()


def _write_postgresql(engine: Engine, batches: Iterator[tuple[list, list, list]]) -> None:
    raw = engine.raw_connection()
    try:
        dbapi = raw.driver_connection
        with dbapi.cursor() as cursor:
            with cursor.copy(f"COPY sales ({','.join(SALE_COLUMNS)}) FROM STDIN") as sales_copy:
                lines_buffer, voids_buffer = [], []
                for sale_rows, line_rows, void_rows in batches:
                    for row in sale_rows:
                        sales_copy.write_row(row)
                    lines_buffer += line_rows
                    voids_buffer += void_rows
            with cursor.copy(f"COPY sale_lines ({','.join(LINE_COLUMNS)}) FROM STDIN") as copy:
                for row in lines_buffer:
                    copy.write_row(row)
            with cursor.copy(f"COPY voids ({','.join(VOID_COLUMNS)}) FROM STDIN") as copy:
                for row in voids_buffer:
                    copy.write_row(row)
        dbapi.commit()
        with dbapi.cursor() as cursor:
            cursor.execute("ANALYZE")
        dbapi.commit()
    finally:
        raw.close()


def generate(url: str, *, n_markets: int = 300, n_stalls: int = 20_000,
             n_sales: int = 5_000_000, days: int = 90, end: date | None = None,
             seed: int = 1) -> dict[str, Any]:
    """Fill an empty database; returns what was made and how long each step took."""
    end = end or date(2026, 11, 22)
    rng = random.Random(seed)
    now = datetime.combine(end, datetime.min.time(), timezone.utc) + timedelta(hours=12)
    engine = make_engine(url)
    timings: dict[str, float] = {}
    try:
        migrations.upgrade(engine)
        started = time.perf_counter()
        stall_list = _places(engine, n_markets, n_stalls, now, rng)
        timings["places"] = time.perf_counter() - started
        started = time.perf_counter()
        batches = _sales(stall_list, n_sales, days, end, rng)
        if engine.dialect.name == "postgresql":
            _write_postgresql(engine, batches)
        else:
            _write_sqlite(engine, batches)
        timings["sales"] = time.perf_counter() - started
        started = time.perf_counter()
        with write_transaction(engine) as conn:
            counts = rollups.rebuild(conn)
        if engine.dialect.name == "sqlite":
            with engine.connect() as conn:
                conn.exec_driver_sql("ANALYZE")
        else:
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("ANALYZE")
        timings["rollups"] = time.perf_counter() - started
    finally:
        engine.dispose()
    return {"markets": n_markets, "communes": max(1, n_markets // 3), "stalls": n_stalls,
            "sales": n_sales, "days": days, "end": end.isoformat(), "rollup_rows": counts,
            "timings": timings}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", required=True)
    parser.add_argument("--markets", type=int, default=300)
    parser.add_argument("--stalls", type=int, default=20_000)
    parser.add_argument("--sales", type=int, default=5_000_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--end", type=date.fromisoformat, default=date(2026, 11, 22))
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO)
    print(generate(args.database, n_markets=args.markets, n_stalls=args.stalls,
                   n_sales=args.sales, days=args.days, end=args.end, seed=args.seed))


if __name__ == "__main__":
    main()
