"""Demo data: a real-looking herb-and-tea stall with goods by the kg, bundles and OCOP products."""
from __future__ import annotations

import sqlite3
from datetime import datetime, time, timedelta, timezone
from typing import Any

from sync.localtime import VIETNAM
from sync.money import line_amount, parse_quantity
from sync.protocol import clock

from . import access, bank_accounts, catalog, purchases, qrpay, sales, settings
from .db import write_transaction

DEMO_OWNER_PIN = "1234"
DEMO_HELPER_PIN = "5678"

DEMO_STALL = {
    "vendor_name": "Nguyễn Thị Hoa", "stall_name": "Sạp bà Hoa", "stall_number": "A12",
    "market": "Chợ Bắc Hà", "commune": "Xã Bắc Hà", "province": "Lào Cai", "phone": "0912345678",
    "tax_code": "",
}

DEMO_PRODUCTS: list[dict[str, Any]] = [
    {"name": "Chè Shan tuyết Bắc Hà", "unit": "gói", "price": 120000, "category": "Chè",
     "ocop_stars": 4, "trace_url": "https://truyxuat.example.vn/che-shan-tuyet"},
    {"name": "Chè Shan tuyết cổ thụ", "unit": "kg", "price": 850000, "category": "Chè",
     "ocop_stars": 5},
    {"name": "Trà búp khô", "unit": "lạng", "price": 45000, "category": "Chè"},
    {"name": "Tôm khô Cà Mau", "unit": "kg", "price": 900000, "category": "Khô",
     "ocop_stars": 3},
    {"name": "Mực khô", "unit": "lạng", "price": 150000, "category": "Khô"},
    {"name": "Rau cải mèo", "unit": "bó", "price": 10000, "category": "Rau", "low_stock": "10"},
    {"name": "Rau muống", "unit": "bó", "price": 8000, "category": "Rau"},
    {"name": "Cà chua", "unit": "kg", "price": 25000, "category": "Rau"},
    {"name": "Su su", "unit": "kg", "price": 15000, "category": "Rau"},
    {"name": "Sả", "unit": "bó", "price": 5000, "category": "Gia vị"},
    {"name": "Gừng", "unit": "kg", "price": 40000, "category": "Gia vị"},
    {"name": "Hành lá, rau thơm", "unit": "bó", "price": 5000, "category": "Gia vị"},
    {"name": "Thảo quả khô", "unit": "lạng", "price": 60000, "category": "Gia vị",
     "ocop_stars": 4},
    {"name": "Mật ong bạc hà", "unit": "chai", "price": 250000, "category": "Đặc sản",
     "ocop_stars": 4, "barcode": "8936000000012"},
    {"name": "Nấm hương rừng", "unit": "lạng", "price": 90000, "category": "Đặc sản"},
    {"name": "Lá thuốc tắm Dao đỏ", "unit": "gói", "price": 30000, "category": "Thảo dược"},
]

DEMO_SALES: list[dict[str, Any]] = [
    {"lines": [(1, "2"), (6, "3")], "tendered": 300000},
    {"lines": [(4, "0.25"), (10, "1")], "tendered": 250000},
    {"lines": [(8, "1.5"), (7, "2"), (12, "1")], "tendered": 100000},
    {"lines": [(14, "1")], "tendered": 500000},
    {"lines": [(2, "0.5"), (13, "2")], "tendered": 550000},
    {"lines": [(11, "0.3"), (9, "1.2")], "tendered": 50000},
    {"lines": [(3, "1"), (5, "2")], "qr": True},        # paid by QR transfer
    {"lines": [(1, "1"), (14, "1")], "tendered": 100000, "qr": True},   # cash, the rest by QR
]
# Bought from the village's growers at dawn, before the first sale (issue 19): product number,
# quantity and the price paid per unit; the first grower is paid in cash, the second by transfer.
DEMO_PURCHASES: list[dict[str, Any]] = [
    {"supplier": {"name": "Giàng Thị Mai", "address": "Thôn Mã Hồng, xã Bắc Hà"},
     "lines": [(16, "20", 18000), (13, "5", 38000)], "method": "cash"},
    {"supplier": {"name": "Lý Văn Páo", "address": "Thôn Na Hối, xã Bắc Hà"},
     "lines": [(6, "30", 6000), (11, "12.5", 26000)], "method": "qr"},
]
DEMO_BANK_ACCOUNT = {"bank_bin": "970436", "account": "0011001932418", "holder": "Nguyễn Thị Hoa"}

