"""Which staff action is allowed in which stage, and for which role (PRODUCT.md §2 and §3)."""

from dataclasses import dataclass
from enum import StrEnum

from models.payloads.vocabulary import OPEN_STAGES, StaffRole, Stage


class Action(StrEnum):
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


@dataclass(frozen=True)
class ActionRule:
    stages: frozenset[Stage]
    roles: frozenset[StaffRole]


# The ministry reads and audits; it never acts on a case.
_STAFF = frozenset({StaffRole.SPECIALIST, StaffRole.SUPERVISOR, StaffRole.HEAD})
# Approvals and reassignment: a specialist may only request them.
_MANAGERS = frozenset({StaffRole.SUPERVISOR, StaffRole.HEAD})
_IN_SUPPORT = frozenset({Stage.SUPPORT, Stage.REVIEW, Stage.PROLONGATION})

RULES: dict[Action, ActionRule] = {
    Action.RECEIVE_SIGNAL: ActionRule(OPEN_STAGES, _STAFF),
    Action.REGISTER_INTAKE: ActionRule(frozenset({Stage.IDENTIFIED}), _STAFF),
    Action.RECORD_ASSESSMENT: ActionRule(frozenset({Stage.ASSESSMENT}), _STAFF),
    Action.SET_ROUTE: ActionRule(frozenset({Stage.ROUTING}), _STAFF),
    Action.NAME_TEAM: ActionRule(frozenset({Stage.TEAM}), _STAFF),
    Action.APPROVE_PLAN: ActionRule(frozenset({Stage.PLANNING}), _MANAGERS),
    Action.COMPLETE_PLAN_ITEM: ActionRule(_IN_SUPPORT, _STAFF),
    Action.RECORD_CONTACT: ActionRule(OPEN_STAGES, _STAFF),
    Action.RECORD_REVIEW: ActionRule(frozenset({Stage.SUPPORT, Stage.REVIEW}), _STAFF),
    Action.DECIDE_PROLONGATION: ActionRule(frozenset({Stage.PROLONGATION}), _MANAGERS),
    Action.REQUEST_CLOSURE: ActionRule(OPEN_STAGES, _STAFF),
    Action.APPROVE_CLOSURE: ActionRule(OPEN_STAGES, _MANAGERS),
    Action.GIVE_URGENT_SERVICE: ActionRule(OPEN_STAGES, _STAFF),
    Action.RAISE_CHILD_SAFETY_ALERT: ActionRule(OPEN_STAGES, _STAFF),
    Action.REASSIGN_CURATOR: ActionRule(_IN_SUPPORT | {Stage.PLANNING}, _MANAGERS),
    Action.RECORD_FOLLOW_UP: ActionRule(frozenset({Stage.CLOSED}), _STAFF),
}


def _names(values: frozenset[Stage] | frozenset[StaffRole]) -> str:
    return ", ".join(sorted(values))


def refusal(action: Action, stage: Stage, role: StaffRole) -> str | None:
    """Why `role` may not take `action` in `stage`, or None when it may."""
    rule = RULES[action]
    if stage not in rule.stages:
        allowed = allowed_actions(stage, role)
        return (
            f"{action} is not allowed in stage {stage} (allowed in: {_names(rule.stages)}); "
            f"in stage {stage} a {role} may: {', '.join(allowed) or 'nothing'}"
        )
    if role not in rule.roles:
        return f"role {role} may not {action} (allowed for: {_names(rule.roles)})"
    return None


def allowed_actions(stage: Stage, role: StaffRole | None = None) -> list[str]:
    """The actions open in `stage`, for `role` if given, in declaration order."""
    return [
        action.value
        for action, rule in RULES.items()
        if stage in rule.stages and (role is None or role in rule.roles)
    ]
