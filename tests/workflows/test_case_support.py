"""During support: reassigning the curator, changing the level, a plan item missing its
deadline, an urgent service. Default policy, time-skipping server, the real worker; asserted
on PostgreSQL."""

from datetime import date, datetime, timedelta

from temporalio.testing import WorkflowEnvironment

from infra.sealing.family_keys import FamilyKeyStore
from models.crud.case_events import list_events
from models.crud.notifications import list_for_case
from models.db import SessionFactory
from models.payloads import actions as a
from models.payloads.case_view import CaseView
from models.payloads.vocabulary import (
    NeedCircumstance,
    NeedDecision,
    ReviewOutcome,
    RouteKind,
    ServiceType,
    Stage,
)
from models.policy import AccompanimentLevel
from models.policy.loader import load_policy
from tests.support.cases import open_case, policy_shift, recorded_at, specialist, supervisor
from tests.support.sealing import test_key_store
from workers.worker import build_worker
from workflows.case import CaseWorkflow

POLICY = load_policy("default")
SPECIALIST = specialist("staff-101")
SUPERVISOR = supervisor("staff-201")
DAY = timedelta(days=1)


def local_day(moment: datetime) -> date:
    return (moment + POLICY.utc_offset).date()


def _deadline(view: CaseView, key: str) -> tuple[datetime, str]:
    found = next(d for d in view.deadlines if d.key == key)
    return found.due_at, found.responsible


async def test_curator_level_and_plan_item_changes_replan_the_right_deadlines(
    time_skipping_env: WorkflowEnvironment,
    sessions: SessionFactory,
    keys: FamilyKeyStore,
    task_queue: str,
) -> None:
    env = time_skipping_env
    async with build_worker(env.client, task_queue=task_queue, sessions=sessions, keys=keys):
        handle, opened = await open_case(env.client, task_queue, policy="default")
        case_id = opened.view.case_id
        update = handle.execute_update
        await update(CaseWorkflow.record_contact, a.ContactBody().by(SPECIALIST))
        contacted = await recorded_at(sessions, case_id, "contact_recorded")
        await update(CaseWorkflow.register_intake, a.IntakeBody().by(SPECIALIST))
        await update(
            CaseWorkflow.record_assessment,
            a.AssessmentBody(
                decision=NeedDecision.NEED_RECOGNISED,
                circumstances=[NeedCircumstance.FAMILY_CONFLICT_OR_VIOLENCE],
                level=AccompanimentLevel.L1,
            ).by(SPECIALIST),
        )
        await update(
            CaseWorkflow.set_route, a.RouteBody(routes=[RouteKind.OWN_SERVICES]).by(SPECIALIST)
        )
        await update(
            CaseWorkflow.name_team,
            a.TeamBody(curator="staff-101", members=["staff-102"]).by(SPECIALIST),
        )
        now = await env.get_current_time()
        item = a.PlanItemIn(
            item_id="leg-1",
            service_type=ServiceType.LEGAL,
            provider="centre",
            responsible="staff-102",
            deadline=now + 5 * DAY,
        )
        view = await update(CaseWorkflow.approve_plan, a.PlanBody(items=[item]).by(SUPERVISOR))
        planned = await recorded_at(sessions, case_id, "plan_approved")
        assert _deadline(view, "T5") == (policy_shift(contacted, "P30D"), "staff-101")  # L1 cadence
        assert _deadline(view, "T6") == (policy_shift(planned, "P3M"), "staff-101")
        assert _deadline(view, "T8")[0] == policy_shift(planned, "P3Y")  # the ИППСУ review
        assert _deadline(view, "T11") == (policy_shift(planned, "1WD"), "staff-101")
        view = await update(  # the service agreement, concluded on the programme (442-ФЗ ст. 17)
            CaseWorkflow.record_agreement,
            a.AgreementBody(number="1/2026", concluded_on=local_day(planned)).by(SPECIALIST),
        )
        assert "T11" not in {d.key for d in view.deadlines}

        view = await update(
            CaseWorkflow.reassign_curator,
            a.ReassignCuratorBody(curator="staff-111").by(SUPERVISOR),
        )
        assert (view.curator, view.team[0]) == ("staff-111", "staff-111")
        assert _deadline(view, "T5")[1] == "staff-111"  # the curator's steps follow the curator
        assert _deadline(view, "T6")[1] == "staff-111"
        assert _deadline(view, "T10:leg-1")[1] == "staff-102"  # the item stays with its owner

        view = await update(
            CaseWorkflow.record_review,
            a.ReviewBody(outcome=ReviewOutcome.CHANGE_LEVEL, new_level=AccompanimentLevel.L2).by(
                SPECIALIST
            ),
        )
        reviewed = await recorded_at(sessions, case_id, "review_recorded")
        assert (view.stage, view.level) == (Stage.SUPPORT, AccompanimentLevel.L2)
        assert _deadline(view, "T5")[0] == policy_shift(contacted, "P15D")  # L2 cadence from now on
        assert _deadline(view, "T6")[0] == policy_shift(reviewed, "P1M")

        # The plan item is left undone past its deadline, then given an urgent service.
        due = item.deadline
        await env.sleep(
            policy_shift(due, "1WD") - await env.get_current_time() + timedelta(hours=1)
        )
        view = await update(
            CaseWorkflow.give_urgent_service,
            a.UrgentServiceBody(service="food_set").by(SPECIALIST),
        )
        assert (view.overdue, view.escalation_level) == (True, 2)
        view = await update(
            CaseWorkflow.complete_plan_item, a.PlanItemDoneBody(item_id="leg-1").by(SPECIALIST)
        )
        assert "T10:leg-1" not in {d.key for d in view.deadlines}
        assert not view.overdue
        await handle.terminate("test finished")

    async with sessions() as session:
        events = await list_events(session, case_id=case_id, keys=test_key_store(sessions))
        notes = {n.event_seq: n for n in await list_for_case(session, case_id=case_id)}
    item_ladder = [
        (e.action, notes[e.seq].recipient, e.data["scheduled_at"])
        for e in events
        if e.data.get("deadline") == "T10:leg-1"
    ]
    assert item_ladder == [
        ("reminder", "staff-102", policy_shift(due, "2WD", backwards=True).isoformat()),
        ("overdue", "staff-102", due.isoformat()),
        ("escalation", "supervisor", policy_shift(due, "1WD").isoformat()),
    ]
    assert [e.data["service"] for e in events if e.action == "urgent_service_given"] == ["food_set"]
    assert [e.data["curator"] for e in events if e.action == "curator_reassigned"] == ["staff-111"]
