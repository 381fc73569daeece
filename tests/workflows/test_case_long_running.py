"""Cases that live for months or years: prolongations up to the 24-month cap and the forced
closure at it, the post-closure follow-ups, and continue-as-new losing nothing.

Driven by the real worker against real servers, each test with a server of its own: a
time-skipping test server lets two and a half years of the default policy pass in seconds; a
dev server, with a lowered continue-as-new threshold, runs the compressed policy in real time.
Every assertion that matters is made on PostgreSQL, the audit trail of record, and not only on
what the workflow returned.
"""

import asyncio
from collections import Counter
from collections.abc import Awaitable, Sequence
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any, TypeVar
from uuid import UUID

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.api.testservice.v1 import LockTimeSkippingRequest, UnlockTimeSkippingRequest
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.converter import DataConverter
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from infra.sealing.family_keys import FamilyKeyStore
from models.crud.case_events import list_events
from models.crud.case_projections import get_view
from models.crud.notifications import list_for_case
from models.db import SessionFactory
from models.payloads.actions import (
    AssessmentBody,
    ContactBody,
    FollowUpBody,
    IntakeBody,
    PlanBody,
    PlanItemIn,
    ProlongationBody,
    ReviewBody,
    RouteBody,
    TeamBody,
    UrgentServiceBody,
)
from models.payloads.case_start import CaseOutcome
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
from models.policy import AccompanimentLevel, ClosureReason, Duration, WorkingCalendar, shift
from models.tables.case_event import CaseEventPublic
from models.tables.notification import Notification
from tests.support.cases import open_case, specialist, supervisor
from tests.support.polling import eventually
from tests.support.sealing import test_key_store
from tests.support.temporal import start_dev_server
from workers.worker import build_worker
from workflows.case import CaseWorkflow
from workflows.follow_up import CaseFollowUpWorkflow
from workflows.search_attributes import (
    ACCOMPANIMENT_LEVEL,
    CASE_STAGE,
    CURATOR,
    NEXT_DEADLINE,
)

CURATOR_ID = "staff-101"
NOVOSIBIRSK = timedelta(hours=7)  # both policies' utc_offset_hours

T = TypeVar("T")


async def _events(sessions: SessionFactory, case_id: UUID) -> Sequence[CaseEventPublic]:
    async with sessions() as session:
        return await list_events(session, case_id=case_id, keys=test_key_store(sessions))


async def _notifications(sessions: SessionFactory, case_id: UUID) -> Sequence[Notification]:
    async with sessions() as session:
        return await list_for_case(session, case_id=case_id)


async def _projection(sessions: SessionFactory, case_id: UUID) -> CaseView:
    async with sessions() as session:
        view = await get_view(session, case_id=case_id, keys=test_key_store(sessions))
    assert view is not None, f"no projection of case {case_id}"
    return view


async def _advance_to(env: WorkflowEnvironment, moment: datetime) -> None:
    """Let the time-skipping server's clock run to `moment`, firing every timer on the way."""
    gap = moment - await env.get_current_time()
    assert gap > timedelta(0), f"{moment} is already past"
    await env.sleep(gap)


async def _finished(env: WorkflowEnvironment, handle: WorkflowHandle[Any, T]) -> T:
    """The workflow's result, letting the time-skipping server's clock run freely meanwhile.

    Only handles from `start_workflow` skip time by themselves while awaiting a result; these
    come from update-with-start and `get_workflow_handle`, so the test unlocks the clock (as
    those handles do) and fails, instead of hanging, if the workflow does not complete.
    """
    service = env.client.test_service
    await service.unlock_time_skipping(UnlockTimeSkippingRequest())
    try:
        return await asyncio.wait_for(handle.result(), timeout=60)
    finally:
        await service.lock_time_skipping(LockTimeSkippingRequest())


def _months(moment: datetime, months: int) -> datetime:
    """`moment` plus calendar months, counted as the policies count them (in local time;
    a calendar span never consults the working-day calendar)."""
    return shift(moment, Duration.parse(f"P{months}M"), WorkingCalendar(), NOVOSIBIRSK)


