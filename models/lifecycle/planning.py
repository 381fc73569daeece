"""Arming and clearing the case's deadlines (T1-T8, T10) as the case moves."""

from datetime import datetime

from models.lifecycle.deadline_book import plan_deadline
from models.lifecycle.state import CaseState
from models.policy import DeadlineCode, Duration, Role


def arm(
    state: CaseState,
    key: str,
    code: DeadlineCode,
    *,
    start: datetime,
    due: Duration | datetime | None,
    now: datetime,
    responsible: str | Role | None = None,
) -> None:
    """(Re)plan deadline `key`; a None `due` (not applicable to this level) clears it.

    `responsible` is a staff id or a role; by default the curator, or the curator's role
    while none is named yet.
    """
    state.deadlines.pop(key, None)
    if due is None:
        return
    who = responsible if responsible is not None else (state.curator or Role.CURATOR)
    state.deadlines[key] = plan_deadline(
        key=key,
        code=code,
        start=start,
        due=due,
        responsible=str(who),
        responsible_is_role=isinstance(who, Role),
        curator=state.curator,
        policy=state.policy,
        calendar=state.calendar,
        now=now,
    )


def done(state: CaseState, *keys: str) -> list[str]:
    """Close deadlines whose step is done: their remaining alarms never fire. The keys closed."""
    return [key for key in keys if state.deadlines.pop(key, None) is not None]


def arm_contact_cadence(state: CaseState, *, start: datetime, now: datetime, first: bool) -> None:
    """T5: the next contact by the level's cadence (L3: the first one the same day)."""
    assert state.level is not None
    cadence = state.policy.levels[state.level]
    due = cadence.first_contact if first and cadence.first_contact else cadence.contact_every
    arm(state, "T5", DeadlineCode.T5, start=start, due=due, now=now)


def arm_plan_review(state: CaseState, *, start: datetime, now: datetime) -> None:
    """T6: the next plan review by the level's period."""
    assert state.level is not None
    due = state.policy.levels[state.level].review_every
    arm(state, "T6", DeadlineCode.T6, start=start, due=due, now=now)


def arm_term_end(state: CaseState, *, now: datetime) -> None:
    """T7: the prolongation decision, due at the term's end (it opens 10 WD before)."""
    assert state.term_ends_at is not None
    arm(
        state,
        "T7",
        DeadlineCode.T7,
        start=now,
        due=state.term_ends_at,
        now=now,
        responsible=Role.SUPERVISOR,
    )
