"""Flagging the map's entries that were not confirmed within the review period: one message
to the head of the entry's territory through the notifications outbox, once per entry version
(a confirmation makes a new version, so an entry overdue again is flagged again)."""

from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from models.crud.notifications import enqueue
from models.crud.resource_map import ProviderFilter, list_providers
from models.payloads.case_view import NotificationDraft
from models.payloads.vocabulary import NotificationKind, StaffRole
from models.resource_map.policy import ResourcePolicy


def review_message(provider_id: object, due_at: datetime) -> str:
    # The entry's id and date only: the outbox carries codes and dates (its message contract).
    return (
        f"Карта ресурсов: запись {provider_id} не подтверждена в срок "
        f"({due_at.date().isoformat()}); подтвердите или обновите её / resource map entry not "
        "confirmed within the review period"
    )


async def flag_overdue_reviews(
    session: AsyncSession, *, policy: ResourcePolicy, now: datetime
) -> int:
    """Enqueue a review flag for each active entry overdue at `now`; how many were new.

    In the outbox a flag's `case_id` is the entry's id and its `event_seq` the entry's version:
    the outbox's unique key then makes a second run enqueue nothing new."""
    where = ProviderFilter(territory=None, confirmed_before=policy.unconfirmed_since(now))
    drafts = []
    for row in await list_providers(session, where=where, limit=None):
        due = policy.review_due(row.last_confirmed_at)
        drafts.append(
            NotificationDraft(
                case_id=row.id,
                event_seq=row.version,
                recipient=StaffRole.HEAD.value,
                recipient_is_role=True,
                municipality=row.municipality,
                kind=NotificationKind.RESOURCE_REVIEW_DUE,
                due_at=due,
                message=review_message(row.id, due),
            )
        )
    return await enqueue(session, drafts=drafts)
