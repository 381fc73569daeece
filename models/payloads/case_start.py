"""What starts (or continues) a case workflow. No personal data: the family is known to the
workflow only through its pseudonymous workflow id."""

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from models.lifecycle.state import CaseState
from models.payloads.case_view import CaseView
from models.payloads.fields import MunicipalityCode
from models.payloads.policy_context import CasePolicyContext
from models.policy import ClosureReason


class CaseStart(BaseModel):
    model_config = ConfigDict(frozen=True)

    case_id: UUID
    municipality: MunicipalityCode
    policy: str = Field("default", description="Policy name (a packaged file) or path.")


class CaseInput(BaseModel):
    """The case workflow's single argument: a new case, or its state on continue-as-new."""

    start: CaseStart
    state: CaseState | None = None
    # A new case's policy and calendar, when the caller read them (the API does): the case
    # then needs no `load_case_policy` activity. None: the case loads them itself.
    context: CasePolicyContext | None = None


class CaseOutcome(BaseModel):
    case_id: UUID
    closure_reason: ClosureReason | None
    closed_at: datetime | None
    follow_up_workflow_id: str | None


class FollowUpInput(BaseModel):
    """The closed case's state, handed to its follow-up workflow (T9)."""

    state: CaseState
    planned: bool = False  # True once the follow-ups are armed (after continue-as-new)


class SignalOutcome(BaseModel):
    """The answer to an intake: the case the signal opened or joined."""

    view: CaseView
    joined: bool = Field(description="True when an open episode already existed.")
