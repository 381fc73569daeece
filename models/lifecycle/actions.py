"""The staff-action catalogue: one row describes an action whole (PRODUCT.md §2 and §3).

Each `StaffActionSpec` says what the action is called, who may take it and in which stages,
what it needs of the case beyond that (its precondition), what it does (its transition, in
models/lifecycle/transitions.py), which workflow takes it, and its HTTP path and summary. The
workflows' update handlers and validators (workflows/staff_updates.py) and the API's routes
(api/routes/actions.py) are derived from these rows; nothing else lists the actions.
"""

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Generic, TypeVar

from models.lifecycle import agreement, commission, social_contract_link
from models.lifecycle import preconditions as pre
from models.lifecycle import transitions as t
from models.lifecycle.state import CaseState
from models.lifecycle.steps import StepLog
from models.payloads import actions as bodies
from models.payloads.actions import ActionBody, StaffAction, command_type
from models.payloads.vocabulary import OPEN_STAGES, StaffRole, Stage


class Action(StrEnum):
    """Also each action's Workflow Update name: never rename one that running cases know."""

    RECEIVE_SIGNAL = "receive_signal"
    REGISTER_INTAKE = "register_intake"
    RECORD_ASSESSMENT = "record_assessment"
    SET_ROUTE = "set_route"
    NAME_TEAM = "name_team"
    APPROVE_PLAN = "approve_plan"
    COMPLETE_PLAN_ITEM = "complete_plan_item"
    RECORD_CONTACT = "record_contact"
    RECORD_REVIEW = "record_review"
    DECIDE_PROLONGATION = "decide_prolongation"
    REQUEST_CLOSURE = "request_closure"
    APPROVE_CLOSURE = "approve_closure"
    GIVE_URGENT_SERVICE = "give_urgent_service"
    RAISE_CHILD_SAFETY_ALERT = "raise_child_safety_alert"
    REASSIGN_CURATOR = "reassign_curator"
    RECORD_FOLLOW_UP = "record_follow_up"
    RECORD_AGREEMENT = "record_agreement"
    CONCLUDE_SOCIAL_CONTRACT = "conclude_social_contract"
    RECORD_COMMISSION_DECISION = "record_commission_decision"


class TakenBy(StrEnum):
    """Which workflow takes an action: the open case, or the closed case's follow-ups."""

    CASE = "case"
    FOLLOW_UP = "follow_up"


Body = TypeVar("Body", bound=ActionBody)


def _no_precondition(state: CaseState, body: Any) -> None:
    return None


@dataclass(frozen=True)
class StaffActionSpec(Generic[Body]):
    action: Action
    path: str  # POST /api/v1/cases/{id}/<path>
    summary: str  # the OpenAPI summary and the update's description in the Web UI
    body: type[Body]
    stages: frozenset[Stage]
    roles: frozenset[StaffRole]
    transition: Callable[[CaseState, Body, StepLog], None]
    precondition: Callable[[CaseState, Body], str | None] = _no_precondition
    taken_by: TakenBy = TakenBy.CASE

    @property
    def command(self) -> type[StaffAction]:
        """What the workflow's update receives: the body and who acts."""
        return command_type(self.body)

    def role_refusal(self, role: StaffRole) -> str | None:
        """Why `role` may never take this action, or None."""
        if role in self.roles:
            return None
        return f"role {role} may not {self.action} (allowed for: {_names(self.roles)})"


# The ministry reads and audits; it never acts on a case.
_STAFF = frozenset({StaffRole.SPECIALIST, StaffRole.SUPERVISOR, StaffRole.HEAD})
# Approvals and reassignment: a specialist may only request them.
_MANAGERS = frozenset({StaffRole.SUPERVISOR, StaffRole.HEAD})
_IN_SUPPORT = frozenset({Stage.SUPPORT, Stage.REVIEW, Stage.PROLONGATION})


def _only(*stages: Stage) -> frozenset[Stage]:
    return frozenset(stages)


