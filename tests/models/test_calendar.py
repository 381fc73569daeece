"""`WorkingCalendar` arithmetic, and `build_calendar` against the real Russian calendar."""

from datetime import date, datetime, timedelta

import pytest
from pydantic import ValidationError

from models.policy.calendar import WorkingCalendar
from models.policy.loader import build_calendar


@pytest.fixture(scope="module")
def russia() -> WorkingCalendar:
    return build_calendar(2025, 2026)


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2025, 10, 31), True),  # Friday
        (date(2025, 11, 1), True),  # a working Saturday (transferred to 3 November)
        (date(2025, 11, 2), False),  # Sunday
        (date(2025, 11, 3), False),  # the transferred day off
        (date(2025, 11, 4), False),  # Unity Day
        (date(2025, 11, 5), True),
        (date(2025, 12, 31), False),  # transferred from 5 January 2025
        (date(2026, 1, 9), False),  # transferred from 3 January 2026
        (date(2026, 1, 12), True),  # the first working day of 2026
        (date(2026, 5, 1), False),  # Spring and Labour Day (Friday)
        (date(2026, 5, 4), True),
        (date(2026, 5, 8), True),
        (date(2026, 5, 9), False),  # Victory Day (Saturday)
        (date(2026, 5, 11), False),  # its day off moved to Monday
        (date(2026, 5, 12), True),
    ],
)
def test_russian_production_calendar(russia: WorkingCalendar, day: date, working: bool) -> None:
    assert russia.is_working_day(day) is working


def test_range_and_size(russia: WorkingCalendar) -> None:
    assert (russia.first_day, russia.last_day) == (date(2025, 1, 1), date(2026, 12, 31))
    # 2025 has 247 working days and 2026 has 247 in the official production calendars.
    assert 730 - len(russia.non_working_days) == 247 + 247


def test_add_working_days_across_the_may_holidays(russia: WorkingCalendar) -> None:
    start = date(2026, 4, 28)  # Tuesday
    assert russia.add_working_days(start, 1) == date(2026, 4, 29)
    assert russia.add_working_days(start, 3) == date(2026, 5, 4)  # 1-3 May off
    assert russia.add_working_days(start, 5) == date(2026, 5, 6)
    assert russia.add_working_days(start, 10) == date(2026, 5, 14)  # 9-11 May off too


def test_add_working_days_over_the_working_saturday(russia: WorkingCalendar) -> None:
    assert russia.add_working_days(date(2025, 10, 31), 1) == date(2025, 11, 1)
    assert russia.add_working_days(date(2025, 10, 31), 2) == date(2025, 11, 5)


def test_zero_working_days(russia: WorkingCalendar) -> None:
    assert russia.add_working_days(date(2026, 5, 6), 0) == date(2026, 5, 6)
    assert russia.add_working_days(date(2026, 5, 9), 0) == date(2026, 5, 12)
    assert russia.subtract_working_days(date(2026, 5, 11), 0) == date(2026, 5, 8)


def test_counting_from_a_day_off(russia: WorkingCalendar) -> None:
    # From a Saturday, the first working day after it is the Monday.
    assert russia.add_working_days(date(2026, 4, 25), 1) == date(2026, 4, 27)
    assert russia.subtract_working_days(date(2026, 5, 3), 1) == date(2026, 4, 30)


def test_subtract_working_days_over_new_year(russia: WorkingCalendar) -> None:
    assert russia.subtract_working_days(date(2026, 1, 12), 1) == date(2025, 12, 30)
    assert russia.add_working_days(date(2025, 12, 30), 1) == date(2026, 1, 12)


def test_working_days_between(russia: WorkingCalendar) -> None:
    assert russia.working_days_between(date(2026, 4, 28), date(2026, 5, 6)) == 5
    assert russia.working_days_between(date(2026, 5, 6), date(2026, 4, 28)) == -5
    assert russia.working_days_between(date(2026, 5, 1), date(2026, 5, 3)) == 0
    assert russia.working_days_between(date(2026, 5, 1), date(2026, 5, 1)) == 0


def test_adding_and_counting_agree(russia: WorkingCalendar) -> None:
    for offset in range(0, 120, 3):
        start = date(2025, 10, 1) + timedelta(days=offset)
        for n in (1, 2, 5, 10):
            end = russia.add_working_days(start, n)
            assert russia.working_days_between(start, end) == n
            # Back to the start, or to the working day before it when it is a day off.
            assert russia.subtract_working_days(end, n) == russia.subtract_working_days(start, 0)


def test_outside_the_range_names_the_day(russia: WorkingCalendar) -> None:
    assert not russia.covers(date(2027, 1, 1))
    with pytest.raises(ValueError, match="2027-01-01 is outside the working calendar"):
        russia.is_working_day(date(2027, 1, 1))
    with pytest.raises(ValueError, match="2027-01-"):
        russia.add_working_days(date(2026, 12, 28), 5)
    with pytest.raises(ValueError, match="2024-12-31"):
        russia.subtract_working_days(date(2025, 1, 9), 1)


def test_negative_counts_and_datetimes_are_rejected(russia: WorkingCalendar) -> None:
    with pytest.raises(ValueError, match="must not be negative"):
        russia.add_working_days(date(2026, 5, 6), -1)
    with pytest.raises(TypeError, match="expected a date"):
        russia.is_working_day(datetime(2026, 5, 6, 12, 0))


def test_json_round_trip(russia: WorkingCalendar) -> None:
    text = russia.model_dump_json()
    assert '"2025-11-03"' in text
    assert '"2025-11-01"' not in text  # a working Saturday is not a day off
    assert WorkingCalendar.model_validate_json(text) == russia


def test_invalid_calendars_are_rejected() -> None:
    first, last = date(2026, 1, 1), date(2026, 1, 31)
    with pytest.raises(ValidationError, match="not sorted or repeated at 2026-01-03"):
        WorkingCalendar(
            first_day=first, last_day=last, non_working_days=(date(2026, 1, 4), date(2026, 1, 3))
        )
    with pytest.raises(ValidationError, match="2026-02-01 is outside"):
        WorkingCalendar(first_day=first, last_day=last, non_working_days=(date(2026, 2, 1),))
    with pytest.raises(ValidationError, match="is after last_day"):
        WorkingCalendar(first_day=last, last_day=first, non_working_days=())


def test_build_calendar_rejects_a_reversed_range() -> None:
    with pytest.raises(ValueError, match="first_year 2027 is after last_year 2026"):
        build_calendar(2027, 2026)
