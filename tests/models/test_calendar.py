"""`WorkingCalendar`: its arithmetic on the real Russian calendar (the shipped published
years), the rule for every other year, the legacy table a running case may hold, and the
refresh of its published years."""

import json
from datetime import date, datetime, timedelta

import pytest
from pydantic import ValidationError

from models.policy.calendar import (
    LAST_YEAR,
    REFRESH_EVERY,
    PublishedYear,
    WorkingCalendar,
    is_rule_day_off,
)
from models.policy.loader import load_calendar


@pytest.fixture(scope="module")
def russia() -> WorkingCalendar:
    return load_calendar()


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


def test_working_days_a_year(russia: WorkingCalendar) -> None:
    # 2025 has 247 working days and 2026 has 247 in the official production calendars.
    assert 365 - len(russia.days_off(2025)) == 247
    assert 365 - len(russia.days_off(2026)) == 247
    assert russia.working_days_between(date(2024, 12, 31), date(2026, 12, 31)) == 247 + 247


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


def test_outside_the_years_2000_to_2100_names_the_day(russia: WorkingCalendar) -> None:
    assert russia.covers(date(2000, 1, 1))
    assert russia.covers(date(2100, 12, 31))
    assert not russia.covers(date(1999, 12, 31))
    assert not russia.covers(date(2101, 1, 1))
    with pytest.raises(ValueError, match="2101-01-01 is outside the working calendar"):
        russia.is_working_day(date(2101, 1, 1))
    with pytest.raises(ValueError, match="2101-01-"):
        russia.add_working_days(date(2100, 12, 28), 5)
    with pytest.raises(ValueError, match="1999-12-31"):
        russia.subtract_working_days(date(2000, 1, 10), 1)
    with pytest.raises(ValueError, match="9999-12-31 is outside"):
        russia.working_days_between(date(2026, 1, 1), date(9999, 12, 31))
    with pytest.raises(ValueError, match="0001-01-01 is outside"):
        russia.add_working_days(date(1, 1, 1), 0)


def test_negative_counts_and_datetimes_are_rejected(russia: WorkingCalendar) -> None:
    with pytest.raises(ValueError, match="must not be negative"):
        russia.add_working_days(date(2026, 5, 6), -1)
    with pytest.raises(TypeError, match="expected a date"):
        russia.is_working_day(datetime(2026, 5, 6, 12, 0))


def test_json_round_trip(russia: WorkingCalendar) -> None:
    text = russia.model_dump_json()
    assert '"2025-11-03"' in text  # a transferred day off
    assert json.loads(text)["published"][1]["working_days"] == ["2025-11-01"]  # a working Saturday
    assert WorkingCalendar.model_validate_json(text) == russia


def test_invalid_published_years_are_rejected() -> None:
    def year(**fields: object) -> PublishedYear:
        return PublishedYear.model_validate({"year": 2026, "source": "test decree", **fields})

    with pytest.raises(ValidationError, match="not sorted or repeated at 2026-01-09"):
        year(days_off=[date(2026, 3, 9), date(2026, 1, 9)])
    with pytest.raises(ValidationError, match="2027-01-11 is not in 2026"):
        year(days_off=[date(2027, 1, 11)])
    with pytest.raises(ValidationError, match="2026-01-10 is already a day off by rule"):
        year(days_off=[date(2026, 1, 10)])  # a Saturday
    with pytest.raises(ValidationError, match="2026-01-12 is already a working day by rule"):
        year(working_days=[date(2026, 1, 12)])  # a Monday
    with pytest.raises(ValidationError, match="source"):
        year(source=" ")
    with pytest.raises(ValidationError, match="not sorted or repeated at 2026"):
        WorkingCalendar(published=(year(), year()))


# --- The rule, for the years nobody has published -------------------------------------------

FIXED_HOLIDAYS = [(1, d) for d in range(1, 9)] + [
    (2, 23),
    (3, 8),
    (5, 1),
    (5, 9),
    (6, 12),
    (11, 4),
]


