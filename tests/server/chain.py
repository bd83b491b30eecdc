"""Build valid journal chains for a device, with payloads like the stall writes (pos/sales.py,
pos/daybook.py), using only sync.protocol's rules."""
from __future__ import annotations

import json
import uuid
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any

from sync.money import line_amount
from sync.protocol import GENESIS_HASH, Entry, canonical_json, entry_hash, utc_timestamp

PRODUCTS = [  # (product_id, name, unit, unit_price)
    (1, "Rau muống", "bó", 10_000),
    (2, "Thịt lợn ba chỉ", "kg", 145_000),
    (3, "Cá rô đồng", "kg", 90_000),
    (None, "Chè Shan tuyết", "gói", 120_000),
]


def make_entry(device_id: str, seq: int, prev_hash: str, kind: str, payload: Any,
               at: str | None = None, entry_id: str | None = None) -> Entry:
    """One entry hashed as the stall hashes it (the payload goes through canonical JSON first)."""
    payload = json.loads(canonical_json(payload))
    at = at or utc_timestamp()
    entry_id = entry_id or str(uuid.uuid4())
    return Entry(device_id, seq, entry_id, kind, at, payload, prev_hash,
                 entry_hash(prev_hash, device_id, seq, entry_id, kind, at, payload))


def sale_payload(number: int, *, day: str = "2026-11-22", qr_share: int = 0,
                 variant: int = 0) -> dict[str, Any]:
    """A sale of two or three lines paid in cash, by QR, or split."""
    lines = []
    for offset in range(2 + variant % 2):
        product_id, name, unit, price = PRODUCTS[(number + offset) % len(PRODUCTS)]
        quantity_milli = 500 * (1 + (number + offset) % 4)
        lines.append({"product_id": product_id, "name": name, "unit": unit,
                      "quantity_milli": quantity_milli, "unit_price": price,
                      "amount": line_amount(quantity_milli, price)})
    total = sum(line["amount"] for line in lines)
    qr = min(qr_share, total)
    payments: list[dict[str, Any]] = []
    if total - qr:
        tendered = -(-(total - qr) // 50_000) * 50_000
        payments.append({"method": "cash", "amount": total - qr, "tendered": tendered,
                         "change": tendered - (total - qr)})
    if qr:
        payments.append({"method": "qr", "amount": qr})
    return {"number": number, "business_day": day, "total": total, "sold_by": "owner",
            "lines": lines, "payments": payments}


class Chain:
    """A device's journal under construction: each call appends one valid entry."""

    def __init__(self, device_id: str, start: datetime | None = None):
        self.device_id = device_id
        self.entries: list[Entry] = []
        self.clock = start or datetime.now(timezone.utc)  # after the stall was paired
        self.sales = 0

    @property
    def head_hash(self) -> str:
        return self.entries[-1].hash if self.entries else GENESIS_HASH

    def append(self, kind: str, payload: Any, at: str | None = None) -> Entry:
        self.clock += timedelta(seconds=1)
        entry = make_entry(self.device_id, len(self.entries) + 1, self.head_hash, kind, payload,
                           at or utc_timestamp(self.clock))
        self.entries.append(entry)
        return entry

    def sale(self, **options: Any) -> Entry:
        self.sales += 1
        return self.append("sale", sale_payload(self.sales, **options))

    def sales_run(self, count: int, **options: Any) -> list[Entry]:
        return [self.sale(variant=i, **options) for i in range(count)]

    def void(self, sale: Entry, reason: str = "Khách đổi ý") -> Entry:
        p = sale.payload
        return self.append("void", {"sale_id": sale.id, "sale_seq": sale.seq,
                                    "sale_number": p["number"], "amount": p["total"],
                                    "business_day": p["business_day"], "reason": reason,
                                    "voided_by": "owner"})

    def cash_move(self, move_type: str, amount: int, reason: str = "",
                  day: str = "2026-11-22") -> Entry:
        return self.append("cash_move", {"type": move_type, "amount": amount, "reason": reason,
                                         "business_day": day, "made_by": "owner"})

    def product(self, product_id: int, name: str, price: int, *, unit: str = "kg",
                category: str = "", ocop_stars: int | None = None) -> Entry:
        return self.append("product", {"product_id": product_id, "name": name, "unit": unit,
                                       "price": price, "category": category, "barcode": None,
                                       "ocop_stars": ocop_stars, "trace_url": None,
                                       "active": True})

    def day_close(self, expected: int, counted: int, z_number: int = 1,
                  day: str = "2026-11-22") -> Entry:
        return self.append("day_close", {
            "business_day": day, "z_number": z_number, "counted_cash": counted,
            "difference": counted - expected, "closed_by": "owner",
            "cash_drawer": {"opening_float": 0, "cash_in": 0, "cash_out": 0, "tendered": 0,
                            "change": 0, "cash_sales": expected, "expected": expected},
            "sales_count": self.sales, "revenue": expected, "voids_count": 0,
            "voided_amount": 0})


def sale_chain(device_id: str, count: int) -> list[Entry]:
    """`count` valid sale entries from seq 1."""
    chain = Chain(device_id)
    chain.sales_run(count)
    return chain.entries


def forged(entry: Entry, **changes: Any) -> Entry:
    """The entry with fields changed and its hash recomputed (a self-consistent fork)."""
    changed = replace(entry, **changes)
    return replace(changed, hash=changed.expected_hash())


def wire(entries: list[Entry]) -> list[dict[str, Any]]:
    """Entries as the client sends them."""
    return [entry.to_dict() for entry in entries]
