"""Synthetic case histories for the oblast benchmark: one family episode's life, step by step,
as the case workflow would have recorded it.

Pure and deterministic: a case is a function of (seed, number, now). It mirrors the workflow's
vocabulary (models/lifecycle: the action names of transitions.py and timers.py, their stages,
data keys and system events) without running it: the real lifecycle costs about a millisecond a
step, which at 350,000 cases of ~30 events would be hours; this costs a few microseconds. The
deadlines follow the default policy's shape (models/policy/default.toml) on a Monday-to-Friday
calendar (no public holidays): T1-T10, their reminders, the overdue rung and the escalations.

Every step carries the case's whole view afterwards, as `CaseView.model_dump(mode="json")`
would give it (a test holds the two to each other), so the writer can store the projection and
each step's `view_changes`. Free text (comments, providers) is invented and obviously synthetic:
no names, no registry numbers.
"""

import contextlib
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from models.case_numbers import format_case_number, intake_year
from models.payloads.events import SYSTEM_ACTOR
from models.payloads.vocabulary import (
    AccompanimentChannel,
    AcuteRisk,
    NeedCircumstance,
    NeedDecision,
    ReviewOutcome,
    RouteKind,
    ServiceType,
    SignalSource,
    StaffRole,
    Stage,
)
from models.policy.codes import AccompanimentLevel, ClosureReason, Role
from models.territory import MUNICIPALITIES
from workflows.ids import case_workflow_id, follow_up_workflow_id

POLICY_VERSION = "2026.11-default"
HISTORY_DAYS = 730  # cases open over the last two years
_LOCAL = timedelta(hours=7)  # Novosibirsk, UTC+7
_DAY = timedelta(days=1)

# Families with children by municipality, roughly as the population (thousands, 2021 census):
# the city of Novosibirsk holds over half of the oblast.
_POPULATION = {
    "novosibirsk": 1633,
    "berdsk": 103,
    "iskitim": 55,
    "ob": 30,
    "koltsovo": 17,
    "novosibirsk_district": 150,
    "iskitim_district": 60,
    "toguchin_district": 53,
    "kochenevo_district": 45,
    "kuybyshev_district": 45,
    "karasuk_district": 42,
    "barabinsk_district": 40,
    "moshkovo_district": 40,
    "cherepanovo_district": 40,
    "tatarsk_district": 35,
    "ordynskoye_district": 33,
    "suzun_district": 30,
    "kupino_district": 29,
    "krasnozerskoye_district": 28,
    "bolotnoye_district": 27,
    "kolyvan_district": 24,
    "maslyanino_district": 23,
    "chulym_district": 22,
    "chany_district": 20,
    "kargat_district": 18,
    "vengerovo_district": 17,
    "chistoozernoye_district": 16,
    "zdvinsk_district": 15,
    "bagan_district": 14,
    "ubinskoye_district": 14,
    "dovolnoye_district": 12,
    "kochki_district": 12,
    "kyshtovka_district": 11,
    "severnoye_district": 10,
    "ust_tarka_district": 10,
}
MUNICIPALITY_CODES = tuple(m.code for m in MUNICIPALITIES)
MUNICIPALITY_WEIGHTS = tuple(_POPULATION.get(code, 15) for code in MUNICIPALITY_CODES)

