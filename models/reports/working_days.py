"""Working days in SQL: the production calendar as one array PostgreSQL indexes by date.

`ordinals[i]` is the number of working days d with `base < d <= base + i` (0-based here,
1-based in SQL), so the working days from day a to day b (`WorkingCalendar
.working_days_between`) are `ordinals[b - base] - ordinals[a - base]`: two array look-ups per
case instead of a join with a calendar table. A date outside the array reads NULL, which the
aggregates skip.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from models.policy.calendar import FIRST_YEAR, LAST_YEAR, WorkingCalendar


@dataclass(frozen=True)
class WorkingDayTable:
    base: date
    ordinals: tuple[int, ...]


def working_day_table(
    calendar: WorkingCalendar, first: datetime, last: datetime
) -> WorkingDayTable:
    """The table for every local date from `first` to `last` (clamped to the calendar's years)."""
    base = max(first.date(), date(FIRST_YEAR, 1, 1))
    end = min(last.date() + timedelta(days=1), date(LAST_YEAR, 12, 31))
    ordinals, count, day = [0], 0, base
    while day < end:
        day += timedelta(days=1)
        count += calendar.is_working_day(day)
        ordinals.append(count)
    return WorkingDayTable(base, tuple(ordinals))


def working_days_sql(local_day: str) -> str:
    """SQL for the ordinal of `local_day` (a date expression) in the `:wd` / `:wd_base`
    parameters; subtract two to count the working days between them."""
    return f"(CAST(:wd AS int[]))[({local_day}) - CAST(:wd_base AS date) + 1]"
