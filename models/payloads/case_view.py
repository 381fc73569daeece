"""A case's state as the workflow publishes it: returned by every accepted action, stored as
the PostgreSQL projection the API reads, and persisted together with its events and
notifications as one `CaseStep`. No personal data: the family is a pseudonymous key."""

from datetime import date, datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from models.payloads.events import CaseEventDraft, EventOrigin
from models.payloads.vocabulary import FamilyCategory, NotificationKind, Stage
from models.policy.codes import (
    AccompanimentLevel,
    ClosureReason,
    DeadlineCode,
    SocialContractDirection,
)

_frozen = ConfigDict(frozen=True)


class DeadlineView(BaseModel):
    """One open deadline of the case."""

    model_config = _frozen

    key: str = Field(description="Unique within the case, e.g. T2 or T10:item-1.")
    code: DeadlineCode
    due_at: datetime
    responsible: str = Field(description="Staff id, or a role when no person is named yet.")
    overdue: bool = False
    escalation_level: int = 0
    escalated_to: str | None = Field(None, description="The role the last rung notified.")


class PlanItemView(BaseModel):
    """One service or accompaniment measure of the plan."""

    model_config = _frozen

    item_id: str = Field(max_length=32)
    service_type: str | None = None
    channel: str | None = None
    provider: str = Field(max_length=200)
    provider_id: UUID | None = Field(
        None,
        description="Запись карты ресурсов / the provider's entry in the resource map; null: "
        "a provider outside the map (вне карты ресурсов).",
    )
    responsible: str = Field(max_length=64)
    deadline: datetime
    done_at: datetime | None = None


class AgreementView(BaseModel):
    """The service agreement (договор о социальном обслуживании, 442-ФЗ ст. 17)."""

    model_config = _frozen

    number: str = Field(max_length=32)
    concluded_on: date
    recorded_at: datetime


class CommissionProgrammeView(BaseModel):
    """The commission on minors' resolution and programme of a СОП family."""

    model_config = _frozen

    resolution_number: str = Field(max_length=32)
    resolution_date: date
    programme_ends_on: date
    ends_at: datetime = Field(description="The end of the programme's last day (local).")
    review_dates: list[date] = Field(default_factory=list)


class SocialContractLink(BaseModel):
    """The case's social contract, tracked by a workflow of its own (`workflow_id`); its
    contacts and outcome: GET /api/v1/cases/{id}/social-contract."""

    model_config = _frozen

    workflow_id: str = Field(max_length=255)
    contract_id: UUID
    number: str = Field(max_length=32)
    direction: SocialContractDirection
    concluded_on: date
    starts_at: datetime
    term_ends_at: datetime


class CaseView(BaseModel):
    """The case's current state (the projection), versioned by its last event's number."""

    model_config = _frozen

    case_id: UUID
    workflow_id: str = Field(max_length=255)
    first_run_id: str | None = Field(
        None,
        max_length=64,
        description="This episode's run chain (a later episode of the "
        "same family reuses the workflow id).",
    )
    case_number: str | None = Field(
        None,
        max_length=32,
        description="Номер случая, e.g. БРД-2026-00042: territory, year of intake, sequence; "
        "null for a case opened before numbers were given.",
    )
    version: int = Field(ge=1, description="The number of the last event this state includes.")
    municipality: str = Field(max_length=64)
    stage: Stage = Field(description="Этап / where the episode is on its path.")
    level: AccompanimentLevel | None = Field(None, description="Уровень сопровождения / level.")
    curator: str | None = Field(None, max_length=64)
    team: list[str] = Field(
        default_factory=list, description="Команда сопровождения / staff ids, curator first."
    )
    plan_items: list[PlanItemView] = Field(
        default_factory=list, description="Мероприятия плана / the plan's items."
    )
    deadlines: list[DeadlineView] = Field(
        default_factory=list, description="Открытые сроки / open deadlines (T1-T10)."
    )
    overdue: bool = Field(False, description="Просрочено / any open deadline is overdue.")
    escalation_level: int = Field(0, description="Уровень эскалации / the highest rung fired.")
    next_deadline: datetime | None = Field(None, description="Ближайший срок / next due time.")
    closure_requested: ClosureReason | None = None
    closure_reason: ClosureReason | None = None
    policy_version: str = Field(max_length=64)
    opened_at: datetime
    term_ends_at: datetime | None = None
    closed_at: datetime | None = None
    allowed_actions: list[str] = Field(
        default_factory=list,
        description="Доступные действия / actions open now (for the caller's role, via the API).",
    )
    details: dict[str, Any] = Field(default_factory=dict)
    family_category: FamilyCategory | None = Field(
        None, description="Категория семьи / tzhs (ТЖС), sop (СОП), at_risk (группа риска)."
    )
    commission: CommissionProgrammeView | None = Field(
        None, description="Программа КДН и ЗП / the commission's programme (СОП families)."
    )
    agreement: AgreementView | None = Field(
        None, description="Договор о социальном обслуживании / the service agreement."
    )
    social_contract: SocialContractLink | None = Field(
        None, description="Социальный контракт / the social contract, if concluded."
    )


class NotificationDraft(BaseModel):
    """One message for the outbox; a delivery adapter drains it later. `(case_id, event_seq,
    recipient, kind)` is its idempotency key."""

    model_config = _frozen

    case_id: UUID
    event_seq: int = Field(ge=1, description="The event that caused it.")
    recipient: str = Field(max_length=64, description="A staff id or a role.")
    recipient_is_role: bool
    municipality: str
    kind: NotificationKind
    deadline_code: DeadlineCode | None = None
    due_at: datetime | None = None
    message: str = Field(max_length=500, description="No personal data: codes and dates only.")


class CaseStep(BaseModel):
    """Everything one workflow step persists, written in one transaction."""

    model_config = _frozen

    events: list[CaseEventDraft]
    notifications: list[NotificationDraft] = Field(default_factory=list)
    view: CaseView
    # None from a workflow that ran code older than the field: its events name the case's
    # workflow and no run or request.
    origin: EventOrigin | None = None

    def origin_or_case(self) -> EventOrigin:
        return self.origin or EventOrigin(workflow_id=self.view.workflow_id)
