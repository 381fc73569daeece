"""What starts a case workflow. Carries no personal data: the family is a pseudonymous key."""

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field


class CaseStart(BaseModel):
    model_config = ConfigDict(frozen=True)

    case_id: UUID
    municipality: str = Field(max_length=16, description="Municipality code (territory).")
    source: str = Field(max_length=32, description="How the signal arrived.")
    actor_id: str = Field(max_length=64)
    actor_role: str = Field(max_length=32)
    received_at: datetime
