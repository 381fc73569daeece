"""Deadlines of a real case on the time-skipping server: T2 missed across the May holidays and
its whole escalation ladder, an L3 crisis family (T4, T5 and the child-safety alert), and T1.

Expected due moments are counted here by hand from the Russian production calendar (days off
looked up one by one), not with the code under test; rung times are read from the default
policy. Assertions are on what PostgreSQL holds: events, the projection and the outbox.
"""

import contextlib
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any
from uuid import UUID

from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.workflowservice.v1 import DescribeWorkflowExecutionRequest
from temporalio.client import WorkflowHandle
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from models.crud.case_events import list_events
from models.crud.case_projections import get_view
from models.crud.notifications import list_for_case
from models.db import SessionFactory
from models.payloads import actions as a
from models.payloads.case_start import CaseOutcome, SignalOutcome
from models.payloads.case_view import CaseView
from models.payloads.vocabulary import (
    AcuteRisk,
    NeedCircumstance,
    NeedDecision,
    NotificationKind,
    RouteKind,
    Stage,
)
from models.policy import AccompanimentLevel, DeadlineCode, Duration, WorkingCalendar
from models.policy.loader import load_calendar, load_policy
from models.tables.case_event import CaseEventPublic
from models.tables.notification import Notification
from tests.support.cases import open_case as open_signal
from tests.support.cases import specialist, supervisor
from tests.support.polling import eventually
from tests.support.sealing import test_key_store
from workers.worker import build_worker
from workflows.case import CaseWorkflow
from workflows.search_attributes import ESCALATION_LEVEL, OVERDUE

POLICY = load_policy("default")
LOCAL = timezone(POLICY.utc_offset)
SPECIALIST = specialist("staff-101")
SUPERVISOR = supervisor("staff-201")
CaseHandle = WorkflowHandle[CaseWorkflow, CaseOutcome]
# The test server fires a timer at its time; the workflow task that handles it starts a moment
# later, and that moment is the event's time.
FIRING_LAG = timedelta(seconds=2)


# --- The calendar, counted by hand ---------------------------------------------------------


def nth_working_day_after(calendar: WorkingCalendar, day: date, n: int) -> date:
    """The n-th working day strictly after `day` (n == 0: `day` or the next working day)."""
    if n == 0:
        while not calendar.is_working_day(day):
            day += timedelta(days=1)
        return day
    while n > 0:
        day += timedelta(days=1)
        if calendar.is_working_day(day):
            n -= 1
    return day


def start_of(day: date) -> datetime:
    """00:00 local time of `day`, in UTC."""
    return datetime.combine(day, time(), tzinfo=LOCAL).astimezone(UTC)


def end_of(day: date) -> datetime:
    """24:00 local time of `day` (a deadline's due moment), in UTC."""
    return start_of(day + timedelta(days=1))


def at_local(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=LOCAL).astimezone(UTC)


def local_day(moment: datetime) -> date:
    return moment.astimezone(LOCAL).date()


def working_days(duration: Duration) -> int:
    assert duration.working_days is not None, f"{duration} is not in working days"
    return duration.working_days


# --- Driving the server ---------------------------------------------------------------------


class Cases:
    """The cases a test opens, on its own task queue; see `cases_worker`."""

    def __init__(self, env: WorkflowEnvironment, task_queue: str) -> None:
        self.env, self.task_queue = env, task_queue
        self.started: list[WorkflowHandle[Any, Any]] = []

    async def open(
        self, *, family_key: str | None = None, child_safety: bool = False
    ) -> tuple[CaseHandle, SignalOutcome]:
        """A signal under the default policy: opens the family's case or joins it."""
        handle, outcome = await open_signal(
            self.env.client,
            self.task_queue,
            family_key=family_key,
            policy="default",
            child_safety=child_safety,
        )
        self.started.append(handle)
        return handle, outcome

    async def settled(self, *handles: CaseHandle) -> None:
        """Wait until no step of these cases is in flight: all they decided is in PostgreSQL."""
        service = self.env.client.workflow_service
        for handle in handles:
            # The raw RPC: the SDK's describe() cannot decode the cleared NextDeadline that the
            # test server keeps (a null Datetime) once a case has no open deadline.
            request = DescribeWorkflowExecutionRequest(
                namespace=self.env.client.namespace,
                execution=WorkflowExecution(workflow_id=handle.id),
            )

            async def idle(request: DescribeWorkflowExecutionRequest = request) -> bool:
                raw = await service.describe_workflow_execution(request)
                return not raw.pending_activities and not raw.HasField("pending_workflow_task")

            await eventually(idle, bool, what=f"{handle.id} settled")


