"""Staff actions on a case: `POST /api/v1/cases/{id}/<action>`, one typed body each.

Each answers at once: 200 with the new state, 403 when the caller's role may never take the
action, 409 with the workflow's reason when the case's stage does not allow it now.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from fastapi import APIRouter

from api.case_commands import act
from api.deps import AddressedCase, CurrentActor, IdempotencyKey, State
from api.errors import ApiError, error_responses
from api.routes.cases import for_caller
from models.lifecycle.actions import RULES, Action
from models.payloads import actions as a
from models.payloads.case_start import SignalOutcome
from models.payloads.case_view import CaseView
from workflows.case import CaseWorkflow
from workflows.follow_up import CaseFollowUpWorkflow
from workflows.ids import follow_up_workflow_id

router = APIRouter(prefix="/api/v1/cases", tags=["actions"])


@dataclass(frozen=True)
class ActionRoute:
    path: str
    action: Action
    body: type[a.ActionBody]
    command: type[a.StaffAction]
    update: Any
    summary: str


ROUTES = (
    ActionRoute(
        "intake",
        Action.REGISTER_INTAKE,
        a.IntakeBody,
        a.IntakeIn,
        CaseWorkflow.register_intake,
        "Register the intake (регистрация обращения)",
    ),
    ActionRoute(
        "assessment",
        Action.RECORD_ASSESSMENT,
        a.AssessmentBody,
        a.AssessmentIn,
        CaseWorkflow.record_assessment,
        "Record the assessment and level (оценка семейной ситуации, уровень)",
    ),
    ActionRoute(
        "route",
        Action.SET_ROUTE,
        a.RouteBody,
        a.RouteIn,
        CaseWorkflow.set_route,
        "Set the route (маршрутизация)",
    ),
    ActionRoute(
        "team",
        Action.NAME_TEAM,
        a.TeamBody,
        a.TeamIn,
        CaseWorkflow.name_team,
        "Name the curator and team (команда сопровождения)",
    ),
    ActionRoute(
        "plan",
        Action.APPROVE_PLAN,
        a.PlanBody,
        a.PlanIn,
        CaseWorkflow.approve_plan,
        "Approve the individual plan (утверждение ИППСУ и плана сопровождения)",
    ),
    ActionRoute(
        "plan-item-done",
        Action.COMPLETE_PLAN_ITEM,
        a.PlanItemDoneBody,
        a.PlanItemDoneIn,
        CaseWorkflow.complete_plan_item,
        "Mark a plan item done (мероприятие плана выполнено)",
    ),
    ActionRoute(
        "contacts",
        Action.RECORD_CONTACT,
        a.ContactBody,
        a.ContactIn,
        CaseWorkflow.record_contact,
        "Record a contact (контакт с семьёй)",
    ),
    ActionRoute(
        "reviews",
        Action.RECORD_REVIEW,
        a.ReviewBody,
        a.ReviewIn,
        CaseWorkflow.record_review,
        "Record a review (мониторинг и оценка)",
    ),
    ActionRoute(
        "prolongation",
        Action.DECIDE_PROLONGATION,
        a.ProlongationBody,
        a.ProlongationIn,
        CaseWorkflow.decide_prolongation,
        "Decide a prolongation (решение о пролонгировании, консилиум)",
    ),
    ActionRoute(
        "closure-request",
        Action.REQUEST_CLOSURE,
        a.ClosureRequestBody,
        a.ClosureRequestIn,
        CaseWorkflow.request_closure,
        "Request closure with a reason (снятие с сопровождения)",
    ),
    ActionRoute(
        "closure-approval",
        Action.APPROVE_CLOSURE,
        a.ClosureApprovalBody,
        a.ClosureApprovalIn,
        CaseWorkflow.approve_closure,
        "Approve or reject a requested closure (утверждение снятия)",
    ),
    ActionRoute(
        "urgent-services",
        Action.GIVE_URGENT_SERVICE,
        a.UrgentServiceBody,
        a.UrgentServiceIn,
        CaseWorkflow.give_urgent_service,
        "Give an urgent service (срочная социальная услуга, 442-ФЗ ст. 21)",
    ),
    ActionRoute(
        "child-safety-alerts",
        Action.RAISE_CHILD_SAFETY_ALERT,
        a.ChildSafetyAlertBody,
        a.ChildSafetyAlertIn,
        CaseWorkflow.raise_child_safety_alert,
        "Raise a child-safety alert (120-ФЗ ст. 9)",
    ),
    ActionRoute(
        "curator",
        Action.REASSIGN_CURATOR,
        a.ReassignCuratorBody,
        a.ReassignCuratorIn,
        CaseWorkflow.reassign_curator,
        "Reassign the curator (смена куратора)",
    ),
    ActionRoute(
        "signals",
        Action.RECEIVE_SIGNAL,
        a.SignalBody,
        a.SignalIn,
        CaseWorkflow.receive_signal,
        "Record another signal about the family",
    ),
    ActionRoute(
        "follow-ups",
        Action.RECORD_FOLLOW_UP,
        a.FollowUpBody,
        a.FollowUpIn,
        CaseFollowUpWorkflow.record_follow_up,
        "Record a post-closure follow-up (контроль после снятия)",
    ),
)


def _endpoint(route: ActionRoute) -> Callable[..., Awaitable[CaseView]]:
    # FastAPI reads the body's type from the annotation: each route gets its own typed body.
    body_type: Any = route.body

    async def endpoint(
        case: AddressedCase,
        body: body_type,
        actor: CurrentActor,
        state: State,
        key: IdempotencyKey,
    ) -> CaseView:
        if actor.role not in RULES[route.action].roles:
            allowed = ", ".join(sorted(RULES[route.action].roles))
            raise ApiError(
                403,
                "forbidden",
                f"role {actor.role} may not {route.action} (allowed for: {allowed})",
            )
        command = route.command.model_validate({**body.model_dump(), "actor": actor})
        follow_up = route.action is Action.RECORD_FOLLOW_UP
        result = await act(
            state.temporal,
            workflow_id=follow_up_workflow_id(case.case_id) if follow_up else case.workflow_id,
            first_run_id=None if follow_up else case.first_run_id,
            update=route.update,
            command=command,
            action=route.action,
            key=key,
            wait=timedelta(seconds=state.settings.update_timeout_seconds),
        )
        view: CaseView = result.view if isinstance(result, SignalOutcome) else result
        return for_caller(view, actor)

    return endpoint


for _route in ROUTES:
    router.add_api_route(
        f"/{{case_id}}/{_route.path}",
        _endpoint(_route),
        methods=["POST"],
        summary=_route.summary,
        name=str(_route.action),
        responses=error_responses(401, 403, 404, 409, 422, 429, 503),
    )
