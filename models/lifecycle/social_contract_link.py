"""The case's side of a social contract (социальный контракт): the route names its direction;
concluding it records its number, date and term, and the case workflow then starts the
contract's own workflow (workflows/social_contract.py), which tracks the monitoring."""

from datetime import date, datetime
from uuid import UUID, uuid5

from models.lifecycle.local_days import day_start, local_date
from models.lifecycle.state import CaseState
from models.lifecycle.steps import StepLog
from models.payloads import actions as inputs
from models.payloads.case_view import SocialContractLink
from models.payloads.vocabulary import RouteKind
from models.policy import DeadlineCode, Duration, SocialContractDirection, shift

SOCIAL_CONTRACT_WORKFLOW_PREFIX = "social-contract-"


def contract_id_of(case_id: UUID) -> UUID:
    """The contract's own id (its history's chain): derived, so a replay derives the same."""
    return uuid5(case_id, "social-contract")


def contract_workflow_id(case_id: UUID) -> str:
    """Also workflows.ids.social_contract_workflow_id: one contract per case episode."""
    return f"{SOCIAL_CONTRACT_WORKFLOW_PREFIX}{case_id}"


def contract_starts_at(state: CaseState, concluded_on: date, now: datetime) -> datetime:
    """Monitoring counts from the contract's day; from the moment it is recorded when that is
    the day itself (so a contract recorded today owes no contact for the hours before)."""
    offset = state.policy.utc_offset
    if concluded_on == local_date(now, offset):
        return now
    return day_start(concluded_on, offset)


def _direction(state: CaseState) -> SocialContractDirection | None:
    if RouteKind.SOCIAL_CONTRACT.value not in state.route.get("routes", []):
        return None
    named = state.route.get("social_contract")
    return None if named is None else SocialContractDirection(named)


def contract_refusal(state: CaseState, body: inputs.SocialContractBody) -> str | None:
    if state.social_contract is not None:
        return f"the social contract № {state.social_contract.number} is already concluded"
    if _direction(state) is None:
        return "the case's route includes no social contract (route: social_contract)"
    policy = state.policy
    if DeadlineCode.T13 not in policy.deadlines or policy.social_contract_min_term is None:
        return (
            f"the case's policy {policy.version} predates social contract monitoring; "
            "record the contract in a case opened under the current policy"
        )
    return None


def contract_date_problem(
    state: CaseState, body: inputs.SocialContractBody, now: datetime
) -> str | None:
    """The contract is dated today or earlier, not before the case opened, and its term lies
    between the policy's shortest and its direction's longest."""
    offset = state.policy.utc_offset
    today, opened = local_date(now, offset), local_date(state.opened_at, offset)
    if body.concluded_on > today:
        return f"concluded_on {body.concluded_on} is in the future (today is {today})"
    if body.concluded_on < opened:
        return f"concluded_on {body.concluded_on} is before the case opened ({opened})"
    direction = _direction(state)
    shortest = state.policy.social_contract_min_term
    if direction is None or shortest is None:
        return None  # refused by contract_refusal
    longest = state.policy.social_contract_terms[direction]
    start = contract_starts_at(state, body.concluded_on, now)
    ends = _after(state, start, body.term)
    if ends < _after(state, start, shortest.value):
        return f"term {body.term} is shorter than the shortest social contract ({shortest.value})"
    if ends > _after(state, start, longest.value):
        return f"term {body.term} is longer than a {direction} contract may run ({longest.value})"
    return None


def _after(state: CaseState, start: datetime, duration: Duration) -> datetime:
    return shift(start, duration, state.calendar, state.policy.utc_offset)


def conclude_social_contract(
    state: CaseState, body: inputs.SocialContractBody, log: StepLog
) -> None:
    direction = _direction(state)
    assert direction is not None
    starts_at = contract_starts_at(state, body.concluded_on, log.now)
    state.social_contract = SocialContractLink(
        workflow_id=contract_workflow_id(state.case_id),
        contract_id=contract_id_of(state.case_id),
        number=body.number,
        direction=direction,
        concluded_on=body.concluded_on,
        starts_at=starts_at,
        term_ends_at=_after(state, starts_at, body.term),
    )
    log.event(
        "social_contract_concluded",
        stage_before=state.stage,
        reason=body.comment,
        data={
            "number": body.number,
            "direction": direction,
            "concluded_on": body.concluded_on.isoformat(),
            "term": str(body.term),
            "term_ends_at": state.social_contract.term_ends_at.isoformat(),
            "workflow_id": state.social_contract.workflow_id,
        },
    )
