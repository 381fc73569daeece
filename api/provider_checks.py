"""The API's checks of the resource-map entries an action names, before the action is sent to
the case (the workflow does no I/O and cannot look at the map).

`route`: each of `provider_ids` must be an active entry serving the case's municipality; and
when the map has proposals for the case, choosing anything else (another entry, one at
capacity, or a provider outside the map) needs a reason in `comment`. `plan`: each item's
`provider_id`, when given, must be an active entry serving the case's municipality.
"""

from datetime import UTC, datetime
from uuid import UUID

from pydantic import BaseModel
from sqlmodel.ext.asyncio.session import AsyncSession

from api.errors import ApiError
from models.crud.case_projections import CaseAddress
from models.crud.resource_map import providers_by_id
from models.crud.route_proposals import proposals_for_case
from models.lifecycle.actions import Action
from models.payloads.actions import PlanBody, RouteBody
from models.resource_map.policy import shipped_resource_policy


def _invalid(field: str, problem: str) -> ApiError:
    return ApiError(422, "invalid_request", f"{field}: {problem}")


async def _serving(session: AsyncSession, named: list[tuple[str, UUID]], municipality: str) -> None:
    found = await providers_by_id(session, [provider_id for _, provider_id in named])
    for field, provider_id in named:
        row = found.get(provider_id)
        if row is None:
            raise _invalid(field, f"no resource map entry {provider_id}")
        if not row.active:
            raise _invalid(field, f"resource map entry {provider_id} is no longer active")
        if municipality not in row.served_municipalities:
            raise _invalid(field, f"resource map entry {provider_id} does not serve {municipality}")


async def _check_route(session: AsyncSession, case: CaseAddress, body: RouteBody) -> None:
    named = [(f"provider_ids.{i}", p) for i, p in enumerate(body.provider_ids)]
    await _serving(session, named, case.municipality)
    if body.comment is not None and body.comment.strip():
        return
    found = await proposals_for_case(
        session,
        case_id=case.case_id,
        municipality=case.municipality,
        policy=shipped_resource_policy(),
        now=datetime.now(UTC),
    )
    if found is None or not found.proposals:
        return  # nothing was proposed: nothing to depart from
    fitting = {p.provider_id for p in found.proposals if not p.at_capacity}
    if body.providers or any(p not in fitting for p in body.provider_ids):
        raise _invalid(
            "comment",
            "a reason is needed for choosing a provider other than the route proposals (one "
            "not proposed, at capacity, or outside the resource map)",
        )


async def _check_plan(session: AsyncSession, case: CaseAddress, body: PlanBody) -> None:
    named = [
        (f"items.{i}.provider_id", item.provider_id)
        for i, item in enumerate(body.items)
        if item.provider_id is not None
    ]
    await _serving(session, named, case.municipality)


async def check_named_providers(
    session: AsyncSession, case: CaseAddress, action: Action, body: BaseModel
) -> None:
    """Raise a 422 ApiError naming the field when the body names the map wrongly."""
    if action is Action.SET_ROUTE and isinstance(body, RouteBody):
        await _check_route(session, case, body)
    elif action is Action.APPROVE_PLAN and isinstance(body, PlanBody):
        await _check_plan(session, case, body)
