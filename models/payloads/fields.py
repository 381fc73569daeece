"""Field types every payload and body shares, each defined once: codes, staff ids, free text,
timezone-aware moments. Pure pydantic, workflow-safe."""

import re
from datetime import UTC, date, datetime
from typing import Annotated

from pydantic import AfterValidator, Field

from models.policy.calendar import FIRST_YEAR, LAST_YEAR

MUNICIPALITY_CODE_PATTERN = r"^[a-z0-9_]{1,32}$"
# PostgreSQL's text type cannot store NUL: text holding one would never be persisted.
NO_NUL_PATTERN = r"^[^\x00]*$"

MunicipalityCode = Annotated[
    str, Field(pattern=MUNICIPALITY_CODE_PATTERN, description="Municipality code.")
]
STAFF_ID_PATTERN = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
StaffId = Annotated[str, Field(pattern=STAFF_ID_PATTERN.pattern, description="Staff id.")]
ItemId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,32}$")]
# A comment, a reason, a provider's name: anything a person types, but NUL.
FreeText = Annotated[str, Field(pattern=NO_NUL_PATTERN)]
# The names of every FreeText field of the bodies (a test holds the bodies to it): the JSON
# keys whose values PostgreSQL stores sealed with the family's key, in event data and in the
# case projection (infra/sealing/columns.py). A new FreeText field needs its name here.
# `income_after` is a figure, not typed text, but personal data all the same (a social
# contract's outcome: models/payloads/social_contract.py).
FREE_TEXT_KEYS = frozenset({"comment", "provider", "providers", "income_after"})


_YEARS = f"must be in the years {FIRST_YEAR}..{LAST_YEAR}"


def _in_calendar_years(day: date) -> date:
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise ValueError(f"{_YEARS}, got {day.isoformat()}")
    return day


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("must include a timezone, e.g. 2026-05-12T10:00:00+07:00")
    # The local year first: converting year 1 or 9999 to UTC may not even be possible.
    if not FIRST_YEAR <= moment.year <= LAST_YEAR or not (
        FIRST_YEAR <= moment.astimezone(UTC).year <= LAST_YEAR
    ):
        raise ValueError(f"{_YEARS}, got {moment.isoformat()}")
    return moment


# A calendar date in the years the working-day calendar answers for.
CaseDate = Annotated[date, AfterValidator(_in_calendar_years)]
# A moment with its time zone, in those years both locally and in UTC.
AwareDatetime = Annotated[datetime, AfterValidator(_aware)]
