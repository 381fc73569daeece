"""The notifications outbox: enqueueing a step's messages, and draining them."""

from collections.abc import Collection, Sequence
from datetime import datetime
from uuid import UUID

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.crud.inserts import insert_new, table_of
from models.payloads.case_view import NotificationDraft
from models.tables.notification import Notification

_OUTBOX = table_of(Notification)
_ENQUEUE = insert_new(_OUTBOX, unique="uq_notifications_step")


async def enqueue(session: AsyncSession, *, drafts: Sequence[NotificationDraft]) -> int:
    """Insert the drafts not enqueued yet (by `uq_notifications_step`); how many were new. The
    rows go as an executemany, which SQLAlchemy sends as one multi-row INSERT."""
    if not drafts:
        return 0
    rows = [draft.model_dump(mode="python") for draft in drafts]
    return len((await session.exec(_ENQUEUE, params=rows)).all())


async def list_for_case(session: AsyncSession, *, case_id: UUID) -> Sequence[Notification]:
    """The case's notifications in the order its steps caused them, sent or not."""
    statement = (
        select(Notification)
        .where(Notification.case_id == case_id)
        .order_by(col(Notification.event_seq), col(Notification.kind), col(Notification.recipient))
    )
    return (await session.exec(statement)).all()


async def pending(session: AsyncSession, *, limit: int) -> Sequence[Notification]:
    """Up to `limit` unsent notifications, oldest first (served by ix_notifications_unsent)."""
    statement = (
        select(Notification)
        .where(col(Notification.sent_at).is_(None))
        .order_by(col(Notification.created_at), col(Notification.id))
        .limit(limit)
    )
    return (await session.exec(statement)).all()


async def mark_sent(session: AsyncSession, *, ids: Collection[UUID], at: datetime) -> int:
    """Record delivery of `ids` at `at`; a notification already marked keeps its first time.
    Returns how many were marked now."""
    if not ids:
        return 0
    statement = (
        update(Notification)
        .where(col(Notification.id).in_(list(ids)), col(Notification.sent_at).is_(None))
        .values(sent_at=at)
    )
    result = await session.exec(statement)
    return int(result.rowcount)