_LEVELS = (AccompanimentLevel.L0, AccompanimentLevel.L1, AccompanimentLevel.L2)
_LEVEL_WEIGHTS = (15, 50, 35)
# Contact cadence (T5), review period (T6, days) and initial term (days) by level.
_CONTACT_DAYS = {"L0": None, "L1": 30, "L2": 15, "L3": 7}
_REVIEW_DAYS = {"L0": None, "L1": 91, "L2": 30, "L3": 14}
_TERM_DAYS = {"L0": 30, "L1": 182, "L2": 182, "L3": 91}
# The ladder's recipients after the due time (rung, working days after due, role).
_LADDER = {
    "T1": ((1, 0, "supervisor"), (2, 1, "head")),
    "T2": ((1, 0, "supervisor"), (2, 1, "head"), (3, 2, "ministry")),
    "T3": ((1, 0, "supervisor"), (2, 1, "head"), (3, 2, "ministry")),
}
_DEFAULT_LADDER = ((1, 0, "supervisor"), (2, 1, "head"))
# The deadlines the curator works to in support (T6 and T7 open a review).
_CURATOR_CODES = frozenset({"T5", "T6", "T7", "T10"})
_OPENS_BEFORE_WD = {"T6": 5, "T7": 10}  # the deadline's step opens this long before its due
_ROLE_VALUES = frozenset(role.value for role in Role)
_CLOSURES = (
    (ClosureReason.GOALS_ACHIEVED, 55),
    (ClosureReason.RELOCATED, 8),
    (ClosureReason.NO_CONTACT, 8),
    (ClosureReason.WRITTEN_REFUSAL, 8),
    (ClosureReason.NO_MINOR_CHILDREN, 6),
    (ClosureReason.TRANSFERRED, 6),
    (ClosureReason.CHILD_PLACED, 3),
    (ClosureReason.DUPLICATE, 4),
    (ClosureReason.DEATH_OR_MISSING, 2),
)
_NO_APPROVAL = {ClosureReason.DUPLICATE, ClosureReason.NO_MINOR_CHILDREN}
_COMMENTS = (
    "семья на связи, договорились о следующей встрече",
    "родитель сообщил о трудностях с оплатой услуг ЖКХ",
    "ребёнок посещает секцию, положительная динамика",
    "проведена консультация по мерам социальной поддержки",
    "нужна помощь в оформлении документов",
    "визит на дом, условия проживания удовлетворительные",
    "направлены сведения в школу по согласованию с семьёй",
    "семья просит перенести встречу на следующую неделю",
)
_PROVIDER_KINDS = ("КЦСОН", "Центр «Семья»", "Психологическая служба", "Юридическая клиника")


def json_time(moment: datetime) -> str:
    """An aware UTC moment as pydantic's JSON shows it (CaseView.model_dump(mode="json"))."""
    return moment.isoformat().replace("+00:00", "Z")  # no fraction when it is zero, as pydantic


def _end_of_working_day(moment: datetime, working_days: int) -> datetime:
    """24:00 local time of the `working_days`-th working day after `moment`'s local day (0: that
    day itself), Monday to Friday."""
    day = (moment + _LOCAL).date()
    left = working_days
    if day.weekday() < 5:  # from a weekday, each five working days are a week
        weeks, left = divmod(working_days, 5)
        day += timedelta(days=7 * weeks)
    while left > 0 or day.weekday() >= 5:
        day += _DAY
        if day.weekday() < 5:
            left -= 1
    return datetime(day.year, day.month, day.day, tzinfo=UTC) + _DAY - _LOCAL


def _minus_working_days(due: datetime, working_days: int) -> datetime:
    moment = due
    left = working_days
    while left > 0:
        moment -= _DAY
        if (moment + _LOCAL - timedelta(microseconds=1)).weekday() < 5:
            left -= 1
    return moment


@dataclass
class Deadline:
    key: str
    code: str
    due_at: datetime
    responsible: str
    responsible_is_role: bool
    alarms: list[tuple[datetime, str, int]]  # (at, step, rung), in time order
    fired: int = 0
    overdue: bool = False
    escalation_level: int = 0
    escalated_to: str | None = None
    due_text: str = ""  # due_at as the view shows it, formatted once

    def __post_init__(self) -> None:
        self.due_text = json_time(self.due_at)


@dataclass
class SyntheticEvent:
    id: UUID
    seq: int
    action: str
    actor_id: str
    actor_role: str
    stage_before: str | None
    stage_after: str
    reason: str | None
    data: dict[str, Any]
    occurred_at: datetime


@dataclass
class SyntheticStep:
    """One workflow step: its events, where they came from, and the case's view after it."""

    events: list[SyntheticEvent]
    view: dict[str, Any]
    workflow_id: str
    run_id: str
    idempotency_key: str | None
    recorded_at: datetime


@dataclass
class SyntheticCase:
    case_id: UUID
    family_key: str
    workflow_id: str
    municipality: str
    # (year, sequence) of its readable number (models/case_numbers.py).
    numbered: tuple[int, int]
    steps: list[SyntheticStep] = field(default_factory=list)

    @property
    def events(self) -> int:
        return sum(len(step.events) for step in self.steps)


class _Finished(Exception):
    """The case's history reached `now`: it stays open where it is."""


