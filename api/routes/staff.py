"""The staff directory: read and change its members (heads: their own territory; the ministry:
everyone), import a CSV file, and read the directory's chained history.

A head sees the members serving any of the head's municipalities and may create or change a
member only when all of the member's municipalities, before and after, lie within the head's
own, and never a ministry member (models/staff_rules.py). Deactivating is `PATCH` with
`"active": false`: the member's next request is refused (api/sign_in.py).
"""

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import ValidationError

from api.deps import CurrentActor, State
from api.errors import ApiError, error_responses
from api.staff_schemas import (
    DirectoryChain,
    DirectoryEventOut,
    DirectoryHistory,
    ImportReport,
    RefusedRow,
    StaffChanged,
)
from models.crud.staff_changes import (
    ChangedBy,
    apply_entry,
    check_directory_chain,
    directory_events,
    entry_of,
    list_members,
    lock_directory,
)
from models.crud.staff_directory import get_member
from models.crud.staff_import import import_file
from models.payloads.actions import Actor
from models.payloads.fields import STAFF_ID_PATTERN
from models.payloads.staff import StaffEntry, StaffMemberOut, StaffPatch, StaffPut
from models.payloads.vocabulary import StaffRole
from models.staff_csv import CsvFileError, describe_entry_error, parse_staff_csv
from models.staff_rules import MANAGERS, management_refusal
from models.tables.staff_member import StaffMember

router = APIRouter(prefix="/api/v1", tags=["staff"])

StaffIdPath = Annotated[
    str,
    Path(pattern=STAFF_ID_PATTERN.pattern, description="Табельный идентификатор / staff id."),
]


def _manager(actor: Actor) -> Actor:
    if actor.role not in MANAGERS:
        raise ApiError(
            403, "forbidden", f"role {actor.role.value} may not manage the staff directory"
        )
    return actor


def _visible(actor: Actor, member: StaffMember | None) -> bool:
    if member is None:
        return False
    return actor.role is StaffRole.MINISTRY or bool(
        set(member.municipalities) & set(actor.municipalities)
    )


def _out(member: StaffMember) -> StaffMemberOut:
    return StaffMemberOut.model_validate(member, from_attributes=True)


def _by(actor: Actor, reason: str | None, source: str = "api") -> ChangedBy:
    return ChangedBy(actor.staff_id, actor.role.value, source, reason)


@router.get(
    "/staff",
    summary="The staff directory (справочник сотрудников): heads their territory, the ministry all",
    responses=error_responses(401, 403, 422),
)
async def list_staff(
    actor: CurrentActor,
    state: State,
    role: StaffRole | None = None,
    municipality: Annotated[str | None, Query(pattern=r"^[a-z0-9_]{1,32}$")] = None,
    active: bool | None = None,
) -> list[StaffMemberOut]:
    _manager(actor)
    territory = None if actor.role is StaffRole.MINISTRY else list(actor.municipalities)
    if municipality is not None:
        if territory is not None and municipality not in territory:
            raise ApiError(
                403, "forbidden", f"municipality {municipality} is outside your territory"
            )
        territory = [municipality]
    async with state.reads() as session:
        members = await list_members(session, territory=territory, role=role, active=active)
    return [_out(member) for member in members]


@router.get(
    "/staff/{staff_id}",
    summary="One member of the staff directory",
    responses=error_responses(401, 403, 404, 422),
)
async def read_staff(staff_id: StaffIdPath, actor: CurrentActor, state: State) -> StaffMemberOut:
    _manager(actor)
    async with state.reads() as session:
        member = await get_member(session, staff_id)
    if member is None or not _visible(actor, member):
        raise ApiError(404, "not_found", "no such member in your part of the staff directory")
    return _out(member)


async def _change(
    state: State,
    actor: Actor,
    staff_id: str,
    body: StaffPut | StaffPatch,
    response: Response,
    *,
    replace: bool,
) -> StaffChanged:
    _manager(actor)
    async with state.sessions() as session, session.begin():
        await lock_directory(session)  # the entry read here is the one changed
        member = await get_member(session, staff_id)
        if member is not None and not _visible(actor, member):
            if not replace:
                raise ApiError(404, "not_found", "no such member in your part of the directory")
            raise ApiError(403, "forbidden", "the staff id is taken outside your territory")
        before = None if member is None else entry_of(member)
        if before is None and not replace:
            raise ApiError(404, "not_found", "no such member in your part of the directory")
        entry = _entry(body, before)
        problem = entry.problem()
        if problem is not None:
            raise ApiError(422, "invalid_request", problem)
        problem = management_refusal(
            actor,
            before=None if before is None else (before.role, before.municipalities),
            after=(entry.role, entry.municipalities),
        )
        if problem is not None:
            raise ApiError(403, "forbidden", problem)
        action = await apply_entry(
            session, staff_id=staff_id, entry=entry, by=_by(actor, body.reason)
        )
        stored = await get_member(session, staff_id)
        assert stored is not None
        await session.refresh(stored)  # updated_at, as PostgreSQL set it
        answer = StaffChanged(member=_out(stored), action=None if action is None else action.value)
    if before is None:
        response.status_code = 201
    return answer


