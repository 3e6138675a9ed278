"""The one clock and the one time formatter: the database holds UTC, people read the round's zone.

The zone is the round's (``Catalogue.timezone``, from config.yaml's ``campaign.timezone``):
by default the catalogue in force (``campaign.current()``), or the one passed in. Nothing here
names a city's time; "Beijing time" is only what the 2025 round happens to configure.

Shapes, one function each:
    ``cn_date``       2025年1月14日            (notices, tables, the digest)
    ``cn_datetime``   2025年1月14日 10:02      (notices; naive datetimes are refused)
    ``minutes``       2025-01-14 10:02         (staff pages, workbooks)
    ``with_offset``   2025-01-14 10:02 +08:00  (the command line: unambiguous in a log)
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from campaign.active import current
from campaign.catalogue import Catalogue


class NaiveDatetime(ValueError):
    """A datetime without a zone where the caller must say which moment it means."""


def utcnow() -> datetime:
    return datetime.now(UTC)


def zone(catalogue: Catalogue | None = None) -> ZoneInfo:
    """The round's time zone (the catalogue in force unless one is passed)."""
    return (catalogue or current()).tz


def as_utc(value: datetime) -> datetime:
    """An aware UTC datetime; naive values are UTC already (SQLite returns them naive)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def stored(value: datetime | str) -> datetime:
    """A stored moment (a datetime, or ISO text as JSON carries it) as aware UTC."""
    return as_utc(datetime.fromisoformat(value) if isinstance(value, str) else value)


def local(value: datetime | str, catalogue: Catalogue | None = None) -> datetime:
    """A stored moment in the round's zone (naive means UTC, as the database stores it)."""
    return stored(value).astimezone(zone(catalogue))


def local_today(catalogue: Catalogue | None = None, now: datetime | None = None) -> date:
    """The round's calendar day now (or at *now*)."""
    return local(now or utcnow(), catalogue).date()


def local_day(moment: datetime, catalogue: Catalogue | None = None) -> tuple[datetime, datetime]:
    """[start, end) of the round's calendar day containing *moment*, in UTC."""
    tz = zone(catalogue)
    day = as_utc(moment).astimezone(tz).date()
    start = datetime.combine(day, time.min, tzinfo=tz)
    return start.astimezone(UTC), (start + timedelta(days=1)).astimezone(UTC)


def day_end(day: date, catalogue: Catalogue | None = None) -> datetime:
    """The first instant after *day* (its 24时) in the round's zone, aware."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone(catalogue))


def _day_of(value: date | datetime, catalogue: Catalogue | None) -> date:
    if isinstance(value, datetime):
        return value.astimezone(zone(catalogue)).date() if value.tzinfo else value.date()
    return value


def cn_date(value: date | datetime, catalogue: Catalogue | None = None) -> str:
    """``2025年1月14日``; an aware datetime is first taken to the round's zone."""
    day = _day_of(value, catalogue)
    return f"{day.year}年{day.month}月{day.day}日"


def cn_datetime(value: datetime, catalogue: Catalogue | None = None) -> str:
    """``2025年1月14日 10:02`` in the round's zone; a naive datetime is refused (which moment?)."""
    if value.tzinfo is None:
        raise NaiveDatetime(f"naive datetime {value!r}: pass an aware one")
    moment = value.astimezone(zone(catalogue))
    return f"{moment.year}年{moment.month}月{moment.day}日 {moment:%H:%M}"


def minutes(value: datetime | str | None, catalogue: Catalogue | None = None) -> str:
    """``2025-01-14 10:02`` in the round's zone; empty for no value."""
    if value is None or value == "":
        return ""
    return local(value, catalogue).strftime("%Y-%m-%d %H:%M")


def with_offset(value: datetime | str | None, catalogue: Catalogue | None = None) -> str:
    """``2025-01-14 10:02 +08:00``: the round's zone with its offset; empty for no value."""
    if value is None or value == "":
        return ""
    moment = local(value, catalogue)
    offset = moment.strftime("%z")
    return f"{moment:%Y-%m-%d %H:%M} {offset[:-2]}:{offset[-2:]}"


def local_naive(value: datetime | None, catalogue: Catalogue | None = None) -> datetime | None:
    """The round's wall-clock time without a zone (a spreadsheet cell has none)."""
    return local(value, catalogue).replace(tzinfo=None) if value else None
