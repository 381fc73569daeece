"""The events of an audit export, read in batches of whole cases and rendered by PostgreSQL.

An export runs to millions of events, and building each record in Python (decoding every
JSONB column, then encoding it again) held it to a few thousand a second. PostgreSQL renders
each event's record itself (its JSON line, or its CSV row), in C, beside the index scan; we
only pass the text on.

An event with no sealed text is stored as it reads: its record carries its columns once, and
`stored` null (in CSV, empty stored cells), which the offline check reads as "the readable
columns are the stored ones" (models/payloads/audit_export.py). Carrying them twice doubled
every line, and the export's time is mostly the bytes it moves.

An event whose stored text is sealed comes back in pieces: the record up to its readable
columns and the record after them (`stored` and the links), both rendered, and the three
stored columns as text. Python opens only the columns holding sealed text and writes them
between the two pieces; the rest of the record is never parsed.

The text PostgreSQL writes is the same record in another spelling: the JSON columns as jsonb
writes them (spaces after `:` and `,`), CSV with every cell quoted; a JSON or CSV reader sees
no difference, and `kurator audit verify-export` hashes the parsed values
(infra/audit/export_check.py).

Batches are whole cases (the municipality's next cases by id, then, in one statement, all
their events in the scope and those of their social contracts: chains of their own, keyed by
ids derived from the cases'), so a case's events and its contract's never span two batches,
and each batch is two short index scans whatever the size of the municipality or the oblast.
Every event record names its chain (`chain`: `case` or `social_contract`).
"""

from collections.abc import Sequence
from functools import lru_cache
from typing import Any, NamedTuple
from uuid import UUID

from psycopg.types.string import ByteaBinaryLoader
from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Integer,
    Select,
    Text,
    Uuid,
    and_,
    any_,
    bindparam,
    case,
    cast,
    false,
    func,
    literal,
    or_,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.dialects.postgresql.psycopg import dialect as psycopg_dialect
from sqlalchemy.sql.elements import KeyedColumnElement
from sqlmodel.ext.asyncio.session import AsyncSession

from infra.sealing.columns import SEALED_TEXT_PREFIX
from models.crud.audit_events import ExportScope
from models.crud.inserts import table_of
from models.payloads.audit_export import CHAIN, CLEAR_COLUMNS, EVENT, STORED, AuditChain
from models.tables.case_event import CaseEvent
from models.tables.case_projection import CaseProjection

_EVENTS = table_of(CaseEvent)
_PROJECTIONS = table_of(CaseProjection)
_TIME_COLUMNS = frozenset({"occurred_at", "recorded_at"})
# The chain's canonical time (models/payloads/audit_export.canonical_time), in PostgreSQL.
_CANONICAL_TIME = 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'


class RenderedRun(NamedTuple):
    """Consecutive exported events of one case as text: a run of events with no sealed text
    (their records joined by the line break, which PostgreSQL writes as one string), or one
    event with sealed text (in pieces). Python's work is then per run and per sealed event,
    not per event. A row as the driver makes it (a tuple), not an object built per row: a
    batch holds a few thousand, and building them was a tenth of the API's time.

    Text comes as the bytes PostgreSQL sent (UTF-8): the records go out as they came, and
    what Python reads of them (a chain's first and last links, sealed text) is decoded where
    it is read."""

    case_id: UUID
    first_seq: int
    last_seq: int
    events: int
    prev_hash: bytes  # the link before the run's first event
    hash: bytes  # the run's last event's
    # The records (without the last line break); for an event with sealed text, the part of
    # its record before the readable columns.
    text: bytes
    # Only for an event with sealed text (None otherwise): its record after the readable
    # columns (`"stored": …, "prev_hash": …, "hash": …}` in JSON, or the CSV cells after), and
    # its three stored columns (JSON columns as JSON text).
    tail: bytes | None
    reason: bytes | None
    data: bytes | None
    view_changes: bytes | None


