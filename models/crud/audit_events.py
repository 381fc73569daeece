"""Reading the case history for the ministry's audit: the rows exactly as stored (what the
hash chain covers), their sealed text opened beside them, in keyset batches for exports of
any size, and the changes of state up to a moment.

Opening is tolerant: a value that no longer opens with its key (a superuser altered it) reads
as `UNREADABLE_TEXT`, so the history still answers and its chain says which event broke."""

import json
from collections.abc import Collection, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, Result, Select, Text, cast, func, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from infra.sealing.columns import (
    SEALED_TEXT_PREFIX,
    KeyLookup,
    OpeningKeys,
    SealedValueError,
    is_sealed_text,
    key_id_of_text,
    keys_for,
    open_free_json,
    open_free_json_text,
    open_free_text,
    open_text,
    sealed_key_ids,
)
from infra.sealing.family_keys import UnknownKey
from models.crud.case_events import event_field
from models.crud.family_data_keys import StoredKey
from models.crud.inserts import table_of
from models.tables.case_chain_head import CaseChainHead
from models.tables.case_event import CaseEvent
from models.tables.case_projection import CaseProjection
from models.tables.family import Family
from workflows.ids import family_key_of

# What a sealed value reads as when it does not open with its own key: it was altered.
UNREADABLE_TEXT = "[unreadable]"

_EVENTS = table_of(CaseEvent)
_PROJECTIONS = table_of(CaseProjection)
_HEADS = table_of(CaseChainHead)
_FAMILIES = table_of(Family)


# A stored event: its columns by name, as stored.
StoredRow = Mapping[str, Any]


async def _rows(session: AsyncSession, statement: Select[Any]) -> Result[Any]:
    # Core rows (not ORM objects): an export reads tens of thousands a second.
    result: Result[Any] = await session.exec(statement)  # type: ignore[call-overload]
    return result


async def _stored(session: AsyncSession, statement: Select[Any]) -> list[StoredRow]:
    result = await _rows(session, statement)
    names = list(result.keys())
    # Plain dicts: a RowMapping looks each name up through the result's metadata.
    return [dict(zip(names, row, strict=True)) for row in result.all()]


# Whether an event holds sealed text in any column, as PostgreSQL finds it (the prefix has no
# character JSON escapes, so it stands as it is in the JSON's text): most events hold none, and
# their columns then need no walk, neither for the keys to look up nor for values to open.
HOLDS_SEALED = "holds_sealed"


def holds_sealed() -> ColumnElement[bool]:
    """`HOLDS_SEALED` of a `case_events` row, as a column of a statement over the table."""
    return _HOLDS_SEALED


_HOLDS_SEALED = (
    func.strpos(
        func.concat(
            _EVENTS.c.reason, cast(_EVENTS.c.data, Text), cast(_EVENTS.c.view_changes, Text)
        ),
        SEALED_TEXT_PREFIX,
    )
    > 0
).label(HOLDS_SEALED)


async def stored_histories(
    session: AsyncSession, *, chain_ids: Sequence[UUID]
) -> dict[UUID, list[StoredRow]]:
    """Every event of each chain (a case's, its social contract's), oldest first, each column
    as stored and `HOLDS_SEALED`, in one statement."""
    statement = (
        select(_EVENTS, _HOLDS_SEALED)
        .where(_EVENTS.c.case_id.in_(list(chain_ids)))
        .order_by(_EVENTS.c.case_id, _EVENTS.c.seq)
    )
    found: dict[UUID, list[StoredRow]] = {chain_id: [] for chain_id in chain_ids}
    for row in await _stored(session, statement):
        found[row["case_id"]].append(row)
    return found


@dataclass(frozen=True)
class ExportScope:
    """Which events an export holds: one case's, or those of a municipality's cases; with a
    period, those that occurred in [since, until)."""

    case_id: UUID | None = None
    municipality: str | None = None
    since: datetime | None = None
    until: datetime | None = None


