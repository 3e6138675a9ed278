"""Time helpers: the database holds UTC; people see Asia/Shanghai."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

CST = ZoneInfo("Asia/Shanghai")


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """An aware UTC datetime; naive values are UTC already (SQLite returns them naive)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def shanghai_day(moment: datetime) -> tuple[datetime, datetime]:
    """[start, end) of the Asia/Shanghai calendar day containing *moment*, in UTC."""
    local_day = as_utc(moment).astimezone(CST).date()
    start = datetime.combine(local_day, time.min, tzinfo=CST)
    return start.astimezone(UTC), (start + timedelta(days=1)).astimezone(UTC)
