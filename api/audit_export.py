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
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from api.state import AppState
from models.access import AccessedData, Purpose
from models.crud.access_log import Access, log_access
from models.crud.audit_events import (
    ExportScope,
    chain_heads,
    families_of_cases,
    opened_text,
    opening_keys,
)
from models.crud.audit_export_batches import RenderedEvent, next_cases, rendered_events
from models.lifecycle.social_contract_link import contract_id_of
from models.payloads.actions import Actor
from models.payloads.audit_export import (
    CHAIN,
    CLEAR_COLUMNS,
    CSV_COLUMNS,
    EVENT,
    SOCIAL_CONTRACT,
    STORED,
    AuditChain,
    CasesDigest,
    case_record,
    contract_record,
    manifest_record,
    record_line,
)

# Cases a batch reads: about 30 events each, so some fifteen thousand events.
BATCH_CASES = 500


@dataclass
class _Case:
    """The chain whose events are being written: a case's, or (with `of_case`) its social
    contract's, `case_id` then being the contract's id."""

    case_id: UUID
    first_seq: int
    prev_hash: str
    of_case: UUID | None = None
    last_seq: int = 0
    last_hash: str = ""
    events: int = 0


class _Writer:
    """Records into text: JSON lines, or CSV rows."""

    def __init__(self, format: str) -> None:
        self.csv = format == "csv"

    def header(self) -> str:
        return self._rows([list(CSV_COLUMNS)]) if self.csv else ""

    def event(self, rendered: str) -> str:
        """An event record PostgreSQL rendered (models/crud/audit_export_batches.py)."""
        return f"{EVENT},{rendered}\r\n" if self.csv else rendered + "\n"

    def records(self, records: list[dict[str, Any]]) -> str:
        if not self.csv:
            return "".join(record_line(record) + "\n" for record in records)
        return self._rows([_csv_row(record) for record in records])

    def _rows(self, rows: list[list[Any]]) -> str:
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\r\n").writerows(rows)
        return buffer.getvalue()


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _csv_row(record: Mapping[str, Any]) -> list[Any]:
    kind = record["record"]
    if kind == "event":
        stored = record[STORED]
        return [
            kind,
            *(_cell(record[name]) for name in CLEAR_COLUMNS),
            record["reason"],
            _json(record["data"]),
            _json(record["view_changes"]),
            stored["reason"],
            _json(stored["data"]),
            _json(stored["view_changes"]),
            record["prev_hash"],
            record["hash"],
            record[CHAIN],
        ]
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


def _cell(value: Any) -> Any:
    return "" if value is None else value


@dataclass(frozen=True)
class _Batch:
    events: list[RenderedEvent]  # by case, each case's own chain then its contract's
    contracts: dict[UUID, UUID]  # the case of each contract chain among them
    heads: dict[UUID, tuple[int, str]]  # the chain head of each of its chains
    last_case: UUID | None  # where the next batch starts; None: this was the last


def _by_chain(events: list[RenderedEvent]) -> dict[UUID, list[RenderedEvent]]:
    chains: dict[UUID, list[RenderedEvent]] = {}
    for event in events:
        chains.setdefault(event.case_id, []).append(event)
    return chains


async def _read_batch(
    state: AppState, scope: ExportScope, after: UUID | None, access: Access, csv: bool
) -> _Batch:
    """The next batch of whole cases with their social contracts' chains, their chain heads,
    and the access of each case's family, logged in the read's own transaction."""
    async with state.sessions() as session, session.begin():
        cases = await next_cases(session, scope=scope, after=after, limit=BATCH_CASES)
        contract_of = {case_id: contract_id_of(case_id) for case_id in cases}
        own = _by_chain(await rendered_events(session, scope=scope, case_ids=cases, csv=csv))
        contracts = _by_chain(
            await rendered_events(
                session,
                scope=scope,
                case_ids=list(contract_of.values()),
                csv=csv,
                chain=AuditChain.SOCIAL_CONTRACT,
            )
        )
        events: list[RenderedEvent] = []
        exported: list[UUID] = []
        for case_id in cases:
            chains = [own.get(case_id, []), contracts.get(contract_of[case_id], [])]
            if any(chains):
                exported.append(case_id)
                events += chains[0] + chains[1]
        families = await families_of_cases(session, case_ids=exported)
        for case_id in exported:
            await log_access(session, access, family_ids=[families[case_id]], case_id=case_id)
        exported_contracts = {contract_of[c]: c for c in exported if contract_of[c] in contracts}
        heads = await chain_heads(session, case_ids=[*exported, *exported_contracts])
    last = cases[-1] if len(cases) == BATCH_CASES else None
    return _Batch(events, exported_contracts, heads, last)


