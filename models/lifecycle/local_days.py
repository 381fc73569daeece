"""Local calendar days as moments: where a dated document's day begins and ends."""

from datetime import UTC, date, datetime, time, timedelta


def day_start(day: date, offset: timedelta) -> datetime:
    """00:00 local time of `day`, in UTC."""
    return datetime.combine(day, time(), tzinfo=UTC) - offset


def day_end(day: date, offset: timedelta) -> datetime:
    """24:00 local time of `day` (the start of the next), in UTC: a date's deadline."""
    return day_start(day, offset) + timedelta(days=1)


def local_date(moment: datetime, offset: timedelta) -> date:
    return (moment.astimezone(UTC) + offset).date()
