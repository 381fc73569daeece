"""The resource map (карта ресурсов территории): `/api/v1/resources`.

Every member of staff reads the entries of their territory (those it owns and those serving
it; the ministry all). A head manages their territory's entries and the ministry every one:
create, change, confirm (актуализация), deactivate. Each change is recorded with who, when and
why in the entry's append-only, hash-chained history (`GET .../{id}/history`). An entry not
confirmed within the review period (models/policy/resources.toml) reads `review_overdue` and is
flagged to its head through the notifications outbox.
"""

from datetime import UTC, datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Path, Query, Response, status
from pydantic import BaseModel, Field
from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from api.deps import CurrentActor, IdempotencyKey, State, territory
from api.errors import ApiError, error_responses
from api.idempotency import claim, fingerprint
from models.crud import resource_map as crud
from models.payloads.actions import Actor
from models.payloads.resources import (
    ProviderChange,
    ProviderConfirmation,
    ProviderDeactivation,
    ProviderFields,
    ProviderPublic,
    ResourceChangePublic,
)
from models.payloads.vocabulary import AccompanimentChannel, ProviderKind, ServiceType, StaffRole
from models.resource_map.access import territory_refusal
from models.resource_map.history_chain import first_broken
from models.resource_map.policy import shipped_resource_policy
from models.resource_map.public import public_entry
from models.tables.resource_provider import ResourceProvider
from models.territory import MUNICIPALITY_CODES

router = APIRouter(prefix="/api/v1/resources", tags=["resources"])

HISTORY_READERS = frozenset({StaffRole.SUPERVISOR, StaffRole.HEAD, StaffRole.MINISTRY})

ProviderId = Annotated[UUID, Path(description="Идентификатор записи / the entry's id.")]


class ResourceHistory(BaseModel):
    changes: list[ResourceChangePublic]
    chain_verified: bool = Field(description="Every change links to the one before, unaltered.")
    broken_seq: int | None = Field(None, description="The first change whose link fails.")


def _now() -> datetime:
    return datetime.now(UTC)


def _editor(actor: Actor, reason: str | None) -> crud.Editor:
    return crud.Editor(staff_id=actor.staff_id, role=actor.role, reason=reason)


def _visible(row: ResourceProvider | None, actor: Actor, provider_id: UUID) -> ResourceProvider:
    """The entry, if it exists and the caller's territory sees it; else 404 either way."""
    area = territory(actor)
    if row is not None and (
        area is None or row.municipality in area or set(row.served_municipalities) & set(area)
    ):
        return row
    raise ApiError(404, "not_found", f"no resource map entry {provider_id}")


def _may_hold(actor: Actor, fields: ProviderFields) -> None:
    refusal = territory_refusal(actor.role, actor.municipalities, fields)
    if refusal is not None:
        raise ApiError(403, "forbidden", refusal)


async def _claimed(
    session: AsyncSession, state: State, actor: Actor, key: str, request: str, body: BaseModel
) -> bool:
    """Claim the key in the write's transaction; True for a retry of a committed request."""
    digest = fingerprint(
        state.pseudonym_secret, request=request, staff_id=actor.staff_id, body=body
    )
    return await claim(session, key=key, fingerprint=digest)


@router.get(
    "",
    summary="The resource map of your territory (карта ресурсов территории)",
    responses=error_responses(401, 422),
)
async def list_resources(
    actor: CurrentActor,
    state: State,
    municipality: Annotated[
        str | None, Query(description="Only entries serving this municipality.")
    ] = None,
    kind: ProviderKind | None = None,
    service: ServiceType | None = None,
    channel: AccompanimentChannel | None = None,
    review_overdue: Annotated[
        bool, Query(description="Only entries not confirmed within the review period.")
    ] = False,
    include_inactive: bool = False,
) -> list[ProviderPublic]:
    if municipality is not None and municipality not in MUNICIPALITY_CODES:
        raise ApiError(422, "invalid_request", f"municipality: unknown code {municipality!r}")
    policy, now = shipped_resource_policy(), _now()
    where = crud.ProviderFilter(
        territory=territory(actor),
        serving=municipality,
        kind=kind,
        service=service,
        channel=channel,
        confirmed_before=policy.unconfirmed_since(now) if review_overdue else None,
        include_inactive=include_inactive,
    )
    async with state.reads() as session:
        rows = await crud.list_providers(session, where=where)
    return [public_entry(row, policy, now) for row in rows]


@router.get("/{provider_id}", summary="One entry of the map", responses=error_responses(401, 404))
async def get_resource(
    provider_id: ProviderId, actor: CurrentActor, state: State
) -> ProviderPublic:
    async with state.reads() as session:
        row = _visible(await crud.get_provider(session, provider_id), actor, provider_id)
    return public_entry(row, shipped_resource_policy(), _now())


