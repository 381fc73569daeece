"""Families: reading a record, its erasure, and the access log (PRODUCT.md §5).

Every read here carries a family's personal data or metadata about who saw it, so each one
needs an `X-Purpose` and writes an access-log row in its own transaction. Listing the log is
itself logged (what: `access_log`), one row per family the page is about: who has looked at
who read a family's data is an access to that family too. Those rows are appended after the
page is read, so a listing never shows its own row, and each listing adds exactly one row per
family, never more.
"""

from collections.abc import Awaitable, Callable
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Path, Query
from temporalio.service import RPCError

from api.deps import CurrentActor, IdempotencyKey, State, sees, territory
from api.errors import ApiError, error_responses
from api.family_schemas import AccessLogPage, ErasureRequest, FamilyErased
from api.idempotency import claim, fingerprint
from api.purpose import RequestPurpose
from infra.family_erasure import Erased, Eraser, ErasureRefused, erase_family
from models.access import AccessedData
from models.crud.access_log import (
    Access,
    families_of,
    list_accesses,
    log_access,
)
from models.crud.cursors import CursorError
from models.crud.families import read_family
from models.crud.family_erasures import is_erased, municipality_of
from models.family_records import FamilyRecordPublic
from models.payloads.actions import Actor
from models.payloads.vocabulary import StaffRole

router = APIRouter(prefix="/api/v1", tags=["families"])

FamilyId = Annotated[UUID, Path(description="Идентификатор семьи / the family record's id.")]
# PRODUCT.md issue 10: the ministry and the family's head read the access log.
_LOG_READERS = frozenset({StaffRole.HEAD, StaffRole.MINISTRY})


async def _family_in_territory(state: State, actor: Actor, family_id: UUID) -> None:
    """404, exactly as for a missing family, unless the family lies in the caller's territory:
    the existence of a family elsewhere is not disclosed. Reads its municipality only."""
    async with state.reads() as session:
        municipality = await municipality_of(session, family_id=family_id)
    if municipality is None or not sees(actor, municipality):
        raise ApiError(404, "not_found", f"no family {family_id}")


@router.get(
    "/families/{family_id}",
    summary="A family's record (персональные данные семьи)",
    responses=error_responses(401, 404, 410, 422),
)
async def read_family_record(
    family_id: FamilyId, actor: CurrentActor, state: State, purpose: RequestPurpose
) -> FamilyRecordPublic:
    await _family_in_territory(state, actor, family_id)
    async with state.sessions() as session, session.begin():
        erased_at = await is_erased(session, family_id=family_id)
        if erased_at is not None:
            raise ApiError(
                410,
                "family_erased",
                f"the family's data was erased at {erased_at.isoformat()}; only its coded case "
                "history is kept",
            )
        record = await read_family(
            session,
            keys=state.keys,
            family_id=family_id,
            staff_id=actor.staff_id,
            role=actor.role,
            purpose=str(purpose),
            purpose_code=purpose.code.value,
        )
    if record is None:  # removed in between: no such family any more
        raise ApiError(404, "not_found", f"no family {family_id}")
    return record


def _require_log_reader(actor: Actor) -> None:
    if actor.role not in _LOG_READERS:
        raise ApiError(
            403, "forbidden", f"role {actor.role} may not read the access log (heads, ministry)"
        )


Limit = Annotated[int, Query(ge=1, le=200)]
After = Annotated[
    str | None, Query(max_length=200, description="The `next_cursor` of the previous page.")
]


async def _page(
    state: State,
    actor: Actor,
    purpose: RequestPurpose,
    *,
    family_id: UUID | None = None,
    staff_id: str | None = None,
    after: str | None,
    limit: int,
) -> AccessLogPage:
    async with state.sessions() as session, session.begin():
        try:
            page = await list_accesses(
                session,
                family_id=family_id,
                staff_id=staff_id,
                municipalities=territory(actor),
                after=after,
                limit=limit,
            )
        except CursorError as error:
            raise ApiError(422, "invalid_request", f"after: {error}") from None
        about = [family_id] if family_id is not None else families_of(page.items)
        await log_access(
            session,
            Access.by(actor, AccessedData.ACCESS_LOG, purpose),
            family_ids=about,
        )
    return AccessLogPage(items=page.items, next_cursor=page.next_cursor)


