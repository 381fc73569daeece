"""What the case workflow asks for when it opens a case: its readable number
(models/case_numbers.py). Codes only: no personal data."""

from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from models.payloads.fields import MunicipalityCode


class CaseNumberRequest(BaseModel):
    """Allocate (or, for a case that has one, return) the number of `case_id`. The year is
    the workflow's, from its own clock, so a retry asks for the same number."""

    model_config = ConfigDict(frozen=True)

    case_id: UUID
    municipality: MunicipalityCode
    year: int = Field(ge=2000, le=2099)