# The columns of the events' subquery (the events, and whether each holds sealed text).
_Columns = dict[str, KeyedColumnElement[object]]


def _clear(c: _Columns, name: str) -> ColumnElement[object]:
    column = c[name]
    if name in _TIME_COLUMNS:
        return func.to_char(func.timezone("UTC", column), _CANONICAL_TIME)
    return column


def _json_value(value: ColumnElement[Any]) -> ColumnElement[str]:
    return func.coalesce(cast(func.to_json(value), Text), literal("null"))


def _json_text(column: ColumnElement[Any]) -> ColumnElement[str]:
    """A JSON column already cast to text, `null` for NULL."""
    return func.coalesce(column, literal("null"), type_=Text)


def _clear_json(c: _Columns, name: str) -> ColumnElement[str]:
    """A clear column as JSON text. Ids and numbers are written as their text (they need no
    escaping), other strings through `to_json`: building the head this way costs a quarter
    less than `json_build_object`, which looks up each value's type for every row."""
    column = c[name]
    if isinstance(column.type, Uuid):
        return func.coalesce(_joined('"', cast(column, Text), '"'), literal("null"))
    if isinstance(column.type, Integer):
        return func.coalesce(cast(column, Text), literal("null"))
    return _json_value(_clear(c, name))


def _joined(*parts: ColumnElement[Any] | str) -> ColumnElement[str]:
    """The parts joined by `||` (none may be NULL): cheaper than `concat`'s variadic call."""
    pieces = [literal(part, Text) if isinstance(part, str) else part for part in parts]
    joined = pieces[0]
    for piece in pieces[1:]:
        joined = joined.concat(piece)
    return joined


def _json_pieces(
    c: _Columns,
) -> tuple[ColumnElement[str], ColumnElement[str], ColumnElement[str]]:
    """An event's whole JSON line when it holds no sealed text, and, when it does, the line
    up to its readable columns (the comma before them is the writer's) and after them (from
    `stored`), labelled with its `chain`. Compact, as `record_line` writes JSON; only the
    JSON columns keep jsonb's spelling.
    The JSON columns come as text already (the test for sealed text needed it): spliced in,
    not rendered a second time."""
    head: list[ColumnElement[str] | str] = [f'{{"record":"{EVENT}"']
    for name in CLEAR_COLUMNS:
        head += [f',"{name}":', _clear_json(c, name)]
    columns = (
        '"reason":',
        _json_value(c["reason"]),
        ',"data":',
        _json_text(c["data"]),
        ',"view_changes":',
        _json_text(c["view_changes"]),
    )
    links = (
        '"prev_hash":',
        _json_value(c["prev_hash"]),
        ',"hash":',
        _json_value(c["hash"]),
        f',"{CHAIN}":"',
        c[CHAIN],
        '"}',
    )
    whole = _joined(*head, ",", *columns, f',"{STORED}":null,', *links)
    tail = _joined(f'"{STORED}":{{', *columns, "},", *links)
    return whole, _joined(*head), tail


def _quoted(value: ColumnElement[object]) -> ColumnElement[str]:
    """A CSV cell: NULL as an empty cell, anything else quoted with its quotes doubled."""
    text = cast(value, Text)
    return func.coalesce(
        literal('"') + func.replace(text, literal('"'), literal('""')) + literal('"'), literal("")
    )


def _cells(cells: Sequence[ColumnElement[str]]) -> ColumnElement[str]:
    return func.concat_ws(literal(","), *cells)


