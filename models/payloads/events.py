"""The audit event a workflow step produces, as it travels from workflow to activity."""

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

SYSTEM_ACTOR = "system"


class CaseEventDraft(BaseModel):
    """One entry of a case's append-only history. `(case_id, seq)` is its idempotency key: the
    workflow numbers its events, so a retried activity cannot record one twice."""

    model_config = ConfigDict(frozen=True)

    case_id: UUID
    seq: int = Field(ge=1)
    action: str = Field(max_length=64)
    actor_id: str = Field(max_length=64)
    actor_role: str = Field(max_length=32)
    stage_before: str | None = Field(default=None, max_length=32)
    stage_after: str = Field(max_length=32)
    reason: str | None = Field(default=None, max_length=2000)
    data: dict[str, Any] = Field(default_factory=dict)
    occurred_at: datetime


class EventOrigin(BaseModel):
    """Where a step's events came from: the workflow run that recorded them and, for a staff
    action, the request's Idempotency-Key (timer-driven steps have none)."""

    model_config = ConfigDict(frozen=True)

    workflow_id: str = Field(max_length=255)
    run_id: str | None = Field(default=None, max_length=64)
    idempotency_key: str | None = Field(default=None, max_length=255)
