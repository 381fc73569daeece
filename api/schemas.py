"""Request and response bodies of the staff API that are not workflow payloads."""

from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from models.family_records import FamilyIn
from models.payloads.case_view import CaseView
from models.payloads.fields import FreeText, MunicipalityCode
from models.payloads.vocabulary import SignalSource


class IntakeRequest(BaseModel):
    """Выявление / запрос семьи: a signal or a family's own request."""

    model_config = ConfigDict(extra="forbid")

    source: SignalSource = Field(
        description="Источник сигнала / self_request (запрос семьи), agency_referral "
        "(сигнал ведомства) or proactive (проактивное выявление)."
    )
    municipality: MunicipalityCode = Field(description="Муниципалитет / the municipality code.")
    family: FamilyIn = Field(description="Семья / the family: kept in PostgreSQL only.")
    child_safety_indicators: bool = Field(
        False, description="Признаки угрозы ребёнку / signs of a threat to a child."
    )
    comment: FreeText | None = Field(
        None, max_length=2000, description="Причины обращения / reasons."
    )
    policy: str | None = Field(
        None,
        pattern=r"^[a-z0-9_-]{1,32}$",
        description="Политика сроков / the deadline policy; accepted only where the server "
        "allows overrides (the dev stack, for demos).",
    )


class CaseCreated(BaseModel):
    case: CaseView
    family_id: UUID = Field(
        description="Идентификатор семьи / the family record's id (GET /api/v1/families/{id})."
    )
    joined: bool = Field(description="True: the family already had an open episode (200).")


class CasePage(BaseModel):
    items: list[CaseView]
    total: int | None = Field(
        description="How many cases match the filters, exactly up to 10,000 (see "
        "`total_capped`); counted for the first page only (null on a page after a cursor)."
    )
    total_capped: bool = Field(
        False,
        description="True: more than `total` (10,000) cases match; counting stops there so "
        "that the first page stays fast at the oblast's scale. Narrow the filters for a count.",
    )
    limit: int
    offset: int
    next_cursor: str | None = Field(
        description="Pass as `after` for the next page; null on the last page."
    )
