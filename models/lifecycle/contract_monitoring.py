"""A social contract's monitoring, as pure functions over its state: a contact every month
(policy `social_contract_monitoring.every`) during the term and for 12 months after it
(`after_end`), each a deadline (T13) with its escalation ladder from the deadline book; the
outcome (completed, terminated early) and the family's income after.

An early termination ends the term at once: the term's contacts still ahead are dropped and
the months after count from it. The contract's events form a history of their own (under the
contract's id), numbered here.
"""

from datetime import date, datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field

from models.lifecycle.deadline_book import (
    OpenDeadline,
    fire_due_alarms,
    next_alarm_at,
    plan_deadline,
)
from models.payloads.case_view import DeadlineView, NotificationDraft
from models.payloads.events import SYSTEM_ACTOR, CaseEventDraft, EventOrigin
from models.payloads.social_contract import (
    ContractContactBody,
    ContractContactView,
    ContractOutcomeBody,
    ContractPhase,
    SocialContractStep,
    SocialContractView,
)
from models.payloads.vocabulary import SocialContractOutcome
from models.policy import (
    DeadlineCode,
    Duration,
    Policy,
    Role,
    SocialContractDirection,
    WorkingCalendar,
    shift,
)


class SocialContractState(BaseModel):
    contract_id: UUID
    case_id: UUID
    workflow_id: str
    municipality: str
    policy: Policy
    calendar: WorkingCalendar
    number: str
    direction: SocialContractDirection
    concluded_on: date
    starts_at: datetime
    term_ends_at: datetime
    curator: str | None = None
    phase: ContractPhase = ContractPhase.TERM
    ended_at: datetime | None = None
    monitoring_ends_at: datetime | None = None
    seq: int = 0
    planned: int = 0  # contacts numbered so far: a number is never given twice
    contacts: list[ContractContactView] = Field(default_factory=list)
    deadlines: dict[str, OpenDeadline] = Field(default_factory=dict)
    outcome: SocialContractOutcome | None = None
    outcome_at: datetime | None = None
    income_after: str | None = None

    def view(self) -> SocialContractView:
        return SocialContractView(
            contract_id=self.contract_id,
            case_id=self.case_id,
            workflow_id=self.workflow_id,
            version=max(self.seq, 1),
            municipality=self.municipality,
            number=self.number,
            direction=self.direction,
            concluded_on=self.concluded_on,
            starts_at=self.starts_at,
            term_ends_at=self.term_ends_at,
            ended_at=self.ended_at,
            monitoring_ends_at=self.monitoring_ends_at,
            phase=self.phase,
            contacts=list(self.contacts),
            deadlines=[
                DeadlineView(
                    key=d.key,
                    code=d.code,
                    due_at=d.due_at,
                    responsible=d.responsible,
                    overdue=d.overdue,
                    escalation_level=d.escalation_level,
                    escalated_to=d.escalated_to(),
                )
                for d in sorted(self.deadlines.values(), key=lambda d: (d.due_at, d.key))
            ],
            overdue=any(d.overdue for d in self.deadlines.values()),
            outcome=self.outcome,
            outcome_at=self.outcome_at,
            income_after=self.income_after,
        )

    def details_markdown(self) -> str:
        """The Web UI's current details: codes, staff ids and dates, never the income."""
        lines = [f"**Social contract:** {self.direction}, phase {self.phase}"]
        for d in sorted(self.deadlines.values(), key=lambda d: d.due_at)[:3]:
            flag = " — OVERDUE" if d.overdue else ""
            lines.append(f"- {d.key} from {d.responsible}, due {d.due_at:%Y-%m-%d %H:%M} UTC{flag}")
        if self.outcome is not None:
            lines.append(f"**Outcome:** {self.outcome}")
        return "\n".join(lines)