@pytest.mark.parametrize("year", [2028, 2029, 2030, 2031, 2040, 2057, 2099, LAST_YEAR])
def test_any_year_has_weekends_and_the_labour_code_holidays_off(
    russia: WorkingCalendar, year: int
) -> None:
    first = date(year, 1, 1)
    days = [first + timedelta(days=i) for i in range((date(year + 1, 1, 1) - first).days)]
    assert all(not russia.is_working_day(d) for d in days if d.weekday() >= 5)
    assert all(not russia.is_working_day(date(year, m, d)) for m, d in FIXED_HOLIDAYS)
    # Besides those, only the statutory moves: at most one weekday off per weekend holiday.
    weekend_holidays = [
        (m, d) for m, d in FIXED_HOLIDAYS if m > 1 and date(year, m, d).weekday() >= 5
    ]
    extra = [d for d in days if not russia.is_working_day(d) and not is_rule_day_off(d)]
    assert len(extra) == len(weekend_holidays)


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2028, 11, 3), True),  # Friday
        (date(2028, 11, 4), False),  # Unity Day, a Saturday
        (date(2028, 11, 6), False),  # ст. 112 ч. 2: its day off moved to Monday
        (date(2028, 11, 7), True),
        (date(2028, 1, 10), True),  # 1 and 8 January 2028 are Saturdays: only a decree moves them
        (date(2029, 11, 5), False),  # 4 November 2029 is a Sunday
        (date(2030, 2, 25), False),  # 23 February 2030 is a Saturday
        (date(2030, 11, 4), False),  # Unity Day, a Monday
        (date(2030, 11, 5), True),
        (date(2031, 2, 24), False),  # 23 February 2031 is a Sunday
        (date(2031, 3, 10), False),  # 8 March 2031 is a Saturday
        (date(2031, 3, 11), True),
        (date(2032, 5, 3), False),  # 1 May 2032 is a Saturday
        (date(2032, 5, 10), False),  # 9 May 2032 is a Sunday
        (date(2032, 6, 14), False),  # 12 June 2032 is a Saturday
    ],
)
def test_the_statutory_move_of_a_weekend_holiday(
    russia: WorkingCalendar, day: date, working: bool
) -> None:
    assert russia.is_working_day(day) is working


def test_the_rule_alone_reproduces_years_whose_decree_moved_only_january_days() -> None:
    # In 2026 and 2027 the official calendars moved the weekend holidays' days off by
    # ст. 112 ч. 2 (9 March, 11 May; 3 May, 10 May, 14 June): the rule finds the same days.
    rule = WorkingCalendar()
    assert [d for d in rule.days_off(2026) if not is_rule_day_off(d)] == [
        date(2026, 3, 9),
        date(2026, 5, 11),
    ]
    assert [d for d in rule.days_off(2027) if not is_rule_day_off(d)] == [
        date(2027, 5, 3),
        date(2027, 5, 10),
        date(2027, 6, 14),
    ]


def test_a_published_year_replaces_the_statutory_rule(russia: WorkingCalendar) -> None:
    """The 2025 decree gave the days off of 23 February (Sunday) and 8 March (Saturday) to
    8 May and 13 June: the statutory rule alone would have made 24 February and 10 March days
    off. This is why the rule applies only to years without a published calendar."""
    rule = WorkingCalendar()
    assert not rule.is_working_day(date(2025, 2, 24))
    assert not rule.is_working_day(date(2025, 3, 10))
    assert russia.is_working_day(date(2025, 2, 24))
    assert russia.is_working_day(date(2025, 3, 10))
    assert not russia.is_working_day(date(2025, 5, 8))
    assert not russia.is_working_day(date(2025, 6, 13))


def test_counting_agrees_with_walking_across_many_years(russia: WorkingCalendar) -> None:
    for start in (date(2025, 12, 20), date(2027, 12, 29), date(2029, 12, 30), date(2033, 4, 28)):
        for n in (1, 7, 250, 500):
            end = russia.add_working_days(start, n)
            assert russia.working_days_between(start, end) == n
            assert russia.subtract_working_days(end, n) == russia.subtract_working_days(start, 0)
    # Ten years of days off, counted year by year, as walking them one by one finds.
    days = [date(2026, 1, 1) + timedelta(days=i) for i in range(3653)]
    working = sum(russia.is_working_day(d) for d in days[1:])
    assert russia.working_days_between(days[0], days[-1]) == working


# --- The table a case started before this calendar holds ------------------------------------


def _legacy_table(first: date, last: date, days_off: list[date]) -> dict[str, object]:
    return {
        "first_day": first.isoformat(),
        "last_day": last.isoformat(),
        "non_working_days": [d.isoformat() for d in days_off],
    }