# The morning the demo's sales are spread over (Vietnam's clock), and when each sale came, in
# seconds after the morning's start for a whole morning (one per DEMO_SALES).
MORNING_START, MORNING_END = time(6, 0), time(10, 30)
SALE_OFFSETS = (7 * 60 + 12, 24 * 60 + 40, 51 * 60 + 5, 83 * 60 + 33, 118 * 60 + 18,
                162 * 60 + 51, 209 * 60 + 26, 256 * 60 + 9)
SHORTEST_MORNING = timedelta(minutes=30)   # less of today's morning than this: yesterday's
QR_WAIT = timedelta(seconds=40)            # from showing a QR code to the money arriving


def sale_times(now: datetime) -> list[datetime]:
    """When the demo's sales happened (aware, increasing, each in a minute of its own): over
    06:00–10:30 of today in Vietnam once that morning is over; while it is still going, over
    the part of it gone by (from 06:30 on); before then, over yesterday's morning. Never after
    `now`."""
    local = now.astimezone(VIETNAM)
    start = datetime.combine(local.date(), MORNING_START, VIETNAM)
    whole = datetime.combine(local.date(), MORNING_END, VIETNAM) - start
    if local - start >= whole:
        span = whole
    elif local - start >= SHORTEST_MORNING:
        span = local - start - QR_WAIT - timedelta(minutes=1)   # the last sale done before now
    else:
        start -= timedelta(days=1)
        span = whole
    full = SALE_OFFSETS[-1] + 60
    return [start + timedelta(seconds=offset * span.total_seconds() // full)
            for offset in SALE_OFFSETS]


def seed(conn: sqlite3.Connection, device_id: str, now: datetime | None = None) -> None:
    """Fill an empty stall with the demo stall, PINs, catalogue and a morning of sales.

    The sales go through the stall's own writers (`sales.record_sale`, `qrpay.confirm`), with
    the journal's clock set to the times of `sale_times` (sync.protocol.clock): the stall was
    set up half an hour before its first sale, and sold through the morning."""
    if access.has_owner(conn):
        return
    times = sale_times(now or datetime.now(timezone.utc))
    moment = times[0] - timedelta(minutes=30)

    def ticking() -> datetime:   # the set-up: one second per journal entry or setting
        nonlocal moment
        moment += timedelta(seconds=1)
        return moment

    with clock(ticking):
        with write_transaction(conn):
            for key, value in settings.validate_stall(DEMO_STALL, partial=False).items():
                settings.write(conn, key, value)
        access.set_pin(conn, "owner", DEMO_OWNER_PIN)
        access.set_pin(conn, "helper", DEMO_HELPER_PIN)
        for product in DEMO_PRODUCTS:
            catalog.save_product(conn, device_id, product)
        bank_accounts.add_account(conn, DEMO_BANK_ACCOUNT["bank_bin"],
                                  DEMO_BANK_ACCOUNT["account"], DEMO_BANK_ACCOUNT["holder"])
        for bought in DEMO_PURCHASES:
            purchases.record_purchase(conn, device_id, {
                "supplier": bought["supplier"],
                "lines": [{"product_id": pid, "quantity": qty, "unit_price": cost}
                          for pid, qty, cost in bought["lines"]],
                "payments": [{"method": bought["method"]}]}, "owner")
    price = {p["id"]: p["price"] for p in catalog.list_products(conn)}
    for sale, at in zip(DEMO_SALES, times):
        lines = [{"product_id": pid, "quantity": qty} for pid, qty in sale["lines"]]
        total = sum(line_amount(parse_quantity(q), price[pid]) for pid, q in sale["lines"])
        if not sale.get("qr"):
            with clock(lambda at=at: at):
                sales.record_sale(conn, device_id, {
                    "lines": lines,
                    "payments": [{"method": "cash", "amount": total,
                                  "tendered": max(total, sale["tendered"])}]}, sold_by="owner")
            continue
        cash = min(sale.get("tendered", 0), total - 1)
        payments = [{"method": "cash", "amount": cash, "tendered": cash}] if cash else []
        with clock(lambda at=at: at - QR_WAIT):   # the code shown to the buyer
            pending = qrpay.create(conn, {"lines": lines, "payments": payments + [
                {"method": "qr", "amount": total - cash}]}, created_by="owner")
        with clock(lambda at=at: at):             # the money seen: the sale is recorded
            qrpay.confirm(conn, device_id, pending["id"])
