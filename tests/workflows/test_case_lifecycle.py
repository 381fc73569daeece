"""An L2 family from signal to closure on the default policy, through every stage, with
contacts and plan reviews falling due over six months, then both post-closure follow-ups.

Runs on the time-skipping test server with the real worker; asserts on what PostgreSQL holds
(events, projection, outbox), with due times computed from the policy and the calendar.
"""

from datetime import datetime, timedelta

from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from infra.sealing.family_keys import FamilyKeyStore
from models.crud.case_events import list_events
from models.crud.case_projections import get_view
from models.crud.notifications import list_for_case
from models.db import SessionFactory
from models.payloads import actions as a
from models.payloads.case_view import CaseView
from models.payloads.vocabulary import (
    AccompanimentChannel,
    NeedCircumstance,
    NeedDecision,
    ReviewOutcome,
    RouteKind,
    ServiceType,
    Stage,
)
from models.policy import AccompanimentLevel, ClosureReason
from models.policy.loader import load_policy
from tests.support.cases import open_case, policy_shift, recorded_at, specialist, supervisor
from tests.support.sealing import test_key_store
from workers.worker import build_worker
from workflows.case import CaseWorkflow
from workflows.follow_up import CaseFollowUpWorkflow

SPECIALIST = specialist("staff-101")
SUPERVISOR = supervisor("staff-201")
POLICY = load_policy("default")
DAY = timedelta(days=1)


def _due(view: CaseView, key: str) -> datetime:
    return next(d.due_at for d in view.deadlines if d.key == key)


async def _accompany_for_six_months(
    env: WorkflowEnvironment,
    sessions: SessionFactory,
    handle: WorkflowHandle[CaseWorkflow, object],
    view: CaseView,
) -> tuple[CaseView, list[datetime], list[datetime]]:
    """Contact every 14 days (the L2 cadence is 15), review whenever the review falls due,
    complete each plan item five days before its deadline, until the prolongation decision
    opens; the times of the contacts and reviews."""
    contacts: list[datetime] = []
    reviews: list[datetime] = []
    last_contact = await recorded_at(sessions, view.case_id, "contact_recorded")
    while True:
        await env.sleep(DAY)
        now = await env.get_current_time()
        for item in view.plan_items:
            if item.done_at is None and now >= item.deadline - 5 * DAY:
                view = await handle.execute_update(
                    CaseWorkflow.complete_plan_item,
                    a.PlanItemDoneBody(item_id=item.item_id).by(SPECIALIST),
                )
        if now - last_contact >= 14 * DAY:
            view = await handle.execute_update(
                CaseWorkflow.record_contact, a.ContactBody().by(SPECIALIST)
            )
            contacted = await recorded_at(sessions, view.case_id, "contact_recorded")
            contacts.append(contacted)
            last_contact = now
            assert _due(view, "T5") == policy_shift(contacted, "P15D")  # counts from the contact
        async with sessions() as session:
            stored = await get_view(session, case_id=view.case_id, keys=test_key_store(sessions))
        assert stored is not None
        if stored.stage is Stage.REVIEW:
            if _opened_t7(stored, now):
                return stored, contacts, reviews
            view = await handle.execute_update(
                CaseWorkflow.record_review,
                a.ReviewBody(outcome=ReviewOutcome.CONTINUE).by(SPECIALIST),
            )
            reviewed = await recorded_at(sessions, view.case_id, "review_recorded")
            reviews.append(reviewed)
            assert view.stage is Stage.SUPPORT
            assert _due(view, "T6") == policy_shift(reviewed, "P1M")  # the next review a month on


def _opened_t7(view: CaseView, now: datetime) -> bool:
    """The prolongation decision (T7) opens 10 working days before the term ends."""
    assert view.term_ends_at is not None
    return now >= policy_shift(view.term_ends_at, "10WD", backwards=True)


