"""What an action needs of the case beyond its stage, role and territory: pure functions, each
`(state, body) -> reason | None`, named in the action catalogue (models/lifecycle/actions.py).
The workflow asks them in the update's validator and again under its lock.

Apart from these, `date_problem` checks the dates an action brings against the moment (and
what a closure needs of it: a СОП family's programme still open refuses term expiry): what
the payload's own validation cannot know, since it must not read the clock (it also runs in
the workflow sandbox). The workflow passes `workflow.now()` and asks it in the validator only
(validators do not run on replay, so a history that took an action before this check existed
replays as it ran). A refusal is a reason for the caller (409), given before anything is
applied, so no date an action brings can fail a workflow task later.
"""

from datetime import date, datetime, timezone

from models.lifecycle.agreement import agreement_date_problem
from models.lifecycle.commission import term_expiry_refusal
from models.lifecycle.social_contract_link import contract_date_problem
from models.lifecycle.state import CaseState
from models.payloads import actions as inputs
from models.policy import ClosureReason, shift
from models.policy.codes import RETIRED_CLOSURE_REASONS


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


def follow_up_open(state: CaseState, body: inputs.FollowUpBody) -> str | None:
    if f"T9:{body.number}" not in state.deadlines:
        return f"follow-up {body.number} is not open"
    return None


def date_problem(state: CaseState, command: inputs.ActionBody, now: datetime) -> str | None:
    """Why the dates `command` brings cannot be taken at `now`, or None."""
    if isinstance(command, inputs.IntakeBody) and command.application_date is not None:
        return application_date_problem(state, command.application_date, now)
    if isinstance(command, inputs.PlanBody):
        return plan_deadline_problem(state, command, now)
    if isinstance(command, inputs.AgreementBody):
        return agreement_date_problem(state, command.concluded_on, now)
    if isinstance(command, inputs.SocialContractBody):
        return contract_date_problem(state, command, now)
    if isinstance(command, inputs.AssessmentBody) and command.commission is not None:
        return resolution_date_problem(state, command.commission.resolution_date, now)
    if isinstance(command, inputs.CommissionDecisionBody):
        return resolution_date_problem(state, command.programme.resolution_date, now)
    return closure_moment_problem(state, command, now)


def resolution_date_problem(state: CaseState, day: date, now: datetime) -> str | None:
    local = timezone(state.policy.utc_offset)
    today = now.astimezone(local).date()
    if day > today:
        return f"the commission's resolution_date {day} is in the future (today is {today})"
    return None


def application_date_problem(state: CaseState, day: date, now: datetime) -> str | None:
    """An application is dated today or earlier (local time), and not more than a year before
    the case opened: T2 and T3 count from it, and an older date is a typo that would fire every
    rung of both ladders at once."""
    local = timezone(state.policy.utc_offset)
    today = now.astimezone(local).date()
    if day > today:
        return f"application_date {day} is in the future (today is {today})"
    opened = state.opened_at.astimezone(local).date()
    earliest = _a_year_before(opened)
    if day < earliest:
        return (
            f"application_date {day} is more than a year before the case was opened "
            f"({opened}): the earliest accepted is {earliest}"
        )
    return None


def plan_deadline_problem(state: CaseState, plan: inputs.PlanBody, now: datetime) -> str | None:
    """A plan item is due after the plan's approval and no later than the end of the case's
    maximum term, which the approval starts: the case is closed at that end whatever is left."""
    policy = state.policy
    cap = shift(now, policy.max_total_term.value, state.calendar, policy.utc_offset)
    for item in plan.items:
        if item.deadline <= now:
            return f"plan item {item.item_id}: its deadline {item.deadline.isoformat()} is past"
        if item.deadline > cap:
            return (
                f"plan item {item.item_id}: its deadline {item.deadline.isoformat()} is after "
                f"the maximum term ({policy.max_total_term.value}) ends, {cap.isoformat()}"
            )
    return None


def _a_year_before(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def closure_moment_problem(
    state: CaseState, command: inputs.ActionBody, now: datetime
) -> str | None:
    """Why a closure this action would make cannot be made at `now`: a retired reason, or
    term expiry while a СОП family's programme runs (models/lifecycle/commission.py)."""
    reason: ClosureReason | None = None
    if isinstance(command, inputs.ClosureRequestBody):
        reason = command.reason
    elif isinstance(command, inputs.ReviewBody):
        reason = command.closure_reason
    elif isinstance(command, inputs.ClosureApprovalBody) and command.approve:
        return term_expiry_refusal(state, state.closure_requested, now)
    elif isinstance(command, inputs.ProlongationBody) and not command.approve:
        refused = term_expiry_refusal(state, ClosureReason.TERM_EXPIRED, now)
        return None if refused is None else f"the prolongation cannot be refused: {refused}"
    if reason in RETIRED_CLOSURE_REASONS:
        return f"closure reason {reason} is retired: name death or missing instead"
    return term_expiry_refusal(state, reason, now)