async def stream_export(
    state: AppState,
    *,
    scope: ExportScope,
    scope_record: Mapping[str, Any],
    actor: Actor,
    purpose: Purpose,
    format: str,
) -> AsyncIterator[str]:
    """The export's text, batch by batch, ending with the manifest. The next batch is read
    while this one is opened and written: PostgreSQL's work and ours overlap."""
    writer = _Writer(format)
    digest = CasesDigest()
    access = Access.by(actor, AccessedData.AUDIT_EXPORT, purpose)
    generated_at = datetime.now(UTC)
    cases = contracts = events = 0
    yield writer.header()
    batch = await _read_batch(state, scope, None, access, writer.csv)
    while True:
        following = (
            None
            if batch.last_case is None
            else asyncio.ensure_future(
                _read_batch(state, scope, batch.last_case, access, writer.csv)
            )
        )
        try:
            opened = await _opened_records(state, batch.events)
            parts: list[str] = []
            current: _Case | None = None
            for event in batch.events:
                if current is not None and current.case_id != event.case_id:
                    parts.append(writer.records([_closed(current, batch.heads, digest)]))
                    current = None
                if current is None:
                    of_case = batch.contracts.get(event.case_id)
                    current = _Case(event.case_id, event.seq, event.prev_hash, of_case)
                    if of_case is None:
                        cases += 1
                    else:
                        contracts += 1
                record = opened.get((event.case_id, event.seq))
                parts.append(
                    writer.event(event.text) if record is None else writer.records([record])
                )
                current.last_seq, current.last_hash = event.seq, event.hash
                current.events += 1
            if current is not None:
                parts.append(writer.records([_closed(current, batch.heads, digest)]))
            events += len(batch.events)
            if following is None:
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
                yield "".join(parts)
                return
            yield "".join(parts)
            batch = await following
        finally:
            if following is not None and not following.done():
                following.cancel()  # the client went away mid-export


async def _opened_records(
    state: AppState, events: list[RenderedEvent]
) -> dict[tuple[UUID, int], dict[str, Any]]:
    """The records of the events whose stored text is sealed, opened (one key lookup)."""
    records = [json.loads(event.sealed_record) for event in events if event.sealed_record]
    stored = [
        {"case_id": record["case_id"], "seq": record["seq"], **record[STORED]} for record in records
    ]
    keys = await opening_keys(state.keys, stored)
    for record, row in zip(records, stored, strict=True):
        record.update(opened_text(row, keys))
    return {(UUID(record["case_id"]), record["seq"]): record for record in records}


def _closed(
    case: _Case, heads: Mapping[UUID, tuple[int, str]], digest: CasesDigest
) -> dict[str, Any]:
    head = heads.get(case.case_id)
    chain_head = None if head is None else {"seq": head[0], "hash": head[1]}
    if case.of_case is None:
        record = case_record(
            case_id=str(case.case_id),
            first_seq=case.first_seq,
            last_seq=case.last_seq,
            events=case.events,
            prev_hash=case.prev_hash,
            last_hash=case.last_hash,
            chain_head=chain_head,
        )
    else:
        record = contract_record(
            contract_id=str(case.case_id),
            case_id=str(case.of_case),
            first_seq=case.first_seq,
            last_seq=case.last_seq,
            events=case.events,
            prev_hash=case.prev_hash,
            last_hash=case.last_hash,
            chain_head=chain_head,
        )
    digest.add(record)
    return record