class ContractLog:
    """Events and notifications of one step of the contract, numbered from its last event."""

    def __init__(self, state: SocialContractState, now: datetime, actor_id: str, role: str) -> None:
        self.state, self.now, self.actor_id, self.actor_role = state, now, actor_id, role
        self.events: list[CaseEventDraft] = []
        self.notifications: list[NotificationDraft] = []

    @classmethod
    def system(cls, state: SocialContractState, now: datetime) -> "ContractLog":
        return cls(state, now, SYSTEM_ACTOR, SYSTEM_ACTOR)

    def event(
        self,
        action: str,
        *,
        phase_before: ContractPhase | None,
        reason: str | None = None,
        data: dict[str, Any] | None = None,
    ) -> int:
        self.state.seq += 1
        self.events.append(
            CaseEventDraft(
                case_id=self.state.contract_id,
                seq=self.state.seq,
                action=action,
                actor_id=self.actor_id,
                actor_role=self.actor_role,
                stage_before=phase_before,
                stage_after=self.state.phase,
                reason=reason,
                data={"case_id": str(self.state.case_id), **(data or {})},
                occurred_at=self.now,
            )
        )
        return self.state.seq

    def step(self, origin: EventOrigin) -> SocialContractStep | None:
        if not self.events:
            return None
        return SocialContractStep(
            events=list(self.events),
            notifications=list(self.notifications),
            view=self.state.view(),
            origin=origin,
        )


def _times(every: Duration, count: int) -> Duration:
    """`every` taken `count` times: the k-th contact counts from the start, so months never
    drift (31 January, 28 February, 31 March)."""
    if every.working_days is not None:
        return Duration(working_days=every.working_days * count)
    fields = ("years", "months", "weeks", "days", "hours", "minutes", "seconds")
    return Duration(**{name: getattr(every, name) * count for name in fields})


def _plan_contacts(
    state: SocialContractState,
    phase: ContractPhase,
    start: datetime,
    until: datetime,
    now: datetime,
) -> list[str]:
    """Arm a contact every month after `start` up to `until`, numbered on from the last."""
    monitoring = state.policy.social_contract_monitoring
    offset, planned = state.policy.utc_offset, list[str]()
    count = 1
    while True:
        due = shift(start, _times(monitoring.every, count), state.calendar, offset)
        if due > until:
            return planned
        state.planned += 1
        number = state.planned
        key = f"T13:{number}"
        state.deadlines[key] = plan_deadline(
            key=key,
            code=DeadlineCode.T13,
            start=start,
            due=due,
            responsible=state.curator or Role.CURATOR.value,
            responsible_is_role=state.curator is None,
            curator=state.curator,
            policy=state.policy,
            calendar=state.calendar,
            now=now,
        )
        state.contacts.append(ContractContactView(number=number, due_at=due, phase=phase))
        planned.append(key)
        count += 1


def start_monitoring(state: SocialContractState, log: ContractLog) -> None:
    """The term's monthly contacts, from the contract's start to its term's end."""
    planned = _plan_contacts(
        state, ContractPhase.TERM, state.starts_at, state.term_ends_at, log.now
    )
    log.event(
        "contract_monitoring_started",
        phase_before=None,
        data={
            "number": state.number,
            "direction": state.direction,
            "term_ends_at": state.term_ends_at.isoformat(),
            "planned": planned,
        },
    )


def end_term(state: SocialContractState, at: datetime, log: ContractLog, action: str) -> None:
    """The term is over at `at`: its contacts still ahead go, the months after are armed."""
    before = state.phase
    dropped = [
        key
        for key, d in list(state.deadlines.items())
        if d.due_at > at and state.deadlines.pop(key) is not None
    ]
    state.contacts = [
        c for c in state.contacts if f"T13:{c.number}" not in dropped or c.recorded_at is not None
    ]
    state.phase, state.ended_at = ContractPhase.AFTER, at
    after_end = state.policy.social_contract_monitoring.after_end
    state.monitoring_ends_at = shift(at, after_end, state.calendar, state.policy.utc_offset)
    planned = _plan_contacts(state, ContractPhase.AFTER, at, state.monitoring_ends_at, log.now)
    log.event(
        action,
        phase_before=before,
        data={
            "ended_at": at.isoformat(),
            "dropped": dropped,
            "planned": planned,
            "monitoring_ends_at": state.monitoring_ends_at.isoformat(),
        },
    )


