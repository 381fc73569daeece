"""Writing and reading the case history. A comment (`reason`) and the free text of `data` and
`view_changes` are sealed on the way in with the family's key and opened on the way out
(infra/sealing/columns.py); every other column stays in clear. Each new event is chained to the
one before it (infra/audit/chain.py), over the row exactly as stored."""

import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import bindparam, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.sql.dml import Insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from infra.audit.chain import event_hash, genesis_hash
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
from models.payloads.events import CaseEventDraft, EventOrigin
from models.tables.case_chain_head import CaseChainHead
from models.tables.case_event import CaseEvent, CaseEventPublic

_EVENTS = table_of(CaseEvent)
_APPEND = insert_new(_EVENTS, unique="uq_case_events_case_seq")
_HEADS = table_of(CaseChainHead)


def _move_head_statement() -> Insert:
    """The case's chain head moved to a newer event; never back to an older one."""
    statement = insert(_HEADS)
    return statement.on_conflict_do_update(
        index_elements=[_HEADS.c.case_id],
        set_={"seq": statement.excluded.seq, "hash": statement.excluded.hash},
        where=_HEADS.c.seq < statement.excluded.seq,
    )


_MOVE_HEAD = _move_head_statement()
_STORED_LINKS = select(CaseEvent.seq, CaseEvent.hash).where(
    col(CaseEvent.case_id) == bindparam("case_id"),
    col(CaseEvent.seq).between(bindparam("first"), bindparam("last")),
)
# One writer per case at a time: the chain's next link depends on the last one stored.
_LOCK_CASE = text("SELECT pg_advisory_xact_lock(hashtextextended(:case_id, 0))")


class HistoryGap(Exception):
    """An event's predecessor is not stored: the chain cannot be continued (retried later)."""


def event_field(column: str, case_id: UUID, seq: int) -> str:
    """What a sealed value of an event is bound to: its column and its row."""
    return f"case_events.{column}:{case_id}:{seq}"


def sealed_event_row(key: DataKey, row: dict[str, Any]) -> dict[str, Any]:
    """An event's row (its columns by name) with its comment and free text sealed."""
    case_id, seq, reason = row["case_id"], row["seq"], row["reason"]
    sealed = {
        **row,
        "reason": None
        if reason is None
        else seal_text(key, reason, field=event_field("reason", case_id, seq)),
        "data": seal_free_text(key, row["data"], field=event_field("data", case_id, seq)),
    }
    if "view_changes" in row:  # absent from the rows of migration 0006
        sealed["view_changes"] = seal_free_text(
            key, row["view_changes"], field=event_field("view_changes", case_id, seq)
        )
    return sealed


async def lock_case_history(session: AsyncSession, case_id: UUID) -> None:
    """Hold the case's history for this transaction: concurrent writers of one case (a retried
    activity beside its first attempt) take turns, so each continues the chain it read."""
    await session.exec(_LOCK_CASE, params={"case_id": str(case_id)})  # type: ignore[call-overload]


async def append_events(
    session: AsyncSession,
    *,
    drafts: Sequence[CaseEventDraft],
    origin: EventOrigin,
    key: DataKey,
    view_changes: Mapping[str, Any] | None = None,
) -> int:
    """Insert the events of one step (one case) whose `(case_id, seq)` is not recorded yet,
    sealed with `key` (their family's) and chained to the events before them; how many were
    new. `view_changes` (what the step changed in the case's state) goes on its last event.
    Call it under `lock_case_history`. The rows go as one multi-row INSERT."""
    if not drafts:
        return 0
    ordered = sorted(drafts, key=lambda draft: draft.seq)
    case_id = ordered[0].case_id
    if any(draft.case_id != case_id for draft in ordered):
        raise ValueError("the events of one step belong to one case")
    first, last = ordered[0].seq, ordered[-1].seq
    stored: dict[int, str] = dict(
        (
            await session.exec(
                _STORED_LINKS, params={"case_id": case_id, "first": first - 1, "last": last}
            )
        ).all()
    )
    if all(draft.seq in stored for draft in ordered):
        return 0  # a retry of a step already recorded
    if first == 1:
        prev = genesis_hash(case_id)
    elif first - 1 in stored:
        prev = stored[first - 1]
    else:
        raise HistoryGap(f"event {first - 1} of case {case_id} is not recorded yet")
    recorded_at = datetime.now(UTC)
    rows = []
    for draft in ordered:
        if draft.seq in stored:
            prev = stored[draft.seq]
            continue
        changes = dict(view_changes or {}) if draft.seq == last else {}
        row = sealed_event_row(
            key,
            {
                **draft.model_dump(mode="python"),
                "id": uuid.uuid4(),
                "recorded_at": recorded_at,
                "idempotency_key": origin.idempotency_key,
                "workflow_id": origin.workflow_id,
                "run_id": origin.run_id,
                "view_changes": changes,
            },
        )
        row["prev_hash"] = prev
        row["hash"] = prev = event_hash(row, prev)
        rows.append(row)
    result = await session.exec(_APPEND, params=rows)
    await session.exec(_MOVE_HEAD, params={"case_id": case_id, "seq": last, "hash": prev})
    return len(result.all())


async def list_events(
    session: AsyncSession, *, case_id: UUID, keys: KeyLookup
) -> list[CaseEventPublic]:
    """The case's history, oldest first, its comments and free text opened (those of an
    erased family read as `ERASED_TEXT`)."""
    statement = select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(col(CaseEvent.seq))
    rows = (await session.exec(statement)).all()
    wanted: set[UUID] = set()
    for row in rows:
        wanted |= sealed_key_ids(row.data) | sealed_key_ids(row.view_changes)
        if is_sealed_text(row.reason):
            wanted.add(key_id_of_text(row.reason, field="case_events.reason"))
    opening = await keys_for(keys, wanted)
    return [_opened(row, opening) for row in rows]


def _opened(row: CaseEvent, keys: OpeningKeys) -> CaseEventPublic:
    reason = row.reason
    if reason is not None:
        reason = open_text(reason, keys, field=event_field("reason", row.case_id, row.seq))
    data = open_free_text(row.data, keys, field=event_field("data", row.case_id, row.seq))
    changes = open_free_text(
        row.view_changes, keys, field=event_field("view_changes", row.case_id, row.seq)
    )
    columns = row.model_dump(exclude={"reason", "data", "view_changes", "recorded_at"})
    return CaseEventPublic.model_validate(
        {**columns, "reason": reason, "data": data, "view_changes": changes}
    )
