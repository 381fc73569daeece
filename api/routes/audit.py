"""The ministry's audit of case histories (issue 11): a case's whole lifecycle with the
verdict of its hash chain, the state it had at any moment, and exports of a case or of a
municipality's period as JSON lines or CSV, streamed, with a manifest for offline checking
(`kurator audit verify-export`).

Open to the ministry (every territory) and to a centre's head (their own); a specialist or a
supervisor is refused. Every read needs an `X-Purpose` and is recorded in the family's access
log (what: audit_history, audit_state, audit_export). The audit reads PostgreSQL only, never
Temporal: it outlives Temporal's retention of closed workflow histories.
"""

import heapq
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Query, Response
from fastapi.responses import StreamingResponse
from pydantic import AwareDatetime, ValidationError
from pydantic_core import to_json
from sqlmodel.ext.asyncio.session import AsyncSession

from api.audit_export import stream_export
from api.deps import (
    AddressedCase,
    CaseIdPath,
    CurrentActor,
    State,
    case_not_found,
    sees,
    territory,
)
from api.errors import ApiError, error_responses
from api.model_response import model_response
from api.purpose import RequestPurpose
from api.routes.cases import for_caller
from infra.audit.chain import check_chain
from infra.sealing.columns import OpeningKeys
from models.access import AccessedData, Purpose
from models.crud.access_log import Access, log_access
from models.crud.audit_events import (
    ExportScope,
    StoredRow,
    opened_text,
    opening_keys,
    state_until,
)
from models.crud.audit_history import audited_history
from models.crud.case_projections import CaseAddress
from models.crud.families import locate_family
from models.lifecycle.social_contract_link import contract_id_of
from models.payloads.actions import Actor
from models.payloads.audit import AuditEvent, AuditHistory, ChainVerdict
from models.payloads.audit_export import AuditChain, canonical_time
from models.payloads.case_view import CaseView
from models.payloads.fields import MUNICIPALITY_CODE_PATTERN
from models.payloads.vocabulary import StaffRole
from models.territory import MUNICIPALITY_CODES
from workflows.ids import family_key_of

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])

_AUDITORS = (StaffRole.MINISTRY, StaffRole.HEAD)


async def auditor(actor: CurrentActor) -> Actor:
    """The caller, if their role audits case histories."""
    if actor.role not in _AUDITORS:
        raise ApiError(
            403,
            "forbidden",
            f"a {actor.role.value} does not audit case histories: the ministry and centre heads do",
        )
    return actor


# Declared before the case, so that a refused role is told so whatever the case id.
Auditor = Annotated[Actor, Depends(auditor)]


class ExportFormat(StrEnum):
    JSONL = "jsonl"
    CSV = "csv"


_MEDIA_TYPES = {ExportFormat.JSONL: "application/x-ndjson", ExportFormat.CSV: "text/csv"}

FormatQuery = Annotated[
    ExportFormat, Query(alias="format", description="`jsonl` (JSON lines) or `csv`.")
]
Since = Annotated[
    AwareDatetime | None,
    Query(alias="from", description="Events that occurred at or after this time (with zone)."),
]
Until = Annotated[
    AwareDatetime | None,
    Query(alias="to", description="Events that occurred before this time (with zone)."),
]
_PURPOSE_NOTE = (
    "Needs `X-Purpose`; the read is recorded in the access log of every family it covers."
)


async def _family_id(session: AsyncSession, case: CaseAddress) -> UUID | None:
    family = family_key_of(case.workflow_id)
    ref = None if family is None else await locate_family(session, family_key=family)
    return None if ref is None else ref.id


