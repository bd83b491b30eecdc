"""Small payloads that match their kind's schema (sync/payloads), for tests that append entries
straight to a journal without the stall's writers (old-version databases, chain checks)."""
from __future__ import annotations

from typing import Any


def product(product_id: int = 1, name: str = "Sả", price: int = 5000) -> dict[str, Any]:
    return {"product_id": product_id, "name": name, "unit": "bó", "price": price,
            "category": "", "barcode": None, "ocop_stars": None, "trace_url": None,
            "active": True}


def sale(number: int, total: int = 10000, day: str = "2026-11-23") -> dict[str, Any]:
    """A cash sale of one free line of `total` đồng."""
    return {"number": number, "business_day": day, "total": total, "sold_by": "owner",
            "lines": [{"product_id": None, "name": "Sả", "unit": "bó", "quantity_milli": 1000,
                       "unit_price": total, "amount": total}],
            "payments": [{"method": "cash", "amount": total, "tendered": total, "change": 0}]}


def void(sale_id: str, sale_seq: int, sale_number: int, amount: int = 10000,
         day: str = "2026-11-23") -> dict[str, Any]:
    return {"sale_id": sale_id, "sale_seq": sale_seq, "sale_number": sale_number,
            "amount": amount, "business_day": day, "reason": "x", "voided_by": "owner"}