async def _rejection(update: Awaitable[CaseView]) -> str:
    """The message of the ApplicationError a rejected update failed with."""
    with pytest.raises(WorkflowUpdateFailedError) as failure:
        await update
    cause = failure.value.cause
    assert isinstance(cause, ApplicationError), cause
    assert cause.type == "Rejected"
    return cause.message


def _deadline(view: CaseView, key: str) -> datetime:
    return next(d.due_at for d in view.deadlines if d.key == key)


async def _open_supported_case(
    client: Client,
    task_queue: str,
    *,
    policy: str,
    level: AccompanimentLevel,
    item_deadline: timedelta,
) -> tuple[WorkflowHandle[CaseWorkflow, CaseOutcome], CaseView]:
    """A case taken from the signal through intake, assessment, route and team to an approved
    plan (stage support), by a specialist and a supervisor of its municipality."""
    handle, outcome = await open_case(client, task_queue, policy=policy)
    assert outcome.view.stage is Stage.IDENTIFIED
    staff = specialist(CURATOR_ID)
    view = await handle.execute_update(CaseWorkflow.register_intake, IntakeBody().by(staff))
    assert view.stage is Stage.ASSESSMENT
    view = await handle.execute_update(
        CaseWorkflow.record_contact, ContactBody(comment="first visit").by(staff)
    )
    view = await handle.execute_update(
        CaseWorkflow.record_assessment,
        AssessmentBody(
            decision=NeedDecision.NEED_RECOGNISED,
            circumstances=[NeedCircumstance.NO_WORK_NO_MEANS],
            level=level,
        ).by(staff),
    )
    assert (view.stage, view.level) == (Stage.ROUTING, level)
    view = await handle.execute_update(
        CaseWorkflow.set_route, RouteBody(routes=[RouteKind.OWN_SERVICES]).by(staff)
    )
    assert view.stage is Stage.TEAM
    view = await handle.execute_update(
        CaseWorkflow.name_team, TeamBody(curator=CURATOR_ID, members=["staff-102"]).by(staff)
    )
    assert (view.stage, view.curator) == (Stage.PLANNING, CURATOR_ID)
    due = view.opened_at + item_deadline
    view = await handle.execute_update(
        CaseWorkflow.approve_plan,
        PlanBody(
            items=[
                PlanItemIn(
                    item_id="psy-1",
                    service_type=ServiceType.PSYCHOLOGICAL,
                    provider="centre",
                    responsible="staff-102",
                    deadline=due,
                ),
                PlanItemIn(
                    item_id="legal-1",
                    channel=AccompanimentChannel.LEGAL,
                    provider="legal aid",
                    responsible=CURATOR_ID,
                    # A minute later: within even the compressed policy's 24-minute term.
                    deadline=due + timedelta(minutes=1),
                ),
            ]
        ).by(supervisor()),
    )
    assert view.stage is Stage.SUPPORT
    return handle, view


async def _prolongation_requested(
    handle: WorkflowHandle[CaseWorkflow, CaseOutcome], sessions: SessionFactory
) -> CaseView:
    """A review at the term's end asks for more time: stage prolongation, and the supervisor
    is asked for the (consilium) decision, due at the term's end."""
    view = await handle.execute_update(
        CaseWorkflow.record_review,
        ReviewBody(outcome=ReviewOutcome.REQUEST_PROLONGATION).by(specialist(CURATOR_ID)),
    )
    assert view.stage is Stage.PROLONGATION
    requested = [
        n
        for n in await _notifications(sessions, view.case_id)
        if n.event_seq == view.version and n.kind == "approval_requested"
    ]
    assert [(n.recipient, n.recipient_is_role, n.deadline_code) for n in requested] == [
        ("supervisor", True, "T7")
    ]
    assert requested[0].due_at == view.term_ends_at
    return view