@router.get(
    "/cases/{case_id}/history",
    response_model=AuditHistory,
    summary="A case's whole lifecycle with its hash chain verified (аудит истории случая)",
    description="Oldest first, with the events of the case's social contract (социальный "
    "контракт: a chain of its own, `chain: social_contract`, under `contract_id`, with its "
    "own verdict in `contract_chain`). Each event: who (actor id, role), what (action, "
    "stages, data), when, why (reason), the request's Idempotency-Key (none for timer-driven "
    "events), the workflow and run that recorded it, the state it changed, its hashes, and "
    "whether its chain verifies up to it (over the rows exactly as stored). " + _PURPOSE_NOTE,
    responses=error_responses(401, 403, 404, 422),
)
async def case_history(
    actor: Auditor, case_id: CaseIdPath, state: State, purpose: RequestPurpose
) -> Response:
    contract_id = contract_id_of(case_id)
    # One statement in autocommit (models/crud/audit_history.py): the territory check, the
    # access log's row and the read commit together, in one round trip.
    async with state.reads() as session:
        read = await audited_history(
            session,
            case_id=case_id,
            contract_id=contract_id,
            territory=territory(actor),
            access=Access.by(actor, AccessedData.AUDIT_HISTORY, purpose),
        )
        if read is None:
            raise case_not_found(case_id)
        rows, contract_rows = read.chains[case_id], read.chains[contract_id]
        family_key = () if read.family_key is None else (read.family_key,)
        keys = await opening_keys(
            state.keys, [*rows, *contract_rows], session=session, read=family_key
        )
    verdict, events = _checked(case_id, rows, keys, AuditChain.CASE)
    contract_verdict, contract_events = _checked(
        contract_id, contract_rows, keys, AuditChain.SOCIAL_CONTRACT
    )
    # AuditHistory's fields, in its order, written by its serializer's own core: the rows
    # come from typed columns, and validating thirty events as models cost a tenth of the
    # read (tests/api/test_audit_history_opening.py sees the answer read back as the model
    # and written again unchanged).
    history = {
        "case_id": case_id,
        "municipality": read.municipality,
        "chain": verdict,
        "contract_id": contract_id if contract_rows else None,
        "contract_chain": contract_verdict if contract_rows else None,
        # Each chain stays in its own order (a merge, not a sort): a timeline of both.
        "events": list(
            heapq.merge(events, contract_events, key=lambda event: event["occurred_at"])
        ),
    }
    return Response(to_json(history), media_type="application/json")


_EVENT_FIELDS = tuple(AuditEvent.model_fields)


def _checked(
    chain_id: UUID, rows: list[StoredRow], keys: OpeningKeys, chain: AuditChain
) -> tuple[ChainVerdict, list[dict[str, Any]]]:
    """One chain's verdict, and its events (AuditEvent's fields, in its order) each with its
    place in it."""
    head, broken = check_chain(chain_id, rows)
    labels: dict[str, Any] = {
        "chain": chain,
        "contract_id": chain_id if chain is AuditChain.SOCIAL_CONTRACT else None,
    }
    events = []
    for row in rows:
        verified = broken is None or row["seq"] < broken.seq
        problem = None
        if broken is not None and row["seq"] == broken.seq:
            problem = broken.problem
        elif not verified:
            problem = f"after the broken link at event {broken.seq if broken else '?'}"
        event = {
            **row,  # HOLDS_SEALED among them: not a field, left out
            **opened_text(row, keys),
            **labels,
            "chain_verified": verified,
            "chain_problem": problem,
        }
        events.append({name: event.get(name) for name in _EVENT_FIELDS})
    verdict = ChainVerdict(
        verified=broken is None,
        events=len(rows),
        head_seq=None if head is None else head.seq,
        head_hash=None if head is None else head.hash,
        broken_seq=None if broken is None else broken.seq,
        problem=None if broken is None else broken.problem,
    )
    return verdict, events


@router.get(
    "/cases/{case_id}/state",
    response_model=CaseView,
    summary="The case as it was at a moment (состояние случая на дату)",
    description="Rebuilt from the history (each step's changes, up to `at`): what GET "
    "/api/v1/cases/{id} answered then, with the actions the caller's role could have taken. "
    "A moment before the case's first event answers 409 `not_yet_opened`. " + _PURPOSE_NOTE,
    responses=error_responses(401, 403, 404, 409, 422),
)
async def case_state(
    actor: Auditor,
    case: AddressedCase,
    state: State,
    purpose: RequestPurpose,
    at: Annotated[AwareDatetime, Query(description="The moment, ISO 8601 with a time zone.")],
) -> Response:
    async with state.sessions() as session, session.begin():
        family_id = await _family_id(session, case)
        folded, first = await state_until(session, case_id=case.case_id, at=at, keys=state.keys)
        await log_access(
            session,
            Access.by(actor, AccessedData.AUDIT_STATE, purpose),
            family_ids=[family_id],
            case_id=case.case_id,
        )
    if folded is None:
        since = "" if first is None else f": its first event occurred at {first.isoformat()}"
        raise ApiError(
            409, "not_yet_opened", f"the case did not exist yet at {at.isoformat()}{since}"
        )
    try:
        view = CaseView.model_validate(folded)
    except ValidationError:  # only a history altered behind the triggers: its chain says where
        raise ApiError(
            409,
            "state_unreadable",
            "the history up to that moment does not rebuild a valid state: check its chain "
            "(GET .../history)",
        ) from None
    return model_response(for_caller(view, actor))


