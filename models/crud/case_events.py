"""Writing and reading the case history. A comment (`reason`) and the free text of `data` are
sealed on the way in with the family's key and opened on the way out (infra/sealing/columns.py);
every other column stays in clear."""

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from infra.sealing.columns import (
    KeyLookup,
    OpeningKeys,
    is_sealed_text,
    key_id_of_text,
    keys_for,
    open_free_text,
    open_text,
    seal_free_text,
    seal_text,
    sealed_key_ids,
)
from infra.sealing.family_keys import DataKey
from models.crud.inserts import insert_new, table_of
from models.payloads.events import CaseEventDraft
from models.tables.case_event import CaseEvent, CaseEventPublic

_EVENTS = table_of(CaseEvent)
_APPEND = insert_new(_EVENTS, unique="uq_case_events_case_seq")


def event_field(column: str, case_id: UUID, seq: int) -> str:
    """What a sealed value of an event is bound to: its column and its row."""
    return f"case_events.{column}:{case_id}:{seq}"


def sealed_event_row(key: DataKey, row: dict[str, Any]) -> dict[str, Any]:
    """An event's row (its columns by name) with its comment and free text sealed."""
    case_id, seq, reason = row["case_id"], row["seq"], row["reason"]
    return {
        **row,
        "reason": None
        if reason is None
        else seal_text(key, reason, field=event_field("reason", case_id, seq)),
        "data": seal_free_text(key, row["data"], field=event_field("data", case_id, seq)),
    }


async def append_events(
    session: AsyncSession, *, drafts: Sequence[CaseEventDraft], key: DataKey
) -> int:
    """Insert the events whose `(case_id, seq)` is not recorded yet, sealed with `key` (their
    family's); how many were new. The rows go as an executemany, which SQLAlchemy sends as one
    multi-row INSERT."""
    if not drafts:
        return 0
    rows = [sealed_event_row(key, draft.model_dump(mode="python")) for draft in drafts]
    result = await session.exec(_APPEND, params=rows)
    return len(result.all())


async def append_event(session: AsyncSession, *, draft: CaseEventDraft, key: DataKey) -> bool:
    """Insert the event unless `(case_id, seq)` is already recorded. True if it was new."""
    return await append_events(session, drafts=[draft], key=key) == 1


async def list_events(
    session: AsyncSession, *, case_id: UUID, keys: KeyLookup
) -> list[CaseEventPublic]:
    """The case's history, oldest first, its comments and free text opened (those of an
    erased family read as `ERASED_TEXT`)."""
    statement = select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(col(CaseEvent.seq))
    rows = (await session.exec(statement)).all()
    wanted: set[UUID] = set()
    for row in rows:
        wanted |= sealed_key_ids(row.data)
        if is_sealed_text(row.reason):
            wanted.add(key_id_of_text(row.reason, field="case_events.reason"))
    opening = await keys_for(keys, wanted)
    return [_opened(row, opening) for row in rows]


def _opened(row: CaseEvent, keys: OpeningKeys) -> CaseEventPublic:
    reason = row.reason
    if reason is not None:
        reason = open_text(reason, keys, field=event_field("reason", row.case_id, row.seq))
    data = open_free_text(row.data, keys, field=event_field("data", row.case_id, row.seq))
    columns = row.model_dump(exclude={"reason", "data", "recorded_at"})
    return CaseEventPublic.model_validate({**columns, "reason": reason, "data": data})
