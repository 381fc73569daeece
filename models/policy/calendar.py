"""`WorkingCalendar`: the Russian working days for any date a case can reach, as a frozen value
a workflow keeps in its state.

What is a day off, in two layers:

1. The rule, for every year: Saturdays and Sundays, and the non-working holidays of the Labour
   Code (ТК РФ ст. 112 ч. 1: 1-6 and 8 January, 7 January, 23 February, 8 March, 1 May,
   9 May, 12 June, 4 November). It is computed, never listed, so it cannot run out.
2. Published years (`PublishedYear`), as data: each autumn the government decrees the next
   year's transfers of days off (ст. 112 ч. 5), and the production calendar that follows shows
   the year's every day. A published year lists the days where it differs from layer 1: extra
   days off (transferred days, and the days off a weekend holiday moved to) and working
   Saturdays. The decrees are in `production_calendar.toml`, one table per year with its
   source; activities read it (`loader.load_calendar`) and workflow code never does.

For a year nobody has published yet, the rule also moves the day off of a holiday that falls on
a Saturday or Sunday to the next working day (ст. 112 ч. 2), except for the January holidays,
whose weekend days only a decree moves. It is applied to unpublished years only, because a
decree may distribute those days differently: for 2025 it gave the days off of 23 February (a
Sunday) and 8 March (a Saturday) to 8 May and 13 June, where the statutory rule alone would have
given 24 February and 10 March. So a published year is the whole truth for its year, and the
statutory rule is the law's forecast for the others. The forecast misses only what no rule can
know: the two January weekend days a decree transfers (usually to May or 31 December), where
it says "working" and a deadline comes out a day early (never late: a legal deadline is not
missed unseen), and a Saturday a decree makes working, where it says "day off".

How a decree reaches a running case, replay-safely: the case keeps only the published years it
was given and the date it last read them (`checked_on`). The rule is code, so it needs no
refresh. The workflow asks for the data again through an activity (recorded in its history, so
replay sees exactly what the case saw) when its calendar has no published data for the current
year or the next one and was last read at least `REFRESH_EVERY` ago (`needs_refresh`): from
New Year until the next year's decree appears, about once a month, and never once both years
are known. `refreshed` merges what the activity returned: a year the data has replaces the
case's copy; a year only the case has is kept. A case therefore never needs a release to pass
New Year (the rule answers), and learns a new decree within a month of its data being
deployed. Deadlines already planned keep the times they were given.

Cases started before this design kept a finite table (`first_day`, `last_day`,
`non_working_days`); such a state still loads: each year of the table becomes a published year
with the very same days off, so what the case computed it computes again on replay, and dates
beyond the table follow the rule. A table year that differs in nothing from layer 1 was one the
`holidays` library had no decree for: it is kept as `provisional`, counts as unknown for
`needs_refresh`, and is dropped at the first refresh in favour of the data or the rule.

`covers` bounds the calendar to the years 2000..2100: the rule reproduces the holiday list in
force since 2013, and nothing a case computes from an accepted input comes near either bound
(payloads refuse dates outside them, preconditions refuse dates far from the case's own).
"""

from bisect import bisect_right
from datetime import date, datetime, timedelta
from functools import lru_cache
from itertools import pairwise
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator

FIRST_YEAR = 2000
LAST_YEAR = 2100
# How often a case reads the published years again while one it may need is missing: decrees
# come about three months before their year, so a month's lag still knows them by New Year.
REFRESH_EVERY = timedelta(days=30)

_ONE_DAY = timedelta(days=1)
_JANUARY_HOLIDAYS = tuple((1, day) for day in range(1, 9))  # 1-6 and 8 January, 7 January
# The other holidays of ст. 112 ч. 1, in the order of the year (ст. 112 ч. 2 moves these).
_MOVABLE_HOLIDAYS = ((2, 23), (3, 8), (5, 1), (5, 9), (6, 12), (11, 4))
_HOLIDAYS = frozenset(_JANUARY_HOLIDAYS + _MOVABLE_HOLIDAYS)
_LEGACY_SOURCE = "the calendar this case started with (holidays.RU at the time)"


