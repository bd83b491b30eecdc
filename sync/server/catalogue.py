"""The reference catalogue that flows down to stalls, and its version counter.

Versions come from the single row of `catalogue_state`, incremented by the transaction that changes
the catalogue: the row stays locked until that transaction commits (PostgreSQL row lock, SQLite
write lock), so a later version can never become visible before an earlier one. A stall's
catalogue version is the highest version among the products in its scope, which only ever grows
(products are deactivated, never deleted) and only moves when something the stall sees changes.
"""
from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.engine import Connection

from sync.numbers import MAX_AMOUNT

from .db import catalogue_products, catalogue_state
from sync.errors import InvalidInput, NotFound
from .places import clean_name, ensure_scope, public_stall, stall_for_device

logger = logging.getLogger(__name__)
MAX_PRICE = MAX_AMOUNT


def next_version(conn: Connection) -> int:
    """Take the next catalogue version; the counter row stays locked until the caller commits."""
    return int(conn.execute(
        update(catalogue_state).where(catalogue_state.c.id == 1)
        .values(version=catalogue_state.c.version + 1)
        .returning(catalogue_state.c.version)).scalar_one())


def _product_values(name: Any, unit: Any, price: Any, category: Any, binding: Any, active: Any,
                    ocop_stars: Any) -> dict[str, Any]:
    if isinstance(price, bool) or not isinstance(price, int) or not 0 <= price <= MAX_PRICE:
        raise InvalidInput("The price is a whole number of đồng from 0.")
    if ocop_stars not in (None, 3, 4, 5):
        raise InvalidInput("OCOP rating is 3, 4 or 5 stars.")
    return {"name": clean_name(name, "Name", 120), "unit": clean_name(unit, "Unit", 16),
            "price": price, "category": clean_name(category, "Category", 40, required=False),
            "binding": bool(binding), "active": bool(active), "ocop_stars": ocop_stars}


def set_catalogue_product(conn: Connection, *, province: str, commune: str | None = None,
                          market: str | None = None, name: str, unit: str, price: int,
                          category: str | None = None, binding: bool = False,
                          active: bool = True, ocop_stars: int | None = None) -> dict[str, Any]:
    """Create or change the product called `name` in a scope (province, commune or market).

    Returns the product as stalls receive it, with the catalogue version it was given.
    """
    values = _product_values(name, unit, price, category, binding, active, ocop_stars)
    scope = ensure_scope(conn, province, commune, market)
    version = next_version(conn)
    t = catalogue_products
    existing = conn.execute(select(t.c.id).where(
        t.c.province_id == scope["province_id"],
        t.c.commune_id.is_(None) if scope["commune_id"] is None
        else t.c.commune_id == scope["commune_id"],
        t.c.market_id.is_(None) if scope["market_id"] is None
        else t.c.market_id == scope["market_id"],
        t.c.name == values["name"])).scalar_one_or_none()
    if existing is None:
        product_id = conn.execute(t.insert().values(**scope, **values, version=version)
                                  .returning(t.c.id)).scalar_one()
    else:
        product_id = existing
        conn.execute(t.update().where(t.c.id == existing).values(**values, version=version))
    logger.info("catalogue v%s: product %s %r", version, product_id, values["name"])
    return {"ref": str(product_id), **_public(values), "version": version}


def _public(values: Any) -> dict[str, Any]:
    return {"name": values["name"], "unit": values["unit"], "price": values["price"],
            "category": values["category"], "binding": bool(values["binding"]),
            "active": bool(values["active"]), "ocop_stars": values["ocop_stars"]}


def catalogue(conn: Connection, device_id: str) -> dict[str, Any]:
    """The catalogue for a device's stall: province-wide, commune and market products."""
    stall = stall_for_device(conn, device_id)
    if stall is None:
        raise NotFound("This device is not known to the server.", code="unknown_device")
    t = catalogue_products
    rows = conn.execute(select(t).where(
        t.c.province_id == stall["province_id"],
        or_(and_(t.c.commune_id.is_(None), t.c.market_id.is_(None)),
            and_(t.c.commune_id == stall["commune_id"], t.c.market_id.is_(None)),
            t.c.market_id == stall["market_id"])).order_by(t.c.id)).mappings().all()
    return {"version": max((row["version"] for row in rows), default=0),
            "products": [{"ref": str(row["id"]), **_public(row)} for row in rows],
            "stall": public_stall(stall)}


def current_version(conn: Connection) -> int:
    """The last version handed out, for the whole province."""
    return int(conn.execute(select(catalogue_state.c.version)).scalar_one())
