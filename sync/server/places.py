"""The hierarchy province → commune/ward → market → stall: find or create places by name."""
from __future__ import annotations

import logging
import unicodedata
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from sync.qrref import stall_code

from .db import communes, devices, insert_ignoring_duplicates, markets, provinces, stalls
from sync.errors import InvalidInput

logger = logging.getLogger(__name__)


def clean_name(value: Any, label: str, max_length: int = 100, required: bool = True) -> str | None:
    """A trimmed NFC name (so that "Hà Giang" typed two ways is one province), or InvalidInput."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise InvalidInput(f"{label} is required.")
        return None
    if not isinstance(value, str):
        raise InvalidInput(f"{label} must be text.")
    text = " ".join(unicodedata.normalize("NFC", value).split())
    if len(text) > max_length or any(unicodedata.category(ch) == "Cc" for ch in text):
        raise InvalidInput(f"{label} must be at most {max_length} printable characters.")
    return text


def _find_or_create(conn: Connection, table: Any, values: dict[str, Any]) -> int:
    conn.execute(insert_ignoring_duplicates(conn, table).values(**values))
    query = select(table.c.id)
    for key, value in values.items():
        if key != "district":
            query = query.where(table.c[key] == value)
    return int(conn.execute(query).scalar_one())


def ensure_market(conn: Connection, province: str, commune: str, market: str,
                  district: str | None = None) -> dict[str, int]:
    """The ids of a province, commune and market, creating whichever is missing."""
    province = clean_name(province, "Province")
    commune = clean_name(commune, "Commune")
    market = clean_name(market, "Market")
    province_id = _find_or_create(conn, provinces, {"name": province})
    commune_values = {"province_id": province_id, "name": commune}
    if district:
        commune_values["district"] = clean_name(district, "District")
    commune_id = _find_or_create(conn, communes, commune_values)
    market_id = _find_or_create(conn, markets, {"commune_id": commune_id, "name": market})
    return {"province_id": province_id, "commune_id": commune_id, "market_id": market_id}


def ensure_scope(conn: Connection, province: str, commune: str | None = None,
                 market: str | None = None) -> dict[str, int | None]:
    """The ids of a catalogue scope: a province, optionally narrowed to a commune and a market."""
    if market and not commune:
        raise InvalidInput("A market is named within its commune: give the commune too.")
    province = clean_name(province, "Province")
    province_id = _find_or_create(conn, provinces, {"name": province})
    scope: dict[str, int | None] = {"province_id": province_id, "commune_id": None,
                                    "market_id": None}
    if commune:
        scope["commune_id"] = _find_or_create(
            conn, communes, {"province_id": province_id, "name": clean_name(commune, "Commune")})
    if market:
        scope["market_id"] = _find_or_create(
            conn, markets, {"commune_id": scope["commune_id"],
                            "name": clean_name(market, "Market")})
    return scope


def stall_for_device(conn: Connection, device_id: str) -> dict[str, Any] | None:
    """The stall a device belongs to, with its place names and ids; None if unknown."""
    row = conn.execute(
        select(stalls.c.id.label("stall_id"), stalls.c.name, stalls.c.vendor_name,
               stalls.c.created_at, stalls.c.revoked_at,
               markets.c.id.label("market_id"), markets.c.name.label("market"),
               communes.c.id.label("commune_id"), communes.c.name.label("commune"),
               communes.c.district,
               provinces.c.id.label("province_id"), provinces.c.name.label("province"))
        .select_from(devices.join(stalls, stalls.c.id == devices.c.stall_id)
                     .join(markets, markets.c.id == stalls.c.market_id)
                     .join(communes, communes.c.id == markets.c.commune_id)
                     .join(provinces, provinces.c.id == communes.c.province_id))
        .where(devices.c.device_id == device_id)).mappings().one_or_none()
    return dict(row) if row else None


def public_stall(details: dict[str, Any]) -> dict[str, Any]:
    """The stall's details as sent down to the stall, with the code its QR payment references
    start with (sync/qrref.py), so that bank notifications can be routed back to it."""
    return {"name": details["name"], "vendor_name": details["vendor_name"],
            "market": details["market"], "commune": details["commune"],
            "district": details["district"], "province": details["province"],
            "payment_code": stall_code(details["stall_id"])}