def test_a_legacy_table_answers_as_it_did_and_by_rule_beyond(russia: WorkingCalendar) -> None:
    # The shape earlier cases keep in their state: every day off of 2025..2029, as holidays.RU
    # gave them (with no moves in 2028 and 2029, which it knew no decree for).
    first, last = date(2025, 1, 1), date(2029, 12, 31)
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    off = [
        d for d in days if (not russia.is_working_day(d) if d.year < 2028 else is_rule_day_off(d))
    ]
    table = _legacy_table(first, last, off)
    legacy = WorkingCalendar.model_validate_json(json.dumps(table))

    assert all(legacy.is_working_day(d) is (d not in set(off)) for d in days)
    assert legacy.is_working_day(date(2028, 11, 6))  # as the table said, though a moved day off
    assert not legacy.is_working_day(date(2030, 2, 25))  # beyond it: the rule
    # From Friday 28 December 2029: Monday 31 December, then 9 and 10 January 2030.
    assert legacy.add_working_days(date(2029, 12, 28), 3) == date(2030, 1, 10)
    assert [(y.year, y.provisional) for y in legacy.published] == [
        (2025, False),
        (2026, False),
        (2027, False),
        (2028, True),
        (2029, True),
    ]
    assert legacy.checked_on is None
    assert not legacy.knows(2028)
    assert legacy.knows(2027)


def test_a_legacy_table_with_no_days_off_at_all_still_says_so() -> None:
    # Some tests built such a table for calendar spans: every day a working day.
    legacy = WorkingCalendar.model_validate(_legacy_table(date(2026, 1, 1), date(2027, 12, 31), []))
    assert legacy.is_working_day(date(2026, 1, 1))
    assert legacy.is_working_day(date(2027, 5, 9))
    assert not legacy.is_working_day(date(2028, 1, 1))


# --- Refreshing the published years ---------------------------------------------------------


def _published(year: int, *days_off: date) -> PublishedYear:
    return PublishedYear(year=year, source=f"test decree {year}", days_off=days_off)


def test_needs_refresh_while_the_current_or_next_year_is_unknown() -> None:
    day = date(2027, 1, 15)
    known = WorkingCalendar(
        published=(_published(2027), _published(2028)), checked_on=date(2026, 1, 1)
    )
    assert not known.needs_refresh(day)  # both known: however long ago it was read
    missing_next = WorkingCalendar(published=(_published(2027),), checked_on=day)
    assert not missing_next.needs_refresh(day + REFRESH_EVERY - timedelta(days=1))
    assert missing_next.needs_refresh(day + REFRESH_EVERY)
    assert WorkingCalendar(published=(_published(2027),)).needs_refresh(day)  # never read
    assert WorkingCalendar(published=(_published(2028),), checked_on=day).needs_refresh(
        day + REFRESH_EVERY
    )


def test_refreshed_takes_the_newer_years_and_keeps_the_others() -> None:
    # A table with a decree for 2024 (10 May off) and none for 2025..2028 (provisional years).
    first, last = date(2024, 1, 1), date(2028, 12, 31)
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    off = sorted([d for d in days if is_rule_day_off(d)] + [date(2024, 5, 10)])
    legacy = WorkingCalendar.model_validate(_legacy_table(first, last, off))
    assert [y.year for y in legacy.published if y.provisional] == [2025, 2026, 2027, 2028]
    newer = WorkingCalendar(
        published=(
            _published(2026, date(2026, 1, 9)),
            _published(2028, date(2028, 5, 8)),
        ),
        checked_on=date(2027, 10, 1),
    )
    merged = legacy.refreshed(newer)

    by_year = {entry.year: entry for entry in merged.published}
    # 2024 is kept (only the case had it, from a decree); 2025 and 2027 were provisional:
    # dropped, so the rule answers for them; 2026 and 2028 come from the newer data.
    assert sorted(by_year) == [2024, 2026, 2028]
    assert by_year[2026] == newer.published[0]
    assert by_year[2028].source == "test decree 2028"
    assert merged.checked_on == date(2027, 10, 1)
    assert not merged.is_working_day(date(2028, 5, 8))
    assert not merged.is_working_day(date(2024, 5, 10))
    assert not merged.is_working_day(date(2027, 5, 10))  # 2027 now by rule: 9 May is a Sunday
