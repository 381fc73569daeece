"""The policy context the API hands a case it opens, in the start's own input.

Without it the case's first workflow task schedules the `load_case_policy` activity and waits
for it: an activity task, three history events and a second workflow task before the intake
can answer, the largest part of what an intake costs Temporal (`make bench`, intake). The API
reads the same packaged files the activity does (models/policy/case_context.py), once a day
per policy.

A context it cannot give (a policy that is not a shipped name, a file that does not load) is
None: the case then loads its policy by the activity, which fails the start as it always has
(non-retryable, the message naming the file), never a silently different policy.
"""

from datetime import UTC, date, datetime
from functools import lru_cache

from infra.logs import get_logger
from models.payloads.policy_context import CasePolicyContext
from models.policy.case_context import case_policy_context, is_shipped_policy_name
from models.policy.loader import PolicyFileError

log = get_logger(__name__)


def intake_policy_context(policy: str, now: datetime) -> CasePolicyContext | None:
    """The context of a case of `policy` opened at `now` (aware), as `load_case_policy` would
    give it: the year and date are the UTC ones, as the workflow's clock reads them."""
    if not is_shipped_policy_name(policy):
        return None
    utc = now.astimezone(UTC)
    try:
        return _context(policy, utc.year, utc.date())
    except PolicyFileError as error:
        log.warning("policy context not given: the case loads it", policy=policy, error=str(error))
        return None


# Keyed by day: a new calendar file comes with a deploy (a restart), and the running cases
# read the calendar again by themselves (workflows/calendar_refresh.py).
@lru_cache(maxsize=8)
def _context(policy: str, start_year: int, today: date) -> CasePolicyContext:
    return case_policy_context(policy, start_year=start_year, today=today)
