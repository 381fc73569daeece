"""The events of an audit export, read in batches of whole cases and rendered by PostgreSQL.

An export runs to millions of events, and building each record in Python (decoding every
JSONB column, then encoding it again) held it to a few thousand a second. PostgreSQL renders
each event's record itself (its JSON line, or its CSV row), in C, beside the index scan; we
only pass the text on. Only an event whose stored text is sealed comes back to Python to be
opened (models/payloads/audit_export.py: a record carries its sealed columns opened, and as
stored): its record is parsed, opened and written again.

The text PostgreSQL writes is the same record in another spelling: JSON with spaces after
its separators, CSV with every cell quoted; a JSON or CSV reader sees no difference, and
`kurator audit verify-export` hashes the parsed values (infra/audit/export_check.py).

Batches are whole cases (the municipality's next cases by id, then all their events in the
scope, then those of their social contracts: chains of their own, keyed by ids derived from
the cases'), so a case's events and its contract's never span two batches, and each batch is
three short index scans whatever the size of the municipality or the oblast. Every event
record names its chain (`chain`: `case` or `social_contract`).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

from sqlalchemy import ColumnElement, Text, case, cast, func, literal, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from infra.sealing.columns import SEALED_TEXT_PREFIX
from models.crud.audit_events import ExportScope
from models.crud.inserts import table_of
from models.payloads.audit_export import CLEAR_COLUMNS, EVENT, STORED, AuditChain
from models.tables.case_event import CaseEvent
from models.tables.case_projection import CaseProjection

_EVENTS = table_of(CaseEvent)
_PROJECTIONS = table_of(CaseProjection)
_TIME_COLUMNS = frozenset({"occurred_at", "recorded_at"})
# The chain's canonical time (models/payloads/audit_export.canonical_time), in PostgreSQL.
_CANONICAL_TIME = 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'


@dataclass(frozen=True, slots=True)
class RenderedEvent:
    """One exported event: its place in its case's chain, and its record as text."""

    case_id: UUID
    seq: int
    prev_hash: str
    hash: str
    text: str  # the JSON line (no newline), or the CSV row's cells after `record` (joined)
    # The record as JSON when some of its stored text is sealed: it must be opened (and
    # written again) before it goes out. None: `text` goes out as it is.
    sealed_record: str | None


def _clear(name: str) -> ColumnElement[object]:
    column = _EVENTS.c[name]
    if name in _TIME_COLUMNS:
        return func.to_char(func.timezone("UTC", column), _CANONICAL_TIME)
    return column


def _json_record(chain: AuditChain) -> ColumnElement[str]:
    stored = func.json_build_object(
        literal("reason"),
        _EVENTS.c.reason,
        literal("data"),
        _EVENTS.c.data,
        literal("view_changes"),
        _EVENTS.c.view_changes,
    )
    pairs: list[object] = [literal("record"), literal(EVENT)]
    for name in CLEAR_COLUMNS:
        pairs += [literal(name), _clear(name)]
    # Before they are opened, the readable columns hold what is stored: right for every
    # event with no sealed text, and overwritten for the others.
    pairs += [
        literal("reason"),
        _EVENTS.c.reason,
        literal("data"),
        _EVENTS.c.data,
        literal("view_changes"),
        _EVENTS.c.view_changes,
        literal(STORED),
        stored,
        literal("prev_hash"),
        _EVENTS.c.prev_hash,
        literal("hash"),
        _EVENTS.c.hash,
        literal("chain"),
        literal(chain.value),
    ]
    return cast(func.json_build_object(*pairs), Text)


def _quoted(value: ColumnElement[object]) -> ColumnElement[str]:
    """A CSV cell: NULL as an empty cell, anything else quoted with its quotes doubled."""
    text = cast(value, Text)
    return func.coalesce(
        literal('"') + func.replace(text, literal('"'), literal('""')) + literal('"'), literal("")
    )


def _csv_cells(chain: AuditChain) -> ColumnElement[str]:
    """The cells of an event's CSV row after `record`, in models/payloads/audit_export's
    CSV_COLUMNS order: the clear columns, the readable ones, the stored ones, the links, the
    chain."""
    readable = [_EVENTS.c.reason, _EVENTS.c.data, _EVENTS.c.view_changes]
    cells = [
        *(_quoted(_clear(name)) for name in CLEAR_COLUMNS),
        *(_quoted(column) for column in readable),
        *(_quoted(column) for column in readable),
        _quoted(_EVENTS.c.prev_hash),
        _quoted(_EVENTS.c.hash),
        _quoted(literal(chain.value)),
    ]
    return func.concat_ws(literal(","), *cells)


def _has_sealed_text() -> ColumnElement[bool]:
    return or_(
        func.coalesce(func.starts_with(_EVENTS.c.reason, SEALED_TEXT_PREFIX), False),
        func.strpos(cast(_EVENTS.c.data, Text), SEALED_TEXT_PREFIX) > 0,
        func.strpos(cast(_EVENTS.c.view_changes, Text), SEALED_TEXT_PREFIX) > 0,
    )


async def next_cases(
    session: AsyncSession, *, scope: ExportScope, after: UUID | None, limit: int
) -> list[UUID]:
    """The scope's next `limit` cases after case `after`, by id."""
    if scope.case_id is not None:
        return [] if after is not None else [scope.case_id]
    statement = select(_PROJECTIONS.c.case_id).order_by(_PROJECTIONS.c.case_id).limit(limit)
    if scope.municipality is not None:
        statement = statement.where(_PROJECTIONS.c.municipality == scope.municipality)
    if after is not None:
        statement = statement.where(_PROJECTIONS.c.case_id > after)
    result = await session.exec(statement)  # type: ignore[call-overload]
    return list(result.scalars().all())


async def rendered_events(
    session: AsyncSession,
    *,
    scope: ExportScope,
    case_ids: Sequence[UUID],
    csv: bool,
    chain: AuditChain = AuditChain.CASE,
) -> list[RenderedEvent]:
    """The events of the chains `case_ids` (cases', or with `chain` social contracts') in the
    scope's period, by chain and seq, each rendered and labelled with `chain`."""
    if not case_ids:
        return []
    record = _json_record(chain)
    sealed_record = case((_has_sealed_text(), record), else_=None)
    statement = (
        select(
            _EVENTS.c.case_id,
            _EVENTS.c.seq,
            _EVENTS.c.prev_hash,
            _EVENTS.c.hash,
            _csv_cells(chain) if csv else record,
            sealed_record,
        )
        .where(_EVENTS.c.case_id.in_(list(case_ids)))
        .order_by(_EVENTS.c.case_id, _EVENTS.c.seq)
    )
    if scope.since is not None:
        statement = statement.where(_EVENTS.c.occurred_at >= scope.since)
    if scope.until is not None:
        statement = statement.where(_EVENTS.c.occurred_at < scope.until)
    result = await session.exec(statement)  # type: ignore[call-overload]
    return [RenderedEvent(*row) for row in result.all()]
