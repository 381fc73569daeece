"""`WorkingCalendar`: which days are working days, as a frozen value a workflow can keep.

The production calendar (производственный календарь) changes by government decree, and the
`holidays` library learns of it in new releases. A case therefore fetches its calendar once,
at start, through an activity (`loader.build_calendar`) and keeps it in workflow state: replay
then computes the same deadlines whatever the library says later. This module is pure; it
knows only the list of days off it was given.
"""

from bisect import bisect_left, bisect_right
from datetime import date, datetime, timedelta
from itertools import pairwise

from pydantic import BaseModel, ConfigDict, model_validator

_ONE_DAY = timedelta(days=1)


class WorkingCalendar(BaseModel):
    """Working days from `first_day` to `last_day` (inclusive).

    `non_working_days` lists every day off in the range: weekends that are days off, public
    holidays and transferred days off. A working Saturday is simply absent from it.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    first_day: date
    last_day: date
    non_working_days: tuple[date, ...]

    @model_validator(mode="after")
    def _consistent(self) -> "WorkingCalendar":
        if self.first_day > self.last_day:
            raise ValueError(f"first_day {self.first_day} is after last_day {self.last_day}")
        days = self.non_working_days
        # Sorted and unique, so membership is a binary search and counting is two.
        for earlier, later in pairwise(days):
            if earlier >= later:
                raise ValueError(f"non_working_days not sorted or repeated at {later}")
        outside = [d for d in days[:1] + days[-1:] if not self.covers(d)]
        if outside:
            raise ValueError(
                f"non_working_days: {outside[0]} is outside {self.first_day}..{self.last_day}"
            )
        return self

    def covers(self, day: date) -> bool:
        """True when `day` lies within the calendar's range."""
        return self.first_day <= _plain_date(day) <= self.last_day

    def is_working_day(self, day: date) -> bool:
        """True for a working day; ValueError naming the day when outside the range."""
        self._require(day)
        i = bisect_left(self.non_working_days, day)
        return i == len(self.non_working_days) or self.non_working_days[i] != day

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
        days_off = bisect_right(self.non_working_days, b) - bisect_right(self.non_working_days, a)
        return (b - a).days - days_off

    def _walk(self, day: date, n: int, step: timedelta) -> date:
        if n < 0:
            raise ValueError(f"the number of working days must not be negative, got {n}")
        self._require(day)
        if n == 0:
            while not self.is_working_day(day):
                day += step
            return day
        # Count only days strictly after (before) the starting day, working or not.
        while n > 0:
            day += step
            if self.is_working_day(day):
                n -= 1
        return day

    def _require(self, day: date) -> None:
        if not self.covers(day):
            raise ValueError(
                f"{day} is outside the working calendar {self.first_day}..{self.last_day}"
            )


def _plain_date(day: date) -> date:
    # A datetime is a date too, but comparing one with a date raises TypeError deep inside;
    # say what is wrong instead.
    if isinstance(day, datetime):
        raise TypeError(f"expected a date, got the datetime {day.isoformat()}")
    return day
