"""Deadline arithmetic: a moment shifted by a policy `Duration`, in local working days or spans.

Pure and deterministic, so workflow code can call it during replay. Moments are UTC-aware
datetimes; days are counted in the centre's local time, a fixed UTC offset (Novosibirsk is
UTC+7 all year), which needs no time zone database.

Working days. Forwards, N WD from a moment is the END (00:00 local of the next calendar day)
of the N-th working day after the moment's local day; 0WD is the end of that day itself, or of
the next working day when it is a day off. Backwards, N WD is the START (00:00 local) of the
N-th working day before the moment's local day; 0WD is the start of that day, or of the
previous working day when it is a day off.

A moment at exactly 00:00 local counts, going forwards, as the end of the previous day. A due
moment is such an end of day, so an escalation "1WD after the due" lands at the end of the next
working day rather than skipping one, and `shift(shift(m, nWD, backwards=True), nWD) == m` for
every end-of-working-day moment `m`.

Calendar spans. Years and months are added on the local wall clock, clamping the day to the
month's length (Jan 31 + P1M = Feb 28 or 29), then weeks, days, hours, minutes and seconds.
Backwards, the same parts are subtracted in the same order.
"""

from datetime import UTC, date, datetime, time, timedelta, timezone

from models.policy.calendar import WorkingCalendar
from models.policy.durations import Duration

_ONE_DAY = timedelta(days=1)


def shift(
    moment: datetime,
    duration: Duration,
    calendar: WorkingCalendar,
    utc_offset: timedelta,
    *,
    backwards: bool = False,
) -> datetime:
    """`moment` plus (or, with `backwards`, minus) `duration`, as a UTC datetime.

    Raises ValueError for a naive moment, or when a working-day count leaves the calendar.
    """
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"moment {moment.isoformat()} has no time zone; pass an aware datetime")
    local = moment.astimezone(timezone(utc_offset))
    if duration.working_days is not None:
        result = _shift_working_days(local, duration.working_days, calendar, backwards)
    else:
        result = _shift_span(local, duration, backwards)
    return result.astimezone(UTC)


def _shift_working_days(
    local: datetime, n: int, calendar: WorkingCalendar, backwards: bool
) -> datetime:
    if backwards:
        return _start_of(calendar.subtract_working_days(local.date(), n), local)
    day = local.date()
    if local.time() == time(0):
        day -= _ONE_DAY  # 00:00 is the end of the previous day (see the module docstring)
    return _start_of(calendar.add_working_days(day, n) + _ONE_DAY, local)


def _shift_span(local: datetime, duration: Duration, backwards: bool) -> datetime:
    sign = -1 if backwards else 1
    try:
        moved = _add_months(local, sign * duration.calendar_months)
        return moved + sign * duration.fixed_part
    except OverflowError as error:
        raise ValueError(f"{local.isoformat()} shifted by {duration} is out of range") from error


def _add_months(moment: datetime, months: int) -> datetime:
    index = moment.year * 12 + moment.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    if not 1 <= year <= 9999:
        raise OverflowError(year)
    return moment.replace(year=year, month=month, day=min(moment.day, _days_in(year, month)))


def _days_in(year: int, month: int) -> int:
    if month == 12:
        return 31
    return (date(year, month + 1, 1) - _ONE_DAY).day


def _start_of(day: date, like: datetime) -> datetime:
    """00:00 of `day` in the time zone of `like`."""
    return datetime.combine(day, time(0), tzinfo=like.tzinfo)
