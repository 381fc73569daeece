"""Streaming an audit export (models/payloads/audit_export.py for its records): batches of
whole cases whose events PostgreSQL renders (models/crud/audit_export_batches.py), each case's
social contract's chain right after the case's own, the sealed ones opened with one key lookup
a batch, written as JSON lines or CSV, and the access of each family whose events a batch
carries logged in that batch's transaction. Memory stays constant at any size: one batch (a
few hundred cases and their contracts) at a time."""

import asyncio
import csv
import io
import json
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from contextlib import aclosing
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from api.state import AppState
from infra.sealing.columns import SEALED_TEXT_PREFIX, OpeningKeys, key_ids_in_text
from models.access import AccessedData, Purpose
from models.crud.access_log import Access, log_case_accesses
from models.crud.audit_events import (
    ExportScope,
    chain_heads,
    families_of_cases,
    keys_named,
    opened_json_text,
    opened_reason,
)
from models.crud.audit_export_batches import (
    RenderedRun,
    batch_settings,
    next_cases,
    rendered_runs,
)
from models.lifecycle.social_contract_link import contract_id_of
from models.payloads.actions import Actor
from models.payloads.audit_export import (
    CHAIN,
    CSV_COLUMNS,
    SOCIAL_CONTRACT,
    AuditChain,
    CasesDigest,
    chain_record,
    manifest_record,
    record_line,
)

# Cases a batch reads: about 30 events each, so some three thousand events and a few MB of
# text; two batches are held at a time (one written, the next read).
BATCH_CASES = 100

# Batches being read at once while one is written: with one, PostgreSQL sat idle whenever the
# API was late to drain a batch it had rendered (a batch's text outgrows the socket's buffer).
READ_AHEAD = 2

# The text is handed on in pieces of about this size, whole cases each, rather than a batch
# (some 16 MB) at once: one copy of a batch fewer in memory, and the client's socket kept busy.
CHUNK_BYTES = 2**20

# Opening is CPU work without an await: every so many events it hands the loop over, so the
# next batch's read (several statements, each sent when the loop runs it) keeps PostgreSQL
# busy meanwhile. Without it the read progressed one statement per batch written.
_YIELD_EVERY = 50

# An event's readable reason, data and view_changes (JSON text), as written between the two
# pieces PostgreSQL rendered.
Readable = tuple[str | None, str | None, str | None]


@dataclass
class _Case:
    """The chain whose events are being written: a case's, or (with `of_case`) its social
    contract's, `case_id` then being the contract's id."""

    case_id: UUID
    first_seq: int
    prev_hash: str
    of_case: UUID | None = None
    last_seq: int = 0
    last_hash: bytes = b""  # as PostgreSQL sent it (UTF-8), decoded once the chain closes
    events: int = 0


class _Writer:
    """Records into text: JSON lines, or CSV rows."""

    def __init__(self, format: str) -> None:
        self.csv = format == "csv"

    def header(self) -> bytes:
        return self._rows([list(CSV_COLUMNS)]) if self.csv else b""

    def events(self, run: RenderedRun, readable: Readable | None) -> bytes:
        """The event records PostgreSQL rendered (models/crud/audit_export_batches.py), with
        the readable columns of an event with sealed text written between its two pieces.
        Bytes, UTF-8: PostgreSQL's text goes out as it came, never decoded."""
        end = b"\r\n" if self.csv else b"\n"
        if run.tail is None or readable is None:
            return run.text + end
        reason, data, view_changes = readable
        if self.csv:
            cells = ",".join((_csv_cell(reason), _csv_cell(data), _csv_cell(view_changes)))
        else:
            cells = (
                f'"reason":{_json_string(reason)},"data":{_json_text(data)},'
                f'"view_changes":{_json_text(view_changes)}'
            )
        return b"".join((run.text, b",", cells.encode(), b",", run.tail, end))

    def records(self, records: list[dict[str, Any]]) -> bytes:
        if not self.csv:
            return "".join(record_line(record) + "\n" for record in records).encode()
        return self._rows([_csv_row(record) for record in records])

    def _rows(self, rows: list[list[Any]]) -> bytes:
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\r\n").writerows(rows)
        return buffer.getvalue().encode()


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _json_string(text: str | None) -> str:
    """`_json` of a string or None, without building an encoder for each (json.dumps does,
    given any option)."""
    return "null" if text is None else _encode_string(text)


_encode_string = json.encoder.encode_basestring


