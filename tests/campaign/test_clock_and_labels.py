"""One clock, one label table: every screen and mail shows a moment and a code the same way,
in the zone and with the names of the round in force (or the one passed)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime

import pytest

from campaign import SHANDONG_2025, current, using
from campaign.clock import (
    NaiveDatetime,
    cn_date,
    cn_datetime,
    local_day,
    local_today,
    minutes,
    with_offset,
)
from campaign.labels import STATUS_LABELS, direction_label, label, task_type_label, task_type_labels

URUMQI = dataclasses.replace(SHANDONG_2025, timezone="Asia/Urumqi")  # UTC+6: another round's zone
MOMENT = datetime(2025, 1, 20, 16, 30, tzinfo=UTC)  # 2025-01-21 00:30 in Shandong, 22:30 the 20th in Ürümqi


def test_each_shape_of_one_moment_in_the_rounds_zone() -> None:
    assert cn_datetime(MOMENT) == "2025年1月21日 00:30"
    assert cn_date(MOMENT) == "2025年1月21日"
    assert minutes(MOMENT) == "2025-01-21 00:30"
    assert with_offset(MOMENT) == "2025-01-21 00:30 +08:00"


def test_the_zone_is_the_rounds_not_a_constant() -> None:
    assert with_offset(MOMENT, URUMQI) == "2025-01-20 22:30 +06:00"
    with using(URUMQI):
        assert cn_datetime(MOMENT) == "2025年1月20日 22:30"
        assert local_today(now=MOMENT) == date(2025, 1, 20)
    assert local_today(now=MOMENT) == date(2025, 1, 21)


def test_stored_values_naive_or_as_text_are_utc() -> None:
    naive = MOMENT.replace(tzinfo=None)  # as SQLite returns it
    assert minutes(naive) == minutes(MOMENT) == minutes(MOMENT.isoformat()) == "2025-01-21 00:30"
    assert minutes(None) == with_offset("") == ""


def test_a_notice_refuses_a_moment_without_a_zone() -> None:
    with pytest.raises(NaiveDatetime):
        cn_datetime(MOMENT.replace(tzinfo=None))


def test_the_rounds_day_runs_midnight_to_midnight_in_its_zone() -> None:
    start, end = local_day(MOMENT)
    assert (start, end) == (datetime(2025, 1, 20, 16, 0, tzinfo=UTC), datetime(2025, 1, 21, 16, 0, tzinfo=UTC))


def test_task_types_and_directions_are_named_by_the_round_in_force() -> None:
    types = tuple(dataclasses.replace(t, label=f"{t.label}（新）") for t in SHANDONG_2025.task_types)
    five = dataclasses.replace(SHANDONG_2025, task_types=types, directions=SHANDONG_2025.directions[:5])
    assert task_type_label("theory") == "理论研究"
    with using(five):
        assert task_type_labels(["theory", "application"]) == "理论研究（新）、应用实践（新）"
        assert direction_label(6) == "未识别" and direction_label(5).startswith("（五）")
    assert direction_label(6).startswith("（六）")
    assert task_type_label("unheard-of") == "unheard-of"  # shown as itself, never dropped


def test_a_state_nobody_named_shows_as_itself_and_none_as_a_dash() -> None:
    assert label(STATUS_LABELS, "selected") == "已入选"
    assert label(STATUS_LABELS, "new_state") == "new_state"
    assert label(STATUS_LABELS, None) == "—"


def test_using_a_round_is_scoped_not_for_the_process() -> None:
    with using(URUMQI):
        assert current() is URUMQI
    assert current() is SHANDONG_2025
