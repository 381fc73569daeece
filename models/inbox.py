"""A staff member's inbox: the open steps and deadlines awaiting them or their role, from the
case projections of their territory. Pure: the API loads the views, this decides."""

from collections.abc import Iterable
from datetime import datetime
from uuid import UUID

from pydantic import BaseModel

from models.payloads.actions import Actor
from models.payloads.case_view import CaseView
from models.payloads.vocabulary import StaffRole, Stage
from models.policy import DeadlineCode, Role

_APPROVERS = {StaffRole.SUPERVISOR, StaffRole.HEAD}
# The escalation rungs a role answers for, beyond what is addressed to it by name.
_ESCALATED_TO = {
    StaffRole.SUPERVISOR: {Role.SUPERVISOR.value},
    StaffRole.HEAD: {Role.HEAD.value},
    StaffRole.MINISTRY: {Role.MINISTRY.value},
    StaffRole.SPECIALIST: {Role.CURATOR.value},
}


class InboxItem(BaseModel):
    case_id: UUID
    municipality: str
    stage: Stage
    kind: str
    key: str
    code: DeadlineCode | None = None
    due_at: datetime | None = None
    overdue: bool = False
    escalation_level: int = 0
    responsible: str


def inbox(actor: Actor, views: Iterable[CaseView]) -> list[InboxItem]:
    """Overdue first, then by due time; approvals (no due time) after the dated ones."""
    items: list[InboxItem] = []
    roles = _ESCALATED_TO[actor.role]
    for view in views:
        for deadline in view.deadlines:
            mine = deadline.responsible == actor.staff_id or deadline.responsible in roles
            escalated = deadline.escalated_to in roles if deadline.escalated_to else False
            if mine or escalated:
                items.append(
                    InboxItem(
                        case_id=view.case_id,
                        municipality=view.municipality,
                        stage=view.stage,
                        kind="deadline",
                        key=deadline.key,
                        code=deadline.code,
                        due_at=deadline.due_at,
                        overdue=deadline.overdue,
                        escalation_level=deadline.escalation_level,
                        responsible=deadline.responsible,
                    )
                )
        if actor.role in _APPROVERS and view.closure_requested is not None:
            items.append(_approval(view, "closure"))
        if actor.role in _APPROVERS and view.stage is Stage.PROLONGATION:
            items.append(_approval(view, "prolongation"))
    return sorted(
        items,
        key=lambda item: (
            not item.overdue,
            item.due_at is None,
            item.due_at.timestamp() if item.due_at else 0.0,
            str(item.case_id),
        ),
    )


def _approval(view: CaseView, key: str) -> InboxItem:
    return InboxItem(
        case_id=view.case_id,
        municipality=view.municipality,
        stage=view.stage,
        kind="approval",
        key=key,
        responsible=Role.SUPERVISOR.value,
        overdue=view.overdue,
        escalation_level=view.escalation_level,
    )