def is_rule_day_off(day: date) -> bool:
    """A Saturday, a Sunday or a holiday of ст. 112 ч. 1 (layer 1 of the module docstring)."""
    return day.weekday() >= 5 or (day.month, day.day) in _HOLIDAYS


class PublishedYear(BaseModel):
    """One year's production calendar, as differences from Saturdays, Sundays and holidays."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    year: int = Field(ge=FIRST_YEAR, le=LAST_YEAR)
    source: str = Field(min_length=1, pattern=r"\S", description="The decree it comes from.")
    days_off: tuple[date, ...] = Field(
        (), description="Weekdays off: transferred days off, moved days off of holidays."
    )
    working_days: tuple[date, ...] = Field(
        (), description="Saturdays, Sundays or holidays that are working days."
    )
    provisional: bool = Field(
        False, description="A legacy table's year without a decree: replaced at the next refresh."
    )

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        for name, days, off_by_rule in (
            ("days_off", self.days_off, False),
            ("working_days", self.working_days, True),
        ):
            for earlier, later in pairwise(days):
                if earlier >= later:
                    raise ValueError(f"{self.year}.{name}: not sorted or repeated at {later}")
            for day in days:
                if day.year != self.year:
                    raise ValueError(f"{self.year}.{name}: {day} is not in {self.year}")
                if is_rule_day_off(day) is not off_by_rule:
                    what = "a working day" if off_by_rule else "a day off"
                    raise ValueError(f"{self.year}.{name}: {day} is already {what} by rule")
        return self


class WorkingCalendar(BaseModel):
    """Working days for every date in `FIRST_YEAR`..`LAST_YEAR`: the rule, and the years
    published so far (see the module docstring)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    published: tuple[PublishedYear, ...] = ()
    checked_on: date | None = Field(
        None, description="When the published years were last read; None: never (legacy)."
    )
    _by_year: dict[int, PublishedYear] = PrivateAttr(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _from_legacy_table(cls, data: Any) -> Any:
        if isinstance(data, dict) and "non_working_days" in data:
            return {"published": _LegacyTable.model_validate(data).published_years()}
        return data

    @model_validator(mode="after")
    def _years_in_order(self) -> Self:
        for earlier, later in pairwise(self.published):
            if earlier.year >= later.year:
                raise ValueError(f"published: years not sorted or repeated at {later.year}")
        return self

    def model_post_init(self, context: Any, /) -> None:
        self._by_year = {entry.year: entry for entry in self.published}

    def covers(self, day: date) -> bool:
        """True when `day` lies within the years the calendar answers for (2000..2100)."""
        return FIRST_YEAR <= _plain_date(day).year <= LAST_YEAR

    def knows(self, year: int) -> bool:
        """True when `year`'s production calendar is published here (not the rule's forecast)."""
        entry = self._by_year.get(year)
        return entry is not None and not entry.provisional

    def needs_refresh(self, today: date) -> bool:
        """True when the published years should be read again (see the module docstring)."""
        if self.knows(today.year) and self.knows(today.year + 1):
            return False
        return self.checked_on is None or today - self.checked_on >= REFRESH_EVERY

    def refreshed(self, newer: "WorkingCalendar") -> "WorkingCalendar":
        """This calendar with what was read since: `newer`'s years replace ours, and a year only
        we have is kept unless it was provisional."""
        years = {entry.year: entry for entry in self.published if not entry.provisional}
        years.update(newer._by_year)
        return WorkingCalendar(
            published=tuple(years[year] for year in sorted(years)), checked_on=newer.checked_on
        )

    def days_off(self, year: int) -> tuple[date, ...]:
        """Every day off of `year`, in order."""
        if not FIRST_YEAR <= year <= LAST_YEAR:
            raise ValueError(f"{year} is outside the working calendar {FIRST_YEAR}..{LAST_YEAR}")
        return _days_off(year, self._by_year.get(year))

    def is_working_day(self, day: date) -> bool:
        """True for a working day; ValueError naming the day when outside 2000..2100."""
        self._require(day)
        days_off = _days_off(day.year, self._by_year.get(day.year))
        i = bisect_right(days_off, day)
        return i == 0 or days_off[i - 1] != day

    def add_working_days(self, start: date, n: int) -> date:
        """The n-th working day after `start`; for n == 0, `start` or the next working day."""
        return self._walk(start, n, _ONE_DAY)

    def subtract_working_days(self, end: date, n: int) -> date:
        """The n-th working day before `end`; for n == 0, `end` or the previous working day."""
        return self._walk(end, n, -_ONE_DAY)

    def working_days_between(self, a: date, b: date) -> int:
        """Working days d with a < d <= b; negative (the count for b < d <= a) when b < a.

        So `working_days_between(a, add_working_days(a, n)) == n` for every n >= 1.
        """
        self._require(a)
        self._require(b)
        if b < a:
            return -self.working_days_between(b, a)
        days_off = 0
        for year in range(a.year, b.year + 1):
            year_off = self.days_off(year)
            days_off += bisect_right(year_off, b) - bisect_right(year_off, a)
        return (b - a).days - days_off

    def _walk(self, day: date, n: int, step: timedelta) -> date:
        if n < 0:
            raise ValueError(f"the number of working days must not be negative, got {n}")
        self._require(day)
        if n == 0:
            while not self.is_working_day(day):
                day = self._step(day, step)
            return day
        # Count only days strictly after (before) the starting day, working or not.
        while n > 0:
            day = self._step(day, step)
            if self.is_working_day(day):
                n -= 1
        return day

    def _step(self, day: date, step: timedelta) -> date:
        # `day` is within the bounds, so this cannot overflow; leaving them raises, naming the day.
        moved = day + step
        self._require(moved)
        return moved

    def _require(self, day: date) -> None:
        if not self.covers(day):
            raise ValueError(
                f"{day} is outside the working calendar {FIRST_YEAR}-01-01..{LAST_YEAR}-12-31"
            )


class _LegacyTable(BaseModel):
    """The calendar's earlier shape: every day off between two days."""

    first_day: date
    last_day: date
    non_working_days: tuple[date, ...]

    def published_years(self) -> tuple[PublishedYear, ...]:
        """Each year of the table as a published year with the same days off (days of a year
        outside the table's range follow layer 1)."""
        off = set(self.non_working_days)
        years = []
        for year in range(self.first_day.year, self.last_day.year + 1):
            start = max(self.first_day, date(year, 1, 1))
            end = min(self.last_day, date(year, 12, 31))
            days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
            extra = tuple(d for d in days if d in off and not is_rule_day_off(d))
            working = tuple(d for d in days if d not in off and is_rule_day_off(d))
            years.append(
                PublishedYear(
                    year=year,
                    source=_LEGACY_SOURCE,
                    days_off=extra,
                    working_days=working,
                    provisional=not extra and not working,
                )
            )
        return tuple(years)


@lru_cache(maxsize=512)
def _days_off(year: int, published: PublishedYear | None) -> tuple[date, ...]:
    """Every day off of `year`: by the published year when there is one, else by the rule with
    the statutory moves. Pure, so cached for all cases of the process alike."""
    first = date(year, 1, 1)
    days = [first + timedelta(days=i) for i in range((date(year + 1, 1, 1) - first).days)]
    if published is not None:
        extra, working = set(published.days_off), set(published.working_days)
        return tuple(d for d in days if (is_rule_day_off(d) or d in extra) and d not in working)
    off = {d for d in days if is_rule_day_off(d)}
    return tuple(sorted(off | _statutory_moves(year, off)))


def _statutory_moves(year: int, off: set[date]) -> set[date]:
    """ст. 112 ч. 2: the day off of a holiday on a Saturday or Sunday moves to the next working
    day after the holiday (the January holidays excepted)."""
    moved: set[date] = set()
    for month, day in _MOVABLE_HOLIDAYS:
        holiday = date(year, month, day)
        if holiday.weekday() < 5:
            continue
        target = holiday + _ONE_DAY
        while target in off or target in moved:
            target += _ONE_DAY
        moved.add(target)
    return moved


def _plain_date(day: date) -> date:
    # A datetime is a date too, but comparing one with a date raises TypeError deep inside;
    # say what is wrong instead.
    if isinstance(day, datetime):
        raise TypeError(f"expected a date, got the datetime {day.isoformat()}")
    return day
