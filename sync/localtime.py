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


def format_day(day: str) -> str:
    """An ISO date as dd/mm/yyyy."""
    return date.fromisoformat(day).strftime("%d/%m/%Y")
