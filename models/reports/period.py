"""Which cases a report covers: a period of local dates (both ends included) and the
municipalities, checked as a person typed them. Every problem names its parameter."""

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from models.policy.calendar import FIRST_YEAR, LAST_YEAR
from models.territory import MUNICIPALITY_CODES

# Ten years: more is not a report anyone reads, and it bounds the working-day table.
MAX_PERIOD_DAYS = 3653
# How far before the period the history is read for what a period's event is measured from
# (the signal before a first contact, the application before a decision, the deadline that
# went overdue before a review): the longest a case may run (PRODUCT.md §2: 24 months).
LOOKBACK = timedelta(days=731)


class ReportFilterError(ValueError):
    def __init__(self, parameter: str, problem: str) -> None:
        super().__init__(f"{parameter}: {problem}")
        self.parameter, self.problem = parameter, problem


@dataclass(frozen=True)
class ReportFilter:
    """The period [date_from, date_to] in local time at `utc_offset`, and the municipalities
    (None: every one)."""

    date_from: date
    date_to: date
    municipalities: tuple[str, ...] | None
    utc_offset: timedelta

    @property
    def start(self) -> datetime:
        """The first instant of the period (00:00 local of `date_from`), in UTC."""
        return datetime.combine(self.date_from, time(), tzinfo=UTC) - self.utc_offset

    @property
    def end(self) -> datetime:
        """The first instant after the period (00:00 local of the day after `date_to`)."""
        return datetime.combine(self.date_to, time(), tzinfo=UTC) + timedelta(1) - self.utc_offset

    @property
    def lookback_start(self) -> datetime:
        return self.start - LOOKBACK

    def months(self) -> list[str]:
        """Every month the period touches, as YYYY-MM."""
        months, year, month = [], self.date_from.year, self.date_from.month
        while (year, month) <= (self.date_to.year, self.date_to.month):
            months.append(f"{year:04d}-{month:02d}")
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return months


def report_filter(
    *,
    date_from: date,
    date_to: date,
    municipality: str | None,
    territory: Collection[str] | None,
    utc_offset: timedelta,
) -> ReportFilter:
    """The filter, or ReportFilterError naming `from`, `to` or `municipality`. `territory` is
    what the caller may read (None: all); a municipality outside it is the caller's problem
    (`OutsideTerritory`), not the input's."""
    for name, day in (("from", date_from), ("to", date_to)):
        if not FIRST_YEAR <= day.year <= LAST_YEAR - 1:
            raise ReportFilterError(name, f"must be within {FIRST_YEAR}..{LAST_YEAR - 1}")
    if date_from > date_to:
        raise ReportFilterError("from", f"{date_from} is after to ({date_to})")
    if (date_to - date_from).days + 1 > MAX_PERIOD_DAYS:
        raise ReportFilterError("to", f"the period is longer than {MAX_PERIOD_DAYS} days")
    if municipality is not None and municipality not in MUNICIPALITY_CODES:
        raise ReportFilterError("municipality", f"unknown municipality code {municipality[:64]!r}")
    if municipality is not None:
        if territory is not None and municipality not in territory:
            raise OutsideTerritory(municipality)
        chosen: tuple[str, ...] | None = (municipality,)
    else:
        chosen = None if territory is None else tuple(sorted(territory))
    return ReportFilter(date_from, date_to, chosen, utc_offset)


class OutsideTerritory(Exception):
    def __init__(self, municipality: str) -> None:
        super().__init__(f"municipality {municipality} is outside your territory")
        self.municipality = municipality