@asynccontextmanager
async def cases_worker(
    env: WorkflowEnvironment, task_queue: str, sessions: SessionFactory
) -> AsyncIterator[Cases]:
    """The real worker, and at the end every case stopped, passed or failed: a workflow left
    running without a worker would hold the shared test server's clock when its timer fires."""
    cases = Cases(env, task_queue)
    async with build_worker(
        env.client, task_queue=task_queue, sessions=sessions, keys=test_key_store(sessions)
    ):
        try:
            yield cases
        finally:
            for handle in cases.started:
                with contextlib.suppress(RPCError):  # already completed
                    await handle.terminate("test finished")


async def sleep_until(env: WorkflowEnvironment, moment: datetime) -> None:
    now = await env.get_current_time()
    assert moment > now, f"{moment} is already past (server time {now})"
    await env.sleep(moment - now)


async def next_working_morning(env: WorkflowEnvironment) -> date:
    """Move the server to 10:00 local of the next working day; that day."""
    now = await env.get_current_time()
    calendar = load_calendar()
    day = nth_working_day_after(calendar, local_day(now), 1)
    await sleep_until(env, at_local(day, 10))
    return day


async def history(
    sessions: SessionFactory, case_id: UUID
) -> tuple[Sequence[CaseEventPublic], Sequence[Notification], CaseView]:
    async with sessions() as session:
        events = await list_events(session, case_id=case_id, keys=test_key_store(sessions))
        notes = await list_for_case(session, case_id=case_id)
        view = await get_view(session, case_id=case_id, keys=test_key_store(sessions))
    assert view is not None
    return events, notes, view


def of_deadline(events: Sequence[CaseEventPublic], key: str) -> list[CaseEventPublic]:
    return [e for e in events if e.data.get("deadline") == key]


def due_of(view: CaseView, key: str) -> datetime:
    return next(d.due_at for d in view.deadlines if d.key == key)


def one(events: Sequence[CaseEventPublic], action: str) -> CaseEventPublic:
    found = [e for e in events if e.action == action]
    assert len(found) == 1, f"{action}: {found}"
    return found[0]


def assert_fired_at(event: CaseEventPublic, expected: datetime) -> None:
    assert expected <= event.occurred_at < expected + FIRING_LAG, (event.action, event.data)


# --- T2 across the May holidays ------------------------------------------------------------


def _application_day(now: datetime) -> date:
    """The last working day before the May holidays of the first year still ahead."""
    year = now.year if local_day(now) < date(now.year, 4, 20) else now.year + 1
    calendar = load_calendar()
    day = date(year, 4, 30)
    while not calendar.is_working_day(day):
        day -= timedelta(days=1)
    return day


