"""`shift`: deadlines in Novosibirsk working days and calendar spans, with real 2025-2026 dates."""

from datetime import UTC, date, datetime, time, timedelta, timezone

import pytest

from models.policy.calendar import WorkingCalendar
from models.policy.deadlines import shift
from models.policy.durations import Duration
from models.policy.loader import load_calendar

NOVOSIBIRSK = timedelta(hours=7)
LOCAL = timezone(NOVOSIBIRSK)


@pytest.fixture(scope="module")
def russia() -> WorkingCalendar:
    return load_calendar()


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=LOCAL)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def forward(moment: datetime, text: str, calendar: WorkingCalendar) -> datetime:
    return shift(moment, Duration.parse(text), calendar, NOVOSIBIRSK)


def backward(moment: datetime, text: str, calendar: WorkingCalendar) -> datetime:
    return shift(moment, Duration.parse(text), calendar, NOVOSIBIRSK, backwards=True)


def test_t2_across_the_may_holidays(russia: WorkingCalendar) -> None:
    # An application on Tuesday 28 April 2026: 29, 30 April, 4, 5, 6 May are the five working
    # days (1-3 May are off), so the decision is due by the end of Wednesday 6 May, local time.
    due = forward(local(2026, 4, 28, 10), "5WD", russia)
    assert due == utc(2026, 5, 6, 17)  # 7 May 00:00 in Novosibirsk
    assert due.tzinfo is UTC


def test_t3_across_both_may_holiday_blocks(russia: WorkingCalendar) -> None:
    # 7, 8, 12, 13, 14 May follow (9-11 May are off): the tenth working day is 14 May.
    assert forward(local(2026, 4, 28, 10), "10WD", russia) == utc(2026, 5, 14, 17)


def test_the_local_date_counts_not_the_utc_date(russia: WorkingCalendar) -> None:
    # 20:00 UTC on 28 April is already 29 April in Novosibirsk: one working day later.
    assert forward(utc(2026, 4, 28, 20), "5WD", russia) == utc(2026, 5, 7, 17)


def test_the_working_saturday(russia: WorkingCalendar) -> None:
    friday = local(2025, 10, 31, 15)
    assert forward(friday, "1WD", russia) == utc(2025, 11, 1, 17)  # Saturday 1 November
    assert forward(friday, "2WD", russia) == utc(2025, 11, 5, 17)  # 3 and 4 November off


def test_new_year_holidays(russia: WorkingCalendar) -> None:
    # 31 December 2025 and 1-11 January 2026 are off.
    assert forward(local(2025, 12, 30, 9), "1WD", russia) == utc(2026, 1, 12, 17)


def test_zero_working_days_is_the_end_of_today(russia: WorkingCalendar) -> None:
    assert forward(local(2026, 5, 6, 9, 30), "0WD", russia) == utc(2026, 5, 6, 17)
    # On a day off it is the end of the next working day.
    assert forward(local(2026, 5, 9, 9, 30), "0WD", russia) == utc(2026, 5, 12, 17)


def test_an_escalation_after_a_due_does_not_skip_a_day(russia: WorkingCalendar) -> None:
    due = forward(local(2026, 4, 28, 10), "5WD", russia)  # end of 6 May
    assert forward(due, "PT0S", russia) == due
    assert forward(due, "0WD", russia) == due
    assert forward(due, "1WD", russia) == utc(2026, 5, 7, 17)  # end of 7 May, not 8 May
    assert forward(due, "2WD", russia) == utc(2026, 5, 8, 17)


def test_a_reminder_before_the_due(russia: WorkingCalendar) -> None:
    due = forward(local(2026, 4, 28, 10), "5WD", russia)
    assert backward(due, "1WD", russia) == utc(2026, 5, 5, 17)  # 6 May 00:00 local
    assert backward(due, "2WD", russia) == utc(2026, 5, 4, 17)  # 5 May 00:00 local


def test_t7_opens_ten_working_days_before_the_term_ends(russia: WorkingCalendar) -> None:
    term_end = utc(2026, 5, 14, 17)  # the end of 14 May local
    # 14, 13, 12, 8, 7, 6, 5, 4 May, 30 and 29 April: the step opens on 29 April.
    assert backward(term_end, "10WD", russia) == utc(2026, 4, 28, 17)


