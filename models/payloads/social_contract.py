"""A social contract's monitoring as its workflow publishes it, and the staff actions it takes.

The contract's history is a chain of its own in `case_events` (under its own id, sealed with
the family's key like the case's); its latest view is one row of `social_contracts`. Codes,
dates and staff ids only, but for `income_after` (the family's income after the contract),
which is sealed wherever PostgreSQL stores it (FREE_TEXT_KEYS) and travels through Temporal
only inside payloads, which the codec seals.
"""

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from models.payloads.actions import ActionBody, StaffAction
from models.payloads.case_view import DeadlineView, NotificationDraft
from models.payloads.events import CaseEventDraft, EventOrigin
from models.payloads.fields import FreeText
from models.payloads.vocabulary import SocialContractOutcome
from models.policy.codes import SocialContractDirection

_frozen = ConfigDict(frozen=True)

# Roubles a month, as digits: text, so it is sealed as free text is (never a float in clear).
# FreeText, so the field's name must be in FREE_TEXT_KEYS (a test holds the bodies to it).
Income = Annotated[FreeText, Field(pattern=r"^[0-9]{1,9}(\.[0-9]{1,2})?$")]


class ContractPhase(StrEnum):
    """Where the contract is: its term, the 12 months after, or done."""

    TERM = "term"  # срок действия контракта
    AFTER = "after"  # мониторинг после окончания
    FINISHED = "finished"  # мониторинг завершён


class ContractContactBody(ActionBody):
    """A monthly monitoring contact (ежемесячный мониторинг) of the contract."""

    number: int = Field(ge=1, le=60, description="Which monitoring contact (1, 2, ...).")
    reached: bool = Field(True, description="False: an attempt that did not reach the family.")


class ContractOutcomeBody(ActionBody):
    """How the contract ended: during its term only terminated_early (расторгнут досрочно),
    after it completed (исполнен); with the family's income after, if known."""

    outcome: SocialContractOutcome
    income_after: Income | None = Field(
        None,
        description="Доход семьи после контракта / the family's monthly income after it, "
        "roubles (e.g. 45000 or 45000.50); stored sealed.",
    )


class ContractContactView(BaseModel):
    model_config = _frozen

    number: int
    due_at: datetime
    phase: ContractPhase
    recorded_at: datetime | None = None
    reached: bool | None = None


class SocialContractView(BaseModel):
    """The contract's state: what GET /api/v1/cases/{id}/social-contract answers."""

    model_config = _frozen

    contract_id: UUID
    case_id: UUID
    workflow_id: str = Field(max_length=255)
    version: int = Field(ge=1)
    municipality: str = Field(max_length=64)
    number: str = Field(max_length=32)
    direction: SocialContractDirection = Field(
        description="Направление / job_search (поиск работы), entrepreneurship "
        "(предпринимательство), subsidiary_farming (ЛПХ), other (иные мероприятия)."
    )
    concluded_on: date
    starts_at: datetime
    term_ends_at: datetime
    ended_at: datetime | None = Field(None, description="The term's end, or an early one.")
    monitoring_ends_at: datetime | None = None
    phase: ContractPhase
    contacts: list[ContractContactView] = Field(default_factory=list)
    deadlines: list[DeadlineView] = Field(default_factory=list)
    overdue: bool = False
    outcome: SocialContractOutcome | None = None
    outcome_at: datetime | None = None
    income_after: str | None = None


class SocialContractStep(BaseModel):
    """Everything one step of the contract's workflow persists, in one transaction."""

    model_config = _frozen

    events: list[CaseEventDraft]
    notifications: list[NotificationDraft] = Field(default_factory=list)
    view: SocialContractView
    origin: EventOrigin


class ContractContactIn(ContractContactBody, StaffAction):
    """A monitoring contact as the contract's workflow receives it: with who acts."""


class ContractOutcomeIn(ContractOutcomeBody, StaffAction):
    """An outcome as the contract's workflow receives it: with who acts."""