def _json_text(text: str | None) -> str:
    return "null" if text is None else text


def _csv_cell(text: str | None) -> str:
    """As PostgreSQL writes a cell (models/crud/audit_export_batches.py): NULL empty, any
    other value quoted, its quotes doubled."""
    return "" if text is None else '"' + text.replace('"', '""') + '"'


def _csv_row(record: Mapping[str, Any]) -> list[Any]:
    """A `case` or `manifest` record's CSV row: the record as JSON in `data`."""
    kind = record["record"]
    row: list[Any] = [""] * len(CSV_COLUMNS)
    row[0] = kind
    if kind in ("case", SOCIAL_CONTRACT):
        chain = AuditChain.CASE if kind == "case" else AuditChain.SOCIAL_CONTRACT
        row[1] = record["case_id"] if kind == "case" else record["contract_id"]
        row[2] = record["last_seq"]
        row[CSV_COLUMNS.index("prev_hash")] = record["prev_hash"]
        row[CSV_COLUMNS.index("hash")] = record["last_hash"]
        row[CSV_COLUMNS.index(CHAIN)] = chain.value
    row[CSV_COLUMNS.index("data")] = _json(record)
    return row


@dataclass(frozen=True)
class _Batch:
    runs: list[RenderedRun]  # by case, each case's own chain then its contract's
    contracts: dict[UUID, UUID]  # the case of each contract chain among them
    heads: dict[UUID, tuple[int, str]]  # the chain head of each of its chains


def _by_chain(runs: list[RenderedRun]) -> dict[UUID, list[RenderedRun]]:
    chains: dict[UUID, list[RenderedRun]] = {}
    for run in runs:
        chains.setdefault(run.case_id, []).append(run)
    return chains


async def _read_batch(
    state: AppState, scope: ExportScope, cases: list[UUID], access: Access, csv: bool
) -> _Batch:
    """The batch of whole cases `cases` with their social contracts' chains, their chain
    heads, and the access of each case's family, logged in the read's own transaction."""
    async with state.sessions() as session, session.begin():
        await batch_settings(session)
        contract_of = {case_id: contract_id_of(case_id) for case_id in cases}
        chains_read = await rendered_runs(
            session, scope=scope, case_ids=cases, contract_ids=list(contract_of.values()), csv=csv
        )
        by_chain = _by_chain(chains_read)
        runs: list[RenderedRun] = []
        exported: list[UUID] = []
        for case_id in cases:
            chains = [by_chain.get(case_id, []), by_chain.get(contract_of[case_id], [])]
            if any(chains):
                exported.append(case_id)
                runs += chains[0] + chains[1]
        families = await families_of_cases(session, case_ids=exported)
        await log_case_accesses(session, access, families)
        exported_contracts = {contract_of[c]: c for c in exported if contract_of[c] in by_chain}
        heads = await chain_heads(session, case_ids=[*exported, *exported_contracts])
    return _Batch(runs, exported_contracts, heads)


async def _batches(
    state: AppState, scope: ExportScope, access: Access, csv: bool
) -> AsyncGenerator[tuple[_Batch, bool]]:
    """The export's batches in order, each with whether it is the last, `READ_AHEAD` of them
    being read (each in its own transaction, as one at a time was) while one is written."""
    reading: deque[asyncio.Future[_Batch]] = deque()
    after: UUID | None = None
    listed_all = False

    async def read_next() -> None:
        nonlocal after, listed_all
        async with state.reads() as session:
            cases = await next_cases(session, scope=scope, after=after, limit=BATCH_CASES)
        listed_all = len(cases) < BATCH_CASES
        after = cases[-1] if cases else after
        reading.append(asyncio.ensure_future(_read_batch(state, scope, cases, access, csv)))

    try:
        while True:
            while not listed_all and len(reading) < READ_AHEAD:
                await read_next()
            batch = await reading.popleft()
            # The next one queued before this one is written: PostgreSQL always has a batch
            # to render, also while the API drains the one it sent.
            while not listed_all and len(reading) < READ_AHEAD:
                await read_next()
            last = listed_all and not reading
            yield batch, last
            if last:
                return
    finally:
        for future in reading:
            future.cancel()  # the client went away mid-export