def _period(since: datetime | None, until: datetime | None) -> dict[str, str | None]:
    if since is not None and until is not None and since >= until:
        raise ApiError(422, "invalid_request", "from: must be before `to`")
    return {
        "from": None if since is None else canonical_time(since),
        "to": None if until is None else canonical_time(until),
    }


def _streamed(
    state: State,
    actor: Actor,
    purpose: Purpose,
    scope: ExportScope,
    scope_record: dict[str, Any],
    export_format: ExportFormat,
    name: str,
) -> StreamingResponse:
    body = stream_export(
        state,
        scope=scope,
        scope_record=scope_record,
        actor=actor,
        purpose=purpose,
        format=export_format.value,
    )
    return StreamingResponse(
        body,
        media_type=_MEDIA_TYPES[export_format],
        headers={"Content-Disposition": f'attachment; filename="{name}.{export_format.value}"'},
    )


_EXPORT_NOTE = (
    "Streamed, per case: its events (columns in clear, the opened text, and under `stored` the "
    "sealed values as stored, which the chain hashes; `stored` is null for an event with no "
    "sealed text, whose readable columns are the stored ones, and in CSV its stored cells are "
    "empty), then a `case` record (first and last seq, the hash "
    "before the first, the last hash, the chain head); the last record is the `manifest` "
    "(scope, generated_at, who, counts, a digest of the case records). In CSV, `case` and "
    "`manifest` rows carry their record as JSON in `data`. Check a JSON-lines export offline "
    "with `kurator audit verify-export FILE`. "
)


_EXPORT_CONTENT: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/x-ndjson": {}, "text/csv": {}}}
}


@router.get(
    "/cases/{case_id}/export",
    summary="Export of a case's history (выгрузка истории случая)",
    description=_EXPORT_NOTE + _PURPOSE_NOTE,
    responses={**_EXPORT_CONTENT, **error_responses(401, 403, 404, 422)},
    response_class=StreamingResponse,
)
async def case_export(
    actor: Auditor,
    case: AddressedCase,
    state: State,
    purpose: RequestPurpose,
    since: Since = None,
    until: Until = None,
    export_format: FormatQuery = ExportFormat.JSONL,
) -> StreamingResponse:
    scope_record = {"case_id": str(case.case_id), **_period(since, until)}
    scope = ExportScope(case_id=case.case_id, since=since, until=until)
    return _streamed(
        state, actor, purpose, scope, scope_record, export_format, f"case-{case.case_id}"
    )


@router.get(
    "/municipalities/{municipality}/export",
    summary="Export of a municipality's case histories for a period (выгрузка по району)",
    description="The events that occurred in [from, to) of the municipality's cases. "
    + _EXPORT_NOTE
    + _PURPOSE_NOTE,
    responses={**_EXPORT_CONTENT, **error_responses(401, 403, 422)},
    response_class=StreamingResponse,
)
async def municipality_export(
    actor: Auditor,
    state: State,
    purpose: RequestPurpose,
    municipality: Annotated[
        str, Path(pattern=MUNICIPALITY_CODE_PATTERN, description="A municipality code.")
    ],
    since: Annotated[
        AwareDatetime, Query(alias="from", description="From this time on (with zone).")
    ],
    until: Annotated[AwareDatetime, Query(alias="to", description="Before this time (with zone).")],
    export_format: FormatQuery = ExportFormat.JSONL,
) -> StreamingResponse:
    if municipality not in MUNICIPALITY_CODES:
        raise ApiError(422, "invalid_request", f"municipality: unknown code {municipality}")
    if not sees(actor, municipality):
        raise ApiError(403, "forbidden", "the municipality is outside your territory")
    scope_record = {"municipality": municipality, **_period(since, until)}
    scope = ExportScope(municipality=municipality, since=since, until=until)
    name = f"{municipality}-{since:%Y%m%d}-{until:%Y%m%d}"
    return _streamed(state, actor, purpose, scope, scope_record, export_format, name)
