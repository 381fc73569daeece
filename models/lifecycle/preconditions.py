"""What an action needs of the case beyond its stage, role and territory: pure functions, each
`(state, body) -> reason | None`, named in the action catalogue (models/lifecycle/actions.py).
The workflow asks them in the update's validator and again under its lock."""

from models.lifecycle.state import CaseState
from models.payloads import actions as inputs


def plan_item_open(state: CaseState, body: inputs.PlanItemDoneBody) -> str | None:
    item = state.plan_items.get(body.item_id)
    if item is None:
        return f"the plan has no item {body.item_id}"
    if item.done_at is not None:
        return f"plan item {body.item_id} is already done"
    return None


def closure_requested(state: CaseState, body: inputs.ClosureApprovalBody) -> str | None:
    return "no closure has been requested" if state.closure_requested is None else None


def no_closure_pending(state: CaseState, body: inputs.ClosureRequestBody) -> str | None:
    if state.closure_requested is not None:
        return f"a closure ({state.closure_requested}) already awaits approval"
    return None


def application_date_in_calendar(state: CaseState, body: inputs.IntakeBody) -> str | None:
    day = body.application_date
    calendar = state.calendar
    if day is not None and not calendar.covers(day):
        return (
            f"application_date {day} is outside the case's working calendar "
            f"({calendar.first_day}..{calendar.last_day})"
        )
    return None


def follow_up_open(state: CaseState, body: inputs.FollowUpBody) -> str | None:
    if f"T9:{body.number}" not in state.deadlines:
        return f"follow-up {body.number} is not open"
    return None