_SPECS: tuple[StaffActionSpec[Any], ...] = (
    StaffActionSpec(
        Action.RECEIVE_SIGNAL,
        "signals",
        "Record another signal about the family (выявление, повторный сигнал)",
        bodies.SignalBody,
        OPEN_STAGES,
        _STAFF,
        t.receive_signal,
    ),
    StaffActionSpec(
        Action.REGISTER_INTAKE,
        "intake",
        "Register the intake (регистрация обращения)",
        bodies.IntakeBody,
        _only(Stage.IDENTIFIED),
        _STAFF,
        t.register_intake,
    ),
    StaffActionSpec(
        Action.RECORD_ASSESSMENT,
        "assessment",
        "Record the assessment and level (оценка семейной ситуации, уровень)",
        bodies.AssessmentBody,
        _only(Stage.ASSESSMENT),
        _STAFF,
        t.record_assessment,
    ),
    StaffActionSpec(
        Action.SET_ROUTE,
        "route",
        "Set the route (маршрутизация)",
        bodies.RouteBody,
        _only(Stage.ROUTING),
        _STAFF,
        t.set_route,
    ),
    StaffActionSpec(
        Action.NAME_TEAM,
        "team",
        "Name the curator and team (команда сопровождения)",
        bodies.TeamBody,
        _only(Stage.TEAM),
        _STAFF,
        t.name_team,
    ),
    StaffActionSpec(
        Action.APPROVE_PLAN,
        "plan",
        "Approve the individual plan (утверждение ИППСУ и плана сопровождения)",
        bodies.PlanBody,
        _only(Stage.PLANNING),
        _MANAGERS,
        t.approve_plan,
    ),
    StaffActionSpec(
        Action.COMPLETE_PLAN_ITEM,
        "plan-item-done",
        "Mark a plan item done (мероприятие плана выполнено)",
        bodies.PlanItemDoneBody,
        _IN_SUPPORT,
        _STAFF,
        t.complete_plan_item,
        pre.plan_item_open,
    ),
    StaffActionSpec(
        Action.RECORD_CONTACT,
        "contacts",
        "Record a contact (контакт с семьёй)",
        bodies.ContactBody,
        OPEN_STAGES,
        _STAFF,
        t.record_contact,
    ),
    StaffActionSpec(
        Action.RECORD_REVIEW,
        "reviews",
        "Record a review (мониторинг и оценка)",
        bodies.ReviewBody,
        _only(Stage.SUPPORT, Stage.REVIEW),
        _STAFF,
        t.record_review,
    ),
    StaffActionSpec(
        Action.DECIDE_PROLONGATION,
        "prolongation",
        "Decide a prolongation (решение о пролонгировании, консилиум)",
        bodies.ProlongationBody,
        _only(Stage.PROLONGATION),
        _MANAGERS,
        t.decide_prolongation,
        t.prolongation_refusal,
    ),
    StaffActionSpec(
        Action.REQUEST_CLOSURE,
        "closure-request",
        "Request closure with a reason (снятие с сопровождения)",
        bodies.ClosureRequestBody,
        OPEN_STAGES,
        _STAFF,
        t.request_closure,
        pre.no_closure_pending,
    ),
    StaffActionSpec(
        Action.APPROVE_CLOSURE,
        "closure-approval",
        "Approve or reject a requested closure (утверждение снятия)",
        bodies.ClosureApprovalBody,
        OPEN_STAGES,
        _MANAGERS,
        t.approve_closure,
        pre.closure_requested,
    ),
    StaffActionSpec(
        Action.GIVE_URGENT_SERVICE,
        "urgent-services",
        "Give an urgent service (срочная социальная услуга, 442-ФЗ ст. 21)",
        bodies.UrgentServiceBody,
        OPEN_STAGES,
        _STAFF,
        t.give_urgent_service,
    ),
    StaffActionSpec(
        Action.RAISE_CHILD_SAFETY_ALERT,
        "child-safety-alerts",
        "Raise a child-safety alert (120-ФЗ ст. 9)",
        bodies.ChildSafetyAlertBody,
        OPEN_STAGES,
        _STAFF,
        t.raise_child_safety_alert,
    ),
    StaffActionSpec(
        Action.REASSIGN_CURATOR,
        "curator",
        "Reassign the curator (смена куратора)",
        bodies.ReassignCuratorBody,
        _IN_SUPPORT | {Stage.PLANNING},
        _MANAGERS,
        t.reassign_curator,
    ),
    StaffActionSpec(
        Action.RECORD_AGREEMENT,
        "agreement",
        "Record the service agreement (договор о социальном обслуживании, 442-ФЗ ст. 17)",
        bodies.AgreementBody,
        _IN_SUPPORT,
        _STAFF,
        agreement.record_agreement,
        agreement.agreement_not_recorded,
    ),
    StaffActionSpec(
        Action.CONCLUDE_SOCIAL_CONTRACT,
        "social-contract",
        "Record the social contract concluded (социальный контракт): its monitoring starts",
        bodies.SocialContractBody,
        _IN_SUPPORT,
        _STAFF,
        social_contract_link.conclude_social_contract,
        social_contract_link.contract_refusal,
    ),
    StaffActionSpec(
        Action.RECORD_COMMISSION_DECISION,
        "commission-decisions",
        "Record the commission's later resolution on the programme (постановление КДН и ЗП)",
        bodies.CommissionDecisionBody,
        OPEN_STAGES - {Stage.IDENTIFIED, Stage.ASSESSMENT},
        _STAFF,
        commission.record_commission_decision,
        commission.sop_family,
    ),
    StaffActionSpec(
        Action.RECORD_FOLLOW_UP,
        "follow-ups",
        "Record a post-closure follow-up (контроль после снятия)",
        bodies.FollowUpBody,
        _only(Stage.CLOSED),
        _STAFF,
        t.record_follow_up,
        pre.follow_up_open,
        TakenBy.FOLLOW_UP,
    ),
)

ACTIONS: dict[Action, StaffActionSpec[Any]] = {spec.action: spec for spec in _SPECS}


def _names(values: frozenset[Stage] | frozenset[StaffRole]) -> str:
    return ", ".join(sorted(values))


def refusal(action: Action, stage: Stage, role: StaffRole) -> str | None:
    """Why `role` may not take `action` in `stage`, or None when it may."""
    spec = ACTIONS[action]
    if stage not in spec.stages:
        allowed = allowed_actions(stage, role)
        return (
            f"{action} is not allowed in stage {stage} (allowed in: {_names(spec.stages)}); "
            f"in stage {stage} a {role} may: {', '.join(allowed) or 'nothing'}"
        )
    return spec.role_refusal(role)


def allowed_actions(stage: Stage, role: StaffRole | None = None) -> list[str]:
    """The actions open in `stage`, for `role` if given, in the catalogue's order."""
    return [
        spec.action.value
        for spec in _SPECS
        if stage in spec.stages and (role is None or role in spec.roles)
    ]