def test_backwards_zero_and_from_a_day_off(russia: WorkingCalendar) -> None:
    assert backward(local(2026, 5, 6, 15), "0WD", russia) == utc(2026, 5, 5, 17)  # 6 May 00:00
    assert backward(local(2026, 5, 10, 15), "0WD", russia) == utc(2026, 5, 7, 17)  # 8 May 00:00
    # From Sunday 10 May the first working day before is Friday 8 May (9 May is off).
    assert backward(local(2026, 5, 10, 15), "1WD", russia) == utc(2026, 5, 7, 17)
    assert backward(local(2026, 5, 12, 15), "2WD", russia) == utc(2026, 5, 6, 17)  # 7 May 00:00


def test_backwards_then_forwards_returns_to_an_end_of_working_day(
    russia: WorkingCalendar,
) -> None:
    # (0WD is excluded: from the end of a Friday, 0WD back is the start of Friday, and 0WD
    # forward from there is the end of Thursday.)
    day = date(2025, 3, 1)
    while day < date(2026, 11, 1):
        if russia.is_working_day(day):
            end_of_day = datetime.combine(day + timedelta(days=1), time(0), tzinfo=LOCAL)
            for n in (1, 2, 5, 10):
                opened = backward(end_of_day, f"{n}WD", russia)
                assert forward(opened, f"{n}WD", russia) == end_of_day
        day += timedelta(days=7 if day.month % 2 else 5)


def test_month_clamping_in_local_time(russia: WorkingCalendar) -> None:
    # 30 January 20:00 UTC is already 31 January in Novosibirsk: one month later is the last
    # day of February there, at the same local hour.
    assert forward(utc(2026, 1, 30, 20), "P1M", russia) == utc(2026, 2, 27, 20)
    assert forward(local(2028, 1, 31, 12), "P1M", russia) == local(2028, 2, 29, 12)
    assert forward(local(2028, 2, 29, 12), "P1Y", russia) == local(2029, 2, 28, 12)
    assert backward(local(2026, 3, 31, 12), "P1M", russia) == local(2026, 2, 28, 12)


def test_spans(russia: WorkingCalendar) -> None:
    start = local(2026, 4, 28, 10)
    assert forward(start, "P3M", russia) == local(2026, 7, 28, 10)
    assert forward(start, "P2W", russia) == local(2026, 5, 12, 10)
    assert forward(start, "PT30S", russia) == start + timedelta(seconds=30)
    assert forward(start, "P1Y2M3DT4H5M6S", russia) == datetime(2027, 7, 1, 14, 5, 6, tzinfo=LOCAL)
    assert backward(start, "P3Y", russia) == local(2023, 4, 28, 10)
    # Months first, then days, in both directions.
    assert forward(local(2026, 1, 31), "P1M1D", russia) == local(2026, 3, 1)
    assert backward(local(2026, 3, 31), "P1M1D", russia) == local(2026, 2, 27)


def test_spans_need_no_calendar_coverage(russia: WorkingCalendar) -> None:
    # T8's three years reach beyond the calendar; a span never consults it.
    assert forward(local(2026, 6, 1), "P3Y", russia) == local(2029, 6, 1)


def test_any_aware_input_gives_utc(russia: WorkingCalendar) -> None:
    moscow = timezone(timedelta(hours=3))
    result = forward(datetime(2026, 4, 28, 7, tzinfo=moscow), "5WD", russia)
    assert result == utc(2026, 5, 6, 17)
    assert result.utcoffset() == timedelta(0)


def test_naive_moments_are_rejected(russia: WorkingCalendar) -> None:
    with pytest.raises(ValueError, match="no time zone"):
        forward(datetime(2026, 4, 28, 10), "5WD", russia)


def test_leaving_the_calendar_names_the_day(russia: WorkingCalendar) -> None:
    with pytest.raises(ValueError, match="2101-01-"):
        forward(local(2100, 12, 28, 10), "5WD", russia)


def test_working_days_far_past_the_published_years(russia: WorkingCalendar) -> None:
    # 27 December 2030 (a Friday), 5WD: 30 and 31 December, then (1-8 January off) Thursday 9,
    # Friday 10 and Monday 13 January 2031, ending at 24:00 on the 13th.
    assert forward(local(2030, 12, 27, 10), "5WD", russia) == local(2031, 1, 14)


def test_overflow_is_a_value_error(russia: WorkingCalendar) -> None:
    with pytest.raises(ValueError, match="out of range"):
        forward(local(2026, 1, 1), "P9000Y", russia)
