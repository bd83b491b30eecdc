"""Demo data: a real-looking herb-and-tea stall with goods by the kg, bundles and OCOP products."""
from __future__ import annotations

import sqlite3
from typing import Any

from . import access, bank_accounts, catalog, qrpay, sales, settings
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
    {"name": "Rau cải mèo", "unit": "bó", "price": 10000, "category": "Rau"},
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
DEMO_BANK_ACCOUNT = {"bank_bin": "970436", "account": "0011001932418", "holder": "Nguyễn Thị Hoa"}


def seed(conn: sqlite3.Connection, device_id: str) -> None:
    """Fill an empty stall with the demo stall, PINs, catalogue and a morning of sales."""
    if access.has_owner(conn):
        return
    with write_transaction(conn):
        for key, value in settings.validate_stall(DEMO_STALL, partial=False).items():
            settings.write(conn, key, value)
    access.set_pin(conn, "owner", DEMO_OWNER_PIN)
    access.set_pin(conn, "helper", DEMO_HELPER_PIN)
    for product in DEMO_PRODUCTS:
        catalog.save_product(conn, device_id, product)
    bank_accounts.add_account(conn, DEMO_BANK_ACCOUNT["bank_bin"], DEMO_BANK_ACCOUNT["account"],
                              DEMO_BANK_ACCOUNT["holder"])
    for sale in DEMO_SALES:
        lines = [{"product_id": pid, "quantity": qty} for pid, qty in sale["lines"]]
        price = {p["id"]: p["price"] for p in catalog.list_products(conn)}
        from sync.money import line_amount, parse_quantity
        total = sum(line_amount(parse_quantity(q), price[pid]) for pid, q in sale["lines"])
        if not sale.get("qr"):
            sales.record_sale(conn, device_id, {
                "lines": lines,
                "payments": [{"method": "cash", "amount": total,
                              "tendered": max(total, sale["tendered"])}]}, sold_by="owner")
            continue
        cash = min(sale.get("tendered", 0), total - 1)
        payments = [{"method": "cash", "amount": cash, "tendered": cash}] if cash else []
        pending = qrpay.create(conn, {"lines": lines, "payments": payments + [
            {"method": "qr", "amount": total - cash}]}, created_by="owner")
        qrpay.confirm(conn, device_id, pending["id"])
