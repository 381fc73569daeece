"""Writing and reading the case history."""

from collections.abc import Sequence
from uuid import UUID

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.crud.inserts import insert_new, table_of
from models.payloads.events import CaseEventDraft
from models.tables.case_event import CaseEvent

_EVENTS = table_of(CaseEvent)
_APPEND = insert_new(_EVENTS, unique="uq_case_events_case_seq")


async def append_events(session: AsyncSession, *, drafts: Sequence[CaseEventDraft]) -> int:
    """Insert the events whose `(case_id, seq)` is not recorded yet; how many were new. The rows
    go as an executemany, which SQLAlchemy sends as one multi-row INSERT."""
    if not drafts:
        return 0
    rows = [draft.model_dump(mode="python") for draft in drafts]
    result = await session.exec(_APPEND, params=rows)
    return len(result.all())


async def append_event(session: AsyncSession, *, draft: CaseEventDraft) -> bool:
    """Insert the event unless `(case_id, seq)` is already recorded. True if it was new."""
    return await append_events(session, drafts=[draft]) == 1


async def list_events(session: AsyncSession, *, case_id: UUID) -> Sequence[CaseEvent]:
    """The case's history, oldest first."""
    statement = select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(col(CaseEvent.seq))
    return (await session.exec(statement)).all()