def _csv_pieces(
    c: _Columns,
) -> tuple[ColumnElement[str], ColumnElement[str], ColumnElement[str]]:
    """As `_json_pieces`, the cells of an event's CSV row, in
    models/payloads/audit_export's CSV_COLUMNS order: the clear columns, the readable ones,
    the stored ones (empty when they read as stored), the links, the chain."""
    clear = [_quoted(_clear(c, name)) for name in CLEAR_COLUMNS]
    # The stored columns: the readable cells of an event with no sealed text (its stored
    # cells empty), the stored cells of one with.
    stored = [_quoted(c[name]) for name in ("reason", "data", "view_changes")]
    links = [_quoted(c["prev_hash"]), _quoted(c["hash"]), _quoted(c[CHAIN])]
    empty = [literal("")] * len(stored)
    kind = literal(EVENT)
    return (
        _cells([kind, *clear, *stored, *empty, *links]),
        _cells([kind, *clear]),
        _cells([*stored, *links]),
    )


def _has_sealed_text(c: _Columns) -> ColumnElement[bool]:
    return or_(
        func.coalesce(func.starts_with(c["reason"], SEALED_TEXT_PREFIX), false()),
        func.strpos(c["data"], SEALED_TEXT_PREFIX) > 0,
        func.coalesce(func.strpos(c["view_changes"], SEALED_TEXT_PREFIX) > 0, false()),
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


async def rendered_runs(
    session: AsyncSession,
    *,
    scope: ExportScope,
    case_ids: Sequence[UUID],
    contract_ids: Sequence[UUID] = (),
    csv: bool,
) -> list[RenderedRun]:
    """The events of the chains `case_ids` and `contract_ids` (social contracts') in the
    scope's period, by chain and seq, rendered in runs, each labelled with its `chain`: in one
    statement, one round trip a batch fewer than a statement for each kind."""
    if not case_ids and not contract_ids:
        return []
    sql, constants = _runs_sql(csv, scope.since is not None, scope.until is not None)
    parameters: dict[str, Any] = {
        **constants,
        "chain_ids": [*case_ids, *contract_ids],
        "contract_ids": list(contract_ids),
    }
    if scope.since is not None:
        parameters["since"] = scope.since
    if scope.until is not None:
        parameters["until"] = scope.until
    pooled = await (await session.connection()).get_raw_connection()
    connection = pooled.driver_connection
    assert connection is not None  # checked out: the session's transaction holds it
    # The driver's own cursor, past SQLAlchemy's rows (a fifth of the export's time once), in
    # binary: every column then has a loader in C (text as the bytes PostgreSQL sent, through
    # bytea's), where text in the text format needed one in Python, called for every value.
    async with connection.cursor(binary=True) as cursor:
        for name in ("text", "varchar"):  # the records; the links and reason (varchar)
            cursor.adapters.register_loader(name, ByteaBinaryLoader)
        await cursor.execute(sql, parameters)
        rows = await cursor.fetchall()
    return list(map(RenderedRun._make, rows))


async def batch_settings(session: AsyncSession) -> None:
    """For the rest of the session's transaction (a batch's read), statements run as an export
    wants them:

    - in one process: for a batch's few thousand rows PostgreSQL planned two parallel
      workers, whose start cost more than they saved (14.9 against 17.8 µs an event, measured
      alone) and took the API's core;
    - with the runs sorted whole before the first is sent (no incremental sort, and the
      memory for it): PostgreSQL then renders the whole batch while the API is still busy
      opening and writing the one before, instead of stalling on a full socket that the API
      drains only between its own steps, a few hundred KB at a time."""
    await session.exec(_BATCH_SETTINGS)  # type: ignore[call-overload]


_BATCH_SETTINGS = text(
    "SELECT set_config('max_parallel_workers_per_gather', '0', true), "
    "set_config('enable_incremental_sort', 'off', true), set_config('work_mem', '32MB', true)"
)


@lru_cache(maxsize=4)
def _runs_sql(csv: bool, since: bool, until: bool) -> tuple[str, dict[str, Any]]:
    """`_runs_statement` as the driver's SQL and the values of its constant parameters."""
    dialect = psycopg_dialect()  # type: ignore[no-untyped-call]
    compiled = _runs_statement(csv, since, until).compile(dialect=dialect)
    constants = {
        name: value
        for name, value in compiled.params.items()
        if name not in ("chain_ids", "contract_ids", "since", "until")
    }
    return str(compiled), constants


@lru_cache(maxsize=4)
def _runs_statement(csv: bool, since: bool, until: bool) -> Select[Any]:
    """The statement of `rendered_runs`, built once: its construction and cache key cost a
    few milliseconds a batch. Parameters: `chain_ids` (all), `contract_ids` (those of
    social contracts), and `since`/`until` when asked for."""
    conditions: list[ColumnElement[bool]] = [
        _EVENTS.c.case_id == any_(bindparam("chain_ids", type_=ARRAY(Uuid())))
    ]
    of_contract = _EVENTS.c.case_id == any_(bindparam("contract_ids", type_=ARRAY(Uuid())))
    chain = case(
        (of_contract, literal(AuditChain.SOCIAL_CONTRACT.value)),
        else_=literal(AuditChain.CASE.value),
    )
    if since:
        conditions.append(_EVENTS.c.occurred_at >= bindparam("since"))
    if until:
        conditions.append(_EVENTS.c.occurred_at < bindparam("until"))
    # Sorted first, rendered last: the sort then moves the stored columns, not their
    # rendering beside them. The JSON columns as text, once: the test for sealed text reads
    # them and the records splice them in. OFFSET 0 keeps PostgreSQL from folding this
    # subquery into the next, which would cast them again at every use.
    stored = [
        *(_EVENTS.c[name] for name in (*CLEAR_COLUMNS, "reason", "prev_hash", "hash")),
        cast(_EVENTS.c.data, Text).label("data"),
        cast(_EVENTS.c.view_changes, Text).label("view_changes"),
        chain.label(CHAIN),
    ]
    sorted_events = (
        select(*stored)
        .where(and_(*conditions))
        .order_by(_EVENTS.c.case_id, _EVENTS.c.seq)
        .offset(0)
        .subquery()
    )
    columns: _Columns = {column.key: column for column in sorted_events.c}
    events = select(sorted_events, _has_sealed_text(columns).label("sealed")).subquery()
    # The runs, numbered by one window over each case: with `s` the events with sealed text
    # up to this one, an event with sealed text is run 2s (alone), and the events after it up
    # to the next with sealed text are run 2s + 1 (the first ones, run 1).
    sealed_so_far = (
        func.count()
        .filter(events.c.sealed)
        .over(partition_by=events.c.case_id, order_by=events.c.seq, rows=(None, 0))
    )
    run = 2 * sealed_so_far + case((events.c.sealed, 0), else_=1)
    numbered = select(events, run.label("run")).subquery()
    c: _Columns = {column.key: column for column in numbered.c}
    whole, head, tail = _csv_pieces(c) if csv else _json_pieces(c)
    sealed, seq = c["sealed"], c["seq"]

    def if_sealed(value: ColumnElement[Any]) -> ColumnElement[Any]:
        # One event in a run with sealed text: `max` is that event's value.
        return func.max(case((sealed, value), else_=None))

    return (
        select(
            c["case_id"],
            func.min(seq),
            func.max(seq),
            func.count(),
            func.array_agg(aggregate_order_by(c["prev_hash"], seq.asc()))[1],
            func.array_agg(aggregate_order_by(c["hash"], seq.asc()))[func.count()],
            func.string_agg(
                case((sealed, head), else_=whole),
                aggregate_order_by(literal("\r\n" if csv else "\n"), seq.asc()),
            ),
            if_sealed(tail),
            if_sealed(c["reason"]),
            if_sealed(c["data"]),
            if_sealed(c["view_changes"]),
        )
        .group_by(c["case_id"], c["run"])
        # Not by `run` (the group key, which would spare PostgreSQL a sort): the sort makes it
        # render the whole batch before sending any, so it never waits on the API to read.
        .order_by(c["case_id"], func.min(seq))
    )
