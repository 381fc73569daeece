"""The family's category (ТЖС, СОП, at risk) and, for a СОП family, the commission on minors'
programme the case follows: its review dates (T12), and no closure for `term_expired` while the
programme runs (120-ФЗ ст. 5, 7: work goes on until its causes are removed)."""

from datetime import datetime

from models.lifecycle.local_days import day_end
from models.lifecycle.planning import arm
from models.lifecycle.state import CaseState
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
    offset = state.policy.utc_offset
    state.commission = CommissionProgrammeView(
        resolution_number=programme.resolution_number,
        resolution_date=programme.resolution_date,
        programme_ends_on=programme.programme_ends_on,
        ends_at=day_end(programme.programme_ends_on, offset),
        review_dates=sorted(programme.review_dates),
    )
    planned = []
    for key in [k for k in state.deadlines if k.startswith("T12:")]:
        state.deadlines.pop(key)  # a re-assessment brings the programme as it is now
    if DeadlineCode.T12 in state.policy.deadlines:
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
    return {
        "category": assessment.category,
        "commission": {
            "resolution_number": programme.resolution_number,
            "resolution_date": programme.resolution_date.isoformat(),
            "programme_ends_on": programme.programme_ends_on.isoformat(),
            "reviews_planned": planned,
        },
    }


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