def next_wake_at(state: SocialContractState) -> datetime | None:
    times = [next_alarm_at(state.deadlines)]
    if state.phase is ContractPhase.TERM:
        times.append(state.term_ends_at)
    return min((t for t in times if t is not None), default=None)


def advance(state: SocialContractState, log: ContractLog) -> None:
    """Fire what is due by `log.now`: reminders and rungs, and the term's end."""
    if state.phase is ContractPhase.TERM and log.now >= state.term_ends_at:
        end_term(state, state.term_ends_at, log, "contract_term_ended")
    for deadline, alarm in fire_due_alarms(state.deadlines, log.now):
        seq = log.event(
            str(alarm.kind),
            phase_before=state.phase,
            data={
                "deadline": deadline.key,
                "code": deadline.code,
                "step": alarm.step,
                "due_at": deadline.due_at.isoformat(),
                "rung": alarm.rung_level,
            },
        )
        due = f"{deadline.due_at:%Y-%m-%d %H:%M} UTC"
        message = (
            f"social contract {deadline.key} is due {due}"
            if alarm.step == "reminder"
            else f"social contract {deadline.key} was due {due} and is not done ({alarm.step})"
        )
        log.notifications.append(
            NotificationDraft(
                case_id=state.contract_id,
                event_seq=seq,
                recipient=alarm.recipient,
                recipient_is_role=alarm.recipient_is_role,
                municipality=state.municipality,
                kind=alarm.kind,
                deadline_code=deadline.code,
                due_at=deadline.due_at,
                message=message,
            )
        )


def settled(state: SocialContractState) -> bool:
    """The months after the term are over: every contact recorded or its ladder run."""
    return state.phase is ContractPhase.AFTER and all(
        d.next_alarm() is None for d in state.deadlines.values()
    )


def finished(state: SocialContractState) -> bool:
    return state.phase is ContractPhase.FINISHED


def finish(state: SocialContractState, log: ContractLog) -> None:
    before = state.phase
    missed = sorted(state.deadlines)
    state.deadlines.clear()
    state.phase = ContractPhase.FINISHED
    log.event("contract_monitoring_finished", phase_before=before, data={"missed": missed})


def contact_refusal(state: SocialContractState, body: ContractContactBody) -> str | None:
    if f"T13:{body.number}" not in state.deadlines:
        open_keys = ", ".join(sorted(state.deadlines)) or "none"
        return f"monitoring contact {body.number} is not open (open: {open_keys})"
    return None


def record_contact(state: SocialContractState, body: ContractContactBody, log: ContractLog) -> None:
    key = f"T13:{body.number}"
    if body.reached:
        state.deadlines.pop(key, None)
        state.contacts = [
            c.model_copy(update={"recorded_at": log.now, "reached": True})
            if c.number == body.number
            else c
            for c in state.contacts
        ]
    log.event(
        "contract_contact_recorded",
        phase_before=state.phase,
        reason=body.comment,
        data={"number": body.number, "reached": body.reached},
    )


def outcome_refusal(state: SocialContractState, body: ContractOutcomeBody) -> str | None:
    if state.outcome is not None:
        return f"the contract's outcome is already recorded ({state.outcome})"
    if (
        state.phase is ContractPhase.TERM
        and body.outcome is not SocialContractOutcome.TERMINATED_EARLY
    ):
        return (
            f"the contract's term runs to {state.term_ends_at:%Y-%m-%d %H:%M} UTC: during it "
            "the only outcome is terminated_early"
        )
    if (
        state.phase is not ContractPhase.TERM
        and body.outcome is SocialContractOutcome.TERMINATED_EARLY
    ):
        return "the contract's term is over: it can no longer be terminated early"
    return None


def record_outcome(state: SocialContractState, body: ContractOutcomeBody, log: ContractLog) -> None:
    state.outcome, state.outcome_at = body.outcome, log.now
    state.income_after = body.income_after
    log.event(
        "contract_outcome_recorded",
        phase_before=state.phase,
        reason=body.comment,
        data={"outcome": body.outcome, "income_after": body.income_after},
    )
    if body.outcome is SocialContractOutcome.TERMINATED_EARLY:
        end_term(state, log.now, log, "contract_terminated_early")