@router.get(
    "/{provider_id}/history",
    summary="Who changed the entry, what, when and why (история изменений)",
    responses=error_responses(401, 403, 404),
)
async def resource_history(
    provider_id: ProviderId, actor: CurrentActor, state: State
) -> ResourceHistory:
    if actor.role not in HISTORY_READERS:
        raise ApiError(
            403,
            "forbidden",
            f"the map's history is read by supervisors, heads and the ministry, not by a "
            f"{actor.role}",
        )
    async with state.reads() as session:
        _visible(await crud.get_provider(session, provider_id), actor, provider_id)
        changes = await crud.history(session, provider_id)
    broken = first_broken(provider_id, [change.model_dump() for change in changes])
    return ResourceHistory(
        changes=[ResourceChangePublic.model_validate(c.model_dump()) for c in changes],
        chain_verified=broken is None,
        broken_seq=broken,
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Add an entry to the map (head: own territory; ministry: any)",
    responses=error_responses(401, 403, 409, 422),
)
async def create_resource(
    body: ProviderChange,
    actor: CurrentActor,
    state: State,
    key: IdempotencyKey,
    response: Response,
) -> ProviderPublic:
    _may_hold(actor, body.provider)
    now, fields = _now(), body.provider
    try:
        async with state.sessions() as session, session.begin():
            if await _claimed(session, state, actor, key, "resources:create", body):
                row = await crud.locked_by_name(
                    session, municipality=fields.municipality, name=fields.name
                )
                response.status_code = status.HTTP_200_OK
            else:
                row = None
            if row is None:
                row = await crud.create_provider(
                    session, fields=fields, editor=_editor(actor, body.reason), now=now
                )
    except IntegrityError:
        raise ApiError(
            409, "name_taken", f"{fields.municipality} already has an entry of that name"
        ) from None
    return public_entry(row, shipped_resource_policy(), now)


async def _apply(
    state: State,
    actor: Actor,
    key: str,
    provider_id: UUID,
    action: str,
    body: BaseModel,
    change: "crud.RowChange",
) -> ProviderPublic:
    now = _now()
    async with state.sessions() as session, session.begin():
        replayed = await _claimed(
            session, state, actor, key, f"resources:{action}:{provider_id}", body
        )
        row = _visible(await crud.locked(session, provider_id), actor, provider_id)
        _may_hold(actor, crud.fields_of(row))
        if not replayed:
            await change(session, row, _editor(actor, getattr(body, "reason", None)), now)
    return public_entry(row, shipped_resource_policy(), now)


@router.put(
    "/{provider_id}",
    summary="Change an entry (it counts as confirmed too)",
    responses=error_responses(401, 403, 404, 409, 422),
)
async def change_resource(
    provider_id: ProviderId,
    body: ProviderChange,
    actor: CurrentActor,
    state: State,
    key: IdempotencyKey,
) -> ProviderPublic:
    _may_hold(actor, body.provider)

    async def change(
        session: AsyncSession, row: ResourceProvider, editor: crud.Editor, now: datetime
    ) -> None:
        await crud.change_provider(session, row, fields=body.provider, editor=editor, now=now)

    try:
        return await _apply(state, actor, key, provider_id, "change", body, change)
    except IntegrityError:
        raise ApiError(
            409, "name_taken", f"{body.provider.municipality} already has an entry of that name"
        ) from None


@router.post(
    "/{provider_id}/confirm",
    summary="Confirm the entry is still true (актуализация)",
    responses=error_responses(401, 403, 404, 422),
)
async def confirm_resource(
    provider_id: ProviderId,
    body: ProviderConfirmation,
    actor: CurrentActor,
    state: State,
    key: IdempotencyKey,
) -> ProviderPublic:
    async def change(
        session: AsyncSession, row: ResourceProvider, editor: crud.Editor, now: datetime
    ) -> None:
        await crud.confirm_provider(session, row, editor=editor, now=now)

    return await _apply(state, actor, key, provider_id, "confirm", body, change)


@router.post(
    "/{provider_id}/deactivate",
    summary="Take the entry off the map (it stays in the history and in plans naming it)",
    responses=error_responses(401, 403, 404, 422),
)
async def deactivate_resource(
    provider_id: ProviderId,
    body: ProviderDeactivation,
    actor: CurrentActor,
    state: State,
    key: IdempotencyKey,
) -> ProviderPublic:
    async def change(
        session: AsyncSession, row: ResourceProvider, editor: crud.Editor, now: datetime
    ) -> None:
        await crud.deactivate_provider(session, row, editor=editor, now=now)

    return await _apply(state, actor, key, provider_id, "deactivate", body, change)
