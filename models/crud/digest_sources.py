"""What a daily digest reports, read for one territory: the deadlines that became overdue or
were escalated in a period (from the outbox, which records each rung once), and the cases
that wait for a decision (a requested closure, or a prolongation)."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy import or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.payloads.vocabulary import NotificationKind, StaffRole, Stage
from models.tables.case_projection import CaseProjection
from models.tables.notification import Notification
from models.tables.staff_member import StaffMember


@dataclass(frozen=True, slots=True)
class Alarm:
    case_id: UUID
    kind: NotificationKind
    deadline_code: str | None
    due_at: datetime | None


@dataclass(frozen=True, slots=True)
class Awaiting:
    case_id: UUID
    case_number: str | None
    term_ends_at: datetime | None


async def alarms(
    session: AsyncSession, *, municipalities: Sequence[str], since: datetime, until: datetime
) -> list[Alarm]:
    """Each (case, deadline, kind) that went overdue or was escalated in [since, until), once
    (a rung notifies several recipients; the digest counts the deadline), oldest first."""
    kinds = [NotificationKind.OVERDUE.value, NotificationKind.ESCALATION.value]
    statement = (
        select(
            Notification.case_id,
            Notification.kind,
            Notification.deadline_code,
            Notification.due_at,
        )
        .where(
            col(Notification.municipality).in_(list(municipalities)),
            col(Notification.kind).in_(kinds),
            col(Notification.created_at) >= since,
            col(Notification.created_at) < until,
        )
        .distinct()
        .order_by(col(Notification.due_at), col(Notification.case_id))
    )
    return [
        Alarm(case_id, NotificationKind(kind), code, due_at)
        for case_id, kind, code, due_at in (await session.exec(statement)).all()
    ]


async def awaiting_decision(
    session: AsyncSession, *, municipalities: Sequence[str], limit: int = 500
) -> list[Awaiting]:
    """Open cases waiting for a supervisor's decision: a closure requested, or a prolongation."""
    number = CaseProjection.view["case_number"].astext
    term = CaseProjection.view["term_ends_at"].astext
    statement = (
        select(CaseProjection.case_id, number, term)
        .where(
            col(CaseProjection.municipality).in_(list(municipalities)),
            col(CaseProjection.closed_at).is_(None),
            or_(
                col(CaseProjection.stage) == Stage.PROLONGATION.value,
                CaseProjection.view["closure_requested"].astext.is_not(None),
            ),
        )
        .order_by(col(CaseProjection.case_id))
        .limit(limit)
    )
    return [
        Awaiting(case_id, case_number, datetime.fromisoformat(ends) if ends else None)
        for case_id, case_number, ends in (await session.exec(statement)).all()
    ]


async def supervisors_and_heads(session: AsyncSession) -> Sequence[StaffMember]:
    """The digest's recipients: every active supervisor and head, by staff id."""
    roles = [StaffRole.SUPERVISOR.value, StaffRole.HEAD.value]
    statement = (
        select(StaffMember)
        .where(col(StaffMember.active).is_(True), col(StaffMember.role).in_(roles))
        .order_by(col(StaffMember.staff_id))
    )
    return (await session.exec(statement)).all()