async def test_missed_t2_across_may_holidays_escalates_to_the_ministry_once(
    time_skipping_env: WorkflowEnvironment, sessions: SessionFactory, task_queue: str
) -> None:
    env = time_skipping_env
    applied = _application_day(await env.get_current_time())
    calendar = load_calendar()
    t2 = POLICY.deadlines[DeadlineCode.T2]
    # Five working days after the application day, counted one by one.
    assert t2.due == Duration.working(5)
    fifth = nth_working_day_after(calendar, applied, 5)
    due = end_of(fifth)
    assert (fifth - applied).days > 7, "five working days span the holidays"
    assert t2.reminder_before == Duration.working(1)
    reminder_at = start_of(fifth)  # the morning of the last day
    rung_at = {
        rung.level: due
        if rung.after_due.is_zero_span
        else end_of(nth_working_day_after(calendar, fifth, working_days(rung.after_due)))
        for rung in t2.ladder
    }
    assert [(r.level, str(r.notify), r.marks_overdue) for r in t2.ladder] == [
        (1, "supervisor", True),
        (2, "head", False),
        (3, "ministry", False),
    ]
    t3 = POLICY.deadlines[DeadlineCode.T3]
    assert (t3.due, t3.reminder_before) == (Duration.working(10), Duration.working(2))
    t3_due = end_of(nth_working_day_after(calendar, applied, 10))
    t3_reminder = start_of(nth_working_day_after(calendar, applied, 9))  # 2WD before its end
    assessed_at = at_local(local_day(rung_at[3]), 10)
    assert assessed_at < t3_reminder, "the scenario assesses before T3 starts reminding"

    await sleep_until(env, at_local(applied, 10))
    async with cases_worker(env, task_queue, sessions) as cases:
        handle, opened = await cases.open()
        case_id = opened.view.case_id
        await handle.execute_update(CaseWorkflow.record_contact, a.ContactBody().by(SPECIALIST))
        view = await handle.execute_update(
            CaseWorkflow.register_intake, a.IntakeBody(application_date=applied).by(SPECIALIST)
        )
        assert view.stage is Stage.ASSESSMENT
        assert due_of(view, "T2") == due
        assert due_of(view, "T3") == t3_due

        # Just before the reminder: nothing of T2 yet.
        await sleep_until(env, reminder_at - timedelta(minutes=1))
        await cases.settled(handle)
        events, notes, _ = await history(sessions, case_id)
        assert of_deadline(events, "T2") == []

        # Past the last rung: the reminder and three rungs, each once, at its time.
        await sleep_until(env, assessed_at)
        await cases.settled(handle)
        events, notes, stored = await history(sessions, case_id)
        fired = of_deadline(events, "T2")
        assert [(e.action, e.data["step"], e.data["rung"]) for e in fired] == [
            ("reminder", "reminder", 0),
            ("overdue", "rung-1", 1),
            ("escalation", "rung-2", 2),
            ("escalation", "rung-3", 3),
        ]
        for event, expected in zip(fired, [reminder_at, *rung_at.values()], strict=True):
            assert_fired_at(event, expected)
            assert (event.actor_id, event.actor_role) == ("system", "system")
            assert event.stage_before == event.stage_after == Stage.ASSESSMENT
            assert event.data["due_at"] == due.isoformat()
        t2_notes = [n for n in notes if n.deadline_code == "T2"]
        assert [(n.event_seq, n.recipient, n.recipient_is_role, n.kind) for n in t2_notes] == [
            (fired[0].seq, SPECIALIST.staff_id, False, NotificationKind.REMINDER),
            (fired[1].seq, "supervisor", True, NotificationKind.OVERDUE),
            (fired[2].seq, "head", True, NotificationKind.ESCALATION),
            (fired[3].seq, "ministry", True, NotificationKind.ESCALATION),
        ]
        assert all(n.due_at == due for n in t2_notes)
        assert stored.overdue
        assert stored.escalation_level == 3
        deadline = next(d for d in stored.deadlines if d.key == "T2")
        assert (deadline.overdue, deadline.escalation_level) == (True, 3)
        attributes = (await handle.describe()).typed_search_attributes
        assert attributes.get(OVERDUE) is True
        assert attributes.get(ESCALATION_LEVEL) == 3

        # The decision, late: T2 stops, the flag clears.
        view = await handle.execute_update(
            CaseWorkflow.record_assessment,
            a.AssessmentBody(
                decision=NeedDecision.NEED_RECOGNISED,
                circumstances=[NeedCircumstance.NO_WORK_NO_MEANS],
                level=AccompanimentLevel.L1,
            ).by(SPECIALIST),
        )
        assert "T2" not in {d.key for d in view.deadlines}
        assert (view.overdue, view.escalation_level) == (False, 0)
        _, _, stored = await history(sessions, case_id)
        assert (stored.overdue, stored.escalation_level) == (False, 0)
        attributes = (await handle.describe()).typed_search_attributes
        assert attributes.get(OVERDUE) is False
        assert attributes.get(ESCALATION_LEVEL) == 0

        # Two months on, T3, T4 and T5 have run their ladders; T2 never fires again.
        await env.sleep(timedelta(days=60))
        await cases.settled(handle)
        events, later_notes, _ = await history(sessions, case_id)
        assert [e.id for e in of_deadline(events, "T2")] == [e.id for e in fired]
        assert [n.id for n in later_notes if n.deadline_code == "T2"] == [n.id for n in t2_notes]
        assert {"T3", "T4", "T5"} <= {e.data.get("deadline") for e in events}


# --- An L3 crisis family ---------------------------------------------------------------------


