"""Policy as data: deadlines, levels and terms (`Policy`), and working-day arithmetic.

Everything re-exported here is pure (standard library and pydantic only), so workflow code may
import it inside the Temporal sandbox. `models.policy.loader` (TOML files: the policies and the
published production calendar) is deliberately not re-exported: only activities import it.
"""

from models.policy.calendar import WorkingCalendar
from models.policy.codes import (
    AccompanimentLevel,
    ClosureReason,
    DeadlineCode,
    ProlongationAuthority,
    Role,
    SocialContractDirection,
)
from models.policy.deadlines import shift
from models.policy.durations import Duration, surely_earlier
from models.policy.policy import (
    DeadlinePolicy,
    LevelPolicy,
    Policy,
    ProlongationApprovers,
    Rung,
    SocialContractMonitoring,
    SourcedDuration,
)

__all__ = [
    "AccompanimentLevel",
    "ClosureReason",
    "DeadlineCode",
    "DeadlinePolicy",
    "Duration",
    "LevelPolicy",
    "Policy",
    "ProlongationApprovers",
    "ProlongationAuthority",
    "Role",
    "Rung",
    "SocialContractDirection",
    "SocialContractMonitoring",
    "SourcedDuration",
    "WorkingCalendar",
    "shift",
    "surely_earlier",
]
