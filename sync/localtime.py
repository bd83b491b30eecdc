"""Vietnam's wall clock: business days and dd/mm/yyyy HH:MM in Asia/Ho_Chi_Minh."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone, tzinfo

from sync.protocol import parse_timestamp


def _vietnam_zone() -> tzinfo:
    try:
        from zoneinfo import ZoneInfo
        return ZoneInfo("Asia/Ho_Chi_Minh")
    except Exception:  # no tz database on a minimal board: Vietnam has kept UTC+7 since 1975
        return timezone(timedelta(hours=7), "ICT")


VIETNAM = _vietnam_zone()


def to_local(at: str) -> datetime:
    """A journal timestamp as Vietnamese wall-clock time."""
    return parse_timestamp(at).astimezone(VIETNAM)


def business_day(at: str) -> str:
    """The ISO date (yyyy-mm-dd) in Vietnam of a journal timestamp."""
    return to_local(at).date().isoformat()


def today() -> str:
    """Today's ISO date in Vietnam."""
    return datetime.now(VIETNAM).date().isoformat()


def format_datetime(at: str) -> str:
    """dd/mm/yyyy HH:MM in Vietnam."""
    return to_local(at).strftime("%d/%m/%Y %H:%M")


def format_time(at: str) -> str:
    """HH:MM in Vietnam."""
    return to_local(at).strftime("%H:%M")


def parse_day(text: str) -> str:
    """A day typed as dd/mm/yyyy (as the vendor reads dates; d/m/yyyy too) or ISO yyyy-mm-dd
    (links, the API) as an ISO date; ValueError otherwise."""
    text = text.strip()
    parts = text.split("/")
    if len(parts) == 3 and all(p.isdigit() for p in parts) and len(parts[2]) == 4 \
            and len(parts[0]) <= 2 and len(parts[1]) <= 2:
        return date(int(parts[2]), int(parts[1]), int(parts[0])).isoformat()
    if len(text) == 10:
        return date.fromisoformat(text).isoformat()
    raise ValueError(f"not a day: {text[:20]!r}")


def format_day(day: str) -> str:
    """An ISO date as dd/mm/yyyy."""
    return date.fromisoformat(day).strftime("%d/%m/%Y")