async def test_acute_risk_forces_l3_an_alert_at_once_and_same_day_deadlines(
    time_skipping_env: WorkflowEnvironment, sessions: SessionFactory, task_queue: str
) -> None:
    env = time_skipping_env
    l3 = POLICY.levels[AccompanimentLevel.L3]
    assert (l3.first_contact, l3.contact_every) == (Duration.working(0), Duration.parse("P7D"))
    assert POLICY.deadlines[DeadlineCode.T4].due_l3 == Duration.working(0)
    async with cases_worker(env, task_queue, sessions) as cases:
        await next_working_morning(env)
        handle, opened = await cases.open()
        case_id = opened.view.case_id
        # The family was reached on the day of the signal, before anyone saw the risk.
        await handle.execute_update(CaseWorkflow.record_contact, a.ContactBody().by(SPECIALIST))
        await handle.execute_update(CaseWorkflow.register_intake, a.IntakeBody().by(SPECIALIST))

        assessed_on = await next_working_morning(env)
        view = await handle.execute_update(
            CaseWorkflow.record_assessment,
            a.AssessmentBody(
                decision=NeedDecision.NEED_RECOGNISED,
                circumstances=[NeedCircumstance.FAMILY_CONFLICT_OR_VIOLENCE],
                level=AccompanimentLevel.L1,
                acute_risks=[AcuteRisk.VIOLENCE, AcuteRisk.CHILD_UNDER_10_ALONE],
            ).by(SPECIALIST),
        )
        assert (view.stage, view.level) == (Stage.ROUTING, AccompanimentLevel.L3)
        assert view.details["child_safety"] is True
        # T4 and the first T5 contact: both by the end of the assessment's own day.
        assert due_of(view, "T4") == end_of(assessed_on)
        assert due_of(view, "T5") == end_of(assessed_on)
        assert not view.overdue

        events, notes, _ = await history(sessions, case_id)
        assessment = one(events, "assessment_recorded")
        alert = one(events, "child_safety_alert")
        assert (assessment.stage_before, assessment.stage_after) == (
            Stage.ASSESSMENT,
            Stage.ROUTING,
        )
        assert assessment.data["level"] == AccompanimentLevel.L3
        assert assessment.data["acute_risks"] == ["violence", "child_under_10_alone"]
        assert alert.seq == assessment.seq + 1
        assert alert.occurred_at == assessment.occurred_at
        assert (alert.actor_id, alert.actor_role) == (SPECIALIST.staff_id, "specialist")
        assert alert.stage_before == alert.stage_after == Stage.ROUTING
        assert alert.data == {"indicators": ["violence", "child_under_10_alone"]}
        alert_notes = [
            (n.recipient, n.recipient_is_role, n.kind) for n in notes if n.event_seq == alert.seq
        ]
        assert alert_notes == [
            ("head", True, NotificationKind.CHILD_SAFETY_ALERT),
            ("supervisor", True, NotificationKind.CHILD_SAFETY_ALERT),
        ]

        # The first contact in time; from then on the L3 cadence: every 7 days.
        await env.sleep(timedelta(hours=2))
        view = await handle.execute_update(
            CaseWorkflow.record_contact, a.ContactBody().by(SPECIALIST)
        )
        events, _, _ = await history(sessions, case_id)
        contacted_at = [e for e in events if e.action == "contact_recorded"][-1].occurred_at
        next_contact = contacted_at + timedelta(days=7)
        assert due_of(view, "T5") == next_contact

        # A later alert, in another stage: notified at once, the stage stays.
        view = await handle.execute_update(
            CaseWorkflow.set_route, a.RouteBody(routes=[RouteKind.COMMISSION]).by(SPECIALIST)
        )
        assert view.stage is Stage.TEAM
        view = await handle.execute_update(
            CaseWorkflow.raise_child_safety_alert,
            a.ChildSafetyAlertBody(indicators=[AcuteRisk.NO_FOOD_OR_MEDICINE]).by(SUPERVISOR),
        )
        assert view.stage is Stage.TEAM
        events, notes, stored = await history(sessions, case_id)
        later = events[-1]
        assert (later.action, later.stage_before, later.stage_after) == (
            "child_safety_alert",
            Stage.TEAM,
            Stage.TEAM,
        )
        assert (later.actor_id, later.actor_role) == (SUPERVISOR.staff_id, "supervisor")
        assert later.data == {"indicators": ["no_food_or_medicine"]}
        assert sorted(n.recipient for n in notes if n.event_seq == later.seq) == [
            "head",
            "supervisor",
        ]
        assert stored.stage is Stage.TEAM

        # No contact in the next 7 days: the supervisor hears of it at the very moment.
        await sleep_until(env, next_contact + timedelta(hours=1))
        await cases.settled(handle)
        events, notes, _ = await history(sessions, case_id)
        t5 = of_deadline(events, "T5")
        assert [(e.action, e.data["due_at"]) for e in t5] == [
            ("reminder", next_contact.isoformat()),
            ("overdue", next_contact.isoformat()),
        ], "the first contact was in time: T5 fired only for the missed second one"
        previous_working_day = local_day(next_contact) - timedelta(days=1)
        calendar = load_calendar()
        while not calendar.is_working_day(previous_working_day):
            previous_working_day -= timedelta(days=1)
        assert_fired_at(t5[0], start_of(previous_working_day))  # reminder_before 1WD
        assert_fired_at(t5[1], next_contact)
        overdue_notes = [(n.recipient, n.kind) for n in notes if n.event_seq == t5[1].seq]
        assert overdue_notes == [("supervisor", NotificationKind.OVERDUE)]


