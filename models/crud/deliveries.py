"""Deliveries: fanning the outbox out into per-person rows, claiming them for an attempt, and
recording each attempt's outcome.

A claim is one UPDATE over `SELECT ... FOR UPDATE SKIP LOCKED`: dispatchers running side by
side never take the same row, and a claimed row carries a lease (`next_attempt_at` while
`sending`), so a row whose dispatcher died is claimed again once the lease runs out. Each
outcome is written only if the row is still at the attempt that was claimed (`attempts`), so a
dispatcher that overran its lease cannot overwrite its successor's result.
"""

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import case, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.crud.inserts import insert_new, table_of
from models.tables.case_projection import CaseProjection
from models.tables.delivery import CLAIMABLE_STATES, Delivery
from models.tables.notification import Notification

_DELIVERIES = table_of(Delivery)
_QUEUE = insert_new(_DELIVERIES, unique="uq_deliveries_idempotency_key")
INTERRUPTED = "the previous attempt was interrupted (its dispatcher stopped mid-send); resent"


async def undispatched(session: AsyncSession, *, limit: int) -> Sequence[Notification]:
    """Up to `limit` notifications not fanned out yet, oldest first, locked until the
    transaction ends (other dispatchers skip them)."""
    statement = (
        select(Notification)
        .where(col(Notification.sent_at).is_(None))
        .order_by(col(Notification.created_at), col(Notification.id))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return (await session.exec(statement)).all()


async def case_numbers(session: AsyncSession, case_ids: Collection[UUID]) -> dict[UUID, str]:
    """The readable numbers of those cases whose view has one."""
    if not case_ids:
        return {}
    number = CaseProjection.view["case_number"].astext
    statement = select(CaseProjection.case_id, number).where(
        col(CaseProjection.case_id).in_(list(case_ids)), number.is_not(None)
    )
    return {case_id: value for case_id, value in (await session.exec(statement)).all()}


async def queue(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> int:
    """Insert the deliveries whose idempotency key is new; how many were."""
    if not rows:
        return 0
    return len((await session.exec(_QUEUE, params=list(rows))).all())


async def claim_due(
    session: AsyncSession, *, now: datetime, lease_until: datetime, limit: int
) -> Sequence[Delivery]:
    """Claim up to `limit` deliveries due by `now`: each becomes `sending` with one more
    attempt, leased until `lease_until`. Commit before sending: the claim must be on record
    before the message leaves."""
    due = (
        select(Delivery.id)
        .where(
            col(Delivery.state).in_(CLAIMABLE_STATES),
            col(Delivery.next_attempt_at) <= now,
        )
        .order_by(col(Delivery.next_attempt_at))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    statement = (
        update(Delivery)
        .where(col(Delivery.id).in_(due.scalar_subquery()))
        .values(
            state="sending",
            attempts=col(Delivery.attempts) + 1,
            next_attempt_at=lease_until,
            last_error=case(
                (col(Delivery.state) == "sending", INTERRUPTED), else_=col(Delivery.last_error)
            ),
        )
        .returning(Delivery)
    )
    result = await session.exec(statement)
    return [row[0] for row in result.all()]


def _attempt(delivery_id: UUID, attempt: int) -> Any:
    return (
        update(Delivery)
        .where(
            col(Delivery.id) == delivery_id,
            col(Delivery.attempts) == attempt,
            col(Delivery.state) == "sending",
        )
        .execution_options(synchronize_session=False)
    )


async def record_sent(
    session: AsyncSession, *, delivery_id: UUID, attempt: int, at: datetime
) -> bool:
    """The attempt succeeded; False when the row was taken over meanwhile."""
    statement = _attempt(delivery_id, attempt).values(
        state="sent", sent_at=at, next_attempt_at=None
    )
    return int((await session.exec(statement)).rowcount) == 1


async def record_failure(
    session: AsyncSession,
    *,
    delivery_id: UUID,
    attempt: int,
    error: str,
    retry_at: datetime | None,
) -> bool:
    """The attempt failed: `failed` until `retry_at`, or `dead` when None."""
    statement = _attempt(delivery_id, attempt).values(
        state="failed" if retry_at is not None else "dead",
        next_attempt_at=retry_at,
        last_error=error[:500],
    )
    return int((await session.exec(statement)).rowcount) == 1


async def for_case(session: AsyncSession, *, case_id: UUID) -> Sequence[Delivery]:
    statement = (
        select(Delivery)
        .where(Delivery.case_id == case_id)
        .order_by(col(Delivery.created_at), col(Delivery.recipient_staff_id), col(Delivery.channel))
    )
    return (await session.exec(statement)).all()


async def inbox_of(session: AsyncSession, *, staff_id: str, limit: int) -> Sequence[Delivery]:
    """A staff member's delivered inbox messages, newest first."""
    statement = (
        select(Delivery)
        .where(
            Delivery.recipient_staff_id == staff_id,
            Delivery.channel == "inbox",
            Delivery.state == "sent",
        )
        .order_by(col(Delivery.created_at).desc(), col(Delivery.id))
        .limit(limit)
    )
    return (await session.exec(statement)).all()
