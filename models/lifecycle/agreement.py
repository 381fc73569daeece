"""The service agreement (договор о социальном обслуживании, 442-ФЗ ст. 17 ч. 1): concluded
within one day of the individual programme being presented (the plan's approval), with a
deadline of its own (T11) and the usual ladder."""

from datetime import date, datetime

from models.lifecycle.local_days import local_date
from models.lifecycle.planning import arm, done
from models.lifecycle.state import CaseState
from models.lifecycle.steps import StepLog
from models.payloads import actions as inputs
from models.payloads.case_view import AgreementView
from models.policy import DeadlineCode


def arm_agreement(state: CaseState, now: datetime) -> None:
    """T11 from the plan's approval, for the curator; a policy older than T11 arms nothing (the
    case keeps the policy it started under, and its replay the commands it had)."""
    rules = state.policy.deadlines.get(DeadlineCode.T11)
    if rules is None or state.agreement is not None:
        return
    arm(state, "T11", DeadlineCode.T11, start=now, due=rules.due, now=now)


def record_agreement(state: CaseState, agreement: inputs.AgreementBody, log: StepLog) -> None:
    state.agreement = AgreementView(
        number=agreement.number, concluded_on=agreement.concluded_on, recorded_at=log.now
    )
    done(state, "T11")
    log.event(
        "agreement_recorded",
        stage_before=state.stage,
        reason=agreement.comment,
        data={"number": agreement.number, "concluded_on": agreement.concluded_on.isoformat()},
    )


def agreement_not_recorded(state: CaseState, body: inputs.AgreementBody) -> str | None:
    if state.agreement is None:
        return None
    number, day = state.agreement.number, state.agreement.concluded_on
    return f"the service agreement is already recorded (№ {number} of {day})"


def agreement_date_problem(state: CaseState, day: date, now: datetime) -> str | None:
    """An agreement is dated today or earlier (local), and not before the plan's approval: it
    is concluded on the individual programme, which the approval presents."""
    offset = state.policy.utc_offset
    today = local_date(now, offset)
    if day > today:
        return f"concluded_on {day} is in the future (today is {today})"
    if state.plan_approved_at is not None:
        approved = local_date(state.plan_approved_at, offset)
        if day < approved:
            return f"concluded_on {day} is before the plan was approved ({approved})"
    return None
