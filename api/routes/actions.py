"""Staff actions on a case: `POST /api/v1/cases/{id}/<action>`, one typed body each, one route
per row of the action catalogue (models/lifecycle/actions.py).

Each answers at once: 200 with the new state, 403 when the caller's role may never take the
action, 409 with the workflow's reason when the case's stage does not allow it now.
"""

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from fastapi import APIRouter

from api.case_commands import answered
from api.deps import AddressedCase, CurrentActor, IdempotencyKey, State
from api.errors import ApiError, error_responses
from api.idempotency import claim, fingerprint
from api.provider_checks import check_named_providers
from api.routes.cases import for_caller
from infra.case_client import send_action
from models.lifecycle.actions import ACTIONS, StaffActionSpec, TakenBy
from models.payloads.case_start import SignalOutcome
from models.payloads.case_view import CaseView
from workflows.case import CaseWorkflow
from workflows.follow_up import CaseFollowUpWorkflow
from workflows.ids import follow_up_workflow_id

router = APIRouter(prefix="/api/v1/cases", tags=["actions"])

_WORKFLOW_OF: dict[TakenBy, type[Any]] = {
    TakenBy.CASE: CaseWorkflow,
    TakenBy.FOLLOW_UP: CaseFollowUpWorkflow,
}


def update_method(spec: StaffActionSpec[Any]) -> Any:
    """The workflow's update for `spec`: the one `staff_update` derived from the same row."""
    method = getattr(_WORKFLOW_OF[spec.taken_by], spec.action.value)
    if getattr(method, "_defn", None) is None or method._defn.name != spec.action:
        raise RuntimeError(f"{_WORKFLOW_OF[spec.taken_by].__name__} has no update {spec.action}")
    return method


def _endpoint(spec: StaffActionSpec[Any]) -> Callable[..., Awaitable[CaseView]]:
    # FastAPI reads the body's type from the annotation: each route gets its own typed body.
    body_type: Any = spec.body
    update = update_method(spec)
    follow_up = spec.taken_by is TakenBy.FOLLOW_UP

    async def endpoint(
        case: AddressedCase,
        body: body_type,
        actor: CurrentActor,
        state: State,
        key: IdempotencyKey,
    ) -> CaseView:
        refusal = spec.role_refusal(actor.role)
        if refusal is not None:
            raise ApiError(403, "forbidden", refusal)
        request = fingerprint(
            state.pseudonym_secret,
            request=f"{spec.action}:{case.case_id}",
            staff_id=actor.staff_id,
            body=body,
        )
        # One INSERT, autocommitted: a statement of its own is its own transaction.
        async with state.reads() as session:
            # The resource map's entries the body names, before the key is claimed: a refused
            # request leaves the key unused.
            await check_named_providers(session, case, spec.action, body)
            await claim(session, key=key, fingerprint=request)
        wait = timedelta(seconds=state.settings.update_timeout_seconds)
        command = body.by(actor)
        result = await answered(
            lambda: send_action(
                state.temporal,
                workflow_id=follow_up_workflow_id(case.case_id) if follow_up else case.workflow_id,
                first_run_id=None if follow_up else case.first_run_id,
                update=update,
                command=command,
                action=spec.action,
                key=key,
                rpc_timeout=wait,
            ),
            wait,
            may_be_starting=follow_up,
        )
        view: CaseView = result.view if isinstance(result, SignalOutcome) else result
        return for_caller(view, actor)

    return endpoint


for _spec in ACTIONS.values():
    router.add_api_route(
        f"/{{case_id}}/{_spec.path}",
        _endpoint(_spec),
        methods=["POST"],
        summary=_spec.summary,
        name=str(_spec.action),
        responses=error_responses(401, 403, 404, 409, 422, 429, 503),
    )
