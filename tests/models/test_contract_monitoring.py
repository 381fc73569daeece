"""A social contract's monitoring as pure functions, on the default policy: one contact a month
counted from the start (months never drift), the 12 months after the term, an early
termination dropping the term's contacts still ahead, and the outcomes each phase allows."""

import uuid
from datetime import UTC, date, datetime, timedelta

from models.lifecycle import contract_monitoring as monitoring
from models.lifecycle.contract_monitoring import ContractLog, SocialContractState
from models.payloads.social_contract import ContractOutcomeBody, ContractPhase
from models.payloads.vocabulary import SocialContractOutcome
from models.policy import Duration, SocialContractDirection, shift
from models.policy.loader import load_calendar, load_policy

POLICY = load_policy("default")
CALENDAR = load_calendar()
STARTS = datetime(2026, 1, 31, 3, 0, tzinfo=UTC)  # 31 January, 10:00 local


def _contract(term: str = "P6M") -> SocialContractState:
    ends = shift(STARTS, Duration.parse(term), CALENDAR, POLICY.utc_offset)
    return SocialContractState(
        contract_id=uuid.uuid4(),
        case_id=uuid.uuid4(),
        workflow_id="social-contract-test",
        municipality="iskitim_district",
        policy=POLICY,
        calendar=CALENDAR,
        number="СК-1",
        direction=SocialContractDirection.JOB_SEARCH,
        concluded_on=date(2026, 1, 31),
        starts_at=STARTS,
        term_ends_at=ends,
        curator="staff-101",
    )


def test_one_contact_a_month_counted_from_the_start() -> None:
    state = _contract("P6M")
    log = ContractLog.system(state, STARTS)
    monitoring.start_monitoring(state, log)
    local_days = [(c.due_at + timedelta(hours=7)).date() for c in state.contacts]
    assert [d.isoformat() for d in local_days[:3]] == ["2026-02-28", "2026-03-31", "2026-04-30"]
    assert len(state.contacts) == 6
    assert {d.responsible for d in state.deadlines.values()} == {"staff-101"}
    assert [e.action for e in log.events] == ["contract_monitoring_started"]
    assert log.events[0].case_id == state.contract_id  # the contract's own chain


def test_the_term_ends_and_twelve_months_follow_it() -> None:
    state = _contract("P3M")
    monitoring.start_monitoring(state, ContractLog.system(state, STARTS))
    log = ContractLog.system(state, state.term_ends_at)
    monitoring.advance(state, log)
    assert state.phase is ContractPhase.AFTER
    after = [c for c in state.contacts if c.phase is ContractPhase.AFTER]
    assert [c.number for c in after] == list(range(4, 16))
    assert state.monitoring_ends_at == after[-1].due_at
    assert log.events[0].action == "contract_term_ended"


def test_an_early_termination_drops_the_terms_contacts_ahead_and_counts_the_year_from_it() -> None:
    state = _contract("P9M")
    monitoring.start_monitoring(state, ContractLog.system(state, STARTS))
    when = STARTS + timedelta(days=70)  # after the second monthly contact fell due
    body = ContractOutcomeBody(outcome=SocialContractOutcome.TERMINATED_EARLY)
    assert monitoring.outcome_refusal(state, body) is None
    log = ContractLog(state, when, "staff-101", "specialist")
    monitoring.record_outcome(state, body, log)
    assert state.phase is ContractPhase.AFTER
    assert state.ended_at == when
    term = [c.number for c in state.contacts if c.phase is ContractPhase.TERM]
    assert term == [1, 2]  # the third to ninth never fall due
    after = [c for c in state.contacts if c.phase is ContractPhase.AFTER]
    assert after[0].number == 10  # a number is never given twice
    assert len(after) == 12
    assert after[0].due_at > when
    assert [e.action for e in log.events] == [
        "contract_outcome_recorded",
        "contract_terminated_early",
    ]
    completed = ContractOutcomeBody(outcome=SocialContractOutcome.COMPLETED)
    assert monitoring.outcome_refusal(state, completed) == (
        "the contract's outcome is already recorded (terminated_early)"
    )


def test_during_the_term_the_only_outcome_is_an_early_termination() -> None:
    state = _contract("P3M")
    completed = ContractOutcomeBody(outcome=SocialContractOutcome.COMPLETED, income_after="30000")
    refusal = monitoring.outcome_refusal(state, completed)
    assert refusal is not None
    assert "the only outcome is terminated_early" in refusal


def test_the_details_name_no_income() -> None:
    state = _contract("P3M")
    monitoring.start_monitoring(state, ContractLog.system(state, STARTS))
    monitoring.end_term(state, state.term_ends_at, ContractLog.system(state, STARTS), "x")
    body = ContractOutcomeBody(outcome=SocialContractOutcome.COMPLETED, income_after="31337")
    monitoring.record_outcome(state, body, ContractLog(state, STARTS, "staff-101", "specialist"))
    assert "31337" not in state.details_markdown()
    assert "completed" in state.details_markdown()