async def test_l2_family_from_signal_to_closure_and_follow_ups(
    time_skipping_env: WorkflowEnvironment,
    sessions: SessionFactory,
    keys: FamilyKeyStore,
    task_queue: str,
) -> None:
    env = time_skipping_env
    async with build_worker(env.client, task_queue=task_queue, sessions=sessions, keys=keys):
        handle, opened = await open_case(env.client, task_queue, policy="default")
        signal_at = opened.view.opened_at
        assert _due(opened.view, "T1") == policy_shift(signal_at, "1WD")

        await env.sleep(timedelta(hours=2))
        view = await handle.execute_update(
            CaseWorkflow.record_contact, a.ContactBody().by(SPECIALIST)
        )
        assert "T1" not in {d.key for d in view.deadlines}
        view = await handle.execute_update(
            CaseWorkflow.register_intake, a.IntakeBody().by(SPECIALIST)
        )
        applied = await recorded_at(sessions, view.case_id, "intake_registered")
        assert _due(view, "T2") == policy_shift(applied, "5WD")
        assert _due(view, "T3") == policy_shift(applied, "10WD")

        await env.sleep(DAY)
        view = await handle.execute_update(
            CaseWorkflow.record_assessment,
            a.AssessmentBody(
                decision=NeedDecision.NEED_RECOGNISED,
                circumstances=[NeedCircumstance.CHILD_ADAPTATION_DIFFICULTY],
                level=AccompanimentLevel.L2,
            ).by(SPECIALIST),
        )
        assessed = await recorded_at(sessions, view.case_id, "assessment_recorded")
        assert (view.stage, view.level) == (Stage.ROUTING, AccompanimentLevel.L2)
        assert _due(view, "T4") == policy_shift(assessed, "3WD")
        view = await handle.execute_update(
            CaseWorkflow.set_route, a.RouteBody(routes=[RouteKind.OWN_SERVICES]).by(SPECIALIST)
        )
        assert view.stage is Stage.TEAM
        view = await handle.execute_update(
            CaseWorkflow.name_team,
            a.TeamBody(curator="staff-101", members=["staff-102", "staff-103"]).by(SPECIALIST),
        )
        assert (view.stage, view.curator) == (Stage.PLANNING, "staff-101")

        await env.sleep(DAY)
        planned = await env.get_current_time()
        items = [
            a.PlanItemIn(
                item_id="psy-1",
                service_type=ServiceType.PSYCHOLOGICAL,
                provider="КЦСОН города Бердска",
                responsible="staff-102",
                deadline=planned + 20 * DAY,
            ),
            a.PlanItemIn(
                item_id="ped-1",
                channel=AccompanimentChannel.PEDAGOGICAL,
                provider="school-7",
                responsible="staff-103",
                deadline=planned + 60 * DAY,
            ),
        ]
        view = await handle.execute_update(
            CaseWorkflow.approve_plan, a.PlanBody(items=items).by(SUPERVISOR)
        )
        planned = await recorded_at(sessions, view.case_id, "plan_approved")
        assert view.stage is Stage.SUPPORT
        assert view.term_ends_at == policy_shift(planned, "P6M")
        assert _due(view, "T6") == policy_shift(planned, "P1M")
        assert _due(view, "T7") == view.term_ends_at
        assert _due(view, "T10:psy-1") == items[0].deadline
        assert _due(view, "T11") == policy_shift(planned, "1WD")  # the service agreement
        view = await handle.execute_update(
            CaseWorkflow.record_agreement,
            a.AgreementBody(number="7/2026", concluded_on=(planned + POLICY.utc_offset).date()).by(
                SPECIALIST
            ),
        )
        assert view.agreement is not None
        assert "T11" not in {d.key for d in view.deadlines}

        view, contacts, reviews = await _accompany_for_six_months(env, sessions, handle, view)
        assert all(item.done_at is not None for item in view.plan_items)

        view = await handle.execute_update(
            CaseWorkflow.record_review,
            a.ReviewBody(
                outcome=ReviewOutcome.PROPOSE_CLOSURE, closure_reason=ClosureReason.GOALS_ACHIEVED
            ).by(SPECIALIST),
        )
        assert view.closure_requested is ClosureReason.GOALS_ACHIEVED
        view = await handle.execute_update(
            CaseWorkflow.approve_closure, a.ClosureApprovalBody(approve=True).by(SUPERVISOR)
        )
        assert (view.stage, view.closure_reason) == (Stage.CLOSED, ClosureReason.GOALS_ACHIEVED)
        outcome = await handle.result()
        closed_at = outcome.closed_at
        assert closed_at is not None
        assert outcome.follow_up_workflow_id is not None

        follow_up = env.client.get_workflow_handle(
            outcome.follow_up_workflow_id, result_type=type(None)
        )
        for number, after in ((1, "P3M"), (2, "P6M")):
            await env.sleep(policy_shift(closed_at, after) - await env.get_current_time() - DAY)
            await follow_up.execute_update(
                CaseFollowUpWorkflow.record_follow_up, a.FollowUpBody(number=number).by(SPECIALIST)
            )
        await follow_up.result()

    async with sessions() as session:
        events = await list_events(
            session, case_id=opened.view.case_id, keys=test_key_store(sessions)
        )
        final = await get_view(session, case_id=opened.view.case_id, keys=test_key_store(sessions))
        notifications = await list_for_case(session, case_id=opened.view.case_id)

    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    stage_path = [e.stage_after for e in events if e.stage_after != e.stage_before]
    assert stage_path[:7] == [
        "identified",
        "assessment",
        "routing",
        "team",
        "planning",
        "support",
        "review",
    ]
    assert stage_path[-1] == "closed"
    actions = [e.action for e in events]
    assert actions.count("contact_recorded") == len(contacts) + 1
    assert actions.count("review_recorded") == len(reviews) + 1
    assert len(contacts) >= 11
    assert len(reviews) >= 4
    # Everything was done on time: nothing ever went overdue or escalated.
    overdue = [
        (e.seq, e.occurred_at, e.data) for e in events if e.action in ("overdue", "escalation")
    ]
    assert overdue == []
    assert {n.kind for n in notifications} <= {"reminder", "approval_requested"}
    # Each review fell due two working days before its due time (the T6 reminder).
    t6_reminders = [e for e in events if e.action == "reminder" and e.data["code"] == "T6"]
    for reminder in t6_reminders:
        due_at = datetime.fromisoformat(reminder.data["due_at"])
        scheduled = datetime.fromisoformat(reminder.data["scheduled_at"])
        assert scheduled == policy_shift(due_at, "2WD", backwards=True)
        assert timedelta(0) <= reminder.occurred_at - scheduled < timedelta(seconds=1)
    assert len(t6_reminders) == len(reviews)
    follow_ups = [e for e in events if e.action.startswith("follow_up")]
    assert [e.action for e in follow_ups] == [
        "follow_ups_planned",
        "follow_up_recorded",
        "follow_up_recorded",
    ]
    assert final is not None
    assert (final.stage, final.closure_reason, final.deadlines) == (
        Stage.CLOSED,
        ClosureReason.GOALS_ACHIEVED,
        [],
    )
