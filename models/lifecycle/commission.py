"""The family's category (ТЖС, СОП, at risk) and, for a СОП family, the commission on minors'
programme the case follows: its review dates (T12), and no closure for `term_expired` while the
programme runs (120-ФЗ ст. 5, 7: work goes on until its causes are removed)."""

from datetime import datetime

from models.lifecycle.local_days import day_end
from models.lifecycle.planning import arm
from models.lifecycle.state import CaseState
from models.lifecycle.steps import StepLog
from models.payloads import actions as inputs
from models.payloads.case_view import CommissionProgrammeView
from models.policy import ClosureReason, DeadlineCode, Role


def record_category(
    state: CaseState, assessment: inputs.AssessmentBody, now: datetime
) -> dict[str, object]:
    """Record the category and the commission's programme; arm its review dates still ahead.
    What the assessment's event adds to its data."""
    if assessment.category is None:  # an assessment that names none (or from older code)
        return {}
    state.family_category = assessment.category
    programme = assessment.commission
    if programme is None:
        state.commission = None
        return {"category": assessment.category}
    planned = _follow_programme(state, programme, now)
    return {
        "category": assessment.category,
        "commission": {
            "resolution_number": programme.resolution_number,
            "resolution_date": programme.resolution_date.isoformat(),
            "programme_ends_on": programme.programme_ends_on.isoformat(),
            "reviews_planned": planned,
        },
    }


def _follow_programme(
    state: CaseState, programme: inputs.CommissionProgrammeIn, now: datetime
) -> list[str]:
    """The case follows `programme` from now: its end, and its review dates still ahead armed
    (T12) in place of the earlier programme's. The keys armed."""
    offset = state.policy.utc_offset
    state.commission = CommissionProgrammeView(
        resolution_number=programme.resolution_number,
        resolution_date=programme.resolution_date,
        programme_ends_on=programme.programme_ends_on,
        ends_at=day_end(programme.programme_ends_on, offset),
        review_dates=sorted(programme.review_dates),
    )
    for key in [k for k in state.deadlines if k.startswith("T12:")]:
        state.deadlines.pop(key)
    planned: list[str] = []
    if DeadlineCode.T12 not in state.policy.deadlines:
        return planned
    for number, day in enumerate(state.commission.review_dates, start=1):
        due = day_end(day, offset)
        if due > now:  # a review date already past is the commission's record, not ours
            arm(
                state,
                f"T12:{number}",
                DeadlineCode.T12,
                start=now,
                due=due,
                now=now,
                responsible=state.curator or Role.CURATOR,
            )
            planned.append(f"T12:{number}")
    return planned


def record_commission_decision(
    state: CaseState, decision: inputs.CommissionDecisionBody, log: StepLog
) -> None:
    """A later resolution of the commission: its programme prolonged, changed or ended (the
    family removed from the СОП register: an end date already reached)."""
    before = state.commission
    planned = _follow_programme(state, decision.programme, log.now)
    assert state.commission is not None
    if state.cap_at is not None and before is not None and state.cap_at == before.ends_at:
        # The maximum term was deferred to the programme's end: it follows the new end.
        state.cap_at = state.commission.ends_at
    log.event(
        "commission_decision_recorded",
        stage_before=state.stage,
        reason=decision.comment,
        data={
            "resolution_number": decision.programme.resolution_number,
            "resolution_date": decision.programme.resolution_date.isoformat(),
            "programme_ends_on": decision.programme.programme_ends_on.isoformat(),
            "reviews_planned": planned,
        },
    )


def sop_family(state: CaseState, decision: inputs.CommissionDecisionBody) -> str | None:
    if state.commission is None:
        return "the family is not in a socially dangerous position (no commission's programme)"
    return None


def term_expiry_refusal(
    state: CaseState, reason: ClosureReason | None, now: datetime
) -> str | None:
    """Why the case cannot close for `reason` at `now`: a СОП family's programme is open."""
    if reason is not ClosureReason.TERM_EXPIRED or not state.sop_programme_open(now):
        return None
    assert state.commission is not None
    return (
        "no closure for term_expired while the commission's programme runs: the family is in a "
        f"socially dangerous position (СОП, resolution {state.commission.resolution_number} of "
        f"{state.commission.resolution_date}), its programme ends on "
        f"{state.commission.programme_ends_on}"
    )


def commission_review_done(state: CaseState) -> str | None:
    """A review of the case serves the commission's review due next (the earliest open T12):
    its key, or None when none is open."""
    open_reviews = [d for d in state.deadlines.values() if d.code is DeadlineCode.T12]
    if not open_reviews:
        return None
    earliest = min(open_reviews, key=lambda d: (d.due_at, d.key))
    state.deadlines.pop(earliest.key)
    return earliest.key