class _Simulation:
    """One case's state and the steps it has recorded so far."""

    def __init__(self, rng: random.Random, municipality: str, now: datetime, number: int) -> None:
        self.rng = rng
        self.now = now
        self.municipality = municipality
        self.case_id = UUID(int=rng.getrandbits(128), version=4)
        self.family_key = f"{rng.getrandbits(128):032x}"
        self.workflow_id = case_workflow_id(self.family_key)
        self.run_id = str(UUID(int=rng.getrandbits(128), version=4))
        staff = rng.randint(1, 12 if municipality == "novosibirsk" else 4)
        self.specialist = f"spec-{municipality[:20]}-{staff:02d}"
        self.supervisor = f"sup-{municipality[:20]}-1"
        self.seq = 0
        self.stage = Stage.IDENTIFIED
        self.level: str | None = None
        self.curator: str | None = None
        self.team: list[str] = []
        self.plan_items: dict[str, dict[str, Any]] = {}
        self.deadlines: dict[str, Deadline] = {}
        self.route: dict[str, Any] = {}
        self.child_safety = False
        self.closure_requested: str | None = None
        self.closure_reason: str | None = None
        self.closed_at: datetime | None = None
        self.term_ends_at: datetime | None = None
        self.last_contact_at: datetime | None = None
        # More cases lately than two years ago: the service is growing into the oblast.
        age = HISTORY_DAYS * 86400 * rng.random() ** 1.3
        self.opened_at = self.working_hours(now - timedelta(seconds=age))
        if self.opened_at > now:  # moved into a working day that has not come yet
            self.opened_at -= 7 * _DAY
        self.opened_text = json_time(self.opened_at)
        # The oblast's case index is the sequence: unique in every territory and year, with
        # gaps where other territories' cases fell, as a number allocated by PostgreSQL would
        # be after deletions.
        numbered = (intake_year(self.opened_at, _LOCAL), number + 1)
        self.case_number = format_case_number(municipality, *numbered)
        self.case = SyntheticCase(
            self.case_id, self.family_key, self.workflow_id, municipality, numbered
        )
        self.case_text = str(self.case_id)
        self._events: list[SyntheticEvent] = []
        self._staff_clock = self.opened_at

    # --- time ---------------------------------------------------------------------------

    def working_hours(self, moment: datetime) -> datetime:
        """`moment` moved into a weekday's working hours, 09:00-18:00 local, at a random minute."""
        local = moment + _LOCAL
        while local.weekday() >= 5:
            local += _DAY
        minutes = self.rng.randrange(9 * 60, 18 * 60)
        local = local.replace(hour=minutes // 60, minute=minutes % 60, second=0, microsecond=0)
        seconds = self.rng.randrange(60)
        return local - _LOCAL + timedelta(seconds=seconds, microseconds=self.rng.randrange(10**6))

    def later_moment(self, days: float) -> datetime:
        return self._staff_clock + timedelta(days=days)

    def later(self, days: float) -> datetime:
        """A working moment about `days` after the last staff step (timer steps in between do
        not move the staff's own rhythm)."""
        return self.working_hours(self._staff_clock + timedelta(days=days))

    # --- steps --------------------------------------------------------------------------

    def event(
        self,
        action: str,
        *,
        stage_before: str | None,
        reason: str | None = None,
        data: dict[str, Any] | None = None,
        at: datetime,
        actor: tuple[str, str],
    ) -> None:
        self.seq += 1
        self._events.append(
            SyntheticEvent(
                id=UUID(int=self.rng.getrandbits(128), version=4),
                seq=self.seq,
                action=action,
                actor_id=actor[0],
                actor_role=actor[1],
                stage_before=stage_before,
                stage_after=self.stage,
                reason=reason,
                data=data or {},
                occurred_at=at,
            )
        )

    def commit(self, at: datetime, *, staff: bool, workflow_id: str | None = None) -> None:
        """The step's events persisted with the view they leave behind."""
        if not self._events:
            return
        recorded = min(at + timedelta(milliseconds=self.rng.randrange(20, 900)), self.now)
        key = f"{self.rng.getrandbits(128):032x}" if staff else None
        self.case.steps.append(
            SyntheticStep(
                events=self._events,
                view=self.view(),
                workflow_id=workflow_id or self.workflow_id,
                run_id=self.run_id,
                idempotency_key=key,
                recorded_at=recorded,
            )
        )
        self._events = []
        if staff:
            self._staff_clock = at

    def staff(self, at: datetime) -> datetime:
        """Fire every alarm due before a staff action at `at`; stop the case at `now`."""
        self.fire_alarms(min(at, self.now))
        if at > self.now:
            raise _Finished
        return at

    def fire_alarms(self, until: datetime) -> None:
        """Each alarm due by `until`, in time order, as its own timer step (the workflow wakes
        at every alarm)."""
        while True:
            due = [
                (d.alarms[d.fired][0], d.key)
                for d in self.deadlines.values()
                if d.fired < len(d.alarms) and d.alarms[d.fired][0] <= until
            ]
            if not due:
                return
            at, key = min(due)
            deadline = self.deadlines[key]
            _, step, rung = deadline.alarms[deadline.fired]
            deadline.fired += 1
            before = self.stage
            if step == "open":
                if deadline.code in ("T6", "T7") and self.stage is Stage.SUPPORT:
                    self.stage = Stage.REVIEW
                action = "step_opened"
            elif step == "reminder":
                action = "reminder"
            else:
                deadline.escalation_level = max(deadline.escalation_level, rung)
                recipient = self.ladder(deadline.code)[rung - 1][2]
                deadline.escalated_to = recipient
                if rung == 1:
                    deadline.overdue = True
                action = "overdue" if rung == 1 else "escalation"
            moment = at + timedelta(milliseconds=self.rng.randrange(5, 3000))
            self.event(
                action,
                stage_before=before,
                data={
                    "deadline": key,
                    "code": deadline.code,
                    "step": step,
                    "due_at": deadline.due_at.isoformat(),
                    "scheduled_at": at.isoformat(),
                    "rung": rung,
                },
                at=moment,
                actor=(SYSTEM_ACTOR, SYSTEM_ACTOR),
            )
            self.commit(moment, staff=False, workflow_id=self.timer_workflow())

    def timer_workflow(self) -> str:
        closed = self.stage is Stage.CLOSED
        return follow_up_workflow_id(self.case_id) if closed else self.workflow_id

    @staticmethod
    def ladder(code: str) -> tuple[tuple[int, int, str], ...]:
        return _LADDER.get(code, _DEFAULT_LADDER)

    def arm(
        self, key: str, code: str, due: datetime, *, now: datetime, responsible: str | None = None
    ) -> None:
        who = responsible or self.curator or Role.CURATOR.value
        alarms: list[tuple[datetime, str, int]] = []
        if code in _OPENS_BEFORE_WD:
            opens = _minus_working_days(due, _OPENS_BEFORE_WD[code])
            alarms.append((max(opens, now), "open", 0))
        if code not in ("T7", "T8", "T9"):
            remind = _minus_working_days(due, 2 if code in ("T3", "T10") else 1)
            if remind > now:
                alarms.append((remind, "reminder", 0))
        for rung, after, _ in self.ladder(code):
            alarms.append((_end_of_working_day(due, after) if after else due, f"rung-{rung}", rung))
        alarms.sort(key=lambda alarm: alarm[0])
        is_role = who in _ROLE_VALUES
        self.deadlines[key] = Deadline(key, code, due, who, is_role, alarms)

    def done(self, *keys: str) -> None:
        for key in keys:
            self.deadlines.pop(key, None)

    def readdress_to_curator(self) -> None:
        for deadline in self.deadlines.values():
            if deadline.responsible_is_role and deadline.responsible == Role.CURATOR.value:
                assert self.curator is not None
                deadline.responsible, deadline.responsible_is_role = self.curator, False

    def comment(self) -> str | None:
        if self.rng.random() >= 0.35:
            return None
        return f"Синтетическая запись {self.rng.randrange(10**6):06d}: " + self.rng.choice(
            _COMMENTS
        )

    def provider(self) -> str:
        kind = self.rng.choice(_PROVIDER_KINDS)
        return f"{kind} №{self.rng.randint(1, 40)} (синтетический), {self.municipality}"

    # --- the view -----------------------------------------------------------------------

    def view(self) -> dict[str, Any]:
        """The case's state as `CaseState.view().model_dump(mode="json")` gives it."""
        open_deadlines = sorted(self.deadlines.values(), key=lambda d: (d.due_at, d.key))
        return {
            "case_id": self.case_text,
            "workflow_id": self.workflow_id,
            "first_run_id": self.run_id,
            "version": max(self.seq, 1),
            "municipality": self.municipality,
            "case_number": self.case_number,
            "stage": self.stage.value,
            "level": self.level,
            "curator": self.curator,
            # Shared, not copied: the team, the items and the route are replaced, never changed.
            "team": self.team,
            "plan_items": list(self.plan_items.values()),
            "deadlines": [
                {
                    "key": d.key,
                    "code": d.code,
                    "due_at": d.due_text,
                    "responsible": d.responsible,
                    "overdue": d.overdue,
                    "escalation_level": d.escalation_level,
                    "escalated_to": d.escalated_to,
                }
                for d in open_deadlines
            ],
            "overdue": any(d.overdue for d in open_deadlines),
            "escalation_level": max((d.escalation_level for d in open_deadlines), default=0),
            "next_deadline": open_deadlines[0].due_text if open_deadlines else None,
            "closure_requested": self.closure_requested,
            "closure_reason": self.closure_reason,
            "policy_version": POLICY_VERSION,
            "opened_at": self.opened_text,
            "term_ends_at": None if self.term_ends_at is None else json_time(self.term_ends_at),
            "closed_at": None if self.closed_at is None else json_time(self.closed_at),
            "allowed_actions": [],
            "details": {"route": self.route, "child_safety": self.child_safety},
            # Synthetic cases record no category, programme, agreement or social contract.
            "family_category": None,
            "commission": None,
            "agreement": None,
            "social_contract": None,
        }


def synthetic_case(seed: int, number: int, now: datetime, events_per_case: int) -> SyntheticCase:
    """Case `number` of the oblast generated with `seed`, its history up to `now`."""
    rng = random.Random(f"kurator-oblast:{seed}:{number}")
    municipality = rng.choices(MUNICIPALITY_CODES, MUNICIPALITY_WEIGHTS)[0]
    simulation = _Simulation(rng, municipality, now, number)
    # The history's length: staff steps beyond the path's backbone, spread around the mean.
    budget = max(4, round(events_per_case * rng.uniform(0.65, 1.6)))
    with contextlib.suppress(_Finished):  # the history reached `now`: the case stays open
        _live(simulation, budget)
    return simulation.case


def _live(s: _Simulation, budget: int) -> None:
    rng = s.rng
    specialist = (s.specialist, StaffRole.SPECIALIST.value)
    supervisor = (s.supervisor, StaffRole.SUPERVISOR.value)
    at = s.opened_at
    source = rng.choices(list(SignalSource), (40, 40, 20))[0]
    s.child_safety = rng.random() < 0.08
    s.event(
        "signal_received",
        stage_before=None,
        reason=s.comment(),
        data={"source": source.value, "child_safety": s.child_safety},
        at=at,
        actor=specialist,
    )
    s.arm("T1", "T1", _end_of_working_day(at, 0 if s.child_safety else 1), now=at)
    s.commit(at, staff=True)

    at = s.staff(s.later(rng.choice((0.1, 0.5, 1, 1, 2, 4))))
    s.event(
        "contact_recorded",
        stage_before=s.stage,
        reason=s.comment(),
        data={"reached": True},
        at=at,
        actor=specialist,
    )
    s.last_contact_at = at
    s.done("T1")
    s.commit(at, staff=True)

    at = s.staff(s.later(rng.uniform(0, 3)))
    before, s.stage = s.stage, Stage.ASSESSMENT
    application = at.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(hours=17)
    if application > at:
        application -= _DAY
    s.event(
        "intake_registered",
        stage_before=before,
        reason=s.comment(),
        data={"application_at": application.isoformat()},
        at=at,
        actor=specialist,
    )
    s.arm("T2", "T2", _end_of_working_day(at, 5), now=at, responsible=s.specialist)
    s.arm("T3", "T3", _end_of_working_day(at, 10), now=at, responsible=s.specialist)
    s.commit(at, staff=True)

    at = s.staff(s.later(rng.uniform(1, 9)))
    decision = rng.choices(list(NeedDecision), (86, 9, 5))[0]
    circumstances = sorted(c.value for c in rng.sample(list(NeedCircumstance), rng.randint(1, 3)))
    acute = sorted(r.value for r in rng.sample(list(AcuteRisk), 1)) if rng.random() < 0.1 else []
    data: dict[str, Any] = {
        "decision": decision.value,
        "circumstances": circumstances,
        "acute_risks": acute,
    }
    before = s.stage
    s.done("T2")
    if decision is not NeedDecision.NEED_RECOGNISED:
        s.done("T3")
        s.event(
            "assessment_recorded",
            stage_before=before,
            reason=s.comment(),
            data=data,
            at=at,
            actor=specialist,
        )
        reason = (
            ClosureReason.NO_NEED
            if decision is NeedDecision.NO_NEED
            else (ClosureReason.WRITTEN_REFUSAL)
        )
        _request_closure(s, reason, at, specialist, supervisor)
        return
    s.level = AccompanimentLevel.L3.value if acute else rng.choices(_LEVELS, _LEVEL_WEIGHTS)[0]
    s.stage = Stage.ROUTING
    data["level"] = s.level
    s.event(
        "assessment_recorded",
        stage_before=before,
        reason=s.comment(),
        data=data,
        at=at,
        actor=specialist,
    )
    if acute:
        s.child_safety = True
        s.event(
            "child_safety_alert",
            stage_before=s.stage,
            data={"indicators": acute},
            at=at,
            actor=specialist,
        )
    crisis = s.level == "L3"
    s.arm("T4", "T4", _end_of_working_day(at, 0 if crisis else 3), now=at, responsible="supervisor")
    _arm_contacts(s, at, first=True)
    s.commit(at, staff=True)

    at = s.staff(s.later(rng.uniform(0, 0.5 if crisis else 2)))
    routes = sorted(r.value for r in rng.sample(list(RouteKind), rng.randint(1, 2)))
    social_contract = RouteKind.SOCIAL_CONTRACT.value in routes
    s.route = {
        "routes": routes,
        "providers": [s.provider() for _ in range(rng.randint(1, 2))],
        "social_contract": social_contract,
    }
    before, s.stage = s.stage, Stage.TEAM
    s.event(
        "route_set",
        stage_before=before,
        reason=s.comment(),
        data=dict(s.route),
        at=at,
        actor=specialist,
    )
    s.commit(at, staff=True)

    at = s.staff(s.later(rng.uniform(0, 0.5 if crisis else 2.5)))
    s.curator = s.specialist
    members = [f"spec-{s.municipality[:20]}-{rng.randint(20, 29):02d}"]
    s.team = [s.curator, *members]
    before, s.stage = s.stage, Stage.PLANNING
    s.done("T4")
    s.event(
        "team_named",
        stage_before=before,
        reason=s.comment(),
        data={"curator": s.curator, "members": members},
        at=at,
        actor=specialist,
    )
    s.readdress_to_curator()
    s.commit(at, staff=True)

    at = s.staff(s.later(rng.uniform(0.5, 5)))
    items: list[dict[str, Any]] = []
    item_dues: dict[str, datetime] = {}
    for number in range(1, rng.randint(1, 3) + 1):
        service = rng.random() < 0.6
        deadline = _end_of_working_day(at, rng.randint(10, 60))
        item_dues[f"item-{number}"] = deadline
        items.append(
            {
                "item_id": f"item-{number}",
                "service_type": rng.choice(list(ServiceType)).value if service else None,
                "channel": None if service else rng.choice(list(AccompanimentChannel)).value,
                "provider": s.provider(),
                "provider_id": None,  # outside the resource map, as free text
                "responsible": s.curator,
                "deadline": json_time(deadline),
            }
        )
    s.plan_items = {item["item_id"]: {**item, "done_at": None} for item in items}
    before, s.stage = s.stage, Stage.SUPPORT
    assert s.level is not None
    s.term_ends_at = _end_of_working_day(at, 0) + timedelta(days=_TERM_DAYS[s.level])
    s.done("T3")
    s.event(
        "plan_approved",
        stage_before=before,
        reason=s.comment(),
        data={"items": items, "term_ends_at": s.term_ends_at.isoformat()},
        at=at,
        actor=supervisor,
    )
    _arm_review(s, at)
    s.arm("T7", "T7", s.term_ends_at, now=at, responsible="supervisor")
    s.arm("T8", "T8", at + timedelta(days=3 * 365), now=at, responsible="supervisor")
    for item_id, due in item_dues.items():
        s.arm(f"T10:{item_id}", "T10", due, now=at, responsible=s.curator)
    s.commit(at, staff=True)
    _support(s, budget, specialist, supervisor)


def _arm_contacts(s: _Simulation, at: datetime, *, first: bool) -> None:
    assert s.level is not None
    every = _CONTACT_DAYS[s.level]
    if every is None:
        s.done("T5")
        return
    if first and s.level == "L3":
        s.arm("T5", "T5", _end_of_working_day(at, 0), now=at)
        return
    s.arm(
        "T5", "T5", _end_of_working_day(s.last_contact_at or at, 0) + timedelta(days=every), now=at
    )


def _arm_review(s: _Simulation, at: datetime) -> None:
    assert s.level is not None
    every = _REVIEW_DAYS[s.level]
    if every is None:
        s.done("T6")
        return
    s.arm("T6", "T6", _end_of_working_day(at, 0) + timedelta(days=every), now=at)


def _support(
    s: _Simulation, budget: int, specialist: tuple[str, str], supervisor: tuple[str, str]
) -> None:
    """Contacts, plan items, reviews and the odd urgent service until the budget of events or
    the term runs out; then the closure (or, now and then, a prolongation first)."""
    rng = s.rng
    assert s.level is not None
    assert s.term_ends_at is not None
    prolonged = False
    while True:
        at = s.staff(_next_staff_moment(s))
        if s.seq >= budget or at >= s.term_ends_at - timedelta(days=3):
            if not prolonged and s.level in ("L2", "L3") and rng.random() < 0.2:
                prolonged = True
                _prolong(s, at, specialist, supervisor)
                continue
            _review(s, at, specialist, supervisor, closing=True)
            return
        if s.stage is Stage.REVIEW:  # T6 or T7 opened it
            _review(s, at, specialist, supervisor, closing=False)
            continue
        soon = at + timedelta(days=3)
        contact = s.deadlines.get("T5")
        items_due = [
            key
            for key, item in s.plan_items.items()
            if item["done_at"] is None and s.deadlines[f"T10:{key}"].due_at <= soon
        ]
        roll = rng.random()
        if items_due:
            roll = 0.0  # the item falls due: done now
        elif contact is not None and contact.due_at <= soon:
            roll = 1.0  # the contact falls due: make it
        open_items = items_due or [
            key for key, item in s.plan_items.items() if item["done_at"] is None
        ]
        if open_items and roll < 0.2:
            item_id = open_items[0]
            s.plan_items[item_id] = {**s.plan_items[item_id], "done_at": json_time(at)}
            s.done(f"T10:{item_id}")
            s.event(
                "plan_item_done",
                stage_before=s.stage,
                reason=s.comment(),
                data={"item_id": item_id},
                at=at,
                actor=specialist,
            )
        elif roll < 0.24:
            s.event(
                "urgent_service_given",
                stage_before=s.stage,
                reason=s.comment(),
                data={"service": rng.choice(list(ServiceType)).value},
                at=at,
                actor=specialist,
            )
        elif roll < 0.25 and s.stage is Stage.SUPPORT:
            previous, s.curator = s.curator, f"spec-{s.municipality[:20]}-{rng.randint(30, 39)}"
            s.team = [s.curator, *[m for m in s.team if m != previous]]
            s.event(
                "curator_reassigned",
                stage_before=s.stage,
                reason=s.comment(),
                data={"curator": s.curator, "previous": previous},
                at=at,
                actor=supervisor,
            )
            for deadline in s.deadlines.values():
                if deadline.responsible == previous:
                    deadline.responsible = s.curator
        else:
            reached = rng.random() < 0.9
            s.event(
                "contact_recorded",
                stage_before=s.stage,
                reason=s.comment(),
                data={"reached": reached},
                at=at,
                actor=specialist,
            )
            if reached:
                s.last_contact_at = at
                _arm_contacts(s, at, first=False)
        s.commit(at, staff=True)


def _next_staff_moment(s: _Simulation) -> datetime:
    """When the curator acts next: a while after the last action, or a little before the
    earliest of the curator's own deadlines; now and then late, so its ladder fires."""
    rng = s.rng
    assert s.level is not None
    cadence = _CONTACT_DAYS[s.level] or 20
    target = s.later_moment(cadence * rng.uniform(0.4, 0.8))
    own = [d.due_at for d in s.deadlines.values() if d.code in _CURATOR_CODES]
    if rng.random() < 0.06:
        late = min(own, default=target) + timedelta(days=rng.uniform(0.2, 4))
        return s.working_hours(max(target, late))
    if own:
        target = min(target, min(own) - timedelta(days=rng.uniform(0.5, 3)))
    return s.working_hours(max(target, s.later_moment(0.05)))


def _review(
    s: _Simulation,
    at: datetime,
    specialist: tuple[str, str],
    supervisor: tuple[str, str],
    *,
    closing: bool,
) -> None:
    rng = s.rng
    before = s.stage
    if closing:
        outcome = ReviewOutcome.PROPOSE_CLOSURE
    else:
        outcome = ReviewOutcome.CHANGE_LEVEL if rng.random() < 0.1 else ReviewOutcome.CONTINUE
    data: dict[str, Any] = {"outcome": outcome.value}
    if outcome is ReviewOutcome.CHANGE_LEVEL:
        data["level_before"] = s.level
        s.level = rng.choice([level for level in ("L1", "L2", "L3") if level != s.level])
        data["level"] = s.level
    if outcome is not ReviewOutcome.PROPOSE_CLOSURE:
        s.stage = Stage.SUPPORT
    s.event(
        "review_recorded",
        stage_before=before,
        reason=s.comment(),
        data=data,
        at=at,
        actor=specialist,
    )
    _arm_review(s, at)
    if outcome is ReviewOutcome.CHANGE_LEVEL:
        _arm_contacts(s, at, first=s.level == "L3")
    if closing:
        reason = rng.choices([r for r, _ in _CLOSURES], [w for _, w in _CLOSURES])[0]
        _request_closure(s, reason, at, specialist, supervisor)
        return
    s.commit(at, staff=True)


def _prolong(
    s: _Simulation, at: datetime, specialist: tuple[str, str], supervisor: tuple[str, str]
) -> None:
    before, s.stage = s.stage, Stage.PROLONGATION
    s.event(
        "review_recorded",
        stage_before=before,
        reason=s.comment(),
        data={"outcome": ReviewOutcome.REQUEST_PROLONGATION.value},
        at=at,
        actor=specialist,
    )
    _arm_review(s, at)
    s.commit(at, staff=True)
    at = s.staff(s.later(s.rng.uniform(1, 7)))
    assert s.term_ends_at is not None
    assert s.level is not None
    s.term_ends_at = s.term_ends_at + timedelta(days=_TERM_DAYS[s.level])
    before, s.stage = s.stage, Stage.SUPPORT
    s.event(
        "prolongation_approved",
        stage_before=before,
        reason=s.comment(),
        data={"term_ends_at": s.term_ends_at.isoformat(), "consilium": False},
        at=at,
        actor=supervisor,
    )
    s.arm("T7", "T7", s.term_ends_at, now=at, responsible="supervisor")
    s.commit(at, staff=True)


def _request_closure(
    s: _Simulation,
    reason: ClosureReason,
    at: datetime,
    specialist: tuple[str, str],
    supervisor: tuple[str, str],
) -> None:
    """A specialist's request, then a supervisor's approval (a few reasons need none); the
    request goes in the same step as whatever proposed it."""
    if reason in _NO_APPROVAL:
        _close(s, reason, at, specialist)
        return
    s.closure_requested = reason.value
    s.event(
        "closure_requested",
        stage_before=s.stage,
        reason=s.comment(),
        data={"closure_reason": reason.value},
        at=at,
        actor=specialist,
    )
    s.commit(at, staff=True)
    at = s.staff(s.later(s.rng.uniform(0.2, 4)))
    _close(s, reason, at, supervisor)


def _close(s: _Simulation, reason: ClosureReason, at: datetime, actor: tuple[str, str]) -> None:
    before, s.stage = s.stage, Stage.CLOSED
    s.closure_reason, s.closure_requested, s.closed_at = reason.value, None, at
    stopped = sorted(s.deadlines)
    s.deadlines.clear()
    s.event(
        "case_closed",
        stage_before=before,
        reason=s.comment(),
        data={"closure_reason": reason.value, "deadlines_stopped": stopped},
        at=at,
        actor=actor,
    )
    s.commit(at, staff=True)
    _follow_ups(s, at)


def _follow_ups(s: _Simulation, closed_at: datetime) -> None:
    """The follow-up workflow: T9 at +3 and +6 months, each recorded or escalated."""
    if s.closure_reason in (ClosureReason.DUPLICATE.value, ClosureReason.DEATH_OR_MISSING.value):
        return
    follow_up = follow_up_workflow_id(s.case_id)
    at = closed_at + timedelta(seconds=s.rng.uniform(0.2, 2))
    if at > s.now:
        raise _Finished
    s.run_id = str(UUID(int=s.rng.getrandbits(128), version=4))
    for number, days in ((1, 91), (2, 182)):
        s.arm(
            f"T9:{number}", "T9", _end_of_working_day(closed_at, 0) + timedelta(days=days), now=at
        )
    s.event(
        "follow_ups_planned",
        stage_before=s.stage,
        data={"due": [d.due_at.isoformat() for d in s.deadlines.values()]},
        at=at,
        actor=(SYSTEM_ACTOR, SYSTEM_ACTOR),
    )
    s.commit(at, staff=False, workflow_id=follow_up)
    specialist = (s.curator or s.specialist, StaffRole.SPECIALIST.value)
    for number in (1, 2):
        due = s.deadlines[f"T9:{number}"].due_at
        early = s.rng.random() < 0.85
        at = s.working_hours(due - timedelta(days=s.rng.uniform(1, 10) if early else -2))
        at = s.staff(at)
        reached = s.rng.random() < 0.8
        s.done(f"T9:{number}")
        s.event(
            "follow_up_recorded",
            stage_before=s.stage,
            reason=s.comment(),
            data={"number": number, "reached": reached},
            at=at,
            actor=specialist,
        )
        s.commit(at, staff=True, workflow_id=follow_up)