async def test_prolongations_up_to_the_24_month_cap_then_forced_closure_and_follow_ups(
    time_skipping_env: WorkflowEnvironment,
    sessions: SessionFactory,
    keys: FamilyKeyStore,
    task_queue: str,
) -> None:
    env = time_skipping_env
    async with build_worker(env.client, task_queue=task_queue, sessions=sessions, keys=keys):
        handle, view = await _open_supported_case(
            env.client,
            task_queue,
            policy="default",
            level=AccompanimentLevel.L2,
            item_deadline=timedelta(days=40),
        )
        case_id = view.case_id
        plan_approved = next(
            e for e in await _events(sessions, case_id) if e.action == "plan_approved"
        )
        support_start = plan_approved.occurred_at
        cap_at = _months(support_start, 24)
        first_term_end = view.term_ends_at
        assert first_term_end == _months(support_start, 6)  # L2: an initial term of 6 months

        # Near the term's end: T7 has opened (10 WD before), the review asks for more time.
        await _advance_to(env, first_term_end - timedelta(days=3))
        await eventually(
            lambda: _projection(sessions, case_id),
            lambda v: v.stage is Stage.REVIEW,
            what="the prolongation step open (T7)",
        )
        opened = [e for e in await _events(sessions, case_id) if e.action == "step_opened"]
        assert [(e.data["deadline"], e.stage_after) for e in opened] == [("T7", "review")]
        await _prolongation_requested(handle, sessions)
        before = len(await _events(sessions, case_id))
        message = await _rejection(
            handle.execute_update(
                CaseWorkflow.decide_prolongation,
                ProlongationBody(approve=True).by(specialist(CURATOR_ID)),
            )
        )
        assert "specialist may not decide_prolongation" in message
        assert len(await _events(sessions, case_id)) == before  # a rejection writes nothing
        view = await handle.execute_update(
            CaseWorkflow.decide_prolongation, ProlongationBody(approve=True).by(supervisor())
        )
        second_term_end = _months(first_term_end, 6)  # the level's initial term again
        assert (view.stage, view.term_ends_at) == (Stage.SUPPORT, second_term_end)
        assert second_term_end <= _months(support_start, 12)  # within 12 months: no consilium
        assert _deadline(view, "T7") == second_term_end

        # At 12 months in total a further term needs a consilium.
        await _advance_to(env, second_term_end - timedelta(days=3))
        await _prolongation_requested(handle, sessions)
        before = len(await _events(sessions, case_id))
        message = await _rejection(
            handle.execute_update(
                CaseWorkflow.decide_prolongation, ProlongationBody(approve=True).by(supervisor())
            )
        )
        assert "consilium" in message
        assert len(await _events(sessions, case_id)) == before
        view = await handle.execute_update(
            CaseWorkflow.decide_prolongation,
            ProlongationBody(approve=True, consilium=True, extend_by=Duration.parse("P18M")).by(
                supervisor()
            ),
        )
        # 12 + 18 months asked; 24 months at most.
        assert (view.stage, view.term_ends_at) == (Stage.SUPPORT, cap_at)
        assert _deadline(view, "T7") == cap_at
        stored = await _projection(sessions, case_id)
        assert (stored.stage, stored.term_ends_at) == (Stage.SUPPORT, cap_at)

        # The cap forces the closure: no one has to act, and the workflow completes.
        outcome = await _finished(env, handle)
        assert outcome.closure_reason is ClosureReason.TERM_EXPIRED
        assert outcome.follow_up_workflow_id is not None
        events = await _events(sessions, case_id)
        actions = [e.action for e in events]
        assert actions.count("closure_forced") == actions.count("case_closed") == 1
        forced, closed = events[actions.index("closure_forced") :][:2]
        assert (forced.action, forced.actor_id, forced.actor_role) == (
            "closure_forced",
            "system",
            "system",
        )
        assert "P24M" in (forced.reason or "")
        assert cap_at <= forced.occurred_at < cap_at + timedelta(minutes=1)
        assert (closed.action, closed.actor_id, closed.stage_after) == (
            "case_closed",
            "system",
            "closed",
        )
        assert closed.data["closure_reason"] == "term_expired"
        assert outcome.closed_at == closed.occurred_at
        approvals = [e for e in events if e.action == "prolongation_approved"]
        assert [e.data["consilium"] for e in approvals] == [False, True]
        assert [e.actor_role for e in approvals] == ["supervisor", "supervisor"]
        assert not [e for e in events if e.action == "prolongation_refused"]

        # The follow-up workflow takes over: +3 and +6 months after the closure (T9).
        follow_up = env.client.get_workflow_handle(
            outcome.follow_up_workflow_id, result_type=type(None)
        )
        stored = await eventually(
            lambda: _projection(sessions, case_id),
            lambda v: {d.key for d in v.deadlines} == {"T9:1", "T9:2"},
            what="follow-ups planned",
        )
        assert stored.stage is Stage.CLOSED
        assert outcome.closed_at is not None
        first_due, second_due = _deadline(stored, "T9:1"), _deadline(stored, "T9:2")
        assert (first_due, second_due) == (
            _months(outcome.closed_at, 3),
            _months(outcome.closed_at, 6),
        )
        assert {d.responsible for d in stored.deadlines} == {CURATOR_ID}

        # The first follow-up is made on time (after its reminder); the second is missed.
        await _advance_to(env, first_due - timedelta(days=1))
        view = await follow_up.execute_update(
            CaseFollowUpWorkflow.record_follow_up,
            FollowUpBody(number=1, comment="family doing well").by(specialist(CURATOR_ID)),
        )
        assert [d.key for d in view.deadlines] == ["T9:2"]
        await _finished(env, follow_up)

    events = await _events(sessions, case_id)
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    after_closure = events[[e.action for e in events].index("case_closed") + 1 :]
    assert after_closure[0].action == "follow_ups_planned"
    fired = [(e.data["deadline"], e.data["step"]) for e in after_closure if "step" in e.data]
    recorded = [e for e in after_closure if e.action == "follow_up_recorded"]
    assert fired == [
        ("T9:1", "reminder"),
        ("T9:2", "reminder"),
        ("T9:2", "rung-1"),
        ("T9:2", "rung-2"),
    ]
    assert [(e.actor_id, e.data["number"]) for e in recorded] == [(CURATOR_ID, 1)]
    notes = {n.event_seq: n for n in await _notifications(sessions, case_id)}
    ladder = [
        (notes[e.seq].kind, notes[e.seq].recipient)
        for e in after_closure
        if e.data.get("deadline") == "T9:2"
    ]
    assert ladder == [
        ("reminder", CURATOR_ID),
        ("overdue", CURATOR_ID),
        ("escalation", "supervisor"),
    ]
    final = await _projection(sessions, case_id)
    assert (final.stage, final.closure_reason) == (Stage.CLOSED, ClosureReason.TERM_EXPIRED)
    # The missed follow-up is recorded as missed when the follow-ups end, and leaves no open
    # deadline behind in anybody's inbox.
    assert events[-1].action == "follow_ups_ended"
    assert events[-1].data["missed"] == ["T9:2"]
    assert final.deadlines == []
    assert final.version == events[-1].seq