def _entry(body: StaffPut | StaffPatch, before: StaffEntry | None) -> StaffEntry:
    """The entry the body asks for: the whole of it (PUT), or the member's with the body's
    fields over it (PATCH)."""
    fields = body.model_dump(exclude={"reason"}, exclude_unset=isinstance(body, StaffPatch))
    if before is not None and isinstance(body, StaffPatch):
        fields = {**before.model_dump(), **fields}
    try:
        return StaffEntry(**fields)
    except ValidationError as error:  # e.g. PATCH {"full_name": null}
        raise ApiError(422, "invalid_request", describe_entry_error(error)) from None


@router.put(
    "/staff/{staff_id}",
    summary="Create or replace a member of the staff directory",
    description="201 when the member is new, 200 otherwise. Idempotent: the same body again "
    "changes nothing (`action`: null) and writes no history.",
    responses=error_responses(401, 403, 422),
    status_code=200,
)
async def put_staff(
    staff_id: StaffIdPath, body: StaffPut, actor: CurrentActor, state: State, response: Response
) -> StaffChanged:
    return await _change(state, actor, staff_id, body, response, replace=True)


@router.patch(
    "/staff/{staff_id}",
    summary='Change some fields of a member (deactivate: {"active": false, "reason": ...})',
    responses=error_responses(401, 403, 404, 422),
)
async def patch_staff(
    staff_id: StaffIdPath, body: StaffPatch, actor: CurrentActor, state: State, response: Response
) -> StaffChanged:
    return await _change(state, actor, staff_id, body, response, replace=False)


@router.post(
    "/staff/import",
    summary="Import a CSV file of members: all rows, or none when any is refused",
    description="The body is the CSV file (`Content-Type: text/csv`; columns staff_id, "
    "full_name, role, municipalities, email, active). Any refused row refuses the whole file "
    "(422, every refused row named); `check=true` only checks. Idempotent by content: rows "
    "already as the directory holds them change nothing, so it needs no Idempotency-Key.",
    responses=error_responses(401, 403, 413, 415, 422),
)
async def import_staff(
    request: Request,
    actor: CurrentActor,
    state: State,
    response: Response,
    check: bool = False,
    reason: Annotated[str | None, Query(max_length=500, pattern=r"^[^\x00]*$")] = None,
) -> ImportReport:
    _manager(actor)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in ("text/csv", "text/plain", "application/csv"):
        raise ApiError(415, "unsupported_media_type", "send the file as Content-Type: text/csv")
    try:
        parsed = parse_staff_csv(await request.body())
    except CsvFileError as error:
        raise ApiError(422, "invalid_file", str(error)) from None
    async with state.sessions() as session:
        outcome = await import_file(
            session,
            parsed,
            by=_by(actor, reason, source="import"),
            manager=actor,
            check_only=check,
        )
    report = ImportReport(
        rows=outcome.rows,
        written=outcome.written,
        counts=outcome.counts,
        refused=[
            RefusedRow(line=r.line, staff_id=r.staff_id, problem=r.problem) for r in outcome.refused
        ],
    )
    if outcome.refused:
        response.status_code = 422
    return report


@router.get(
    "/audit/staff-directory",
    summary="The staff directory's history: who changed whom, when and why, hash-chained",
    description="The ministry reads every event; a head the events about members of the "
    "head's territory (before or after the change). `chain` checks the whole chain as stored.",
    responses=error_responses(401, 403, 422),
)
async def directory_history(
    actor: CurrentActor,
    state: State,
    staff_id: Annotated[str | None, Query(pattern=STAFF_ID_PATTERN.pattern)] = None,
    after: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> DirectoryHistory:
    _manager(actor)
    territory = None if actor.role is StaffRole.MINISTRY else list(actor.municipalities)
    async with state.sessions() as session, session.begin():
        events = await directory_events(
            session, territory=territory, staff_id=staff_id, after_seq=after, limit=limit
        )
        head, broken = await check_directory_chain(session)
    chain = DirectoryChain(
        verified=broken is None,
        head_seq=head,
        broken_seq=None if broken is None else broken[0],
        problem=None if broken is None else broken[1],
    )
    return DirectoryHistory(
        chain=chain,
        events=[DirectoryEventOut.model_validate(e, from_attributes=True) for e in events],
        next_after=events[-1].seq if len(events) == limit else None,
    )
