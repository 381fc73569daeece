"""A staff member's inbox: the open steps and deadlines awaiting them or their role. Each case's
items are derived from its view when the view is stored (`inbox_items`), and its social
contract's monitoring contacts from the contract's view when that is stored (`contract_items`):
both kept in `case_inbox_items` under the case's id, and read by one indexed query
(models/crud/inbox.py). Pure: no I/O here."""

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, Field

from models.payloads.actions import Actor
from models.payloads.case_view import CaseView, DeadlineView
from models.payloads.social_contract import SocialContractView
from models.payloads.vocabulary import StaffRole, Stage
from models.policy import DeadlineCode, Role

APPROVERS = frozenset({StaffRole.SUPERVISOR, StaffRole.HEAD})
# The roles whose items a staff role answers for, beyond what is addressed to it by name.
_ANSWERS_FOR = {
    StaffRole.SUPERVISOR: (Role.SUPERVISOR.value,),
    StaffRole.HEAD: (Role.HEAD.value,),
    StaffRole.MINISTRY: (Role.MINISTRY.value,),
    StaffRole.SPECIALIST: (Role.CURATOR.value,),
}


# The kind of a social contract's monitoring contact (T13): the contract's, not the case's. Its
# rows are written with the contract's view, so the case's own rewrite leaves them alone.
CONTRACT_CONTACT = "contract_contact"
# Before a contract item's key: the contract's deadline keys (T13:2) never meet the case's.
CONTRACT_KEY_PREFIX = "social_contract:"


class InboxItem(BaseModel):
    case_id: UUID = Field(description="The case (for a contract's item, the contract's case).")
    case_number: str | None = Field(None, description="Номер случая, e.g. ИСК-2026-00017.")
    municipality: str
    stage: Stage | None = Field(
        None,
        description="The case's stage; null for a contract's item (the contract's monitoring "
        "outlives the case's stages).",
    )
    kind: str = Field(
        description="`deadline` (the case's), `approval` (a closure or a prolongation), or "
        f"`{CONTRACT_CONTACT}` (a social contract's monitoring contact, see "
        "GET /api/v1/cases/{id}/social-contract)."
    )
    key: str
    code: DeadlineCode | None = None
    due_at: datetime | None = None
    overdue: bool = False
    escalation_level: int = 0
    responsible: str


class StoredInboxItem(InboxItem):
    """An item as the inbox table keeps it: with the role its last escalation rung notified."""

    escalated_to: str | None = None


def roles_answered_by(actor: Actor) -> tuple[str, ...]:
    """The deadline roles (and escalation rungs) an actor's role answers for."""
    return _ANSWERS_FOR[actor.role]


def inbox_items(view: CaseView) -> list[StoredInboxItem]:
    """Everything of a case that waits for somebody: each open deadline, and the approval a
    pending closure or a prolongation waits for (a supervisor's or a head's)."""
    items = [
        _deadline_item(
            deadline,
            key=deadline.key,
            kind="deadline",
            case_id=view.case_id,
            case_number=view.case_number,
            municipality=view.municipality,
            stage=view.stage,
        )
        for deadline in view.deadlines
    ]
    if view.closure_requested is not None:
        items.append(_approval(view, "closure"))
    if view.stage is Stage.PROLONGATION:
        items.append(_approval(view, "prolongation"))
    return items


def contract_items(view: SocialContractView, case_number: str | None) -> list[StoredInboxItem]:
    """A social contract's open monitoring contacts (due, overdue, escalated), under its case:
    none once the contact is made or the monitoring is over (its view then holds no deadline)."""
    return [
        _deadline_item(
            deadline,
            key=f"{CONTRACT_KEY_PREFIX}{deadline.key}",
            kind=CONTRACT_CONTACT,
            case_id=view.case_id,
            case_number=case_number,
            municipality=view.municipality,
            stage=None,
        )
        for deadline in view.deadlines
    ]


def _deadline_item(
    deadline: DeadlineView,
    *,
    key: str,
    kind: str,
    case_id: UUID,
    case_number: str | None,
    municipality: str,
    stage: Stage | None,
) -> StoredInboxItem:
    """An open deadline's row, the case's or its contract's."""
    return StoredInboxItem(
        case_id=case_id,
        case_number=case_number,
        municipality=municipality,
        stage=stage,
        kind=kind,
        key=key,
        code=deadline.code,
        due_at=deadline.due_at,
        overdue=deadline.overdue,
        escalation_level=deadline.escalation_level,
        responsible=deadline.responsible,
        escalated_to=deadline.escalated_to,
    )


def approval_awaited(stage: Stage, closure_requested: object | None) -> str | None:
    """What a supervisor's or head's approval is awaited for, as the Web UI's `AwaitingApproval`
    shows it: `closure` (a requested closure, first: it ends the case), `prolongation`, or None.
    The same approvals as the inbox's items above."""
    if closure_requested is not None:
        return "closure"
    if stage is Stage.PROLONGATION:
        return "prolongation"
    return None


def _approval(view: CaseView, key: str) -> StoredInboxItem:
    return StoredInboxItem(
        case_id=view.case_id,
        case_number=view.case_number,
        municipality=view.municipality,
        stage=view.stage,
        kind="approval",
        key=key,
        responsible=Role.SUPERVISOR.value,
        overdue=view.overdue,
        escalation_level=view.escalation_level,
    )
