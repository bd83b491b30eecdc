"""Where a page is (province → commune/ward → market → stall) and whether a user may see it.

A viewer scoped to a province sees all of it; one scoped to a commune/ward sees that commune and
what is in it, and nothing above or beside it (not even the province's totals, which include
other communes). Every dashboard page, export and report resolves its place here first.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from .db import communes, devices, markets, provinces, stalls
from .users import User

LEVELS = ("province", "commune", "market", "stall")
CHILD = {"province": "commune", "commune": "market", "market": "stall"}


@dataclass(frozen=True)
class Place:
    """A node of the hierarchy with the ids and names of its ancestors."""

    level: str
    province_id: int
    province: str
    commune_id: int | None = None
    commune: str | None = None
    market_id: int | None = None
    market: str | None = None
    device_id: str | None = None
    stall: str | None = None
    stall_id: int | None = None

    @property
    def key(self) -> int | str:
        """The id that names this place in a URL."""
        return {"province": self.province_id, "commune": self.commune_id,
                "market": self.market_id, "stall": self.device_id}[self.level]  # type: ignore

    @property
    def name(self) -> str:
        return {"province": self.province, "commune": self.commune, "market": self.market,
                "stall": self.stall}[self.level] or ""

    def trail(self) -> list[tuple[str, int | str, str]]:
        """(level, key, name) from the province down to this place, for breadcrumbs."""
        steps = [("province", self.province_id, self.province)]
        if self.commune_id is not None:
            steps.append(("commune", self.commune_id, self.commune or ""))
        if self.market_id is not None:
            steps.append(("market", self.market_id, self.market or ""))
        if self.device_id is not None:
            steps.append(("stall", self.device_id, self.stall or ""))
        return steps  # type: ignore[return-value]


_PLACE = (select(provinces.c.id.label("province_id"), provinces.c.name.label("province"),
                 communes.c.id.label("commune_id"), communes.c.name.label("commune"),
                 markets.c.id.label("market_id"), markets.c.name.label("market"))
          .select_from(markets.join(communes, communes.c.id == markets.c.commune_id)
                       .join(provinces, provinces.c.id == communes.c.province_id)))


def resolve(conn: Connection, level: str, key: str) -> Place | None:
    """The place a URL names; None if there is none (a malformed id is simply unknown)."""
    if level == "stall":
        row = conn.execute(
            _PLACE.add_columns(devices.c.device_id, stalls.c.name.label("stall"),
                               stalls.c.id.label("stall_id"))
            .join(stalls, stalls.c.market_id == markets.c.id)
            .join(devices, devices.c.stall_id == stalls.c.id)
            .where(devices.c.device_id == key)).mappings().first()
        return Place("stall", **row) if row else None
    if not key.isdigit() or len(key) > 18:
        return None
    number = int(key)
    if level == "province":
        row = conn.execute(select(provinces.c.id.label("province_id"),
                                  provinces.c.name.label("province"))
                           .where(provinces.c.id == number)).mappings().first()
        return Place("province", **row) if row else None
    if level == "commune":
        row = conn.execute(
            select(provinces.c.id.label("province_id"), provinces.c.name.label("province"),
                   communes.c.id.label("commune_id"), communes.c.name.label("commune"))
            .select_from(communes.join(provinces, provinces.c.id == communes.c.province_id))
            .where(communes.c.id == number)).mappings().first()
        return Place("commune", **row) if row else None
    if level == "market":
        row = conn.execute(_PLACE.where(markets.c.id == number)).mappings().first()
        return Place("market", **row) if row else None
    return None


def may_see(user: User, place: Place) -> bool:
    """Whether this user's scope covers the place (and so everything in it)."""
    if user.is_admin:
        return True
    if user.province_id != place.province_id:
        return False
    return user.commune_id is None or user.commune_id == place.commune_id


def home(conn: Connection, user: User) -> Place | None:
    """The place a user's dashboard starts at; None for an administrator (every province)."""
    if user.is_admin:
        return None
    if user.commune_id is not None:
        return resolve(conn, "commune", str(user.commune_id))
    return resolve(conn, "province", str(user.province_id))


def all_provinces(conn: Connection) -> list[dict[str, Any]]:
    """Every province (an administrator's starting list)."""
    return [dict(row) for row in conn.execute(
        select(provinces.c.id, provinces.c.name).order_by(provinces.c.name)).mappings()]
