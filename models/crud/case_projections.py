"""Writing and reading the case projection (the latest `CaseView` of each case). The view's
free text is sealed on the way in with the family's key and opened on the way out
(infra/sealing/columns.py)."""

import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import (
    ColumnElement,
    DateTime,
    Text,
    bindparam,
    cast,
    func,
    literal,
    literal_column,
    not_,
    tuple_,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.sql.dml import ReturningInsert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from infra.sealing.columns import (
    KeyLookup,
    OpeningKeys,
    SealedValueError,
    key_ids_in_text,
    open_free_json_text,
    open_free_text,
    seal_free_text,
    withhold_free_text,
)
from infra.sealing.family_keys import DataKey
from models.crud.audit_events import keys_named
from models.crud.cursors import CursorError, cursor_parts, encode_cursor
from models.crud.inserts import table_of
from models.payloads.case_view import CaseView
from models.payloads.vocabulary import Stage
from models.policy.codes import AccompanimentLevel
from models.tables.case_number import CaseNumberRow
from models.tables.case_projection import CaseProjection

_PROJECTIONS = table_of(CaseProjection)

# A stored view as its case id and its JSON text: the key ids are found in the text, its sealed
# values replaced where they stand, and the view parsed once, by pydantic, instead of parsed
# by the driver and walked twice in Python (a page of 50 views spent most of its time there).
_VIEW_AS_TEXT = (_PROJECTIONS.c.case_id, cast(_PROJECTIONS.c.view, Text))


def _save_statement() -> ReturningInsert[tuple[UUID]]:
    statement = insert(_PROJECTIONS)
    # Every column `_columns` fills: all but the key and the row's own timestamp.
    changed = {
        column.name: statement.excluded[column.name]
        for column in _PROJECTIONS.c
        if column.name not in ("case_id", "updated_at")
    }
    upsert = statement.on_conflict_do_update(
        index_elements=[_PROJECTIONS.c.case_id],
        set_={**changed, "updated_at": func.now()},
        where=_PROJECTIONS.c.version < statement.excluded.version,
    )
    # RETURNING, not rowcount: SQLAlchemy reports no rowcount for an INSERT (-1) by default.
    return upsert.returning(_PROJECTIONS.c.case_id)


# Built once, the row passed at execution (see models/crud/case_events.py for why).
_SAVE = _save_statement()


def view_field(case_id: UUID) -> str:
    """What the sealed values of a case's stored view are bound to: its row."""
    return f"case_projections.view:{case_id}"


async def save_view(session: AsyncSession, *, view: CaseView, key: DataKey) -> bool:
    """Store `view`, its free text sealed with `key` (its family's), unless the stored state is
    as new or newer. True if a row changed.

    The version check runs inside the upsert, under the row's lock, so a retried activity or
    two steps racing can never move the projection backwards.
    """
    written = await session.exec(_SAVE, params=_columns(view, key))
    return written.first() is not None


_STORED_VIEW = select(CaseProjection.view).where(
    col(CaseProjection.case_id) == bindparam("case_id")
)


async def view_changes(session: AsyncSession, *, view: CaseView, key: DataKey) -> dict[str, Any]:
    """The fields of `view` that differ from the stored state, with their new values (all of
    them for a case not stored yet): what the step that produced `view` changed. Folded in
    order, the changes of a case's steps give back each state it had."""
    new = view.model_dump(mode="json")
    stored = (await session.exec(_STORED_VIEW, params={"case_id": view.case_id})).first()
    if stored is None:
        return new
    try:
        old = open_free_text(stored, {key.key_id: key}, field=view_field(view.case_id))
    except SealedValueError:
        # Sealed under another key (never, for one family's steps): every field is a change,
        # which folds to the same state.
        return new
    return {name: value for name, value in new.items() if name not in old or old[name] != value}


# Built once, like _SAVE: this read is on every action's path.
_ADDRESS = select(
    CaseProjection.workflow_id,
    CaseProjection.view["first_run_id"].astext,
    CaseProjection.municipality,
).where(col(CaseProjection.case_id) == bindparam("case_id"))


@dataclass(frozen=True)
class CaseAddress:
    """Where a case's actions go, and whose territory it is: enough to route an action
    without reading (and validating) the whole stored view."""

    case_id: UUID
    workflow_id: str
    first_run_id: str | None
    municipality: str


async def get_address(session: AsyncSession, *, case_id: UUID) -> CaseAddress | None:
    """The case's workflow, run chain and municipality, or None when no step of it has been
    stored. The row `get_view` reads: the workflow and municipality from their columns, the run
    chain from the stored view."""
    found = (await session.exec(_ADDRESS, params={"case_id": case_id})).first()
    if found is None:
        return None
    workflow_id, first_run_id, municipality = found
    return CaseAddress(
        case_id=case_id,
        workflow_id=workflow_id,
        first_run_id=first_run_id,
        municipality=municipality,
    )


async def get_view(session: AsyncSession, *, case_id: UUID, keys: KeyLookup) -> CaseView | None:
    """The case's latest state, its free text opened, or None when no step of it has been
    stored."""
    statement = select(*_VIEW_AS_TEXT).where(CaseProjection.case_id == case_id)
    stored = (await session.exec(statement)).first()
    if stored is None:
        return None
    return (await _opened([stored], keys))[0]


# The list's order as one ascending key: overdue first, then the next deadline (none last),
# then the case id; indexed as such (migration 0010), so a page after a cursor is a range scan.
# 'infinity' is written into the statement as a constant, as the index spells it: bound as a
# parameter (a cast of a varchar, which PostgreSQL does not fold), the expression no longer
# matched the index, and every first page sorted all of its municipality's cases (35 ms for the
# city of Novosibirsk at 350,000 cases).
_INFINITY = literal_column("'infinity'::timestamptz", DateTime(timezone=True))
_ORDER_KEY = (
    not_(col(CaseProjection.overdue)),
    func.coalesce(col(CaseProjection.next_deadline), _INFINITY),
    col(CaseProjection.case_id),
)


def _encode_cursor(view: CaseView) -> str:
    deadline = "" if view.next_deadline is None else view.next_deadline.isoformat()
    return encode_cursor(str(int(view.overdue)), deadline, str(view.case_id))


def _after(cursor: str) -> ColumnElement[bool]:
    overdue, deadline, case_id = cursor_parts(cursor, 3)
    try:
        if overdue not in ("0", "1"):
            raise ValueError(overdue)
        moment = "infinity" if not deadline else datetime.fromisoformat(deadline).isoformat()
        not_overdue, case = overdue == "0", UUID(case_id)
    except ValueError:
        raise CursorError("not a cursor of this listing") from None
    bound = (literal(not_overdue), cast(literal(moment), DateTime(timezone=True)), literal(case))
    return tuple_(*_ORDER_KEY) > tuple_(*bound)


@dataclass(frozen=True)
class ViewPage:
    views: list[CaseView]
    total: int | None  # None: not counted (a later page)
    next_cursor: str | None  # None: this was the last page
    total_capped: bool = False  # True: more than `total` (COUNT_CAP) cases match


# Counting stops here: a count walks every matching row, so an exact total of the city of
# Novosibirsk (a third of the oblast's 350,000 cases) would cost the page 100 ms and more,
# while nobody reads past a few pages. Beyond it the page says "more than 10,000".
COUNT_CAP = 10_000


async def list_views(
    session: AsyncSession,
    *,
    municipalities: Collection[str] | None,
    stage: Stage | None = None,
    level: AccompanimentLevel | None = None,
    municipality: str | None = None,
    overdue: bool | None = None,
    curator: str | None = None,
    number: str | None = None,
    limit: int,
    offset: int = 0,
    after: str | None = None,
    count: bool = True,
    count_cap: int = COUNT_CAP,
    keys: KeyLookup | None,
) -> ViewPage:
    """One page of cases, overdue first, then by next deadline, with the total that match
    when `count`. Their free text is opened with `keys` (one key lookup for the page), or with
    None left unopened, reading as `WITHHELD_TEXT`, for a caller that shows none of it.

    `municipalities` is the caller's territory: None means every municipality (the ministry),
    an empty collection means none. The other arguments narrow the list; None ignores one
    (`number`: a readable case number, models/case_numbers.py).
    `total` is exact up to `count_cap`; beyond it, `count_cap` with `total_capped`.
    `after` is the previous page's `next_cursor` (a range scan of the list's index, however
    deep); `offset` skips rows, for shallow pages only. Ties are broken by case id, so pages
    never overlap or skip a case. Raises CursorError for a cursor this listing did not make.
    """
    conditions = _conditions(
        municipalities=municipalities,
        stage=stage,
        level=level,
        municipality=municipality,
        overdue=overdue,
        curator=curator,
        number=number,
    )
    filtered = list(conditions)
    if after is not None:
        conditions.append(_after(after))
    page = (
        select(*_VIEW_AS_TEXT)
        .where(*conditions)
        .order_by(*_ORDER_KEY)
        .limit(limit + 1)
        .offset(offset)
    )
    stored = list((await session.exec(page)).all())
    more = len(stored) > limit
    stored = stored[:limit]
    if keys is None:
        views = [
            CaseView.model_validate(withhold_free_text(json.loads(view))) for _, view in stored
        ]
    else:
        views = await _opened(stored, keys)
    total, capped = None, False
    if count:
        matching = select(literal(1)).select_from(CaseProjection).where(*filtered)
        bounded = matching.limit(count_cap + 1).subquery()
        total = (await session.exec(select(func.count()).select_from(bounded))).one()
        capped = total > count_cap
        total = min(total, count_cap)
    return ViewPage(
        views=views,
        total=total,
        next_cursor=_encode_cursor(views[-1]) if more and views else None,
        total_capped=capped,
    )


async def _opened(stored: Sequence[tuple[UUID, str]], keys: KeyLookup) -> list[CaseView]:
    wanted = set().union(*(key_ids_in_text(text) for _, text in stored))
    # Text that merely looks sealed may name no key: left out, a value naming it fails below.
    opening = await keys_named(keys, wanted)
    return [_opened_view(text, opening, view_field(case_id)) for case_id, text in stored]


def _opened_view(text: str, keys: OpeningKeys, field: str) -> CaseView:
    opened = open_free_json_text(text, keys, field=field)
    if opened is None:  # sealed text stands outside a free-text key: open the parsed value
        return CaseView.model_validate(open_free_text(json.loads(text), keys, field=field))
    return CaseView.model_validate_json(opened)


def _conditions(
    *,
    municipalities: Collection[str] | None,
    stage: Stage | None,
    level: AccompanimentLevel | None,
    municipality: str | None,
    overdue: bool | None,
    curator: str | None,
    number: str | None = None,
) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if municipalities is not None:
        conditions.append(col(CaseProjection.municipality).in_(list(municipalities)))
    wanted: list[tuple[Any, object]] = [
        (CaseProjection.stage, stage),
        (CaseProjection.level, level),
        (CaseProjection.municipality, municipality),
        (CaseProjection.overdue, overdue),
        (CaseProjection.curator, curator),
    ]
    conditions += [col(column) == value for column, value in wanted if value is not None]
    if number is not None:  # one row of case_numbers, by its unique index
        numbered = select(CaseNumberRow.case_id).where(col(CaseNumberRow.number) == number)
        conditions.append(col(CaseProjection.case_id).in_(numbered))
    return conditions


def _columns(view: CaseView, key: DataKey) -> dict[str, Any]:
    """The row for `view`: the filterable fields as columns, and the whole view as JSON. Every
    column but `updated_at` (the database's), as `_SAVE` expects."""
    return {
        "case_id": view.case_id,
        "workflow_id": view.workflow_id,
        "version": view.version,
        "municipality": view.municipality,
        "stage": view.stage.value,
        "level": None if view.level is None else view.level.value,
        "curator": view.curator,
        "overdue": view.overdue,
        "escalation_level": view.escalation_level,
        "next_deadline": view.next_deadline,
        "policy_version": view.policy_version,
        "opened_at": view.opened_at,
        "closed_at": view.closed_at,
        "view": seal_free_text(key, view.model_dump(mode="json"), field=view_field(view.case_id)),
    }
