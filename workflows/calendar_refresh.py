"""Keeping a running case's working-day calendar up to date with the published decrees.

The clock loop asks, at each wake, whether the calendar needs reading again
(`WorkingCalendar.needs_refresh`: it lacks the current or the next year, and was last read a
month ago or more). If so, a local activity reads the production calendar's data file and the
result, recorded in the history as the activity's marker, is merged into the state: replay
takes the recorded data, never the file of the day.

Cases already running under code without this refresh have no marker where this code would
refresh; each refresh of a run is therefore gated by `workflow.patched` with an id of its own
(the n-th refresh of the run): a run replaying an older history skips the refreshes that
history lacks, and refreshes at its first stale point once it runs on live. A failed read is
logged and leaves the calendar as it was (the rule still answers); the next wake tries again.
"""

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.policy_context import PolicyActivities
    from models.lifecycle.state import CaseState
    from models.payloads.policy_context import CalendarRequest

REFRESH_TIMEOUT = timedelta(seconds=10)
# A file read on the worker: a few quick attempts, then the next wake tries again.
REFRESH_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_attempts=3)
PATCH_PREFIX = "calendar-refresh-"


class CalendarRefresher:
    """One per workflow run: counts the run's refreshes, which name their patches."""

    def __init__(self) -> None:
        self._refreshes = 0

    async def refresh_if_stale(self, state: CaseState) -> None:
        # The UTC date: a few hours off the local day change nothing for a monthly check.
        today = workflow.now().date()
        if not state.calendar.needs_refresh(today):
            return
        self._refreshes += 1
        if not workflow.patched(f"{PATCH_PREFIX}{self._refreshes}"):
            return  # an older history, without this refresh: replay it as it ran
        # From the year before the case opened: its application may be dated then.
        request = CalendarRequest(from_year=state.opened_at.year - 1, today=today)
        try:
            fetched = await workflow.execute_local_activity_method(
                PolicyActivities.refresh_calendar,
                request,
                start_to_close_timeout=REFRESH_TIMEOUT,
                retry_policy=REFRESH_RETRY,
            )
        except ActivityError as error:
            workflow.logger.warning(
                "production calendar not refreshed; the case keeps its calendar",
                extra={"cause": str(error.cause)},
            )
            return
        state.calendar = state.calendar.refreshed(fetched)
