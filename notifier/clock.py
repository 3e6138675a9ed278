"""Time helpers: the database holds UTC; people see the round's time zone.

The zone comes from the catalogue in force (``campaign.current().timezone``, set from
config.yaml's ``campaign.timezone``), never from a constant here.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from campaign import current


def utcnow() -> datetime:
    return datetime.now(UTC)


def local_zone() -> ZoneInfo:
    return current().tz


def as_utc(value: datetime) -> datetime:
    """An aware UTC datetime; naive values are UTC already (SQLite returns them naive)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def local_day(moment: datetime) -> tuple[datetime, datetime]:
    """[start, end) of the round's calendar day containing *moment*, in UTC."""
    zone = local_zone()
    day = as_utc(moment).astimezone(zone).date()
    start = datetime.combine(day, time.min, tzinfo=zone)
    return start.astimezone(UTC), (start + timedelta(days=1)).astimezone(UTC)
