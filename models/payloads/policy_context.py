"""What a case asks for at start, and gets back: its policy and its working-day calendar.

Workflow-safe: only pydantic and the pure public names of `models.policy` (never its loader).
"""

from pydantic import BaseModel, ConfigDict, Field

from models.policy import Policy, WorkingCalendar


class CasePolicyRequest(BaseModel):
    """Which policy a new case follows, and the year it starts in."""

    model_config = ConfigDict(frozen=True)

    policy: str = Field(
        default="default", max_length=64, description="The name of a shipped policy file."
    )
    # holidays.RU knows the years 1991..2100; the calendar runs three years past the start.
    start_year: int = Field(
        ge=2000, le=2097, description="The calendar covers this year and the next three."
    )


class CasePolicyContext(BaseModel):
    """The policy and calendar a case keeps in its state from start to end."""

    model_config = ConfigDict(frozen=True)

    policy: Policy
    calendar: WorkingCalendar
