"""Chinese working days: weekends, the State Council's holidays and their 调休 make-up
workdays, from the maintained ``chinese_calendar`` package (not a hand-kept list).

The package covers the years the State Council has announced; for a later year it cannot
know the holidays, so :func:`add_working_days` counts Monday–Friday and says so
(``Counted.estimated``) — staff see that the end date is provisional.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import chinese_calendar


@dataclass(frozen=True)
class Counted:
    end: date
    estimated: bool  # a year beyond the calendar: weekends only


def is_workday(day: date) -> tuple[bool, bool]:
    """(a working day, by the official calendar — False: estimated from the weekday)."""
    try:
        return bool(chinese_calendar.is_workday(day)), True
    except NotImplementedError:
        return day.weekday() < 5, False


def working_period_end(start: date, days: int) -> Counted:
    """The last day of a period of *days* working days that begins on *start* (counted
    when it is itself a working day): a 公示期 of 5 working days published on Friday
    2025-09-26 ends on Thursday 2025-10-09 (Sunday 09-28 a make-up workday, the National
    Day holiday 10-01…10-08 skipped)."""
    if days < 1:
        raise ValueError("a period has at least one working day")
    day, counted, exact = start, 0, True
    while True:
        work, official = is_workday(day)
        exact = exact and official
        if work:
            counted += 1
            if counted == days:
                return Counted(day, not exact)
        day += timedelta(days=1)


def working_days_before(end: date, days: int) -> Counted:
    """The working day *days* working days before *end* (for reminders ahead of a date)."""
    day, counted, exact = end, 0, True
    while counted < days:
        day -= timedelta(days=1)
        work, official = is_workday(day)
        exact = exact and official
        counted += work
    return Counted(day, not exact)
