"""The shipped production calendar data (`models/policy/production_calendar.toml`) against the
`holidays` library's RU data, day by day; and a reminder when that library knows a year the
file does not (its message is the table to add, whose source is still to be filled in)."""

from datetime import date, timedelta
from pathlib import Path

import holidays
import pytest

from models.policy.calendar import PublishedYear, is_rule_day_off
from models.policy.loader import PolicyFileError, load_calendar, published_years

SHIPPED = load_calendar()
# The years the decrees were checked for when this file was filled (holidays 0.109).
FILLED = (2024, 2025, 2026, 2027)


def _days(year: int) -> list[date]:
    first = date(year, 1, 1)
    return [first + timedelta(days=i) for i in range((date(year + 1, 1, 1) - first).days)]


def _holidays_ru(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("RU", years=[year])


def test_the_published_years_are_the_ones_filled_each_with_its_source() -> None:
    assert [entry.year for entry in SHIPPED.published] == list(FILLED)
    assert all("Постановление Правительства РФ" in entry.source for entry in SHIPPED.published)
    assert not any(entry.provisional for entry in SHIPPED.published)


@pytest.mark.parametrize("year", FILLED)
def test_each_published_year_agrees_with_holidays_ru_day_by_day(year: int) -> None:
    production = _holidays_ru(year)
    differ = [d for d in _days(year) if SHIPPED.is_working_day(d) != production.is_working_day(d)]
    assert differ == [], f"{year}: the file and holidays.RU disagree on {differ}"


def test_every_year_holidays_ru_knows_a_decree_for_is_in_the_file() -> None:
    """A year where holidays.RU differs from Saturdays, Sundays and ст. 112 ч. 1 holidays has a
    decree; from 2024 on, each such year must be published in the file."""
    missing = []
    for year in range(2024, 2101):
        if SHIPPED.knows(year):
            continue
        production = _holidays_ru(year)
        days = _days(year)
        days_off = [d for d in days if not production.is_working_day(d) and not is_rule_day_off(d)]
        working = [d for d in days if production.is_working_day(d) and is_rule_day_off(d)]
        if days_off or working:
            missing.append(
                f'[years.{year}]\nsource = "<the decree on {year}\'s days off>"\n'
                f"days_off = [{', '.join(d.isoformat() for d in days_off)}]\n"
                f"working_days = [{', '.join(d.isoformat() for d in working)}]"
            )
    assert not missing, "add to production_calendar.toml:\n\n" + "\n\n".join(missing)


def test_load_calendar_from_a_year_and_a_file_of_its_own(tmp_path: Path) -> None:
    assert [e.year for e in load_calendar(from_year=2026).published] == [2026, 2027]
    data = tmp_path / "calendar.toml"
    data.write_text(
        '[years.2028]\nsource = "test decree"\ndays_off = [2028-03-07]\nworking_days = []\n',
        encoding="utf-8",
    )
    calendar = load_calendar(data, checked_on=date(2027, 10, 1))
    assert calendar.published == (
        PublishedYear(year=2028, source="test decree", days_off=(date(2028, 3, 7),)),
    )
    assert calendar.checked_on == date(2027, 10, 1)
    assert not calendar.is_working_day(date(2028, 3, 7))


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("[years.2028]\nsource = 'x'\ndays_off = [2028-03-04]\n", "already a day off by rule"),
        ("[years.2028]\nsource = 'x'\ndays_off = [2029-03-07]\n", "is not in 2028"),
        ("[years.2028]\ndays_off = []\n", "years.2028:\n  source: Field required"),
        ("[years.next]\nsource = 'x'\n", "years.next: expected a table for a year"),
        ("[years.2028]\nsource = 'x'\nprovisional = true\n", "expected a table for a year"),
        ("[calendar]\n", "expected only [years.<year>] tables"),
        ("[years.2028\n", "not valid TOML"),
    ],
)
def test_an_invalid_file_is_refused_naming_the_table(
    tmp_path: Path, text: str, problem: str
) -> None:
    data = tmp_path / "calendar.toml"
    data.write_text(text, encoding="utf-8")
    with pytest.raises(PolicyFileError) as raised:
        published_years(data)
    assert str(data) in str(raised.value)
    assert problem in str(raised.value)
