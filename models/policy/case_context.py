"""The policy context a new case starts with: the named shipped policy and the production
calendar's published years from the year before it starts (an application may be dated last
December), read from the packaged files.

Two readers of the same files: the `load_case_policy` activity (for a case started without a
context), and the API, which hands the context to the case it opens in the start's own input
(`case_policy_context`). Either way it is in the case's history, so replay never reads
today's files.

Not workflow-safe (it reads files): only activities and the API import it.
"""

import re
from datetime import date
from functools import lru_cache

from models.payloads.policy_context import CasePolicyContext
from models.policy import Policy
from models.policy.loader import load_calendar, load_policy

# Only shipped policies: a name from a payload or a request must never become a path on disk.
_SHIPPED_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")


def is_shipped_policy_name(name: str) -> bool:
    return _SHIPPED_NAME.fullmatch(name) is not None


# Every case asks for the same few policies: each is parsed once per process. The values are
# immutable; a new policy file comes with a deploy, which restarts the process.
@lru_cache(maxsize=16)
def shipped_policy(name: str) -> Policy:
    """The shipped policy `name`. Raises PolicyFileError (unknown or invalid)."""
    return load_policy(name)


def calendar_from(start_year: int) -> int:
    """The first year a new case's calendar holds: the year before it starts (an application
    may be dated last December)."""
    return start_year - 1


def case_policy_context(name: str, *, start_year: int, today: date | None) -> CasePolicyContext:
    """The context of a case starting in `start_year`, from the shipped files. Raises
    PolicyFileError (the policy unknown or invalid, or the calendar file invalid)."""
    calendar = load_calendar(None, from_year=calendar_from(start_year), checked_on=today)
    return CasePolicyContext(policy=shipped_policy(name), calendar=calendar)
