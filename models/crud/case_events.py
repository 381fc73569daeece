"""Writing and reading the case history."""

from collections.abc import Sequence
from uuid import UUID

from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.payloads.events import CaseEventDraft
from models.tables.case_event import CaseEvent


async def append_event(session: AsyncSession, *, draft: CaseEventDraft) -> bool:
    """Insert the event unless `(case_id, seq)` is already recorded. True if it was new."""
    statement = (
        insert(CaseEvent)
        .values(**draft.model_dump(mode="python"))
        .on_conflict_do_nothing(constraint="uq_case_events_case_seq")
        # rowcount is -1 for this insert with psycopg: RETURNING tells new from duplicate.
        .returning(col(CaseEvent.id))
    )
    result = await session.exec(statement)
    return result.first() is not None


async def list_events(session: AsyncSession, *, case_id: UUID) -> Sequence[CaseEvent]:
    """The case's history, oldest first."""
    statement = select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(col(CaseEvent.seq))
    return (await session.exec(statement)).all()
