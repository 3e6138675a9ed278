"""The review's arithmetic and calendar (SPEC section 6), as staff would check them by hand."""

from __future__ import annotations

from datetime import date

from campaign.review import ReviewRules, final_of, header_name, ranks
from campaign.workdays import working_days_before, working_period_end

RULES = ReviewRules()  # trim_from 5, spread flag above 20


def test_five_scores_drop_one_highest_and_one_lowest() -> None:
    final = final_of([90, 80, 85, 60, 95], RULES)
    assert final.trimmed and final.scores == 5
    assert final.final == round((90 + 80 + 85) / 3, 2)  # 60 and 95 dropped
    assert final.spread == 35 and final.flag  # 95 - 60 > 20


def test_fewer_scores_than_trim_from_are_all_counted() -> None:
    final = final_of([88, 81.5, 90, 70], RULES)
    assert not final.trimmed and final.final == 82.38  # 329.5 / 4 = 82.375, rounded half up
    assert final.spread == 20 and not final.flag  # exactly 20 is not "more than 20"


def test_no_score_no_final() -> None:
    final = final_of([], RULES)
    assert final.final is None and final.scores == 0 and not final.flag


def test_equal_finals_share_a_rank_and_the_next_is_skipped() -> None:
    got = ranks({"A": 87.25, "B": 91.0, "C": 87.25, "D": 80.0, "E": None})
    assert got == {"B": 1, "A": 2, "C": 2, "D": 4, "E": None}


def test_finals_equal_at_two_places_tie() -> None:
    assert ranks({"A": 80.004, "B": 80.0})["A"] == ranks({"A": 80.004, "B": 80.0})["B"] == 1


def test_a_header_may_carry_its_maximum() -> None:
    assert header_name("创新性（30分）") == header_name(" 创新性 (满分30) ") == "创新性"
    assert RULES.criterion("可行性（30）") is not None and RULES.criterion("颜值") is None


def test_notice_period_skips_national_day_and_counts_the_make_up_sunday() -> None:
    # published Friday 2025-09-26: 09-26, Sun 09-28 (调休 workday), 09-29, 09-30, then 10-09
    counted = working_period_end(date(2025, 9, 26), 5)
    assert counted.end == date(2025, 10, 9) and not counted.estimated


def test_a_period_published_on_a_holiday_starts_on_the_next_workday() -> None:
    assert working_period_end(date(2025, 10, 1), 1).end == date(2025, 10, 9)


def test_beyond_the_calendar_the_end_is_marked_estimated() -> None:
    counted = working_period_end(date(2099, 3, 2), 5)  # a Monday, no official calendar yet
    assert counted.estimated and counted.end == date(2099, 3, 6)


def test_working_days_before_a_date() -> None:
    assert working_days_before(date(2025, 10, 9), 2).end == date(2025, 9, 29)
