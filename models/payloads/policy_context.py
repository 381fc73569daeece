"""What a case asks for at start, and gets back: its policy and its working-day calendar; and
what it asks for when it reads the production calendar again.

Workflow-safe: only pydantic and the pure public names of `models.policy` (never its loader).
"""

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from models.policy import Policy, WorkingCalendar
from models.policy.calendar import FIRST_YEAR, LAST_YEAR


class CasePolicyRequest(BaseModel):
    """Which policy a new case follows, and the year it starts in."""

    model_config = ConfigDict(frozen=True)

    policy: str = Field(
        default="default", max_length=64, description="The name of a shipped policy file."
    )
    start_year: int = Field(
        ge=FIRST_YEAR,
        le=LAST_YEAR,
        description="The calendar holds the published years from the year before this one.",
    )
    today: date | None = Field(None, description="The workflow's date: the calendar's checked_on.")


class CasePolicyContext(BaseModel):
    """The policy and calendar a case keeps in its state from start to end (the calendar is
    refreshed as decrees are published, see `models.policy.calendar`)."""

    model_config = ConfigDict(frozen=True)

    policy: Policy
    calendar: WorkingCalendar


class CalendarRequest(BaseModel):
    """A running case reading the production calendar again."""

    model_config = ConfigDict(frozen=True)

    from_year: int = Field(
        ge=FIRST_YEAR, le=LAST_YEAR, description="The first published year the case needs."
    )
    today: date = Field(description="The workflow's date: the calendar's checked_on.")
