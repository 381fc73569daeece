"""What time does to a case: reminders and escalations fire, reviews fall due, the cap closes."""

from datetime import datetime

from models.lifecycle.deadline_book import fire_due_alarms, next_alarm_at
from models.lifecycle.state import CaseState
from models.lifecycle.steps import StepLog
from models.lifecycle.transitions import close
from models.payloads.vocabulary import Stage
from models.policy import ClosureReason, DeadlineCode

# Deadlines whose first alarm means "this step is now open": the case moves to review.
_OPENS_REVIEW = {DeadlineCode.T6, DeadlineCode.T7}


def next_wake_at(state: CaseState) -> datetime | None:
    """When the workflow must wake next, whatever else happens."""
    times = [t for t in (next_alarm_at(state.deadlines), state.cap_at) if t is not None]
    if state.stage is Stage.CLOSED:
        return next_alarm_at(state.deadlines)
    return min(times, default=None)


def advance_clock(state: CaseState, log: StepLog) -> None:
    """Fire everything due by `log.now`, in time order, each exactly once."""
    if state.stage is not Stage.CLOSED and state.cap_at is not None and log.now >= state.cap_at:
        cap = state.policy.max_total_term.value
        if state.commission is not None and state.sop_programme_open(log.now):
            # 120-ФЗ: a СОП family's work goes on while the commission's programme runs; the
            # cap closes the case at the programme's end instead.
            state.cap_at = state.commission.ends_at
            log.event(
                "closure_deferred",
                stage_before=state.stage,
                reason=f"the maximum total term ({cap}) is reached while the commission's "
                f"programme runs to {state.commission.programme_ends_on}",
            )
            return
        log.event(
            "closure_forced",
            stage_before=state.stage,
            reason=f"the maximum total term ({cap}) is reached",
        )
        close(state, ClosureReason.TERM_EXPIRED, log)
        return
    for deadline, alarm in fire_due_alarms(state.deadlines, log.now):
        before = state.stage
        if deadline.code in _OPENS_REVIEW and state.stage is Stage.SUPPORT:
            state.stage = Stage.REVIEW
        seq = log.event(
            str(alarm.kind) if alarm.step != "open" else "step_opened",
            stage_before=before,
            data={
                "deadline": deadline.key,
                "code": deadline.code,
                "step": alarm.step,
                "due_at": deadline.due_at.isoformat(),
                "scheduled_at": alarm.at.isoformat(),
                "rung": alarm.rung_level,
            },
        )
        log.notify(
            seq,
            alarm.recipient,
            is_role=alarm.recipient_is_role,
            kind=alarm.kind,
            code=deadline.code,
            due_at=deadline.due_at,
            message=_message(deadline.key, alarm.step, deadline.due_at),
        )


def _message(key: str, step: str, due_at: datetime) -> str:
    due = due_at.strftime("%Y-%m-%d %H:%M UTC")
    if step == "reminder":
        return f"{key} is due {due}"
    if step == "open":
        return f"{key} is open: due {due}"
    return f"{key} was due {due} and is not done ({step})"
