"""Streaming an audit export (models/payloads/audit_export.py for its records): keyset
batches of stored events, each batch's sealed text opened with one key lookup, written as
JSON lines or CSV, and the access of each family whose events a batch carries logged in that
batch's transaction. Memory stays constant at any size: one batch, and the case at hand."""

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
    StoredRow,
    chain_heads,
    export_batch,
    families_of_cases,
    opened_text,
    opening_keys,
)
from models.payloads.actions import Actor
from models.payloads.audit_export import (
    CLEAR_COLUMNS,
    CSV_COLUMNS,
    STORED,
    CasesDigest,
    case_record,
    event_record,
    manifest_record,
    record_line,
)

BATCH = 5000


@dataclass
class _Case:
    """The case whose events are being written."""

    case_id: UUID
    first_seq: int
    prev_hash: str
    last_seq: int = 0
    last_hash: str = ""
    events: int = 0


class _Writer:
    """Records into text: JSON lines, or CSV rows."""

    def __init__(self, format: str) -> None:
        self.csv = format == "csv"

    def header(self) -> str:
        return self._rows([list(CSV_COLUMNS)]) if self.csv else ""

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
        ]
    row: list[Any] = [""] * len(CSV_COLUMNS)
    row[0] = kind
    if kind == "case":
        row[1], row[2] = record["case_id"], record["last_seq"]
        row[CSV_COLUMNS.index("prev_hash")] = record["prev_hash"]
        row[CSV_COLUMNS.index("hash")] = record["last_hash"]
    row[CSV_COLUMNS.index("data")] = _json(record)
    return row


def _cell(value: Any) -> Any:
    return "" if value is None else value


@dataclass(frozen=True)
class _Batch:
    rows: list[StoredRow]
    heads: dict[UUID, tuple[int, str]]  # the chain head of each of its cases


async def _read_batch(
    state: AppState,
    scope: ExportScope,
    after: tuple[UUID, int] | None,
    access: Access,
    logged: set[UUID],
) -> _Batch:
    """The next batch, its cases' chain heads, and the access of each family whose events it
    carries first (`logged`: the cases of the batch before, a case spanning batches), logged
    in the read's own transaction."""
    async with state.sessions() as session, session.begin():
        rows = await export_batch(session, scope=scope, after=after, limit=BATCH)
        cases = list(dict.fromkeys(row["case_id"] for row in rows))
        new_cases = [case_id for case_id in cases if case_id not in logged]
        families = await families_of_cases(session, case_ids=new_cases)
        for case_id in new_cases:
            await log_access(session, access, family_ids=[families[case_id]], case_id=case_id)
        heads = await chain_heads(session, case_ids=cases)
    return _Batch(rows, heads)


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
    current: _Case | None = None
    current_head: tuple[int, str] | None = None
    cases = events = 0
    yield writer.header()
    batch = await _read_batch(state, scope, None, access, set())
    while True:
        rows = batch.rows
        more = len(rows) == BATCH
        following = (
            asyncio.ensure_future(
                _read_batch(
                    state,
                    scope,
                    (rows[-1]["case_id"], rows[-1]["seq"]),
                    access,
                    {row["case_id"] for row in rows},
                )
            )
            if more
            else None
        )
        try:
            keys = await opening_keys(state.keys, rows)
            records: list[dict[str, Any]] = []
            for row in rows:
                if current is not None and current.case_id != row["case_id"]:
                    records.append(_closed(current, current_head, digest))
                    cases += 1
                    current = None
                if current is None:
                    current = _Case(row["case_id"], row["seq"], row["prev_hash"])
                    current_head = batch.heads.get(current.case_id)
                records.append(event_record(row, opened_text(row, keys)))
                current.last_seq, current.last_hash = row["seq"], row["hash"]
                current.events += 1
            events += len(rows)
            if following is None:
                if current is not None:
                    records.append(_closed(current, current_head, digest))
                    cases += 1
                records.append(
                    manifest_record(
                        scope=scope_record,
                        generated_at=generated_at,
                        exported_by={
                            "staff_id": actor.staff_id,
                            "role": actor.role.value,
                            "purpose": str(purpose),
                        },
                        cases=cases,
                        events=events,
                        cases_digest=digest.hexdigest(),
                    )
                )
                yield writer.records(records)
                return
            yield writer.records(records)
            batch = await following
        finally:
            if following is not None and not following.done():
                following.cancel()  # the client went away mid-export


def _closed(case: _Case, head: tuple[int, str] | None, digest: CasesDigest) -> dict[str, Any]:
    record = case_record(
        case_id=str(case.case_id),
        first_seq=case.first_seq,
        last_seq=case.last_seq,
        events=case.events,
        prev_hash=case.prev_hash,
        last_hash=case.last_hash,
        chain_head=None if head is None else {"seq": head[0], "hash": head[1]},
    )
    digest.add(record)
    return record