# --- T1: the first contact -------------------------------------------------------------------


async def test_t1_first_contact_is_due_next_working_day_or_today_with_child_safety_signs(
    time_skipping_env: WorkflowEnvironment, sessions: SessionFactory, task_queue: str
) -> None:
    env = time_skipping_env
    t1 = POLICY.deadlines[DeadlineCode.T1]
    assert (t1.due, t1.due_child_safety) == (Duration.working(1), Duration.working(0))
    async with cases_worker(env, task_queue, sessions) as cases:
        signal_day = await next_working_morning(env)
        calendar = load_calendar()
        ordinary, ordinary_opened = await cases.open()
        urgent, urgent_opened = await cases.open(child_safety=True)
        # Nobody reaches this family: its same-day T1 runs out at midnight.
        missed, missed_opened = await cases.open(child_safety=True)
        # This one is signalled as ordinary; a second signal brings child-safety signs.
        raised, raised_opened = await cases.open()

        next_day = nth_working_day_after(calendar, signal_day, 1)
        assert due_of(ordinary_opened.view, "T1") == end_of(next_day)
        assert due_of(raised_opened.view, "T1") == end_of(next_day)
        for opened in (urgent_opened, missed_opened):
            assert due_of(opened.view, "T1") == end_of(signal_day)
        assert {d.responsible for d in ordinary_opened.view.deadlines} == {"curator"}

        family = raised_opened.view.workflow_id.removeprefix("case-")
        _, joined = await cases.open(family_key=family, child_safety=True)
        assert joined.joined
        assert due_of(joined.view, "T1") == end_of(signal_day)

        await env.sleep(timedelta(hours=3))
        for handle in (ordinary, urgent, raised):
            view = await handle.execute_update(
                CaseWorkflow.record_contact, a.ContactBody().by(SPECIALIST)
            )
            assert view.deadlines == []
            assert not view.overdue

        # Well past every rung of both variants.
        await env.sleep(timedelta(days=14))
        await cases.settled(ordinary, urgent, raised, missed)
        for opened in (ordinary_opened, urgent_opened, raised_opened):
            events, notes, stored = await history(sessions, opened.view.case_id)
            assert of_deadline(events, "T1") == []
            assert notes == []
            assert (stored.overdue, stored.escalation_level) == (False, 0)

        # The same-day variant has no reminder (it would come after the fact); at midnight the
        # supervisor, a working day later the head.
        events, notes, stored = await history(sessions, missed_opened.view.case_id)
        fired = of_deadline(events, "T1")
        assert [(e.action, e.data["step"]) for e in fired] == [
            ("overdue", "rung-1"),
            ("escalation", "rung-2"),
        ]
        assert_fired_at(fired[0], end_of(signal_day))
        assert_fired_at(fired[1], end_of(nth_working_day_after(calendar, signal_day, 1)))
        assert [(n.recipient, n.kind) for n in notes] == [
            ("supervisor", NotificationKind.OVERDUE),
            ("head", NotificationKind.ESCALATION),
        ]
        assert (stored.overdue, stored.escalation_level) == (True, 2)