async def chain_heads(
    session: AsyncSession, *, case_ids: Collection[UUID]
) -> dict[UUID, tuple[int, str]]:
    """The recorded chain head (seq, hash) of each case."""
    if not case_ids:
        return {}
    statement = select(_HEADS.c.case_id, _HEADS.c.seq, _HEADS.c.hash).where(
        _HEADS.c.case_id.in_(list(case_ids))
    )
    rows = (await _rows(session, statement)).all()
    return {row.case_id: (row.seq, row.hash) for row in rows}


async def families_of_cases(
    session: AsyncSession, *, case_ids: Collection[UUID]
) -> dict[UUID, UUID | None]:
    """The family record of each case (None: a case whose family has no record), in two
    queries: for the access log of an export."""
    if not case_ids:
        return {}
    statement = select(_PROJECTIONS.c.case_id, _PROJECTIONS.c.workflow_id).where(
        _PROJECTIONS.c.case_id.in_(list(case_ids))
    )
    workflow_of: dict[UUID, str] = {
        row.case_id: row.workflow_id for row in (await _rows(session, statement)).all()
    }
    family_keys = {case_id: family_key_of(workflow_of.get(case_id, "")) for case_id in case_ids}
    wanted = {key for key in family_keys.values() if key is not None}
    found: dict[str, UUID] = {}
    if wanted:
        rows = await _rows(
            session,
            select(_FAMILIES.c.family_key, _FAMILIES.c.id).where(
                _FAMILIES.c.family_key.in_(list(wanted))
            ),
        )
        found = {row.family_key: row.id for row in rows.all()}
    return {
        case_id: None if key is None else found.get(key) for case_id, key in family_keys.items()
    }


async def state_until(
    session: AsyncSession, *, case_id: UUID, at: datetime, keys: KeyLookup
) -> tuple[dict[str, Any] | None, datetime | None]:
    """The case's state at `at` (a CaseView's fields, as JSON, None before its first event),
    folded from the `view_changes` of its events that occurred at or before it, oldest first,
    and when its first event occurred (None: the case has no events).

    Folded first, opened after: only the values that survive the fold are opened, each bound
    to the event that wrote it, rather than every sealed value of every step (a case's first
    step carries its whole state, and each later one its changes)."""
    statement = (
        select(_EVENTS.c.seq, _EVENTS.c.occurred_at, _EVENTS.c.view_changes)
        .where(_EVENTS.c.case_id == case_id)
        # The first event always, for the answer before it; the others only up to `at`.
        .where(or_(_EVENTS.c.occurred_at <= at, _EVENTS.c.seq == 1))
        .order_by(_EVENTS.c.seq)
    )
    rows = (await _rows(session, statement)).all()
    first = rows[0].occurred_at if rows else None
    state: dict[str, Any] = {}
    written_by: dict[str, int] = {}  # each field's last writer
    for row in rows:
        if row.occurred_at <= at and row.view_changes:
            state.update(row.view_changes)
            written_by.update(dict.fromkeys(row.view_changes, row.seq))
    if not state:
        return None, first
    opening = await _keys_known(keys, _key_ids([state]))
    opened = {
        name: _open_free(
            {name: value}, opening, event_field("view_changes", case_id, written_by[name])
        )[name]
        for name, value in state.items()
    }
    return opened, first


def _key_ids(values: Any) -> set[UUID]:
    found: set[UUID] = set()
    for value in values:
        try:
            found |= sealed_key_ids(value)
        except SealedValueError:
            continue  # malformed: reads as unreadable when opened
    return found


async def opening_keys(
    keys: KeyLookup,
    rows: Sequence[StoredRow],
    *,
    session: AsyncSession | None = None,
    read: Collection[StoredKey] = (),
) -> OpeningKeys:
    """The keys that open the sealed text of `rows` (stored events), in one lookup (in
    `session`'s transaction, if given), none for those whose rows are in `read` already."""
    wanted: set[UUID] = set()
    for row in rows:
        if not row.get(HOLDS_SEALED, True):
            continue
        wanted |= _key_ids((row["data"], row["view_changes"]))
        reason = row["reason"]
        if is_sealed_text(reason):
            with suppress(SealedValueError):  # malformed: reads as unreadable
                wanted.add(key_id_of_text(reason, field="case_events.reason"))
    return await _keys_known(keys, wanted, session, read)


