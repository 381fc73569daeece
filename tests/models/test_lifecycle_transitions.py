"""Transitions as pure functions: what a step does to the deadlines, without a server."""

from datetime import UTC, datetime, timedelta

from models.lifecycle import transitions as t
from models.lifecycle.deadline_book import fire_due_alarms
from models.lifecycle.state import CaseState
from models.lifecycle.steps import StepLog
from models.payloads import actions as a
from models.payloads.vocabulary import NeedCircumstance, NeedDecision, ReviewOutcome, SignalSource
from models.policy import AccompanimentLevel, Duration, shift
from models.policy.loader import load_policy
from tests.support.cases import fresh_state, specialist, supervisor

POLICY = load_policy("default")
START = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)  # a Monday, 10:00 in Novosibirsk


def _case() -> CaseState:
    return fresh_state(START)


def _log(state: CaseState, at: datetime, staff: a.Actor | None = None) -> StepLog:
    actor = staff or specialist()
    return StepLog(state, at, actor.staff_id, actor.role)


def _recognised(level: AccompanimentLevel) -> a.AssessmentBody:
    return a.AssessmentBody(
        decision=NeedDecision.NEED_RECOGNISED,
        circumstances=[NeedCircumstance.NO_WORK_NO_MEANS],
        level=level,
    )


def test_a_refusal_stops_the_programme_deadline_until_need_is_recognised_again() -> None:
    state = _case()
    t.receive_signal(state, a.SignalBody(source=SignalSource.SELF_REQUEST), _log(state, START))
    t.register_intake(state, a.IntakeBody(), _log(state, START))
    programme_due = state.deadlines["T3"].due_at

    refused = a.AssessmentBody(decision=NeedDecision.REFUSED)
    t.record_assessment(state, refused, _log(state, START + timedelta(hours=1)))
    assert state.closure_requested is not None
    assert "T2" not in state.deadlines
    assert "T3" not in state.deadlines
    # While the closure awaits approval nothing about the programme fires.
    fired = fire_due_alarms(state.deadlines, programme_due + timedelta(days=30))
    assert [deadline.key for deadline, _ in fired if deadline.key in ("T2", "T3")] == []

    t.approve_closure(
        state,
        a.ClosureApprovalBody(approve=False),
        _log(state, START + timedelta(hours=2), supervisor()),
    )
    t.record_assessment(
        state, _recognised(AccompanimentLevel.L1), _log(state, START + timedelta(hours=3))
    )
    assert state.deadlines["T3"].due_at == programme_due


def test_a_move_to_crisis_wants_a_contact_the_same_day() -> None:
    state = _case()
    t.receive_signal(state, a.SignalBody(source=SignalSource.SELF_REQUEST), _log(state, START))
    t.record_contact(state, a.ContactBody(), _log(state, START))
    t.register_intake(state, a.IntakeBody(), _log(state, START))
    t.record_assessment(state, _recognised(AccompanimentLevel.L1), _log(state, START))
    state.stage = state.stage.SUPPORT  # the plan's details do not matter here
    later = START + timedelta(days=10, hours=1)
    review = a.ReviewBody(outcome=ReviewOutcome.CHANGE_LEVEL, new_level=AccompanimentLevel.L3)
    t.record_review(state, review, _log(state, later))
    end_of_today = shift(later, Duration.parse("0WD"), state.calendar, POLICY.utc_offset)
    assert state.deadlines["T5"].due_at == end_of_today


def test_child_safety_signs_bring_first_contact_forward_but_never_refire_an_escalation() -> None:
    state = _case()
    plain = a.SignalBody(source=SignalSource.SELF_REQUEST)
    urgent = a.SignalBody(source=SignalSource.AGENCY_REFERRAL, child_safety_indicators=True)
    t.receive_signal(state, plain, _log(state, START))
    one_working_day = state.deadlines["T1"].due_at
    t.receive_signal(state, urgent, _log(state, START + timedelta(hours=1)))
    assert state.deadlines["T1"].due_at < one_working_day  # the same day now

    escalating = _case()
    t.receive_signal(escalating, plain, _log(escalating, START))
    fired = fire_due_alarms(escalating.deadlines, escalating.deadlines["T1"].due_at)
    assert fired
    assert escalating.deadlines["T1"].overdue
    before = escalating.deadlines["T1"].model_copy(deep=True)
    t.receive_signal(escalating, urgent, _log(escalating, before.due_at + timedelta(hours=1)))
    assert escalating.deadlines["T1"] == before
