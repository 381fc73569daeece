"""A case's social contract (социальный контракт): its monitoring's state, and the staff
actions on it, which go to the contract's own workflow (workflows/social_contract.py). The
contract is concluded through the case (`POST /cases/{id}/social-contract`, in actions.py)."""

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from fastapi import APIRouter

from api.case_commands import answered
from api.deps import AddressedCase, CurrentActor, IdempotencyKey, State
from api.errors import ApiError, error_responses
from api.idempotency import claim, fingerprint
from api.purpose import RequestPurpose
from infra.case_client import send_action
from models.access import AccessedData
from models.crud.access_log import Access, log_access
from models.crud.families import locate_family
from models.crud.social_contracts import get_contract_view
from models.payloads.actions import ActionBody
from models.payloads.social_contract import (
    ContractContactBody,
    ContractOutcomeBody,
    SocialContractView,
)
from models.payloads.vocabulary import StaffRole
from workflows.ids import family_key_of, social_contract_workflow_id
from workflows.social_contract import SocialContractWorkflow

router = APIRouter(prefix="/api/v1/cases", tags=["social contract"])
_STAFF = {StaffRole.SPECIALIST, StaffRole.SUPERVISOR, StaffRole.HEAD}


@router.get(
    "/{case_id}/social-contract",
    summary="The case's social contract and its monitoring (социальный контракт, мониторинг)",
    description="Needs `X-Purpose`: the state holds the family's income after the contract, "
    "so every read is recorded in the family's access log.",
    responses=error_responses(401, 404, 422),
)
async def social_contract(
    case: AddressedCase, actor: CurrentActor, state: State, purpose: RequestPurpose
) -> SocialContractView:
    family = family_key_of(case.workflow_id)
    async with state.sessions() as session, session.begin():
        view = await get_contract_view(session, case_id=case.case_id, keys=state.keys)
        if view is None:
            raise ApiError(404, "not_found", f"case {case.case_id} has no social contract")
        ref = None if family is None else await locate_family(session, family_key=family)
        await log_access(
            session,
            Access.by(actor, AccessedData.SOCIAL_CONTRACT, purpose),
            family_ids=[None if ref is None else ref.id],
            case_id=case.case_id,
        )
    return view


def _endpoint(
    update: Any, name: str, body_type: type[ActionBody]
) -> Callable[..., Awaitable[SocialContractView]]:
    body_annotation: Any = body_type

    async def endpoint(
        case: AddressedCase,
        body: body_annotation,
        actor: CurrentActor,
        state: State,
        key: IdempotencyKey,
    ) -> SocialContractView:
        if actor.role not in _STAFF:
            raise ApiError(403, "forbidden", f"role {actor.role} may not {name}")
        request = fingerprint(
            state.pseudonym_secret,
            request=f"{name}:{case.case_id}",
            staff_id=actor.staff_id,
            body=body,
        )
        async with state.reads() as session:
            await claim(session, key=key, fingerprint=request)
        wait = timedelta(seconds=state.settings.update_timeout_seconds)
        view: SocialContractView = await answered(
            lambda: send_action(
                state.temporal,
                workflow_id=social_contract_workflow_id(case.case_id),
                first_run_id=None,
                update=update,
                command=body.by(actor),
                action=name,
                key=key,
                rpc_timeout=wait,
            ),
            wait,
        )
        return view

    return endpoint


_ROUTES = (
    (
        "contacts",
        SocialContractWorkflow.record_contract_contact,
        "record_contract_contact",
        ContractContactBody,
        "Record a monthly monitoring contact (ежемесячный мониторинг социального контракта)",
    ),
    (
        "outcome",
        SocialContractWorkflow.record_contract_outcome,
        "record_contract_outcome",
        ContractOutcomeBody,
        "Record the contract's outcome (итог: исполнен / расторгнут досрочно, доход после)",
    ),
)

for _path, _update, _name, _body, _summary in _ROUTES:
    router.add_api_route(
        f"/{{case_id}}/social-contract/{_path}",
        _endpoint(_update, _name, _body),
        methods=["POST"],
        summary=_summary,
        name=_name,
        responses=error_responses(401, 403, 404, 409, 422, 429, 503),
    )