async def _run_id(handle: WorkflowHandle[Any, Any]) -> str:
    run_id = (await handle.describe()).run_id
    assert run_id is not None
    return run_id


async def _event_types(client: Client, workflow_id: str, run_id: str) -> list[EventType.ValueType]:
    history = await client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()
    return [event.event_type for event in history.events]


def _state(view: CaseView) -> dict[str, Any]:
    """Everything of a view but its version (the number of its last event)."""
    return view.model_dump(exclude={"version"})


async def test_continue_as_new_loses_nothing(
    sessions: SessionFactory, keys: FamilyKeyStore, task_queue: str, data_converter: DataConverter
) -> None:
    # A server of its own: the lowered threshold makes every workflow on it continue as new.
    env = await start_dev_server(
        data_converter, "--dynamic-config-value", "limit.historyCount.suggestContinueAsNew=200"
    )
    try:
        async with build_worker(env.client, task_queue=task_queue, sessions=sessions, keys=keys):
            started, _ = await _open_supported_case(
                env.client,
                task_queue,
                policy="compressed",  # real time: a contact is due every 30 s (L2)
                level=AccompanimentLevel.L2,
                item_deadline=timedelta(minutes=20),
            )
            # Without a run id, so updates follow the case into its new run.
            handle = env.client.get_workflow_handle(started.id, result_type=CaseOutcome)
            first_run = await _run_id(handle)
            staff = specialist(CURATOR_ID)
            # The T5 clock restarts now: its reminder is due 27 s from here.
            contacted = await handle.execute_update(
                CaseWorkflow.record_contact, ContactBody().by(staff)
            )
            assert {d.key for d in contacted.deadlines} == {
                "T5",
                "T6",
                "T7",
                "T8",
                "T10:psy-1",
                "T10:legal-1",
                "T11",  # the service agreement, open since the plan's approval
            }
            assert (await _projection(sessions, contacted.case_id)) == contacted

            # Actions that only add to the history, until the case has continued as new twice
            # (and served two updates in its third run).
            views: list[CaseView] = []
            runs: list[str] = []
            for number in range(120):
                if number % 2:
                    view = await handle.execute_update(
                        CaseWorkflow.give_urgent_service,
                        UrgentServiceBody(service="food_set").by(staff),
                    )
                else:
                    view = await handle.execute_update(
                        CaseWorkflow.record_contact,
                        ContactBody(reached=False, comment="no answer").by(staff),
                    )
                views.append(view)
                runs.append(await _run_id(handle))
                if len({first_run, *runs}) == 3 and runs.count(runs[-1]) >= 2:
                    break
            run_ids = list(dict.fromkeys([first_run, *runs]))
            assert len(run_ids) == 3, f"{len(run_ids)} runs after {len(views)} updates"
            case_id = contacted.case_id

            # The same case after the continue-as-new: only the event count moved on.
            assert [v.version for v in views] == list(
                range(contacted.version + 1, contacted.version + 1 + len(views))
            )
            assert all(_state(v) == _state(contacted) for v in views)
            assert await _projection(sessions, case_id) == views[-1]

            # Each run but the last ended by continuing as new into the next, and only the
            # first one loaded the policy: the others carried it over in their state.
            for previous, run_id in pairwise(run_ids):
                ended = await _event_types(env.client, started.id, previous)
                assert ended[-1] == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW
                history = await env.client.get_workflow_handle(
                    started.id, run_id=run_id
                ).fetch_history()
                start = history.events[0].workflow_execution_started_event_attributes
                assert start.continued_execution_run_id == previous
                loaded = [
                    e
                    for e in history.events
                    if e.activity_task_scheduled_event_attributes.activity_type.name
                    == "load_case_policy"
                ]
                assert loaded == []

            # The supervisors' search attributes survive the new run.
            attributes = (await handle.describe()).typed_search_attributes
            assert attributes.get(CASE_STAGE) == "support"
            assert attributes.get(ACCOMPANIMENT_LEVEL) == "L2"
            assert attributes.get(CURATOR) == CURATOR_ID
            assert attributes.get(NEXT_DEADLINE) == views[-1].next_deadline

            # The timers still fire in the new run: T5's reminder, then its overdue rung.
            t5_due = next(d.due_at for d in contacted.deadlines if d.key == "T5")
            events = await eventually(
                lambda: _events(sessions, case_id),
                lambda found: any(
                    e.data.get("deadline") == "T5" and e.data.get("step") == "rung-1" for e in found
                ),
                within=60,
                what="T5 overdue after the continue-as-new",
            )
            fired = [e for e in events if e.data.get("deadline") == "T5"]
            assert [(e.action, e.data["step"]) for e in fired][:2] == [
                ("reminder", "reminder"),
                ("overdue", "rung-1"),
            ]
            assert all(e.seq > views[-1].version for e in fired)
            assert fired[1].occurred_at >= t5_due
            assert EventType.EVENT_TYPE_TIMER_FIRED in await _event_types(
                env.client, started.id, await _run_id(handle)
            )
            await handle.terminate("test finished")

        # Event numbers run on across runs: no gap, no repeat, nothing dropped.
        events = await _events(sessions, case_id)
        assert [e.seq for e in events] == list(range(1, len(events) + 1))
        counts = Counter(e.action for e in events[contacted.version :])
        assert counts["urgent_service_given"] + counts["contact_recorded"] == len(views)
    finally:
        await env.shutdown()
