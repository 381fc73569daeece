"""The activities that give a case its policy and its working-day calendar, and later read the
production calendar again for a running case.

Both are read here, never in workflow code, and reach the case as activity results, so they are
in its history: the policy is kept from start to end (policy files change between releases and
replay must see the values the case started with), and the calendar's published years are
refreshed as decrees are published (see `models.policy.calendar` for when and why).
"""

from datetime import date
from pathlib import Path

from temporalio import activity
from temporalio.exceptions import ApplicationError

from models.payloads.policy_context import CalendarRequest, CasePolicyContext, CasePolicyRequest
from models.policy import WorkingCalendar
from models.policy.case_context import calendar_from, is_shipped_policy_name, shipped_policy
from models.policy.loader import PolicyFileError, load_calendar

INVALID_POLICY = "InvalidPolicy"
INVALID_CALENDAR = "InvalidCalendar"


class PolicyActivities:
    """Reads policy files and the production calendar; the worker registers the bound methods.

    `calendar_file` is the production calendar's data file: by default the shipped one (tests
    give another, to publish a year while a case runs).
    """

    def __init__(self, calendar_file: Path | None = None) -> None:
        self._calendar_file = calendar_file

    @activity.defn
    async def load_case_policy(self, request: CasePolicyRequest) -> CasePolicyContext:
        """The named shipped policy, and the calendar with the published years from the year
        before `start_year` (an application may be dated last December) on.

        An unknown or invalid policy, or an invalid calendar file, fails at once
        (non-retryable): retrying does not fix a file.
        """
        if not is_shipped_policy_name(request.policy):
            raise ApplicationError(
                f"{request.policy!r} is not the name of a shipped policy",
                type=INVALID_POLICY,
                non_retryable=True,
            )
        try:
            policy = shipped_policy(request.policy)
        except PolicyFileError as error:
            raise ApplicationError(str(error), type=INVALID_POLICY, non_retryable=True) from error
        calendar = self._calendar(calendar_from(request.start_year), request.today)
        return CasePolicyContext(policy=policy, calendar=calendar)

    @activity.defn
    async def refresh_calendar(self, request: CalendarRequest) -> WorkingCalendar:
        """The published years from `from_year` on, as the data file has them now, marked as
        read on `today`. The workflow merges them into the calendar it holds."""
        return self._calendar(request.from_year, request.today)

    def _calendar(self, from_year: int, today: date | None) -> WorkingCalendar:
        # The file is read each time (a new decree may have been deployed since), parsed once.
        try:
            return load_calendar(self._calendar_file, from_year=from_year, checked_on=today)
        except PolicyFileError as error:
            raise ApplicationError(str(error), type=INVALID_CALENDAR, non_retryable=True) from error