async def _keys_known(
    keys: KeyLookup,
    wanted: set[UUID],
    session: AsyncSession | None = None,
    read: Collection[StoredKey] = (),
) -> OpeningKeys:
    """`keys_for`, leaving out key ids that name no key (an altered value): their values read
    as unreadable instead of failing the whole read."""
    while True:
        try:
            return await keys_for(keys, wanted, session=session, read=read)
        except UnknownKey as unknown:
            wanted = wanted - {unknown.key_id}


def opened_reason(reason: str | None, keys: OpeningKeys, *, case_id: UUID, seq: int) -> str | None:
    """A stored event's reason opened, as `opened_text` opens it."""
    if reason is None:
        return None
    try:
        return open_text(reason, keys, field=event_field("reason", case_id, seq))
    except SealedValueError:
        return UNREADABLE_TEXT


def opened_text(row: StoredRow, keys: OpeningKeys) -> dict[str, Any]:
    """The sealed columns of a stored event opened (an erased family's as `[erased]`, an
    altered value as `UNREADABLE_TEXT`)."""
    if not row.get(HOLDS_SEALED, True):
        return {"reason": row["reason"], "data": row["data"], "view_changes": row["view_changes"]}
    case_id, seq = row["case_id"], row["seq"]
    return {
        "reason": opened_reason(row["reason"], keys, case_id=case_id, seq=seq),
        "data": _open_free(row["data"], keys, event_field("data", case_id, seq)),
        "view_changes": _open_free(
            row["view_changes"], keys, event_field("view_changes", case_id, seq)
        ),
    }


async def keys_named(keys: KeyLookup, wanted: set[UUID]) -> OpeningKeys:
    """The keys of `wanted` (key ids found in sealed text), in one lookup; ids that name no
    key are left out (their values read as unreadable)."""
    return await _keys_known(keys, wanted)


def opened_json(text: str, keys: OpeningKeys, *, column: str, case_id: UUID, seq: int) -> Any:
    """A stored event's JSON column, given as JSON text, parsed with its sealed text opened
    as `opened_text` opens it."""
    field = event_field(column, case_id, seq)
    try:
        return open_free_json(text, keys, field=field)
    except SealedValueError:
        return _unreadable(json.loads(text), keys, field)


def opened_json_text(text: str, keys: OpeningKeys, *, column: str, case_id: UUID, seq: int) -> str:
    """`opened_json` as JSON text: the stored text with its sealed values replaced where
    they stand as a free-text key's string (no parse), else parsed, opened and written."""
    with suppress(SealedValueError):  # opened value by value below
        opened = open_free_json_text(text, keys, field=event_field(column, case_id, seq))
        if opened is not None:
            return opened
    value = opened_json(text, keys, column=column, case_id=case_id, seq=seq)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _open_free(data: Any, keys: OpeningKeys, field: str) -> Any:
    try:
        return open_free_text(data, keys, field=field)
    except SealedValueError:
        return _unreadable(data, keys, field)


def _unreadable(data: Any, keys: OpeningKeys, field: str, name: str = "") -> Any:
    """`data` opened value by value (each bound to `field` and its own JSON key, as
    `open_free_text` binds it), those that do not open as `UNREADABLE_TEXT`."""
    if isinstance(data, dict):
        return {key: _unreadable(value, keys, field, key) for key, value in data.items()}
    if isinstance(data, list):
        return [_unreadable(value, keys, field, name) for value in data]
    if is_sealed_text(data):
        try:
            return open_text(data, keys, field=f"{field}.{name}")
        except SealedValueError:
            return UNREADABLE_TEXT
    return data