async def stream_export(
    state: AppState,
    *,
    scope: ExportScope,
    scope_record: Mapping[str, Any],
    actor: Actor,
    purpose: Purpose,
    format: str,
) -> AsyncIterator[bytes]:
    """The export's text (UTF-8), in pieces of whole cases, ending with the manifest. The next
    batch is read while this one is opened and written: PostgreSQL's work and ours overlap."""
    writer = _Writer(format)
    digest = CasesDigest()
    access = Access.by(actor, AccessedData.AUDIT_EXPORT, purpose)
    generated_at = datetime.now(UTC)
    cases = contracts = events = 0
    yield writer.header()
    # Closed with the export (a client gone mid-export): its reads cancelled there and then.
    async with aclosing(_batches(state, scope, access, writer.csv)) as batches:
        async for batch, last in batches:
            readable = iter(await _readable(state, batch.runs))
            parts: list[bytes] = []
            size = 0
            current: _Case | None = None
            for run in batch.runs:
                if current is not None and current.case_id != run.case_id:
                    parts.append(writer.records([_closed(current, batch.heads, digest)]))
                    current = None
                    if size >= CHUNK_BYTES:
                        # The loop's turn first: the next batch's read sends its next
                        # statement (a consumer that needs no await would not give it one).
                        await asyncio.sleep(0)
                        yield b"".join(parts)
                        parts, size = [], 0
                if current is None:
                    of_case = batch.contracts.get(run.case_id)
                    prev_hash = run.prev_hash.decode()
                    current = _Case(run.case_id, run.first_seq, prev_hash, of_case)
                    if of_case is None:
                        cases += 1
                    else:
                        contracts += 1
                parts.append(writer.events(run, None if run.tail is None else next(readable)))
                size += len(parts[-1])
                current.last_seq, current.last_hash = run.last_seq, run.hash
                current.events += run.events
                events += run.events
            if current is not None:
                parts.append(writer.records([_closed(current, batch.heads, digest)]))
            if last:
                manifest = manifest_record(
                    scope=scope_record,
                    generated_at=generated_at,
                    exported_by={
                        "staff_id": actor.staff_id,
                        "role": actor.role.value,
                        "purpose": str(purpose),
                    },
                    cases=cases,
                    social_contracts=contracts,
                    events=events,
                    cases_digest=digest.hexdigest(),
                )
                parts.append(writer.records([manifest]))
            yield b"".join(parts)


async def _readable(state: AppState, runs: list[RenderedRun]) -> list[Readable]:
    """The readable columns of the events whose stored text is sealed, in their order: each
    column holding sealed text opened (one key lookup for the batch, by the key ids in the
    text, found in one pass over all of it), any other passed on as PostgreSQL wrote it."""
    sealed = [
        (run.case_id, run.first_seq, _text(run.reason), _text(run.data), _text(run.view_changes))
        for run in runs
        if run.tail is not None
    ]
    texts = [text for event in sealed for text in event[2:] if text is not None]
    keys = await keys_named(state.keys, key_ids_in_text("\n".join(texts)))
    readable: list[Readable] = []
    for number, (case_id, seq, reason, data, view_changes) in enumerate(sealed, start=1):
        if number % _YIELD_EVERY == 0:
            await asyncio.sleep(0)  # let the next batch's read send its next statement
        readable.append(
            (
                opened_reason(reason, keys, case_id=case_id, seq=seq),
                _json_column(data, keys, "data", case_id, seq),
                _json_column(view_changes, keys, "view_changes", case_id, seq),
            )
        )
    return readable


def _text(value: bytes | None) -> str | None:
    return None if value is None else value.decode()


def _json_column(
    text: str | None, keys: OpeningKeys, column: str, case_id: UUID, seq: int
) -> str | None:
    """A JSON column's readable text: opened when it holds sealed text, else as stored."""
    if text is None or SEALED_TEXT_PREFIX not in text:
        return text
    return opened_json_text(text, keys, column=column, case_id=case_id, seq=seq)


def _closed(
    case: _Case, heads: Mapping[UUID, tuple[int, str]], digest: CasesDigest
) -> dict[str, Any]:
    head = heads.get(case.case_id)
    chain_head = None if head is None else {"seq": head[0], "hash": head[1]}
    record = chain_record(
        chain_id=str(case.case_id),
        of_case=None if case.of_case is None else str(case.of_case),
        first_seq=case.first_seq,
        last_seq=case.last_seq,
        events=case.events,
        prev_hash=case.prev_hash,
        last_hash=case.last_hash.decode(),
        chain_head=chain_head,
    )
    digest.add(record)
    return record
