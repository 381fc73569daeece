"""Notifications and their delivery: a case's (with each person's and channel's state) and
the caller's own inbox."""

from collections import defaultdict
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query

from api.deps import AddressedCase, CurrentActor, State
from api.errors import error_responses
from models.crud import deliveries
from models.crud.notifications import list_for_case
from models.payloads.delivery import (
    DeliveryChannel,
    DeliveryState,
    DeliveryView,
    InboxMessage,
    NotificationDeliveries,
)
from models.payloads.vocabulary import NotificationKind
from models.policy.codes import DeadlineCode
from models.tables.delivery import Delivery

router = APIRouter(prefix="/api/v1", tags=["notifications"])


def _view(delivery: Delivery) -> DeliveryView:
    return DeliveryView(
        id=delivery.id,
        recipient_staff_id=delivery.recipient_staff_id,
        channel=DeliveryChannel(delivery.channel),
        state=DeliveryState(delivery.state),
        attempts=delivery.attempts,
        next_attempt_at=delivery.next_attempt_at,
        last_error=delivery.last_error,
        sent_at=delivery.sent_at,
        message_id=f"<{delivery.idempotency_key}@kurator>",
    )


@router.get(
    "/cases/{case_id}/notifications",
    summary="The case's notifications and their delivery (уведомления по случаю)",
    responses=error_responses(401, 404),
)
async def case_notifications(case: AddressedCase, state: State) -> list[NotificationDeliveries]:
    async with state.reads() as session:
        notes = await list_for_case(session, case_id=case.case_id)
        rows = await deliveries.for_case(session, case_id=case.case_id)
    by_note: dict[UUID, list[DeliveryView]] = defaultdict(list)
    for row in rows:
        if row.notification_id is not None:
            by_note[row.notification_id].append(_view(row))
    return [
        NotificationDeliveries(
            id=note.id,
            event_seq=note.event_seq,
            kind=NotificationKind(note.kind),
            recipient=note.recipient,
            recipient_is_role=note.recipient_is_role,
            deadline_code=DeadlineCode(note.deadline_code) if note.deadline_code else None,
            due_at=note.due_at,
            created_at=note.created_at,
            dispatched_at=note.sent_at,
            deliveries=by_note.get(note.id, []),
        )
        for note in notes
    ]


@router.get(
    "/notifications",
    summary="My notifications, newest first (мои уведомления)",
    responses=error_responses(401),
)
async def my_notifications(
    actor: CurrentActor, state: State, limit: Annotated[int, Query(ge=1, le=500)] = 100
) -> list[InboxMessage]:
    async with state.reads() as session:
        rows = await deliveries.inbox_of(session, staff_id=actor.staff_id, limit=limit)
    return [
        InboxMessage(
            id=row.id,
            case_id=row.case_id,
            kind=row.kind,
            subject=row.subject,
            body=row.body,
            created_at=row.created_at,
        )
        for row in rows
    ]
