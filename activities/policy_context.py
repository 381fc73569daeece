"""The activity that gives a new case its policy and its working-day calendar.

Both are read once, here, and kept in the workflow's state: policy files and the `holidays`
library change between releases, and replay must see the values the case started with.
"""

import re
from functools import lru_cache

from temporalio import activity
from temporalio.exceptions import ApplicationError

from models.payloads.policy_context import CasePolicyContext, CasePolicyRequest
from models.policy import Policy, WorkingCalendar
from models.policy.loader import PolicyFileError, build_calendar, load_policy

INVALID_POLICY = "InvalidPolicy"
# Years the calendar covers after the start year: the longest clock a case runs is the
# ИППСУ review (T8, 3 years); total accompaniment is at most 24 months.
CALENDAR_YEARS_AHEAD = 3
# Only shipped policies: a name from a payload must never become a path on the worker's disk.
_POLICY_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")


class PolicyActivities:
    """Reads policy files and the production calendar; the worker registers the bound method."""

    @activity.defn
    async def load_case_policy(self, request: CasePolicyRequest) -> CasePolicyContext:
        """The named shipped policy, and the calendar from 1 January of the year before
        `start_year` (an application may be dated last December) to 31 December three years
        after it.

        An unknown or invalid policy fails at once (non-retryable `InvalidPolicy`): retrying
        does not fix a file.

        Years the installed `holidays` release has no decrees for yet (with holidays 0.109:
        2028 on) still get a calendar, never an error: Saturdays and Sundays are days off, and
        so are the fixed public holidays of the Labour Code (ст. 112 ч. 1). Missing are the
        government's transfers of days off and the statutory move of a holiday that falls on a
        weekend to the next working day (ст. 112 ч. 2): on those few days the calendar says
        "working" where the official one will say "day off". We keep that rather than guess the
        decrees, because the error points the safe way: a deadline counted in working days comes
        out a day early, never late, so a legal deadline (T2, T3) is not missed unseen. The
        exception is a Saturday a future decree makes a working day, which this calendar treats
        as a day off. A case keeps its calendar for its whole life, so a later `holidays`
        release corrects new cases only.
        """
        if not _POLICY_NAME.fullmatch(request.policy):
            raise ApplicationError(
                f"{request.policy!r} is not the name of a shipped policy",
                type=INVALID_POLICY,
                non_retryable=True,
            )
        try:
            policy = _load_policy(request.policy)
        except PolicyFileError as error:
            raise ApplicationError(str(error), type=INVALID_POLICY, non_retryable=True) from error
        calendar = _build_calendar(request.start_year)
        return CasePolicyContext(policy=policy, calendar=calendar)


# Every new case asks for the same few policies and years: parse and build each once per worker
# process. Both values are immutable; a new policy file or holidays release needs a restart.
@lru_cache(maxsize=16)
def _load_policy(name: str) -> Policy:
    return load_policy(name)


@lru_cache(maxsize=16)
def _build_calendar(start_year: int) -> WorkingCalendar:
    # From the year before: an application dated in December may be registered in January.
    return build_calendar(start_year - 1, start_year + CALENDAR_YEARS_AHEAD)