@router.get(
    "/families/{family_id}/access-log",
    summary="Who read or wrote the family's data (журнал доступа к данным семьи)",
    responses=error_responses(401, 403, 404, 422),
)
async def family_access_log(
    family_id: FamilyId,
    actor: CurrentActor,
    state: State,
    purpose: RequestPurpose,
    limit: Limit = 100,
    after: After = None,
) -> AccessLogPage:
    _require_log_reader(actor)
    await _family_in_territory(state, actor, family_id)
    return await _page(state, actor, purpose, family_id=family_id, after=after, limit=limit)


@router.get(
    "/access-log",
    summary="What one staff member read or wrote (журнал доступа сотрудника)",
    description="For a head: the staff member's accesses to families of the head's territory "
    "only. The ministry sees all of them.",
    responses=error_responses(401, 403, 422),
)
async def staff_access_log(
    actor: CurrentActor,
    state: State,
    purpose: RequestPurpose,
    staff_id: Annotated[str, Query(min_length=1, max_length=64, pattern=r"^[^\x00]*$")],
    limit: Limit = 100,
    after: After = None,
) -> AccessLogPage:
    _require_log_reader(actor)
    return await _page(state, actor, purpose, staff_id=staff_id, after=after, limit=limit)


@router.post(
    "/families/{family_id}/erase",
    summary="Erase the family's personal data by destroying its key (уничтожение данных)",
    description="A head of the family's territory or the ministry. Refused (409) while a case "
    "of the family is open or any of its workflows runs. The family's data key is destroyed: "
    "its record, sealed fields and Temporal payloads can no longer be read by anyone; the "
    "coded case history stays.",
    responses=error_responses(401, 403, 404, 409, 422, 503),
)
async def erase(
    family_id: FamilyId,
    body: ErasureRequest,
    actor: CurrentActor,
    state: State,
    key: IdempotencyKey,
    purpose: RequestPurpose,
) -> FamilyErased:
    if actor.role not in (StaffRole.HEAD, StaffRole.MINISTRY):
        raise ApiError(403, "forbidden", f"role {actor.role} may not erase a family's data")
    eraser = Eraser(staff_id=actor.staff_id, role=actor.role, municipalities=territory(actor))
    request = fingerprint(
        state.pseudonym_secret,
        request=f"erase:{family_id}",
        staff_id=actor.staff_id,
        body=body,
    )

    async def run() -> Erased:
        async with state.sessions() as session, session.begin():
            replayed = await claim(session, key=key, fingerprint=request)
            return await erase_family(
                session,
                state.temporal,
                family_id=family_id,
                eraser=eraser,
                reason=body.reason,
                legal_basis=body.legal_basis,
                purpose=purpose,
                replayed=replayed,
            )

    erased = await answered_erasure(run)
    state.keys.forget(erased.key_id)  # this process's cache; others forget within its lifetime
    return FamilyErased.of(erased)


_REFUSAL_STATUS = {"forbidden": 403, "not_found": 404, "invalid_request": 422}


async def answered_erasure(erase: Callable[[], Awaitable[Erased]]) -> Erased:
    """The erasure, or the ApiError that says why it did not happen. Nothing is erased in
    either error case: the checks come before the key is destroyed, in one transaction."""
    try:
        return await erase()
    except ErasureRefused as refused:
        status = _REFUSAL_STATUS.get(refused.code, 409)
        raise ApiError(status, refused.code, refused.message) from None
    except (RPCError, RuntimeError) as error:
        # Temporal did not answer whether the family's workflows still run (a RuntimeError is
        # the lazy client's failed first connection; any other is a fault of ours).
        if isinstance(error, RuntimeError) and not str(error).startswith("Failed client connect"):
            raise
        raise ApiError(
            503,
            "unavailable",
            "could not check whether the family's workflows still run; nothing was erased: "
            "retry later",
            headers={"Retry-After": "5"},
        ) from None
